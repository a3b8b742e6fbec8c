"""Benchmark: what one kind of element costs the browser (issue 15: "measure where it goes —
Plotly's load and draw, dataframes, number of elements — and choose what to draw with what").

bench/browser_element_page.py is served beside the reference page (bench/browser_baseline_page.py)
and opened in Debian's Chromium as a new tab with the assets cached, as bench/bench_browser.py
opens a screen (the same instrumentation and "painted and idle" rule), with 0, 1, 4 and 8
elements of each kind: Plotly and Vega-Lite charts of the same data (Vega-Lite drawn as SVG and
on a canvas), st.dataframe, st.table and one HTML table of the same 20 rows. The pages are
interleaved run by run; medians are what count.

    .venv/bin/python bench/browser_element_costs.py [--runs 5] [--kinds vega,vega_canvas]

Writes bench/results/browser_element_costs.json (with --kinds: browser_element_costs_<kinds>.json).
Needs no database."""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
from datetime import datetime, timezone
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from bench.bench_browser import REFERENCE_SCRIPT, Server, new_context, open_timed, restart  # noqa: E402
from bench.common import say  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

PAGE_SCRIPT = REPO_ROOT / "bench" / "browser_element_page.py"
RESULTS = REPO_ROOT / "bench" / "results" / "browser_element_costs.json"
PAGES = [("none", 0)] + [(kind, n) for kind in ("plotly", "vega", "vega_canvas") for n in (1, 4, 8)] + \
        [(kind, n) for kind in ("dataframe", "table", "html") for n in (1, 4)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--kinds", help="comma-separated: only these kinds (the title-only and reference pages always)")
    args = parser.parse_args()
    pages_measured = [(kind, n) for kind, n in PAGES if not args.kinds or kind == "none" or kind in args.kinds.split(",")]
    from playwright.sync_api import sync_playwright

    servers = [Server(PAGE_SCRIPT, "elements", dict(os.environ)), Server(REFERENCE_SCRIPT, "reference", dict(os.environ))]
    times: dict[str, list[float]] = {}
    try:
        restart(servers)
        pages, reference = servers[0].base, servers[1].base
        urls = {f"{kind} x{n}": f"{pages}/?kind={kind}&n={n}" for kind, n in pages_measured}
        urls["reference page"] = reference + "/"
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            context = new_context(browser)
            for url in urls.values():  # assets cached, server warm
                open_timed(context, url)
            for run in range(args.runs):
                for name, url in urls.items():
                    times.setdefault(name, []).append(open_timed(context, url)["ms"])
                say(f"run {run + 1}/{args.runs}: " + ", ".join(f"{n} {t[-1]:.0f}" for n, t in times.items()))
            browser.close()
    finally:
        for server in servers:
            server.stop()
    medians = {name: round(statistics.median(t), 1) for name, t in times.items() if None not in t}
    result = {
        "benchmark": "browser_element_costs", "command": " ".join(["bench/browser_element_costs.py"] + sys.argv[1:]),
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "load_average": os.getloadavg(), "python": platform.python_version()},
        "method": "ms from navigation to the page painted and idle (bench_browser's rule), new tab, assets cached",
        "median_ms": medians, "runs_ms": times,
        "extra_over_title_only_ms": {name: round(ms - medians["none x0"], 1) for name, ms in medians.items()},
    }
    # A run of some kinds only is saved beside the full run, not over it.
    output = RESULTS if not args.kinds else RESULTS.with_name(f"browser_element_costs_{args.kinds.replace(',', '_')}.json")
    output.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({"median_ms": medians}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
