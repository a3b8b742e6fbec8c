"""Benchmark of the A/B test tracker at the demo size: creating a test (target < 200 ms) and
reading a test's results (the screen's query and analysis), plus one snapshot-job run; and one
test at scale (--scale-members, default 1,000,000 assigned and reached members, their CUPED
covariates stored as the snapshot job keeps them): the results query against its 100 ms target.

Run from the repository root, with a PostgreSQL server in DATABASE_URL:
    .venv/bin/python bench/bench_ab.py [--members 15000 --campaigns 36 --days 90] [--runs 30]
It makes a throwaway database on that server, loads the demo data set, measures, drops the
database (--keep to keep it; --url to measure an existing database with demo data instead),
and writes bench/results/ab.json (also printed). --scale-members 0 skips the test at scale.
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
from core.platform.db import fetch_df, make_engine, normalize_url, with_database  # noqa: E402
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
    """Live (the snapshot job's work) and as the screen reads them (the job's stored inputs)."""
    summary, analysis, history, screen = [], [], [], []
    for _ in range(repeats):
        for test_id in test_ids:
            summary.append(timed(lambda: results.current_summary(db, test_id)))
            analysis.append(timed(lambda: results.analyze_test(db, test_id)))
            screen.append(timed(lambda: results.analyze_for_screen(db, test_id)))
            history.append(timed(lambda: results.history(db, test_id, "clicked")))
    return {"summary_query": percentiles(summary), "analyze_test": percentiles(analysis),
            "screen_analysis": percentiles(screen), "daily_history": percentiles(history)}


SCALE_SQL = """
-- One more campaign like the demo's first, and a running test on it whose every assigned member
-- was reached: campaign_members as the rollup writes them, assignments, stored covariates.
INSERT INTO campaigns (campaign_id, name, channel, offer_id, segment, starts_at, ends_at, send_hour, status,
                       budget, cost_per_send)
SELECT (SELECT max(campaign_id) + 1 FROM campaigns), name || ' (at scale)', channel, offer_id,
       segment, starts_at, ends_at, send_hour, 'live', budget, cost_per_send
FROM campaigns WHERE campaign_id = 1;
INSERT INTO ab_tests (campaign_id, name, primary_metric, status, created_by, started_at)
SELECT max(campaign_id), 'At scale', 'clicked', 'running', 'bench', now() - interval '28 days' FROM campaigns;
INSERT INTO ab_variants (test_id, variant, weight, is_control, position)
SELECT max(test_id), v, 1, v = 'control', p FROM ab_tests, (VALUES ('control', 0), ('treatment', 1)) AS x(v, p)
GROUP BY v, p;
CREATE TEMP TABLE scale_members AS
SELECT 100000000 + i AS member_id, CASE WHEN hashint4(i) % 2 = 0 THEN 'control' ELSE 'treatment' END AS variant,
       now() - interval '28 days' + (i % 2419200) * interval '1 second' AS first_send_at,
       (hashint4(i * 7) & 1023) / 1024.0 AS u
FROM generate_series(1, :members) AS i;
INSERT INTO campaign_members (campaign_id, member_id, variant, first_send_at, first_delivered_at, first_open_at,
                              first_click_at, first_conversion_at, sends, opens, clicks, conversions, revenue, reward_cost)
SELECT c.campaign_id, m.member_id, m.variant, m.first_send_at, m.first_send_at,
       CASE WHEN u < 0.4 THEN m.first_send_at + interval '1 hour' END,
       CASE WHEN u < 0.15 THEN m.first_send_at + interval '2 hours' END,
       CASE WHEN u < 0.03 THEN m.first_send_at + interval '1 day' END,
       4, (u < 0.4)::int, (u < 0.15)::int * 2, (u < 0.03)::int, (u < 0.03)::int * 42.5, (u < 0.03)::int * 4.25
