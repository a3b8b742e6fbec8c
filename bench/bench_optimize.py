"""Benchmark: the Recommendations screen's reads (p50/p95, target < 300 ms for a campaign's offer
recommendations) and the duration of a retrain, on a database with demo data.

Run from the repository root (DATABASE_URL: a database with demo data; it is trained first
unless it already has a model run, or with --train):
    DATABASE_URL=postgresql://... .venv/bin/python bench/bench_optimize.py [--repeat 50] [--train]
Writes bench/results/optimize.json and prints the same JSON.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from core.platform import config  # noqa: E402
from core.platform.db import database_url, fetch_df, make_engine  # noqa: E402
from core.optimize import store, training  # noqa: E402

RESULTS_PATH = REPO_ROOT / "bench" / "results" / "optimize.json"
TARGET_MS = 300.0


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def timed(function, repeat: int) -> dict:
    function()  # warm-up: connection, plan cache
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": statistics.median(times), "p95_ms": percentile(times, 0.95), "max_ms": max(times), "runs": repeat}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--train", action="store_true", help="retrain even if a model run exists")
    options = parser.parse_args()

    engine = make_engine(database_url(), statement_timeout_ms=config.DASHBOARD_STATEMENT_TIMEOUT_MS, pool_size=2)
    report: dict = {"benchmark": "Recommendations screen reads and retrain duration"}
    if options.train or store.current_run(engine) is None:
        long_running = make_engine(database_url(), pool_size=1)
        stages: list[tuple[float, str]] = []
        started = time.perf_counter()
        outcome = training.retrain(long_running, progress=lambda f, m: stages.append((time.perf_counter() - started, m)))
        report["retrain"] = {"seconds": time.perf_counter() - started, "run_id": outcome.run_id,
                             "recommendations": outcome.recommendations,
                             "model_seconds": outcome.metrics.get("timings_seconds", {}), "skipped": outcome.skipped}
        long_running.dispose()
    run = store.current_run(engine)
    if run is None:
        raise SystemExit("No model run: the database has too little data to train. Load the demo first "
                         "(python -m core demo).")
    counts = fetch_df(engine, "opt_bench_sizes")
    campaigns = fetch_df(engine, "opt_campaigns").campaign_id.astype(int).tolist()
    campaign = campaigns[len(campaigns) // 2]
    reads = {
        "offer_recommendations_for_a_campaign": lambda: (store.offer_scores(engine, campaign),
                                                         store.recommendations(engine, campaign_id=campaign),
                                                         store.uplift(engine, campaign)),
        "recommendation_cards_all": lambda: store.recommendations(engine),
        "recommendation_cards_filtered": lambda: store.recommendations(engine, kind="offer"),
        "send_time_distribution": lambda: store.send_time_distribution(engine),
        "member_explorer": lambda: (store.member_profile(engine, 42), store.member_affinity(engine, 42)),
        "segment_profiles_and_roi": lambda: (store.segments(engine), store.campaign_segment_roi(engine, campaign)),
        "history": lambda: store.history(engine),
    }
    report["reads"] = {name: timed(read, options.repeat) for name, read in reads.items()}
    screen = report["reads"]["offer_recommendations_for_a_campaign"]
    report["target_ms"] = TARGET_MS
    report["offer_screen_meets_target"] = screen["p95_ms"] < TARGET_MS
    report["data"] = {**counts.iloc[0].to_dict(), "run_id": int(run["run_id"]), "campaign_id": campaign}
    report["environment"] = {"python": platform.python_version(), "cpu_count": os.cpu_count(),
                             "machine": platform.machine(), "load_average": os.getloadavg()}
    RESULTS_PATH.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_PATH.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(json.dumps(report, indent=2, default=str))


if __name__ == "__main__":
    main()
