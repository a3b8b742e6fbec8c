"""Check that the model tests' tolerances hold whatever the seed and the day the demo ends:
runs tests/db/test_optimize_models.py once per (seed, end day) (SWIPESAVVY_TEST_DEMO_SEED and
SWIPESAVVY_TEST_DEMO_END) and prints which passed. The test suite itself uses one fixed seed and
end, so it never depends on today's date.

    python bench/check_model_tolerances.py [--first 2026-11-02] [--days 7] [--seeds 23 7 11]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--first", type=date.fromisoformat, default=date(2026, 11, 2))
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--seeds", type=int, nargs="+", default=[23])
    args = parser.parse_args()
    failed = 0
    for seed, offset in ((s, o) for s in args.seeds for o in range(args.days)):
        end = args.first + timedelta(days=offset)
        env = dict(os.environ, SWIPESAVVY_TEST_DEMO_END=f"{end.isoformat()}T00:00:00+00:00",
                   SWIPESAVVY_TEST_DEMO_SEED=str(seed))
        run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                              "tests/db/test_optimize_models.py"], cwd=REPO_ROOT, env=env,
                             capture_output=True, text=True)
        summary = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else run.stderr[-300:]
        print(f"seed {seed}, demo ends {end} ({end:%A}): {summary}", flush=True)
        for line in run.stdout.splitlines():
            if line.startswith(("FAILED", "ERROR")):
                print(f"    {line[:300]}", flush=True)
        failed += run.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
