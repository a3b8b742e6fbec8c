"""Benchmark of the scale-out path: the same demo data on one PostgreSQL node and on a local
Citus cluster (a coordinator and two workers on this machine), measured the same way: bulk
load, rollup refresh, dashboard query latency (portfolio, one campaign's detail tab), a
validated CSV import, and rollup lag under a steady event stream; EXPLAIN ANALYZE plans of
the dashboard statements on both.

Run from the repository root:
    .venv/bin/python bench/bench_cluster.py [--events 2000000] [--runs 20] [--lag-rate 20000]
                                            [--lag-seconds 30] [--shard-count 8]
The single node is a new database on the server in DATABASE_URL (default: the local server on
127.0.0.1:5432); the cluster is started in a temporary folder on free ports (core.platform.
cluster) and removed at the end. Its nodes get the single node's durability settings (fsync, synchronous_commit, full_page_writes),
so the comparison is fair. Results: bench/results/cluster.json and cluster_plans.txt; a
Markdown table on stdout; progress on stderr.

On one machine the cluster is not faster: three servers share the same two cores and disk,
and every distributed statement adds a coordinator round trip. What the numbers show is that
it works at the same data, where its time goes, that one campaign's reads go to one shard
(Task Count: 1 in the plans) and that portfolio reads fan out to every shard in parallel.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import create_engine, text

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.bench_platform import (LagRun, lag_pool, load_demo, machine_info, measure_import,  # noqa: E402
                                  measure_refresh, percentiles, server_settings, timed_ms, typical_campaign,
                                  vacuum_analyze)
from bench.common import DEFAULT_ADMIN_URL, say  # noqa: E402
from core.analytics import campaigns as analytics  # noqa: E402
from core.analytics.periods import comparison_period, last_days  # noqa: E402
from core.demo import generator as demo  # noqa: E402
from core.platform import cluster as local_cluster  # noqa: E402
from core.platform import config, distribute, migrate  # noqa: E402
from core.platform.db import make_engine, normalize_url, query, with_database  # noqa: E402
from core.platform.distribute import statement  # noqa: E402

RESULTS = REPO_ROOT / "bench" / "results"
VIEWER_TZ = "America/New_York"
PERIOD_DAYS = 28
DEMO_DAYS = 90
DURABILITY = ("fsync", "synchronous_commit", "full_page_writes")


# --- the two databases -----------------------------------------------------------------------

class Target:
    """A database of its own on one node or on the cluster's coordinator, dropped at the end."""

    def __init__(self, label: str, admin_url: str, cluster: local_cluster.Cluster | None = None):
        self.label, self.cluster = label, cluster
        self.name = f"swipesavvy_bench_{uuid.uuid4().hex[:8]}"
        assert re.fullmatch(r"[a-z0-9_]+", self.name)  # safe to quote into the DDL below
        self.admin_url = normalize_url(admin_url)
        if cluster is not None:
            self.url = normalize_url(local_cluster.create_database(cluster, self.name))
        else:
            with create_engine(self.admin_url, isolation_level="AUTOCOMMIT", pool_size=1).connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{self.name}"')
            self.url = with_database(self.admin_url, self.name)

    def drop(self) -> None:
        if self.cluster is not None:
            local_cluster.drop_database(self.cluster, self.name)
            return
        engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT", pool_size=1)
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        engine.dispose()


def match_durability(cluster: local_cluster.Cluster, single_admin_url: str) -> dict:
    """Give every node of the cluster the single node's durability settings (the local cluster
    starts without fsync: it is made for tests)."""
    with create_engine(normalize_url(single_admin_url), pool_size=1).connect() as conn:
        wanted = {name: conn.execute(text("SELECT current_setting(:n)"), {"n": name}).scalar() for name in DURABILITY}
    for node in cluster.nodes:
        engine = create_engine(normalize_url(cluster.url("postgres", node)), isolation_level="AUTOCOMMIT", pool_size=1)
        with engine.connect() as conn:
            for name, value in wanted.items():
                conn.exec_driver_sql(f"ALTER SYSTEM SET {name} = '{value}'")  # values read from the server itself
            conn.exec_driver_sql("SELECT pg_reload_conf()")
        engine.dispose()
    return wanted


# --- measures --------------------------------------------------------------------------------

