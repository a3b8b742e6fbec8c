"""Benchmark of the data platform: bulk import, rollup refresh, dashboard query latency (from
the rollups and, for comparison, from raw events) and rollup lag under a steady event stream.

Run from the repository root:
    .venv/bin/python -m core bench [--events N] [--keep] [--runs 30] [--lag-seconds 60]
                                   [--lag-rate 20000] [--skip-lag]
It makes a NEW database on the server in DATABASE_URL (or the embedded one), loads the demo
data scaled to about N events, measures, writes bench/results/platform.json (with machine info)
and EXPLAIN ANALYZE plans to bench/results/platform_plans.txt, prints a Markdown table for the
README, and drops the database unless --keep. Progress goes to stderr.

Only the CSV import (issue 15), in a few minutes: `--only import` loads the demo and times the
import alone; with `--baseline REV --import-runs N` it times the code of commit REV and the
working tree's, alternately, N times each, each import in a new process on the same file, and
writes bench/results/import.json (medians and the ratio), e.g.
    .venv/bin/python bench/bench_platform.py --only import --baseline HEAD~1 --import-runs 3
Only the rollup lag at --lag-rate events/s: `--only lag` loads the demo, rolls it up and runs the
lag test alone (bench/results/lag.json).

Floors (SPEC, at 10 million events on the 2-core machine): all campaign-detail queries together
p95 < 25 ms, portfolio p95 < 50 ms, bulk import >= 300k rows/s, rollup lag < 5 s with 20,000
events/s arriving.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlalchemy import create_engine, text

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.common import say, stamped_batch  # noqa: E402
from core.platform import rollup  # noqa: E402
from core.analytics import campaigns as analytics  # noqa: E402
from core.platform import config  # noqa: E402
from core.demo import generator as demo  # noqa: E402
from core.platform import health  # noqa: E402
from core.platform import migrate  # noqa: E402
from core.platform.db import database_url, make_engine, query, with_database  # noqa: E402
from core.platform.events import EVENT_NAMES  # noqa: E402
from core.access.auth import SYSTEM  # noqa: E402
from core.platform.ingest import EVENT_COLUMNS, import_events, write_events  # noqa: E402
from core.platform.jobs import JobOutput, run_job  # noqa: E402
from core.analytics.metrics import add_metrics  # noqa: E402
from core.analytics.periods import Period, comparison_period, last_days  # noqa: E402

RESULTS = REPO_ROOT / "bench" / "results"
BENCH_SQL = REPO_ROOT / "bench" / "sql"
VIEWER_TZ = "America/New_York"
PERIOD_DAYS = 28
DEMO_DAYS = 90
FLOOR_SCALE = 10_000_000  # the floors are stated for this many events
FLOORS = {  # key: (description, comparison, threshold, unit)
    "detail_all_p95_ms": ("All campaign-detail queries together, p95", "<", 25, "ms"),
    "portfolio_p95_ms": ("Portfolio, p95", "<", 50, "ms"),
    "import_rows_per_second": ("Bulk import (validated CSV), rows/s", ">=", 300_000, "rows/s"),
    "lag_p95_seconds": ("Rollup lag with 20,000 events/s arriving, p95", "<", 5, "s"),
}


def bench_sql(name: str):
    """A statement from bench/sql (comparison SQL that is not part of the product)."""
    return text((BENCH_SQL / f"{name}.sql").read_text())


def percentiles(samples_ms: list[float]) -> dict:
    values = np.asarray(samples_ms, dtype=float)
    return {"runs": len(values), "p50_ms": round(float(np.percentile(values, 50)), 2),
            "p95_ms": round(float(np.percentile(values, 95)), 2), "mean_ms": round(float(values.mean()), 2),
            "max_ms": round(float(values.max()), 2)}


def timed_ms(function) -> tuple[float, object]:
    started = time.perf_counter()
    result = function()
    return (time.perf_counter() - started) * 1000, result


# --- machine and database --------------------------------------------------------------------

def machine_info() -> dict:
    info = {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count()}
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        info["cpu_model"] = re.search(r"model name\s*:\s*(.+)", cpuinfo).group(1).strip()
        meminfo = Path("/proc/meminfo").read_text()
        info["memory_gb"] = round(int(re.search(r"MemTotal:\s*(\d+)", meminfo).group(1)) / 1024 ** 2, 1)
        info["load_average_at_start"] = [round(x, 2) for x in os.getloadavg()]
    except (OSError, AttributeError):
        pass
    return info


class BenchDatabase:
    """A database of its own on the server (or the embedded PostgreSQL), dropped at the end."""

    def __init__(self, keep: bool):
        self.admin_url = database_url()
        self.backend = "server" if os.environ.get("DATABASE_URL") else "embedded"
        self.name = f"swipesavvy_bench_{uuid.uuid4().hex[:8]}"
        assert re.fullmatch(r"[a-z0-9_]+", self.name)  # safe to quote into the DDL below
        self.keep = keep
        self.admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT", pool_size=1)
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{self.name}"')
        self.url = with_database(self.admin_url, self.name)

    def drop(self) -> None:
        if self.keep:
            say(f"kept database {self.name}: {self.url}")
        else:
            with self.admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            say(f"dropped database {self.name}")
        self.admin.dispose()


def server_settings(db) -> dict:
    with db.connect() as conn:
        return dict(conn.execute(bench_sql("server_settings")).all())


# --- (a) bulk load and import ----------------------------------------------------------------

def load_demo(db, data: demo.DemoData) -> dict:
    """Time core.demo.load; the events COPY is timed from its progress message to the commit."""
    marks = {}

    def progress(message: str) -> None:
        if message.startswith("writing") and message.endswith(" events"):
            marks["events_started"] = time.perf_counter()
        say("  " + message)

    started = time.perf_counter()
    demo.load(db, data, progress=progress)
    finished = time.perf_counter()
    events_seconds = finished - marks["events_started"]
    return {"rows": len(data.events), "seconds": round(finished - started, 2),
            "events_copy_seconds": round(events_seconds, 2),
            "events_copy_rows_per_second": round(len(data.events) / events_seconds)}


def events_csv(events: pd.DataFrame, path: Path) -> int:
    """Write events as an import file (ISO 8601 UTC times, event type names) with Arrow."""
    names = np.array([""] + [EVENT_NAMES[code] for code in sorted(EVENT_NAMES)], dtype=object)
    table = pa.table({
        "event_time": pc.strftime(pa.array(events.event_time.dt.tz_convert("UTC").dt.tz_localize(None)),
                                  format="%Y-%m-%dT%H:%M:%SZ"),
        "campaign_id": pa.array(events.campaign_id.to_numpy()),
        "member_id": pa.array(events.member_id.to_numpy()),
        "event_type": pa.array(names[events.event_type.to_numpy().astype(int)].tolist()),
        **{column: pa.array(events[column], from_pandas=True, type=pa.string())
           for column in ("variant", "device", "region_code")},
        **{column: pa.array(events[column].to_numpy(), from_pandas=True) for column in ("revenue", "reward_cost")},
    })
    pacsv.write_csv(table, str(path))
    return path.stat().st_size


def measure_import(db, events: pd.DataFrame, rows: int, seed: int) -> dict:
    sample = events.sample(n=min(rows, len(events)), random_state=seed).sort_values("event_time")
    with tempfile.TemporaryDirectory(prefix="swipesavvy-bench-") as folder:
        path = Path(folder) / "events.csv"
        size = events_csv(sample, path)
        say(f"importing {len(sample):,} events from a {size / 1e6:.0f} MB CSV through core.platform.ingest.import_events")
        started = time.perf_counter()
        result = import_events(db, path, SYSTEM)  # as the command line imports
        seconds = time.perf_counter() - started
    return {"rows": result.rows, "csv_mb": round(size / 1e6, 1), "seconds": round(seconds, 2),
            "rows_per_second": round(result.rows / seconds)}


IMPORT_RUNNER = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
from core.access.auth import SYSTEM
from core.platform.db import make_engine
from core.platform.ingest import import_events
import core.platform.ingest
assert core.platform.ingest.__file__.startswith(sys.argv[1]), core.platform.ingest.__file__
db = make_engine(sys.argv[2], pool_size=2)
started = time.perf_counter()
result = import_events(db, sys.argv[3], SYSTEM)
seconds = time.perf_counter() - started
print(json.dumps({"rows": result.rows, "seconds": seconds}))
"""


