"""Benchmark: 10,000 comparisons in one vectorised analyze() call vs one call per comparison.

Run from the repository root:  .venv/bin/python bench/bench_stats.py [--comparisons N] [--loop-runs K]
Writes bench/results/stats.json and prints the same JSON.
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

import numpy as np
import pandas as pd

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from core.experiments.stats import analyze  # noqa: E402

RESULTS_PATH = REPO_ROOT / "bench" / "results" / "stats.json"


def synthetic_comparisons(count: int, seed: int = 42) -> pd.DataFrame:
    """``count`` two-arm conversion experiments with varied traffic and lifts."""
    rng = np.random.default_rng(seed)
    n = rng.integers(1_000, 200_000, size=(count, 2))
    base_rate = rng.uniform(0.01, 0.3, size=count)
    lift = rng.normal(0, 0.05, size=count)
    conversions = np.stack(
        [rng.binomial(n[:, 0], base_rate), rng.binomial(n[:, 1], np.clip(base_rate * (1 + lift), 0, 1))], axis=1
    )
    comparison = np.array([f"test{i:05d}/conversion" for i in range(count)])
    return pd.DataFrame(
        {
            "comparison": np.concatenate([comparison, comparison]),
            "variant": ["control"] * count + ["treatment"] * count,
            "n": np.concatenate([n[:, 0], n[:, 1]]),
            "sum": np.concatenate([conversions[:, 0], conversions[:, 1]]),
        }
    )


def median_seconds(function, runs: int) -> tuple[float, list[float]]:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings), timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comparisons", type=int, default=10_000)
    parser.add_argument("--vectorised-runs", type=int, default=7)
    parser.add_argument("--loop-runs", type=int, default=3)
    options = parser.parse_args()

    frame = synthetic_comparisons(options.comparisons)
    per_comparison = [group for _, group in frame.groupby("comparison", sort=False)]

    analyze(frame)  # warm-up: imports, scipy dispatch caches
    vectorised = {}
    for method in ("frequentist", "sequential", "bayesian"):
        median, timings = median_seconds(lambda m=method: analyze(frame, method=m), options.vectorised_runs)
        vectorised[method] = {"median_seconds": median, "runs_seconds": timings}

    loop_median, loop_timings = median_seconds(
        lambda: [analyze(group) for group in per_comparison], options.loop_runs
    )

    # The two ways must agree before their speed means anything.
    together = analyze(frame).set_index("comparison").sort_index()
    one_by_one = pd.concat([analyze(group) for group in per_comparison[:200]]).set_index("comparison")
    np.testing.assert_allclose(
        together.loc[one_by_one.index, ["estimate", "ci_low", "ci_high", "p_value"]].to_numpy(float),
        one_by_one[["estimate", "ci_low", "ci_high", "p_value"]].to_numpy(float),
    )

    vectorised_median = vectorised["frequentist"]["median_seconds"]
    report = {
        "benchmark": "analyze(): one vectorised call vs a Python loop with one call per comparison",
        "comparisons": options.comparisons,
        "rows": len(frame),
        "metric": "binomial",
        "difference": "relative",
        "vectorised_call": vectorised,
        "loop_one_call_per_comparison": {
            "method": "frequentist",
            "median_seconds": loop_median,
            "runs_seconds": loop_timings,
            "per_comparison_ms": 1000 * loop_median / options.comparisons,
        },
        "speedup_frequentist": loop_median / vectorised_median,
        "vectorised_comparisons_per_second": options.comparisons / vectorised_median,
        "environment": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "cpu_count": os.cpu_count(),
            "machine": platform.machine(),
        },
    }
    RESULTS_PATH.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_PATH.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