def time_queries(db, runs: int) -> tuple[dict, int]:
    """Portfolio and one typical campaign's detail tab (KPI cards, day series, breakdown), as
    the app calls them (core.analytics, end to end)."""
    period = last_days(PERIOD_DAYS, VIEWER_TZ)
    portfolio = analytics.portfolio(db, period)
    campaign = typical_campaign(portfolio)
    ids = (campaign,)
    detail = {"kpi_cards": lambda: analytics.kpi_cards(db, period, ids, "previous"),
              "series_day": lambda: analytics.series(db, period, ids, "day"),
              "breakdown": lambda: analytics.breakdown(db, period, ids)}
    for function in [lambda: analytics.portfolio(db, period), *detail.values()]:
        function()  # warm the pool and the caches once; not counted
    samples = {name: [] for name in ["portfolio", *detail, "detail_all"]}
    for _ in range(runs):
        samples["portfolio"].append(timed_ms(lambda: analytics.portfolio(db, period))[0])
        started = time.perf_counter()
        for name, function in detail.items():
            samples[name].append(timed_ms(function)[0])
        samples["detail_all"].append((time.perf_counter() - started) * 1000)
    return {"period": {"first": str(period.first), "last": str(period.last), "tz": period.tz},
            "campaign_id": campaign, "campaigns": len(portfolio),
            **{name: percentiles(values) for name, values in samples.items()}}, campaign


def plans(db, campaign_id: int) -> str:
    """EXPLAIN ANALYZE of the dashboard statements (their Citus variants on the cluster)."""
    period = last_days(PERIOD_DAYS, VIEWER_TZ)
    every = analytics.list_campaigns(db).campaign_id.astype(int).tolist()
    none = {f"cmp_{k}": None for k in ("start_at", "end_at", "day_from", "day_to")}
    previous = {f"cmp_{k}": v for k, v in comparison_period(period, "previous").bounds().items()}
    statements = [
        ("campaign_totals: portfolio (every campaign)", "campaign_totals",
         {"campaign_ids": every, "with_reach": False, **period.bounds(), **none}),
        ("campaign_totals: KPI cards of one campaign (both periods, with reach)", "campaign_totals",
         {"campaign_ids": [campaign_id], "with_reach": True, **period.bounds(), **previous}),
        ("campaign_series: one campaign, day grain", "campaign_series",
         {"campaign_ids": [campaign_id], "grain": "day", "tz": period.tz, "start_at": period.start_at,
          "end_at": period.end_at}),
        ("campaign_breakdown: one campaign", "campaign_breakdown",
         {"campaign_ids": [campaign_id], **period.bounds(), **none}),
    ]
    out = []
    with db.connect() as conn:
        for title, name, params in statements:
            sql = query(statement(conn, name)).text
            try:
                rows = conn.execute(text("EXPLAIN (ANALYZE, BUFFERS) " + sql), params).scalars().all()
            except Exception as error:  # noqa: BLE001 — a statement whose parameters changed: say so, go on
                conn.rollback()
                rows = [f"(not explained: {type(error).__name__}: {str(error).splitlines()[0]})"]
            out.append(f"=== {title}\n" + "\n".join(rows) + "\n")
    return "\n".join(out)


def measure(target: Target, data: demo.DemoData, args) -> tuple[dict, str]:
    say(f"[{target.label}] database {target.name}")
    db = make_engine(target.url, statement_timeout_ms=config.DASHBOARD_STATEMENT_TIMEOUT_MS, pool_size=5)
    raw_db = make_engine(target.url, pool_size=2)
    result: dict = {}
    try:
        migrate.upgrade(raw_db)
        if target.cluster is not None:
            placed = distribute.distribute(raw_db, shard_count=args.shard_count)
            result["distribution"] = placed.detail
            say(f"[{target.label}] {placed.detail}")
        result["settings"] = server_settings(raw_db)
        say(f"[{target.label}] loading {len(data.events):,} events (core.demo.load)")
        result["bulk_load"] = load_demo(raw_db, data)
        say(f"[{target.label}] rolling up")
        result["rollup"] = {"initial": measure_refresh(raw_db)}
        result["rollup"]["vacuum_analyze_seconds"] = vacuum_analyze(raw_db)
        say(f"[{target.label}] timing {args.runs} runs of the portfolio and a campaign's detail tab")
        result["queries"], campaign = time_queries(db, args.runs)
        explained = plans(db, campaign)
        result["import"] = measure_import(raw_db, data.events, args.import_rows, args.seed)
        result["rollup"]["incremental"] = measure_refresh(raw_db)
        if not args.skip_lag:
            say(f"[{target.label}] rollup lag: {args.lag_rate:,} events/s for {args.lag_seconds:.0f} s")
            pool = lag_pool(data.events, max(args.lag_rate * 10, 10_000), args.seed)
            result["lag"] = LagRun(target.url, pool, args.lag_rate, args.lag_seconds, config.ROLLUP_INTERVAL_SECONDS,
                                   0.25).run()
    finally:
        db.dispose()
        raw_db.dispose()
    return result, explained


# --- report ----------------------------------------------------------------------------------

