"""Operators' command line: python -m core <command> (see --help)."""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from datetime import datetime, timezone


def _engine():
    from core.platform.db import make_engine

    return make_engine(pool_size=4)  # the worker runs its jobs in parallel threads


def cmd_db_url(args) -> int:
    from core.platform.db import database_url

    print(database_url())
    return 0


def cmd_migrate(args) -> int:
    from core.platform import migrate

    db = _engine()
    if args.direction == "up":
        migrate.upgrade(db, args.revision or "head")
    else:
        migrate.downgrade(db, args.revision or "base")
    print(f"schema at revision {migrate.current_revision(db) or 'base (empty)'}")
    return 0


def _progress_printer(indent: str = ""):
    """A progress callback (fraction, message) that prints each new message once."""
    shown = {"message": None}

    def progress(fraction: float, message: str) -> None:
        if message != shown["message"]:
            print(f"{indent}{fraction:4.0%}  {message}", flush=True)
            shown["message"] = message

    return progress


def cmd_demo(args) -> int:
    from core.demo import generator as demo
    from core.experiments import snapshots
    from core.platform import maintenance, migrate
    from core.platform import rollup
    from core.platform.db import fetch_scalar

    db = _engine()
    migrate.upgrade(db)
    if args.if_empty and not fetch_scalar(db, "database_is_empty"):
        print("database already has data; demo not loaded")
        return 0
    if not fetch_scalar(db, "database_is_empty"):
        print("The database already has campaigns. Run `python -m core migrate down` and "
              "`python -m core migrate up` to start empty, or use --if-empty.", file=sys.stderr)
        return 2
    started = time.monotonic()
    members, campaigns = args.members, args.campaigns
    if args.events:
        members, campaigns = demo.population_for(args.events)
    print(f"generating demo data (seed {args.seed}, {members:,} members, {campaigns} campaigns, {args.days} days)")
    end = None
    if args.end:  # a demo that ended in the past, for `simulate --speed` to play on from
        end = datetime.fromisoformat(args.end)
        end = end if end.tzinfo else end.replace(tzinfo=timezone.utc)
    data = demo.generate(seed=args.seed, members=members, campaigns=campaigns, days=args.days, end=end)
    print(f"  {len(data.events):,} events in {time.monotonic() - started:.1f}s")
    demo.load(db, data, progress=lambda m: print("  " + m))
    print("rolling up")
    total = rollup.refresh_all(db, progress=lambda r: print(f"  {r.to_id:,} events rolled up"))
    print("refreshing the planner's statistics")
    maintenance.refresh_planner_statistics(db)
    print("ending the demo's finished A/B tests on the day their rule decided")
    from core.demo.demo_tests import conclude
    conclude(db, data.end, progress=lambda m: print("  " + m))
    print("analysing the A/B tests (their first snapshot: the tracker's list reads it)")
    snapshots.take_snapshots(db)
    if not args.no_train:  # so Recommendations has its cards when the browser opens
        from core.access.auth import SYSTEM
        from core.optimize.training import train_now

        print("training the optimization models (their first run; the worker retrains every 6 hours)")
        outcome = train_now(db, SYSTEM, progress=_progress_printer("  "), trained_by="demo load")
        print(f"  {outcome.detail}")
    print(f"done: {total:,} events in {time.monotonic() - started:.1f}s")
    return 0


def cmd_import(args) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from core.access.auth import SYSTEM
    from core.platform.ingest import ImportRejected, import_events

    if args.kind == "experiment":
        return cmd_import_experiment(args)
    db = _engine()
    started = time.monotonic()
    try:  # the operator's command line imports as the system (it holds the database's own credentials)
        result = import_events(db, args.file, SYSTEM)
    except ImportRejected as rejected:
        print(str(rejected), file=sys.stderr)
        return 1
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        print(f"The database could not take the import ({reason}); nothing was written. Try again when it "
              "answers; `python -m core health` shows its state.", file=sys.stderr)
        return 1
    seconds = time.monotonic() - started
    if result.already_imported_at is not None:
        print(f"{args.file}: the same content was imported on {result.already_imported_at:%Y-%m-%d %H:%M} UTC by "
              f"{result.already_imported_by}; nothing was written")
        return 0
    print(f"imported {result.rows:,} events ({result.attributed:,} conversions attributed, "
          f"{result.new_partitions:,} new day partitions) in {seconds:.1f}s, {result.rows / max(seconds, 1e-9):,.0f} rows/s")
    return 0