def compare_imports(db, url: str, events: pd.DataFrame, rows: int, seed: int, baseline: str, runs: int) -> dict:
    """The import of one file by commit `baseline`'s code and by the working tree's, alternately
    (who goes first alternates too), each in a new process; the file's key is forgotten before
    every run so that each one writes all its rows (the table grows by the file each run)."""
    import subprocess
    revision = subprocess.run(["git", "rev-parse", baseline], cwd=REPO_ROOT, check=True, capture_output=True,
                              text=True).stdout.strip()
    times: dict[str, list[float]] = {"baseline": [], "current": []}
    sample = events.sample(n=min(rows, len(events)), random_state=seed).sort_values("event_time")
    with tempfile.TemporaryDirectory(prefix="swipesavvy-bench-") as folder:
        old_tree = Path(folder) / "baseline"
        old_tree.mkdir()
        archive = subprocess.run(["git", "archive", revision, "core", "queries"], cwd=REPO_ROOT, check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(old_tree)], input=archive, check=True)
        path = Path(folder) / "events.csv"
        size = events_csv(sample, path)
        trees = {"baseline": str(old_tree), "current": str(REPO_ROOT)}
        for run in range(runs):
            for label in (("baseline", "current") if run % 2 == 0 else ("current", "baseline")):
                with db.begin() as conn:
                    conn.execute(text("DELETE FROM event_imports"))
                done = subprocess.run([sys.executable, "-c", IMPORT_RUNNER, trees[label], url, str(path)],
                                      check=True, capture_output=True, text=True)
                result = json.loads(done.stdout.strip().splitlines()[-1])
                assert result["rows"] == len(sample), result
                times[label].append(result["seconds"])
                say(f"  {label}: {result['seconds']:.2f} s, {len(sample) / result['seconds']:,.0f} rows/s")
    medians = {label: float(np.median(seconds)) for label, seconds in times.items()}
    return {"rows": len(sample), "csv_mb": round(size / 1e6, 1), "baseline_commit": revision, "runs": runs,
            "seconds": {label: [round(s, 2) for s in seconds] for label, seconds in times.items()},
            "median_seconds": {label: round(m, 2) for label, m in medians.items()},
            "median_rows_per_second": {label: round(len(sample) / m) for label, m in medians.items()},
            "speedup_median": round(medians["baseline"] / medians["current"], 2),
            "rows_per_second": round(len(sample) / medians["current"])}


