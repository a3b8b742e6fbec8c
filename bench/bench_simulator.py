"""Benchmark: the live event simulator's sustained write rate (target: at least 2,000 events/s).

On a separate database with a small demo data set, runs `python -m core simulate --rate R
--seconds S` for each asked rate (the world continued plus that much extra load, batches by COPY every 0.5 s, BRIN
summaries as in production) and reports the rate it printed and the rate counted in the
database (events with an id above the one before the run, over the run's seconds).

Run from the repository root:  .venv/bin/python bench/bench_simulator.py [--rates 2500 10000 --seconds 30]
Writes bench/results/simulator.json and prints the same JSON. Uses DATABASE_URL (a server) as
the admin connection, default postgresql://postgres@127.0.0.1:5432/postgres.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from bench.common import admin_url, demo_database, drop_database, say  # noqa: E402

RESULTS_PATH = REPO_ROOT / "bench" / "results" / "simulator.json"
TARGET_EVENTS_PER_S = 2000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", type=float, nargs="+", default=[2500, 10000])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--database", default="swipesavvy_bench_simulator")
    parser.add_argument("--members", type=int, default=5000)
    args = parser.parse_args()

    url = demo_database(admin_url(), args.database, ["--members", str(args.members), "--days", "30"],
                        what=f"a small demo ({args.members:,} members, 30 days)")
    env = {**os.environ, "DATABASE_URL": url}
    db = create_engine(url, pool_size=1)
    runs = []
    try:
        for rate in args.rates:
            with db.connect() as conn:
                before = conn.execute(text("SELECT coalesce(max(event_id), 0) FROM events")).scalar()
            say(f"simulating {rate:g} events/s for {args.seconds:g} s")
            done = subprocess.run([sys.executable, "-m", "core", "simulate", "--rate", str(rate), "--seconds",
                                   str(args.seconds), "--seed", "1"],
                                  cwd=REPO_ROOT, env=env, check=True, capture_output=True, text=True)
            printed = re.search(r"wrote ([\d,]+) events .* in ([\d.]+)s: ([\d,]+) events/s achieved", done.stdout)
            with db.connect() as conn:
                counted, first, last, future = conn.execute(text(
                    "SELECT count(*), min(event_time), max(event_time), count(*) FILTER (WHERE event_time > now()) "
                    "FROM events WHERE event_id > :before"), {"before": before}).one()
            seconds = float(printed.group(2)) if printed else args.seconds
            runs.append({
                "asked_events_per_s": rate,
                "printed": printed.group(0) if printed else done.stdout.strip().splitlines()[-1],
                "events_in_database": int(counted),
                "achieved_events_per_s": round(counted / seconds, 1),
                "events_in_the_future": int(future),
                "event_times": [str(first), str(last)],
            })
            say(f"  {runs[-1]['achieved_events_per_s']:,.0f} events/s")
    finally:
        db.dispose()
        drop_database(admin_url(), args.database)
    out = {
        "benchmark": "live event simulator: sustained write rate (python -m core simulate), COPY batches every 0.5 s",
        "command": " ".join(["bench/bench_simulator.py", *sys.argv[1:]]),
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "target_events_per_s": TARGET_EVENTS_PER_S,
        "meets_target": any(r["achieved_events_per_s"] >= TARGET_EVENTS_PER_S for r in runs),
        "runs": runs,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
    }
    RESULTS_PATH.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_PATH.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
