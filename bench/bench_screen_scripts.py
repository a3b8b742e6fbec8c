"""Server-side script time per rerun of each screen (issue 15 point 2: < 250 ms p95), measured
with streamlit.testing's AppTest on a demo database: one cold run (empty caches), then reruns
with warm caches, as a person changing nothing but waiting for the page (or the live fragment)
to run again. AppTest runs the real app.py (sign-in gate, sidebar, navigation) in this process,
so the time is the script's, without the browser's drawing and the websocket. A screen with
lazy tabs (only the open one runs) is timed on its default tab; Campaign analytics also on its
Campaign detail tab, a row of its own.

    python bench/bench_screen_scripts.py [--database-url URL] [--runs 20] [--screen Overview ...]

Without --database-url it loads the default demo (`python -m core demo`, trained) into a
database of its own, or reuses it (--reuse). Results: bench/results/screen_scripts.json.
A profile of one warm rerun per screen (cProfile, top functions by cumulative time) is saved
beside it with --profile."""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import admin_url, demo_database, say  # noqa: E402

# A row per screen, on its default tab; a screen whose tabs are lazy (only the open one runs)
# has a row for each other tab worth timing: (script, (tab key, tab label) or None).
SCREENS = {
    "Overview": ("screens/overview.py", None),
    "Campaign analytics": ("screens/campaigns/campaigns.py", None),  # the Portfolio tab
    "Campaign analytics (Campaign detail)": ("screens/campaigns/campaigns.py", ("tab", "Campaign detail")),
    "A/B tests": ("screens/ab_tests/ab_tests.py", None),
    "Recommendations": ("screens/optimization/optimization.py", None),
    "Real-time": ("screens/live.py", None),
    "System": ("screens/system.py", None),
}
RESULTS = ROOT / "bench" / "results" / "screen_scripts.json"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


def measure(title: str, runs: int, role: str, profile_dir: Path | None) -> dict:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_data.clear()  # cold: nothing cached from the screen before
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.session_state["demo_role"] = role
    script, tab = SCREENS[title]
    at.switch_page(script)
    if tab is not None:  # opened on that tab, as its link does (the tabs are bound to the URL)
        key, label = tab
        at.session_state[key] = label
        at.query_params[key] = label
    started = time.perf_counter()
    at.run()
    cold = time.perf_counter() - started
    if at.exception:
        raise RuntimeError(f"{title}: {[e.value for e in at.exception]}")
    if tab is not None and at.session_state[tab[0]] != tab[1]:
        raise RuntimeError(f"{title}: opened on {at.session_state[tab[0]]!r}, not on {tab[1]!r}")
    warm = []
    for _ in range(runs):
        started = time.perf_counter()
        at.run()
        warm.append(time.perf_counter() - started)
    if profile_dir is not None:  # the script runs in AppTest's own thread: profile it there
        from streamlit.runtime.scriptrunner.script_runner import ScriptRunner

        profiler = cProfile.Profile()
        original = ScriptRunner._run_script

        def profiled(self, rerun_data):
            profiler.enable()
            try:
                return original(self, rerun_data)
            finally:
                profiler.disable()

        ScriptRunner._run_script = profiled
        try:
            at.run()
        finally:
            ScriptRunner._run_script = original
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("cumulative").print_stats(60)
        stats.sort_stats("tottime").print_stats(25)
        name = title.lower().replace("/", "").replace("(", "").replace(")", "").replace(" ", "_")
        (profile_dir / f"screen_script_{name}.txt").write_text(out.getvalue())
    return {"cold_ms": round(cold * 1000, 1), "warm_p50_ms": round(statistics.median(warm) * 1000, 1),
            "warm_p95_ms": round(percentile(warm, 0.95) * 1000, 1), "warm_max_ms": round(max(warm) * 1000, 1),
            "runs": runs}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="a database with the demo loaded (default: one of its own)")
    parser.add_argument("--reuse", action="store_true", help="reuse the benchmark's own demo database if it exists")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--role", default="manager")
    parser.add_argument("--screen", action="append", choices=list(SCREENS), help="only these screens (repeatable)")
    parser.add_argument("--profile", action="store_true", help="save a cProfile of one warm rerun per screen")
    parser.add_argument("--label", default="", help="a note stored with the results (e.g. 'before')")
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args()

    url = args.database_url or demo_database(admin_url(), "swipesavvy_bench_screen_scripts", [], reuse=args.reuse)
    os.environ["DATABASE_URL"] = url
    import logging
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    screens = args.screen or list(SCREENS)
    results = {}
    for title in screens:
        results[title] = measure(title, args.runs, args.role, RESULTS.parent if args.profile else None)
        say(f"{title}: {results[title]}")
    record = {"measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "label": args.label,
              "role": args.role, "load_average": os.getloadavg(), "screens": results,
              "command": "python bench/bench_screen_scripts.py " + " ".join(sys.argv[1:])}
    print(json.dumps(record, indent=2))
    if not args.no_save:
        previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else []
        RESULTS.write_text(json.dumps(previous + [record], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