def cmd_import_experiment(args) -> int:
    from core.access.auth import SYSTEM
    from core.experiments.importer import import_experiment, spec_from_options

    def pairs(items, flag):
        bad = [item for item in items or [] if "=" not in item]
        if bad:
            raise ValueError(f"{flag} {bad[0]!r}: expected COLUMN=TARGET, e.g. {flag} converted=conversions")
        return dict(item.split("=", 1) for item in items or [])

    started = time.monotonic()
    try:
        outcomes = pairs(args.outcome, "--outcome")
        pre_period = pairs(args.pre, "--pre")
        spec = spec_from_options(args.file, args.preset, name=args.name, unit_column=args.unit_column,
                                 variant_column=args.variant_column, control=args.control, outcomes=outcomes,
                                 pre_period=pre_period, time_column=args.time_column,
                                 primary_metric=args.primary_metric)
        result = import_experiment(_engine(), args.file, spec, user=SYSTEM)  # the operator acts as the system
    except ValueError as rejected:  # ImportRejected, or a malformed COLUMN=TARGET
        print(str(rejected), file=sys.stderr)
        return 1
    print(f"imported test {result.test_id} “{spec.name}” on campaign {result.campaign_id}: {result.units:,} units "
          f"({', '.join(f'{v} {n:,}' for v, n in result.per_variant.items())}); {result.dropped_rows:,} rows dropped "
          f"by cleaning; {time.monotonic() - started:.1f}s")
    return 0


def cmd_worker(args) -> int:
    from core import worker
    from core.platform import migrate

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    db = _engine()
    migrate.upgrade(db)
    if args.once:
        for outcome in worker.run_once(db, args.job or None):
            print(f"{outcome.job}: {outcome.status} in {outcome.seconds:.2f}s — {outcome.detail}")
        return 0
    worker.run_forever(db, stop_after_seconds=args.seconds)
    return 0


def cmd_rollup(args) -> int:
    from core.platform import rollup

    total = rollup.refresh_all(_engine())
    print(f"rolled up {total:,} events")
    return 0


def cmd_health(args) -> int:
    from core.platform import health

    report = health.check(_engine())
    out = {"status": report.status, "reachable": report.reachable, "error": report.error,
           "latency_ms": report.latency_ms, "latest_event_at": str(report.latest_event_at),
           "pending_events": report.pending_events, "rollup_lag_seconds": report.rollup_lag_seconds}
    print(json.dumps(out, indent=2, default=str))
    return 0 if report.status != "down" else 1


def cmd_grant(args) -> int:
    from core.access import auth

    auth.grant_role(_engine(), auth.SYSTEM, args.email, args.role)  # the operator acts as the system
    print(f"{args.email} is now {args.role}")
    return 0


def cmd_simulate(args) -> int:
    from core.demo import simulator

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    say = lambda message: print(f"{time.strftime('%H:%M:%S')} {message}", flush=True)
    try:
        report = simulator.run(_engine(), seconds=args.seconds, speed=args.speed, rate=args.rate,
                               tick_seconds=args.tick, seed=args.seed, progress=say)
    except KeyboardInterrupt:
        return 0
    except ValueError as error:
        print(str(error), file=sys.stderr)
        return 2
    print(f"wrote {report.events:,} events ({report.sends:,} sends) in {report.seconds:.1f}s "
          f"({report.rate:,.0f} events/s), {report.simulated_seconds / 60:,.1f} simulated minutes")
    return 0