# --- (b) rollup refresh ----------------------------------------------------------------------

def measure_refresh(db) -> dict:
    started = time.perf_counter()
    events = rollup.refresh_all(db, progress=lambda r: say(f"  rolled up to event {r.to_id:,}"))
    seconds = time.perf_counter() - started
    return {"events": events, "seconds": round(seconds, 2),
            "seconds_per_million_events": round(seconds / max(events, 1) * 1e6, 2)}


def vacuum_analyze(db) -> float:
    started = time.perf_counter()
    with db.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(bench_sql("vacuum_analyze"))
    return round(time.perf_counter() - started, 2)


# --- (c) query latency -----------------------------------------------------------------------

def typical_campaign(frame: pd.DataFrame) -> int:
    """The campaign with the median number of sends among those that sent in the period."""
    active = frame[frame.sends > 0].sort_values(["sends", "campaign_id"])
    return int(active.iloc[len(active) // 2].campaign_id)


def raw_portfolio(raw_db, period: Period) -> pd.DataFrame:
    with raw_db.connect() as conn:
        result = conn.execute(bench_sql("raw_portfolio"), {"start_at": period.start_at, "end_at": period.end_at})
        frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    return add_metrics(frame)[analytics.PORTFOLIO_COLUMNS]


def raw_series(raw_db, period: Period, campaign_ids: tuple[int, ...], grain: str) -> pd.DataFrame:
    with raw_db.connect() as conn:
        result = conn.execute(bench_sql("raw_campaign_series"), {
            "campaign_ids": list(campaign_ids), "grain": grain, "tz": period.tz,
            "start_at": period.start_at, "end_at": period.end_at})
        frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    return add_metrics(frame)


def same_numbers(product: pd.DataFrame, raw: pd.DataFrame, key: str) -> bool:
    """Do the rollup answer and the raw-event answer agree on every number they share?"""
    a = product.assign(**{key: product[key].astype(str)}).set_index(key).sort_index()
    b = raw.assign(**{key: raw[key].astype(str)}).set_index(key).sort_index()
    if not a.index.equals(b.index):
        return False
    shared = [c for c in a.columns if c in b.columns and pd.api.types.is_numeric_dtype(a[c])
              and c != "incomplete"]
    return all(np.allclose(a[c].astype(float), b[c].astype(float), equal_nan=True) for c in shared)


def measure_queries(db, raw_db, runs: int, raw_runs: int) -> tuple[Period, dict]:
    period = last_days(PERIOD_DAYS, VIEWER_TZ)
    portfolio = analytics.portfolio(db, period)
    campaign = typical_campaign(portfolio)
    ids = (campaign,)
    # What the detail tab runs when a campaign is opened: KPI cards, the series at its default
    # grain (day) and the breakdown. The hour grain (one click away) is timed on its own.
    detail = {
        "kpi_cards": lambda: analytics.kpi_cards(db, period, ids, "previous"),
        "series_day": lambda: analytics.series(db, period, ids, "day"),
        "breakdown": lambda: analytics.breakdown(db, period, ids),
    }
    every_campaign = {  # the same tab with "All campaigns" chosen (its default)
        "kpi_cards": lambda: analytics.kpi_cards(db, period, None, "previous"),
        "series_day": lambda: analytics.series(db, period, None, "day"),
        "breakdown": lambda: analytics.breakdown(db, period, None),
    }
    say(f"timing {runs} runs of the portfolio and the detail queries of campaign {campaign} "
        f"({period.label()})")
    series_hour = lambda: analytics.series(db, period, ids, "hour")  # noqa: E731
    for function in [lambda: analytics.portfolio(db, period), *detail.values(), *every_campaign.values(), series_hour]:
        function()  # warm the pool and the caches once; not counted
    health.check(db)
    samples = {name: [] for name in ["portfolio", *detail, "series_hour", "detail_all", "detail_every_campaign",
                                     "system_health"]}
    for _ in range(runs):
        samples["portfolio"].append(timed_ms(lambda: analytics.portfolio(db, period))[0])
        samples["system_health"].append(timed_ms(lambda: health.check(db))[0])  # the System screen, every 5 s
        started = time.perf_counter()
        for name, function in detail.items():
            samples[name].append(timed_ms(function)[0])
        samples["detail_all"].append((time.perf_counter() - started) * 1000)
        samples["series_hour"].append(timed_ms(series_hour)[0])
        started = time.perf_counter()
        for function in every_campaign.values():
            function()
        samples["detail_every_campaign"].append((time.perf_counter() - started) * 1000)

    say(f"timing {raw_runs} runs of the same portfolio and day series from raw events")
    raw = {"portfolio": lambda: raw_portfolio(raw_db, period),
           "series_day": lambda: raw_series(raw_db, period, ids, "day")}
    raw_results = {name: function() for name, function in raw.items()}  # warm-up, kept for the check
    raw_samples = {name: [timed_ms(function)[0] for _ in range(raw_runs)] for name, function in raw.items()}
    matches = {
        "portfolio": same_numbers(portfolio, raw_results["portfolio"], "campaign_id"),
        "series_day": same_numbers(analytics.series(db, period, ids, "day"), raw_results["series_day"], "bucket"),
    }
    return period, {
        "period": {"first": str(period.first), "last": str(period.last), "tz": period.tz, "days": period.days},
        "comparison": "previous",
        "campaign_id": campaign,
        "campaign_sends_in_period": int(portfolio.set_index("campaign_id").sends[campaign]),
        "campaigns": len(portfolio),
        "from_rollups": {name: percentiles(values) for name, values in samples.items()},
        "from_raw_events": {name: percentiles(values) for name, values in raw_samples.items()},
        "raw_and_rollup_agree": matches,
        "what_is_timed": "the core.analytics call end to end (pool checkout, SQL, pandas metrics), as the app calls it; "
                         "kpi_cards = totals and reach for the period and the comparison period; detail_all = what "
                         "the detail tab runs for one campaign (KPI cards, day series, breakdown); "
                         "detail_every_campaign = the same with 'All campaigns' chosen",
    }


def write_plans(db, raw_db, period: Period, campaign_id: int, path: Path) -> None:
    """EXPLAIN ANALYZE of every statement the timings ran, for whoever reads a slow number."""
    ids = [campaign_id]
    all_ids = analytics.list_campaigns(db).campaign_id.astype(int).tolist()
    no_comparison = {f"cmp_{k}": None for k in ("start_at", "end_at", "day_from", "day_to")}
    statements = [
        ("campaign_totals (portfolio: every campaign)", query("campaign_totals"),
         {"campaign_ids": all_ids, "with_reach": False, **period.bounds(), **no_comparison}),
        ("campaign_totals (KPI cards: one campaign, both periods, with reach)", query("campaign_totals"),
         {"campaign_ids": ids, "with_reach": True, **period.bounds(),
          **{f"cmp_{k}": v for k, v in comparison_period(period, "previous").bounds().items()}}),
        ("campaign_series (hour)", query("campaign_series"),
         {"campaign_ids": ids, "grain": "hour", "tz": period.tz, "start_at": period.start_at, "end_at": period.end_at}),
        ("campaign_breakdown", query("campaign_breakdown"),
         {"campaign_ids": ids, **period.bounds(), **no_comparison}),
        ("health_freshness (System screen)", query("health_freshness"), {}),
        ("bench raw_portfolio", bench_sql("raw_portfolio"), {"start_at": period.start_at, "end_at": period.end_at}),
        ("bench raw_campaign_series (day)", bench_sql("raw_campaign_series"),
         {"campaign_ids": ids, "grain": "day", "tz": period.tz, "start_at": period.start_at, "end_at": period.end_at}),
    ]
    out = [f"EXPLAIN (ANALYZE, BUFFERS) of the benchmarked statements, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, "
           f"campaign {ids[0]}, {period.label()}\n"]
    for title, statement, params in statements:
        engine = raw_db if title.startswith("bench") else db
        with engine.connect() as conn:
            rows = conn.execute(text("EXPLAIN (ANALYZE, BUFFERS) " + statement.text), params).scalars().all()
        out.append(f"=== {title}\n" + "\n".join(rows) + "\n")
    path.write_text("\n".join(out))


# --- (d) rollup lag under a steady stream ----------------------------------------------------

class LagRun:
    """A writer thread appending `rate` events/s (batched COPY through write_events, event times
    'now') while a worker loop runs the rollup job every `interval` seconds, as the worker does.
    Lag of a batch = from its commit until a finished refresh has moved the watermark past it."""

    def __init__(self, url: str, pool: pd.DataFrame, rate: int, seconds: float, interval: float, batch_seconds: float):
        self.writer_db = make_engine(url, pool_size=1)
        self.worker_db = make_engine(url, pool_size=2)
        self.pool = pool.reset_index(drop=True)
        self.rate, self.seconds, self.interval, self.batch_seconds = rate, seconds, interval, batch_seconds
        self.batches: list[tuple[float, int, int]] = []      # (committed at, last event_id, rows)
        self.refreshes: list[tuple[float, int, int, float]] = []  # (finished at, watermark, events, seconds)
        self.writing = threading.Event()
        self.errors: list[str] = []

    def write(self) -> None:
        per_batch = max(1, round(self.rate * self.batch_seconds))
        offset, started = 0, time.monotonic()
        due = started
        try:
            while time.monotonic() - started < self.seconds:
                rows = stamped_batch(self.pool, offset, per_batch, self.batch_seconds)
                offset += per_batch
                with self.writer_db.begin() as conn:
                    write_events(conn, rows)
                    last_id = int(conn.execute(bench_sql("last_event_id_in_session")).scalar())
                self.batches.append((time.monotonic(), last_id, len(rows)))
                due += self.batch_seconds
                time.sleep(max(0.0, due - time.monotonic()))
        except Exception as error:  # reported in the results rather than lost in a thread
            self.errors.append(f"writer: {type(error).__name__}: {error}")
        finally:
            self.writing.clear()

    def roll(self) -> None:
        def job() -> JobOutput:
            result = rollup.refresh(self.worker_db)
            self.refreshes.append((time.monotonic(), result.to_id, result.events, time.monotonic() - began))
            return JobOutput(rows=result.events, skipped=result.skipped)

        give_up = None
        while True:
            began = time.monotonic()
            outcome = run_job(self.worker_db, "rollup", job, retries=0)
            if outcome.status == "failed":
                self.errors.append(f"rollup: {outcome.detail}")
            if not self.writing.is_set():
                last_written = self.batches[-1][1] if self.batches else 0
                caught_up = self.refreshes and self.refreshes[-1][1] >= last_written
                give_up = give_up or time.monotonic() + 120
                if caught_up or time.monotonic() > give_up:
                    return
            time.sleep(max(0.0, self.interval - (time.monotonic() - began)))

    def run(self) -> dict:
        self.writing.set()
        writer = threading.Thread(target=self.write, name="bench-writer", daemon=True)
        worker = threading.Thread(target=self.roll, name="bench-rollup", daemon=True)
        started = time.monotonic()
        writer.start()
        worker.start()
        writer.join()
        written_seconds = time.monotonic() - started
        worker.join()
        self.writer_db.dispose()
        self.worker_db.dispose()
        return self.summary(written_seconds)

    def summary(self, written_seconds: float) -> dict:
        lags = []
        for committed_at, last_id, _ in self.batches:
            done = [at for at, watermark, _, _ in self.refreshes if watermark >= last_id and at >= committed_at]
            lags.append(min(done) - committed_at if done else float("nan"))
        lags = np.asarray(lags, dtype=float)
        rolled = lags[np.isfinite(lags)]
        rows = sum(rows for _, _, rows in self.batches)
        refresh_seconds = np.asarray([s for *_, s in self.refreshes], dtype=float)
        return {
            "target_rate_events_per_second": self.rate,
            "achieved_rate_events_per_second": round(rows / max(written_seconds, 1e-9)),
            "seconds": round(written_seconds, 1), "events_written": rows, "batches": len(self.batches),
            "batch_seconds": self.batch_seconds, "rollup_interval_seconds": self.interval,
            "lag_p50_seconds": round(float(np.percentile(rolled, 50)), 2) if len(rolled) else None,
            "lag_p95_seconds": round(float(np.percentile(rolled, 95)), 2) if len(rolled) else None,
            "lag_max_seconds": round(float(rolled.max()), 2) if len(rolled) else None,
            "batches_never_rolled_up": int((~np.isfinite(lags)).sum()),
            "refreshes": len(self.refreshes),
            "refresh_p50_seconds": round(float(np.percentile(refresh_seconds, 50)), 3) if len(refresh_seconds) else None,
            "refresh_max_seconds": round(float(refresh_seconds.max()), 3) if len(refresh_seconds) else None,
            "definition": "per batch: time from the writer's commit until a finished rollup refresh had moved the "
                          "watermark past the batch's last event_id",
            "errors": self.errors,
        }


def lag_pool(events: pd.DataFrame, rows: int, seed: int) -> pd.DataFrame:
    """Realistic rows (campaigns, members, types, money) to stream; times are set when written."""
    return events.sample(n=min(rows, len(events)), random_state=seed)[EVENT_COLUMNS]


# --- report ----------------------------------------------------------------------------------

def floors(results: dict) -> list[dict]:
    queries = results.get("queries", {}).get("from_rollups", {})
    measured = {
        "detail_all_p95_ms": queries.get("detail_all", {}).get("p95_ms"),
        "portfolio_p95_ms": queries.get("portfolio", {}).get("p95_ms"),
        "import_rows_per_second": results.get("import", {}).get("rows_per_second"),
        "lag_p95_seconds": results.get("lag", {}).get("lag_p95_seconds"),
    }
    out = []
    for key, (label, op, threshold, unit) in FLOORS.items():
        value = measured[key]
        passed = None if value is None else (value < threshold if op == "<" else value >= threshold)
        out.append({"key": key, "floor": f"{op} {threshold:,} {unit}", "label": label, "measured": value, "pass": passed})
    return out


def markdown(results: dict) -> str:
    data, queries = results["data"], results.get("queries")
    lines = [f"Platform benchmark: {data['events']:,} events ({data['members']:,} members, {data['campaigns']} campaigns, "
             f"{DEMO_DAYS} days), {results['machine'].get('cpus')} CPUs ({results['machine'].get('cpu_model', '?')}), "
             f"PostgreSQL {results['database']['settings'].get('server_version', '?')} ({results['database']['backend']}), "
             f"{results['generated_at'][:16]} UTC. Floors apply at {FLOOR_SCALE:,} events.",
             "", "| Measure | Result | Floor | Pass |", "|---|---|---|---|"]

    def row(label, value, floor="", passed=None):
        mark = "" if passed is None else ("yes" if passed else "**no**")
        lines.append(f"| {label} | {value} | {floor} | {mark} |")

    verdict = {f["key"]: f for f in results["floors"]}
    load = results["bulk_load"]
    row("Raw COPY of events (core.demo.load / write_events)", f"{load['events_copy_rows_per_second']:,} rows/s")
    if "import" in results:
        f = verdict["import_rows_per_second"]
        row(f"Bulk import, validated CSV (core.platform.ingest.import_events, {results['import']['rows']:,} rows)",
            f"{results['import']['rows_per_second']:,} rows/s", f["floor"], f["pass"])
        if "baseline_commit" in results["import"]:
            i = results["import"]
            row(f"The same import by {i['baseline_commit'][:7]} beside it (median of {i['runs']})",
                f"{i['median_rows_per_second']['baseline']:,} rows/s (current {i['speedup_median']}x)")
    r = results.get("rollup", {})
    if "initial" in r:
        row("Rollup refresh, freshly loaded events", f"{r['initial']['seconds_per_million_events']:.1f} s per million events")
    if "incremental" in r:
        row("Rollup refresh, imported events on top", f"{r['incremental']['seconds_per_million_events']:.1f} s per million events")
    if queries:
        q = queries["from_rollups"]
        names = {"portfolio": "Portfolio (every campaign, 28 days, America/New_York)",
                 "kpi_cards": "KPI cards (totals + reach, period and comparison)",
                 "series_day": "Series, day grain", "series_hour": "Series, hour grain",
                 "breakdown": "Breakdown (segment, device, region, channel)",
                 "detail_all": "All campaign-detail queries together (KPI cards, day series, breakdown)",
                 "detail_every_campaign": "The same for 'All campaigns' (every campaign summed)",
                 "system_health": "System screen health check (core.platform.health.check, polled every 5 s)"}
        for key, label in names.items():
            f = verdict.get(f"{key}_p95_ms") or (verdict["detail_all_p95_ms"] if key == "detail_all" else None)
            row(f"{label}, p50 / p95", f"{q[key]['p50_ms']:.1f} / {q[key]['p95_ms']:.1f} ms",
                f["floor"] if f else "", f["pass"] if f else None)
        raw = queries["from_raw_events"]
        row("Portfolio from raw events (comparison), p50 / p95",
            f"{raw['portfolio']['p50_ms']:.0f} / {raw['portfolio']['p95_ms']:.0f} ms")
        row("Day series from raw events (comparison), p50 / p95",
            f"{raw['series_day']['p50_ms']:.0f} / {raw['series_day']['p95_ms']:.0f} ms")
    if "lag" in results:
        lag, f = results["lag"], verdict["lag_p95_seconds"]
        row(f"Rollup lag at {lag['achieved_rate_events_per_second']:,} events/s for {lag['seconds']:.0f} s, "
            f"p50 / p95 / max", f"{lag['lag_p50_seconds']} / {lag['lag_p95_seconds']} / {lag['lag_max_seconds']} s",
            f["floor"], f["pass"])
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=FLOOR_SCALE, help="about this many demo events (default 10,000,000)")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database (its URL is printed)")
    parser.add_argument("--runs", type=int, default=30, help="timed runs of each dashboard query (default 30)")
    parser.add_argument("--raw-runs", type=int, help="timed runs of the raw-event comparisons (default: --runs)")
    parser.add_argument("--import-rows", type=int, help="rows in the CSV import (default: a fifth of the events, at most 2,000,000)")
    parser.add_argument("--lag-seconds", type=float, default=60)
    parser.add_argument("--lag-rate", type=int, default=20_000, help="events per second written during the lag test")
    parser.add_argument("--lag-interval", type=float, default=config.ROLLUP_INTERVAL_SECONDS,
                        help="seconds between rollup refreshes (default: the worker's ROLLUP_INTERVAL_SECONDS)")
    parser.add_argument("--lag-batch-seconds", type=float, default=0.25, help="the writer commits a batch this often")
    parser.add_argument("--skip-lag", action="store_true")
    parser.add_argument("--only", choices=["import", "lag"], help="load the demo and measure only this (a few minutes)")
    parser.add_argument("--baseline", help="with --only import: also time this commit's import, interleaved")
    parser.add_argument("--import-runs", type=int, default=1, help="with --baseline: timed imports of each code")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--output", type=Path,
                        help="default: bench/results/platform.json (import.json / lag.json with --only import / lag)")
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--"]:  # `python -m core bench -- --events N` passes the separator through
        argv = argv[1:]
    args = parser.parse_args(argv)
    args.output = args.output or RESULTS / (f"{args.only}.json" if args.only else "platform.json")
    if args.events < 10_000 or args.runs < 1:
        parser.error("--events must be at least 10,000 and --runs at least 1")

    members, campaigns = demo.population_for(args.events)
    results = {"benchmark": "platform", "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
               "command": " ".join(["python -m core bench", *argv]),
               "machine": machine_info()}
    target = BenchDatabase(args.keep)
    say(f"benchmark database {target.name} on the {target.backend} PostgreSQL")
    db = make_engine(target.url, statement_timeout_ms=config.DASHBOARD_STATEMENT_TIMEOUT_MS, pool_size=5)
    raw_db = make_engine(target.url, pool_size=2)
    try:
        migrate.upgrade(db)
        results["database"] = {"backend": target.backend, "name": target.name, "settings": server_settings(db)}

        say(f"generating demo data: {members:,} members, {campaigns} campaigns, {DEMO_DAYS} days")
        started = time.perf_counter()
        data = demo.generate(seed=args.seed, members=members, campaigns=campaigns, days=DEMO_DAYS)
        results["data"] = {"events": len(data.events), "requested_events": args.events, "members": members,
                           "campaigns": campaigns, "days": DEMO_DAYS, "seed": args.seed,
                           "generate_seconds": round(time.perf_counter() - started, 1)}
        say(f"  {len(data.events):,} events in {results['data']['generate_seconds']} s")

        say("loading (core.demo.load: dimensions, then COPY of events)")
        results["bulk_load"] = load_demo(raw_db, data)  # loading is not a dashboard query: no timeout
        if args.only == "import":
            import_rows = args.import_rows or min(2_000_000, len(data.events) // 5)
            if args.baseline:
                say(f"importing {import_rows:,} events: {args.baseline} and the working tree, "
                    f"{args.import_runs} times each, interleaved")
                results["import"] = compare_imports(raw_db, target.url, data.events, import_rows, args.seed,
                                                    args.baseline, args.import_runs)
            else:
                results["import"] = measure_import(raw_db, data.events, import_rows, args.seed)
        elif args.only == "lag":
            say("rolling up every event (core.platform.rollup.refresh_all)")
            results["rollup"] = {"initial": measure_refresh(raw_db)}
            say(f"rollup lag: {args.lag_rate:,} events/s for {args.lag_seconds:.0f} s, refresh every {args.lag_interval:g} s")
            pool = lag_pool(data.events, max(args.lag_rate * 10, 10_000), args.seed)
            del data
            results["lag"] = LagRun(target.url, pool, args.lag_rate, args.lag_seconds, args.lag_interval,
                                    args.lag_batch_seconds).run()
        else:
            say("rolling up every event (core.platform.rollup.refresh_all)")
            results["rollup"] = {"initial": measure_refresh(raw_db)}
            say("VACUUM ANALYZE (what autovacuum does after a bulk load)")
            results["rollup"]["vacuum_analyze_seconds"] = vacuum_analyze(raw_db)

            period, results["queries"] = measure_queries(db, raw_db, args.runs, args.raw_runs or args.runs)
            plans = args.output.with_name(args.output.stem + "_plans.txt")
            write_plans(db, raw_db, period, results["queries"]["campaign_id"], plans)
            say(f"query plans in {plans.relative_to(REPO_ROOT) if plans.is_relative_to(REPO_ROOT) else plans}")

            import_rows = args.import_rows or min(2_000_000, len(data.events) // 5)
            results["import"] = measure_import(raw_db, data.events, import_rows, args.seed)
            say("rolling up the imported events")
            results["rollup"]["incremental"] = measure_refresh(raw_db)

            if not args.skip_lag:
                say(f"rollup lag: {args.lag_rate:,} events/s for {args.lag_seconds:.0f} s, "
                    f"refresh every {args.lag_interval:g} s")
                pool = lag_pool(data.events, max(args.lag_rate * 10, 10_000), args.seed)
                del data
                results["lag"] = LagRun(target.url, pool, args.lag_rate, args.lag_seconds, args.lag_interval,
                                        args.lag_batch_seconds).run()
        results["floors"] = floors(results)
    finally:
        db.dispose()
        raw_db.dispose()
        target.drop()

    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2, default=str) + "\n")
    say(f"results in {args.output}")
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