def markdown(results: dict) -> str:
    one, many = results["single"], results["cluster"]
    data = results["data"]
    lines = [f"Scale-out benchmark: {data['events']:,} demo events ({data['members']:,} members, {data['campaigns']} "
             f"campaigns, {DEMO_DAYS} days) on one PostgreSQL 15 node and on a local Citus cluster (coordinator + "
             f"{results['cluster_nodes']['workers']} workers, {results['cluster_nodes']['shard_count']} shards) on the "
             f"same {results['machine'].get('cpus')} CPUs, {results['generated_at'][:16]} UTC.",
             "", "| Measure | One node | Citus cluster |", "|---|---|---|"]

    def row(label, get, fmt):
        values = []
        for side in (one, many):
            try:
                values.append(fmt(get(side)))
            except (KeyError, TypeError):
                values.append("–")
        lines.append(f"| {label} | {values[0]} | {values[1]} |")

    row("Load: COPY of the demo events, rows/s", lambda r: r["bulk_load"]["events_copy_rows_per_second"], "{:,}".format)
    row("Import: validated CSV, rows/s", lambda r: r["import"]["rows_per_second"], "{:,}".format)
    row("Rollup refresh of the loaded events, s per million", lambda r: r["rollup"]["initial"]["seconds_per_million_events"],
        "{:.1f}".format)
    row("Portfolio (every campaign, 28 days), p50 / p95 ms",
        lambda r: (r["queries"]["portfolio"]["p50_ms"], r["queries"]["portfolio"]["p95_ms"]), lambda v: f"{v[0]:.1f} / {v[1]:.1f}")
    row("One campaign's detail tab (KPI cards, day series, breakdown), p50 / p95 ms",
        lambda r: (r["queries"]["detail_all"]["p50_ms"], r["queries"]["detail_all"]["p95_ms"]),
        lambda v: f"{v[0]:.1f} / {v[1]:.1f}")
    row("Rollup lag: events/s achieved; lag p50 / p95 / max s",
        lambda r: (r["lag"]["achieved_rate_events_per_second"], r["lag"]["lag_p50_seconds"], r["lag"]["lag_p95_seconds"],
                   r["lag"]["lag_max_seconds"]), lambda v: f"{v[0]:,}; {v[1]} / {v[2]} / {v[3]}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2_000_000, help="about this many demo events (default 2,000,000)")
    parser.add_argument("--runs", type=int, default=20, help="timed runs of each dashboard query (default 20)")
    parser.add_argument("--import-rows", type=int, help="rows in the CSV import (default: a fifth of the events)")
    parser.add_argument("--lag-rate", type=int, default=20_000, help="events per second written during the lag test")
    parser.add_argument("--lag-seconds", type=float, default=30)
    parser.add_argument("--skip-lag", action="store_true")
    parser.add_argument("--shard-count", type=int, default=8, help="shards of the distributed tables (default 8)")
    parser.add_argument("--single-url", default=DEFAULT_ADMIN_URL, help="the single node's admin URL")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--output", type=Path, default=RESULTS / "cluster.json")
    args = parser.parse_args(argv)
    args.import_rows = args.import_rows or max(args.events // 5, 10_000)

    members, campaigns = demo.population_for(args.events)
    results = {"benchmark": "cluster", "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
               "command": " ".join(["python bench/bench_cluster.py", *(argv or sys.argv[1:])]),
               "machine": machine_info()}
    problem = local_cluster.missing_prerequisite()
    if problem:
        raise SystemExit(f"cannot start a local Citus cluster: {problem}")
    folder = tempfile.mkdtemp(prefix="swipesavvy-bench-citus-")
    say(f"starting a local Citus cluster in {folder}")
    made = local_cluster.up(folder, port=0, workers=2, database="postgres_bench", progress=lambda m: say("  " + m))
    results["cluster_nodes"] = {"workers": len(made.workers), "shard_count": args.shard_count,
                                "durability": match_durability(made, args.single_url)}
    targets = [Target("one node", args.single_url), Target("cluster", made.url("postgres"), made)]
    plans_text = [f"EXPLAIN (ANALYZE, BUFFERS) of the dashboard statements, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC\n"]
    try:
        say(f"generating demo data: {members:,} members, {campaigns} campaigns, {DEMO_DAYS} days")
        data = demo.generate(seed=args.seed, members=members, campaigns=campaigns, days=DEMO_DAYS)
        results["data"] = {"events": len(data.events), "members": members, "campaigns": campaigns, "seed": args.seed}
        for target, key in zip(targets, ("single", "cluster")):
            results[key], explained = measure(target, data, args)
            plans_text.append(f"##### {target.label}\n\n{explained}")
    finally:
        for target in targets:
            target.drop()
        local_cluster.down(folder, remove=True)
        shutil.rmtree(folder, ignore_errors=True)

    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2, default=str) + "\n")
    args.output.with_name(args.output.stem + "_plans.txt").write_text("\n".join(plans_text))
    say(f"results in {args.output} and {args.output.stem}_plans.txt")
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