def cmd_train(args) -> int:
    from core.access.auth import SYSTEM
    from core.optimize.training import train_now
    from core.platform import migrate

    db = _engine()
    migrate.upgrade(db)
    outcome = train_now(db, SYSTEM, progress=_progress_printer(), trained_by="command line")
    print(outcome.detail if not outcome.skipped else f"skipped: {outcome.detail}")
    print(f"realised impact measured for {outcome.realised_measured} applied recommendations")
    return 0


def cmd_evaluate(args) -> int:
    """The demo's cards against its planted truth (core.optimize.truth_check), per card kind, for
    each seed's world and over all of them together."""
    import pandas as pd

    from core.demo import truth
    from core.optimize import truth_check

    if not hasattr(truth, "expected_profit_per_send"):
        print("skipped: core.demo.truth has no expected_profit_per_send yet, so cards cannot be checked")
        return 0
    seeds = args.seeds or [args.seed]
    runs = {}
    for seed in seeds:
        database = args.database if len(seeds) == 1 else f"{args.database}_{seed}"
        print(f"seed {seed} (database {database}):")
        result, metrics = _evaluate_seed(args, seed, database)
        print(truth_check.table(result))
        print(json.dumps(metrics.get("recommendations", {}), default=str))
        runs[seed] = (result, metrics)
    pooled = truth_check.summarised(pd.concat([r.cards.assign(seed=s) for s, (r, _) in runs.items()], ignore_index=True))
    if len(seeds) > 1:
        print(f"all {len(seeds)} seeds together:")
        print(truth_check.table(pooled))
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"seeds": seeds, "end": args.end, "by_kind": pooled.by_kind.to_dict("records"),
                       "cards": pooled.cards.to_dict("records"),
                       "runs": {str(s): {"by_kind": r.by_kind.to_dict("records"), "selection": m.get("recommendations"),
                                         "train_seconds": m.get("seconds"), "timings": m.get("timings_seconds")}
                                for s, (r, m) in runs.items()}},
                      out, indent=1, default=str)
    return 0


