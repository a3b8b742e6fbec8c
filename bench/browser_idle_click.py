"""Benchmark: the first click after a reader has looked at a screen for a while (issue 15).

The screens' data is fresh for ui.shared.DATA_FRESH_SECONDS (15 s). The browser benchmark's
interactions come in quick succession, so they never meet stale data; a reader who looks at a
campaign for 17 s and then picks another does. This times, in Chromium, a change of campaign on
the campaign detail after IDLE seconds with no click ("after idle"), then two in quick succession
("quick"), for each round, against the app of the working tree or of a commit, alternately: for
each tree a server of its own (the simulator and the rollups beside it, as in
bench/bench_browser.py, whose helpers this uses), on the browser benchmark's database
(`bench/bench_browser.py --reuse` makes it).

    .venv/bin/python bench/browser_idle_click.py --baseline 640b445 --rounds 5 --repeat 2

Writes bench/results/idle_click.json.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import bench_browser as browser  # noqa: E402
from bench.common import say  # noqa: E402
from ui.shared import DATA_FRESH_SECONDS  # noqa: E402

IDLE_SECONDS = DATA_FRESH_SECONDS + 2   # a reader who looked at the campaign until its data went stale


def rounds_of_clicks(tree: Path, database_url: str, rounds: int) -> dict[str, list[float]]:
    """`rounds` times: IDLE_SECONDS without a click, one change of campaign, then two quick ones."""
    from playwright.sync_api import sync_playwright

    app = browser.Server(tree / "app.py", "idle-click", {**os.environ, "DATABASE_URL": database_url}, cwd=tree)
    app.start()
    app.wait()
    background = browser.Background(database_url, 50, False)
    times: dict[str, list[float]] = {"after_idle": [], "quick": []}
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            context = browser.new_context(chromium)
            page = context.new_page()
            change = browser.ChangeCampaign(app.base)
            change.setup(page)
            run = 0
            for _ in range(rounds):
                time.sleep(IDLE_SECONDS)
                for kind in ("after_idle", "quick", "quick"):
                    times[kind].append(browser.action_timed(page, lambda p: change.act(p, run))[0])
                    run += 1
            context.close()
            chromium.close()
    finally:
        app.stop()
        background.stop()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", required=True, help="the commit to compare the working tree with")
    parser.add_argument("--rounds", type=int, default=5, help="idle clicks per run (default 5)")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each tree, alternately (default 2)")
    parser.add_argument("--output", default=str(browser.RESULTS / "idle_click.json"))
    args = parser.parse_args()
    admin = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    database_url = admin.rsplit("/", 1)[0] + "/swipesavvy_bench_browser"  # bench_browser.py's, at 10 M events
    revision = subprocess.run(["git", "rev-parse", args.baseline], cwd=browser.REPO_ROOT, check=True,
                              capture_output=True, text=True).stdout.strip()
    results: dict[str, dict[str, list[float]]] = {"baseline": {"after_idle": [], "quick": []},
                                                   "current": {"after_idle": [], "quick": []}}
    with tempfile.TemporaryDirectory(prefix="swipesavvy-idle-") as folder:
        baseline = Path(folder) / "baseline"
        subprocess.run(["git", "worktree", "add", "--detach", str(baseline), revision], cwd=browser.REPO_ROOT,
                       check=True, capture_output=True)
        try:
            trees = {"baseline": baseline, "current": browser.REPO_ROOT}
            for repeat in range(args.repeat):
                for label in (("baseline", "current") if repeat % 2 == 0 else ("current", "baseline")):
                    times = rounds_of_clicks(trees[label], database_url, args.rounds)
                    for kind, values in times.items():
                        results[label][kind] += values
                    say(f"{label}: {times}")
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(baseline)], cwd=browser.REPO_ROOT,
                           capture_output=True)
    summary = {label: {kind: {"median_ms": round(statistics.median(values), 1), "max_ms": max(values),
                              "times_ms": values} for kind, values in kinds.items()}
               for label, kinds in results.items()}
    out = {"benchmark": "first click after an idle pause (issue 15)",
           "command": "python bench/browser_idle_click.py " + " ".join(sys.argv[1:]),
           "when": datetime.now(timezone.utc).isoformat(timespec="minutes"), "load_average_after": os.getloadavg(),
           "idle_seconds": IDLE_SECONDS, "baseline_commit": revision, "database": database_url.rsplit("/", 1)[-1],
           **summary}
    Path(args.output).write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
