"""Benchmark of the A/B test tracker at the demo size: creating a test (target < 200 ms) and
reading a test's results (the screen's query and analysis), plus one snapshot-job run.

Run from the repository root, with a PostgreSQL server in DATABASE_URL:
    .venv/bin/python bench/bench_ab.py [--members 15000 --campaigns 36 --days 90] [--runs 30]
It makes a throwaway database on that server, loads the demo data set, measures, drops the
database (--keep to keep it; --url to measure an existing database with demo data instead),
and writes bench/results/ab.json (also printed).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from sqlalchemy import create_engine, text

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from core.platform import rollup  # noqa: E402
from core.demo import generator as demo  # noqa: E402
from core.platform import migrate  # noqa: E402
from core.analytics.campaigns import list_campaigns  # noqa: E402
from core.access.auth import User  # noqa: E402
from core.platform.db import make_engine, normalize_url, with_database  # noqa: E402
from core.experiments import results, snapshots, tests_repo  # noqa: E402

RESULTS_PATH = REPO_ROOT / "bench" / "results" / "ab.json"
MANAGER = User("bench@swipesavvy.example", "Benchmark", "manager")


def percentiles(seconds: list[float]) -> dict:
    ms = np.array(seconds) * 1000
    return {"runs": len(ms), "p50_ms": round(float(np.percentile(ms, 50)), 2),
            "p95_ms": round(float(np.percentile(ms, 95)), 2), "max_ms": round(float(ms.max()), 2)}


def timed(work) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def bench_creation(db, runs: int) -> dict:
    """Create `runs` tests, each on a campaign with no active test; stop each afterwards (untimed)
    so its campaign is free again."""
    tests = tests_repo.list_tests(db)
    busy = set(tests.loc[tests.status.isin(tests_repo.ACTIVE_STATUSES), "campaign_id"])
    campaigns = [int(c) for c in list_campaigns(db).campaign_id if c not in busy]
    seconds = []
    for run in range(runs):
        campaign_id = campaigns[run % len(campaigns)]
        created = {}
        seconds.append(timed(lambda: created.setdefault("id", tests_repo.create_test(
            db, MANAGER, campaign_id=campaign_id, name=f"Bench {run}", primary_metric="clicked",
            variants={"control": 50, "treatment": 50}, guardrail_metrics=["revenue"], planned_per_arm=5000))))
        tests_repo.control(db, MANAGER, created["id"], "stop_test")
    return percentiles(seconds)


def bench_results(db, test_ids: list[int], repeats: int) -> dict:
    summary, analysis, history = [], [], []
    for _ in range(repeats):
        for test_id in test_ids:
            summary.append(timed(lambda: results.current_summary(db, test_id)))
            analysis.append(timed(lambda: results.analyze_test(db, test_id)))
            history.append(timed(lambda: results.history(db, test_id, "clicked")))
    return {"summary_query": percentiles(summary), "analyze_test": percentiles(analysis),
            "daily_history": percentiles(history)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="an existing database with demo data (default: a throwaway one)")
    parser.add_argument("--members", type=int, default=15_000)
    parser.add_argument("--campaigns", type=int, default=36)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=10, help="result reads per demo test")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    server = os.environ.get("DATABASE_URL")
    if not args.url and not server:
        print("Set DATABASE_URL to a PostgreSQL server (or pass --url).", file=sys.stderr)
        return 2
    name = None
    if args.url:
        url = normalize_url(args.url)
    else:
        name = f"ab_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(normalize_url(server), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = with_database(normalize_url(server), name)
    db = make_engine(url, pool_size=2)
    try:
        loaded = {}
        if name:
            migrate.upgrade(db)
            started = time.perf_counter()
            data = demo.generate(seed=7, members=args.members, campaigns=args.campaigns, days=args.days)
            demo.load(db, data)
            rollup.refresh_all(db)
            with db.begin() as conn:  # as autovacuum would have by now on a live server
                conn.exec_driver_sql("ANALYZE")
            loaded = {"events": len(data.events), "members": args.members, "campaigns": args.campaigns,
                      "days": args.days, "load_seconds": round(time.perf_counter() - started, 1)}
        test_ids = [int(t) for t in tests_repo.list_tests(db).query("status == 'running'").test_id]
        first_snapshot = timed(lambda: snapshots.take_snapshots(db))
        steady_snapshot = timed(lambda: snapshots.take_snapshots(db))
        report = {
            "benchmark": "A/B test tracker: test creation and results at the demo size",
            "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
            "data": loaded or {"url": "existing database"},
            "tests_analysed": test_ids,
            "create_test": {**bench_creation(db, args.runs), "target_ms": 200},
            "results": bench_results(db, test_ids, args.repeats),
            "snapshot_job_seconds": {"first_run_with_backfill": round(first_snapshot, 3),
                                     "steady_run": round(steady_snapshot, 3)},
        }
    finally:
        db.dispose()
        if name and not args.keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    RESULTS_PATH.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_PATH.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