def _evaluate_seed(args, seed: int, database: str):
    """One seed's demo world in `database` (reloaded with --fresh), retrained and checked."""
    from datetime import datetime

    from sqlalchemy import create_engine

    from core.demo import generator as demo
    from core.demo import simulator, truth
    from core.optimize import truth_check
    from core.platform import db as core_db, migrate, rollup

    end = datetime.fromisoformat(args.end)
    admin = create_engine(core_db.with_database(core_db.database_url(), "postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if args.fresh:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        if not conn.exec_driver_sql("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).scalar():
            conn.exec_driver_sql(f'CREATE DATABASE "{database}"')
    admin.dispose()
    db = core_db.make_engine(core_db.with_database(core_db.database_url(), database), pool_size=3)
    migrate.upgrade(db)

    def load(engine) -> None:
        data = demo.generate(seed=seed, members=args.members, campaigns=args.campaigns, days=args.days, end=end)
        demo.load(engine, data)
        rollup.refresh_all(engine)

    expected = truth_check.averaged(lambda *a: truth.expected_profit_per_send(seed, *a),
                                    getattr(truth, "SESSION_HOUR_WEIGHT", None))
    factors = {}

    def conversion_factor(campaign_id, member_ids):  # the running tests' variants and the drop, read once loaded
        if "world" not in factors:
            factors["world"] = simulator.conversion_factor(simulator.load_world(db, end, assign=False), end)
        return factors["world"](campaign_id, member_ids)

    try:
        return truth_check.evaluate(db, load, expected, end, progress=_progress_printer("  "),
                                    conversion_factor=conversion_factor)
    finally:
        db.dispose()


def cmd_bench(args) -> int:
    import runpy

    sys.argv = ["bench/bench_platform.py", *args.rest]
    runpy.run_path("bench/bench_platform.py", run_name="__main__")
    return 0


def cmd_cluster(args) -> int:
    from core.platform import cluster

    if args.action == "up":
        try:
            made = cluster.up(args.dir, port=args.port, workers=args.workers, progress=lambda m: print("  " + m))
        except cluster.ClusterError as error:
            print(str(error), file=sys.stderr)
            return 2
        print(f"Citus cluster up: coordinator {cluster.HOST}:{made.coordinator.port}, workers "
              f"{', '.join(f'{w.name} {cluster.HOST}:{w.port}' for w in made.workers)} (data in {made.folder})")
        print("Use it with:")
        print(f"  export DATABASE_URL={made.url()}")
        print("  python -m core migrate up && python -m core distribute && python -m core demo")
        return 0
    if args.action == "down":
        stopped = cluster.down(args.dir, remove=args.remove)
        print(f"stopped {', '.join(stopped) or 'nothing (no node was running)'}"
              + ("; data folder removed" if args.remove else ""))
        return 0
    made, nodes = cluster.status(args.dir)
    if made is None:
        print(f"no local cluster in {args.dir or cluster.DEFAULT_FOLDER}: start one with `python -m core cluster up`")
        return 1
    for node in nodes:
        joined = "" if node.role is None else f", {node.role} in the metadata{'' if node.active else ' (inactive)'}"
        print(f"{node.name:12} {cluster.HOST}:{node.port}  {'running' if node.running else 'stopped'}{joined}")
    print(f"DATABASE_URL={made.url()}")
    return 0 if all(node.running for node in nodes) else 1


def cmd_distribute(args) -> int:
    from core.platform import distribute

    try:
        report = distribute.distribute(_engine(), shard_count=args.shard_count, progress=lambda m: print("  " + m))
    except distribute.DistributionError as error:
        print(str(error), file=sys.stderr)
        return 2
    print(report.detail)
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("db-url", help="print the database URL (starts the embedded database if needed)").set_defaults(fn=cmd_db_url)

    p = sub.add_parser("migrate", help="apply or roll back schema migrations")
    p.add_argument("direction", choices=["up", "down"], nargs="?", default="up")
    p.add_argument("--revision", help="target revision (default: head for up, base for down)")
    p.set_defaults(fn=cmd_migrate)

    p = sub.add_parser("demo", help="generate and load the deterministic demo data set")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--members", type=int, default=15_000)
    p.add_argument("--campaigns", type=int, default=36)
    p.add_argument("--days", type=int, default=90)
    p.add_argument("--events", type=int, help="scale members and campaigns to about this many events (e.g. 10000000)")
    p.add_argument("--end", help="when the demo's history ends, ISO time (UTC unless it has a zone; default: now)")
    p.add_argument("--if-empty", action="store_true", help="load only into an empty database")
    p.add_argument("--no-train", action="store_true",
                   help="skip the first model training (the worker's retrain job does it later)")
    p.set_defaults(fn=cmd_demo)

    p = sub.add_parser("import", help="import data files: events (CSV) or an experiment (one row per unit)")
    p.add_argument("kind", choices=["events", "experiment"])
    p.add_argument("file")
    p.add_argument("--preset", help="experiment: cookie_cats, ab_data or hillstrom (default: from the file name)")
    p.add_argument("--name", help="experiment: the test's name")
    p.add_argument("--unit-column", help="experiment: the unit id column (default: the line number)")
    p.add_argument("--variant-column", help="experiment: the column naming each unit's variant")
    p.add_argument("--control", help="experiment: the control variant")
    p.add_argument("--outcome", action="append", metavar="COLUMN=TARGET",
                   help="experiment: map a column onto opens, clicks, conversions or revenue (repeatable)")
    p.add_argument("--pre", action="append", metavar="COLUMN=TARGET",
                   help="experiment: a pre-treatment covariate for CUPED, mapped like --outcome")
    p.add_argument("--time-column", help="experiment: when each unit entered the test (UTC unless it has a zone)")
    p.add_argument("--primary-metric", help="experiment: clicked, opened, converted, clicks, revenue or reward_cost")
    p.set_defaults(fn=cmd_import)

    p = sub.add_parser("worker", help="run the scheduled jobs (rollups, maintenance, …)")
    p.add_argument("--once", action="store_true", help="run every job once and exit")
    p.add_argument("--job", action="append", help="with --once: only this job (repeatable)")
    p.add_argument("--seconds", type=float, help="stop after this many seconds")
    p.set_defaults(fn=cmd_worker)

    sub.add_parser("rollup", help="roll up every pending event now").set_defaults(fn=cmd_rollup)
    sub.add_parser("health", help="database, freshness and job status as JSON").set_defaults(fn=cmd_health)

    p = sub.add_parser("grant", help="give a person a role (exec, analyst, manager, admin)")
    p.add_argument("email")
    p.add_argument("role")
    p.set_defaults(fn=cmd_grant)

    p = sub.add_parser("simulate", help="continue the demo world: live events of every live campaign and running test until stopped")
    p.add_argument("--speed", type=float,
                   help="play a history that ended in the past this many times faster than real time "
                        "(default: catch up with the clock at once, then real time)")
    p.add_argument("--rate", type=float, default=0,
                   help="extra synthetic load in events per second on top of the world's own (benchmarks)")
    p.add_argument("--seconds", type=float, help="stop after this many seconds and print what was written")
    p.add_argument("--tick", type=float, default=0.5, help="seconds between batches (one COPY each)")
    p.add_argument("--seed", type=int, help="random seed of the extra load (the world's own draws follow the demo's seed)")
    p.set_defaults(fn=cmd_simulate)

    sub.add_parser("train", help="retrain the optimization models and recommendations now, with progress").set_defaults(fn=cmd_train)

    p = sub.add_parser("evaluate", help="check the demo's recommendations against its planted truth, per card kind")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--seeds", type=int, nargs="+", help="several demo worlds (a database each), also checked together")
    p.add_argument("--end", default="2026-11-02T00:00:00+00:00", help="the demo's fixed end (ISO time)")
    p.add_argument("--members", type=int, default=15_000)
    p.add_argument("--campaigns", type=int, default=36)
    p.add_argument("--days", type=int, default=90)
    p.add_argument("--database", default="swipesavvy_evaluate", help="a database of its own on the same server")
    p.add_argument("--fresh", action="store_true", help="drop and reload the demo (else reuse a loaded one)")
    p.add_argument("--json", help="also write the results to this file (e.g. bench/results/evaluate.json)")
    p.set_defaults(fn=cmd_evaluate)

    p = sub.add_parser("bench", help="run the platform benchmark (bench/bench_platform.py)")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(fn=cmd_bench)

    p = sub.add_parser("cluster", help="a local Citus cluster (coordinator and workers) for development and tests")
    p.add_argument("action", choices=["up", "down", "status"])
    p.add_argument("--dir", help="where the nodes live (default .data/cluster)")
    p.add_argument("--port", type=int, help="a new cluster's coordinator port, workers take the next ones (default 9700; 0: free ports)")
    p.add_argument("--workers", type=int, default=2, help="workers of a new cluster (default 2)")
    p.add_argument("--remove", action="store_true", help="down: also delete the data folder")
    p.set_defaults(fn=cmd_cluster)

    p = sub.add_parser("distribute", help="on a Citus coordinator, after migrate up: distribute the tables (idempotent)")
    p.add_argument("--shard-count", type=int, help="shards of the distributed tables (default: citus.shard_count, 32)")
    p.set_defaults(fn=cmd_distribute)

    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["bench"]:  # everything after `bench` belongs to the benchmark's own parser
        return cmd_bench(argparse.Namespace(rest=argv[1:]))
    args = parser.parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