FROM scale_members m, (SELECT max(campaign_id) AS campaign_id FROM campaigns) c;
INSERT INTO ab_assignments (campaign_id, test_id, member_id, variant, assigned_at)
SELECT t.campaign_id, t.test_id, m.member_id, m.variant, t.started_at
FROM scale_members m, (SELECT test_id, campaign_id, started_at FROM ab_tests WHERE name = 'At scale') t;
INSERT INTO ab_pre_period (campaign_id, test_id, member_id, opened, clicked, converted, clicks, revenue, reward_cost)
SELECT t.campaign_id, t.test_id, m.member_id, (u < 0.5)::int, (u < 0.2)::int, (u < 0.05)::int, (u < 0.2)::int * 3,
       (u < 0.05)::int * 30.0, (u < 0.05)::int * 3.0
FROM scale_members m, (SELECT test_id, campaign_id FROM ab_tests WHERE name = 'At scale') t;
ANALYZE campaign_members; ANALYZE ab_assignments; ANALYZE ab_pre_period;
"""


def bench_at_scale(db, members: int, repeats: int, live_repeats: int) -> dict:
    """A test with `members` reached members: the live summary query and analysis (what the
    snapshot job does every 5 minutes), one snapshot-job run, and what the results screen does
    (the stored inputs' query and the whole analysis of them: analyze_stored), against the
    100 ms target of the screen's query."""
    started = time.perf_counter()
    with db.begin() as conn:
        for statement in [s for s in SCALE_SQL.split(";\n") if s.strip()]:
            conn.execute(text(statement), {"members": members} if ":members" in statement else {})
        test_id = conn.execute(text("SELECT test_id FROM ab_tests WHERE name = 'At scale'")).scalar()
    built = time.perf_counter() - started
    summary = [timed(lambda: results.current_summary(db, test_id)) for _ in range(live_repeats)]
    analysis = [timed(lambda: results.analyze_test(db, test_id)) for _ in range(live_repeats)]
    job = timed(lambda: snapshots.take_snapshots(db))
    stored = [timed(lambda: results.snapshot_history(db, test_id)) for _ in range(repeats)]
    screen_query = [timed(lambda: fetch_df(db, "ab_results_stored", test_id=test_id)) for _ in range(repeats)]
    screen = [timed(lambda: results.analyze_stored(db, test_id)) for _ in range(repeats)]
    outcome = results.analyze_stored(db, test_id)
    return {"members": int(outcome.n_per_arm.sum()), "build_seconds": round(built, 1),
            "live_summary_query": percentiles(summary), "live_analyze_test": percentiles(analysis),
            "snapshot_job_seconds": round(job, 1),
            "screen_query": percentiles(screen_query), "target_ms": 100,
            "screen_query_meets_target": bool(np.percentile(np.array(screen_query) * 1000, 50) < 100),
            "screen_analysis": percentiles(screen), "stored_snapshots_read": percentiles(stored)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="an existing database with demo data (default: a throwaway one)")
    parser.add_argument("--members", type=int, default=15_000)
    parser.add_argument("--campaigns", type=int, default=36)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=10, help="result reads per demo test")
    parser.add_argument("--live-repeats", type=int, default=2,
                        help="live summaries and analyses of the test at scale (each takes minutes at 1 M)")
    parser.add_argument("--scale-members", type=int, default=1_000_000,
                        help="members of the test at scale (0: skip it)")
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
            "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform(),
                        "load_average_1min": round(os.getloadavg()[0], 1)},  # a shared machine inflates times
            "data": loaded or {"url": "existing database"},
            "tests_analysed": test_ids,
            "create_test": {**bench_creation(db, args.runs), "target_ms": 200},
            "results": bench_results(db, test_ids, args.repeats),
            "snapshot_job_seconds": {"first_run_with_backfill": round(first_snapshot, 3),
                                     "steady_run": round(steady_snapshot, 3)},
        }
        if args.scale_members:
            report["results_at_scale"] = bench_at_scale(db, args.scale_members, args.repeats, args.live_repeats)
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
