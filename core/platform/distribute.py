"""Scale-out on Citus: which table goes where, the one-off step that places them
(`python -m core distribute`, after `python -m core migrate up` on a Citus coordinator), the
capability flag that picks a statement's Citus variant, and the roller's Citus statements.

Where each table goes (every table of the schema is named below; distribute refuses a table
it does not know, so a new migration's table cannot be forgotten):

- Distributed by campaign_id, all colocated with events: the facts, the rollups and every
  per-campaign table. A campaign's events, rollups and per-member rows then sit on one worker,
  so a campaign's screen reads one shard and every rollup upsert runs shard by shard. Their
  keys all start with campaign_id, which Citus needs for their primary keys and upserts.
- Reference tables (a copy on every node, joined locally anywhere): the small dimensions, and
  the small tables that per-campaign tables point at with foreign keys (a distributed table
  may only reference a reference table).
- Coordinator tables (Citus local tables): the per-member model outputs of a retrain. They
  point at opt_model_runs, a reference table, which only a table Citus knows may do.
- Plain tables, left as they are on the coordinator: bookkeeping that no statement joins with
  a distributed table (watermark, job runs, audit log, roles, imports, quarantine). Citus puts
  no limits on them (job_run_finish's clock_timestamp(), user_role_upsert's now()). The
  all-campaigns rollups too: keyed by hour or day (there is no campaign to distribute them by),
  the roller adds the shards' sums to them on the coordinator, and "All campaigns" reads them
  alone.

Members are a reference table, not distributed by member_id. The statements that join members
run per event: the roller fills in each event's device, region and segment from its member,
the live tiles and the event stream do the same, and the send-time model joins each send to
the member's time zone. Events are distributed by campaign_id, so with members distributed by
member_id each of those joins would be a repartition join (rows shuffled between workers on
every rollup tick); with a copy on each worker they stay on the shard's worker. The price is
memory and writes: every worker holds all members (about 200 bytes each: 2 GB at ten million)
and a member write goes to every node; members change rarely (sign-ups, imports), events all
the time.

Writes go through the coordinator. The roller's window ends at the coordinator's
events_event_id_seq, which only the coordinator's nextval moves (a worker's nextval hands out
ids from a range of its own), and "wait for writers" (LOCK TABLE events) takes the lock on the
coordinator and, through Citus, on every worker's copy of the table's metadata: a COPY through
any node holds a conflicting lock there until it commits, so the statement is the same on Citus.

Statements whose plain SQL Citus cannot run, or runs wrongly, have a Citus variant: the file
queries/citus/<name>.sql replaces queries/<name>.sql (same parameters, same answer) on a
distributed database. core.platform.db picks it (statement() below); tests/cluster checks that
every query file answers the same on a cluster as on one node.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from core.platform.db import QUERY_DIR, execute, fetch_df, fetch_scalar

DISTRIBUTION_COLUMN = "campaign_id"
ANCHOR_TABLE = "events"   # every distributed table is colocated with it

DISTRIBUTED = [
    "events",
    "rollup_campaign_hour", "rollup_campaign_day", "rollup_breakdown_day",
    "campaign_members", "rollup_reach_hour",
    "ab_assignments", "ab_snapshots", "ab_pre_period",
    "opt_offer_scores", "opt_uplift", "opt_campaign_segment_roi",
    "campaign_holdouts", "campaign_member_send_hours", "campaign_audience_rules", "opt_realised_impact",
]
# In foreign-key order: a reference table may only point at reference tables made before it.
REFERENCE = [
    "regions", "event_types", "merchants", "offers", "campaigns", "members",
    "ab_tests", "ab_variants", "ab_alerts",
    "ab_test_summaries",   # one row per test; its unique index on test_id alone rules out distributing it
    "ab_decisions",        # a few rows per test, keyed by decision_id alone
    "annotations",         # notes on the charts; their campaign is optional, so they cannot be distributed by it
    "recommendations", "opt_model_runs", "opt_current",
]
COORDINATOR = [
    "opt_member_send_time", "opt_segment_send_time", "opt_member_affinity", "opt_segment_affinity",
    "opt_segments", "opt_member_segments",
]
PLAIN = [
    "alembic_version", "rollup_watermarks", "job_runs", "audit_log", "user_roles",
    "event_imports",       # one row per imported file
    "rollup_quarantine",   # keyed by event_id alone, and tiny
    "demo_world",          # the loaded demo's seed and end: one row
    # every campaign summed ("All campaigns"), keyed by hour or day: no campaign_id to distribute
    # by, a few rows per hour, written by the roller from the shards' sums and read alone
    "rollup_all_campaigns_hour", "rollup_all_campaigns_reach_hour", "rollup_all_campaigns_breakdown_hour",
    "rollup_all_campaigns_breakdown_day",
    # the Real-time screen's rollups, every campaign summed (migration 0016): the same reasons
    "rollup_live_second", "rollup_live_cell_minute", "rollup_live_actor_minute", "rollup_live_member_last",
    "rollup_live_actors_minute", "rollup_live_latest",
]
PLACEMENTS = {**{t: "distributed" for t in DISTRIBUTED}, **{t: "reference" for t in REFERENCE},
              **{t: "coordinator" for t in COORDINATOR}, **{t: "plain" for t in PLAIN}}


class DistributionError(RuntimeError):
    """The schema cannot be distributed as it is; the message says what to do."""


@dataclass
class DistributionReport:
    citus: bool
    placed: dict[str, list[str]]      # placement -> tables placed by this run
    already: int                      # tables that were already where they belong
    detail: str


# ---------------------------------------------------------------------------------------------
# The capability flag and the Citus variants

CITUS_VARIANTS = frozenset(path.stem for path in (QUERY_DIR / "citus").glob("*.sql"))
NEGATIVE_FLAG_SECONDS = 30.0   # a plain database is asked again after this (it may be distributed since)
_FLAG_CACHE: dict[str, tuple[bool, float]] = {}


def _key(db: Engine | Connection) -> str:
    return str(db.engine.url) if isinstance(db, Connection) else str(db.url)


def is_distributed(db: Engine | Connection) -> bool:
    """True when this database is a Citus coordinator whose events table is distributed.
    Cached per database: a yes for good, a no for NEGATIVE_FLAG_SECONDS."""
    key = _key(db)
    known = _FLAG_CACHE.get(key)
    if known and (known[0] or time.monotonic() - known[1] < NEGATIVE_FLAG_SECONDS):
        return known[0]
    answer = has_citus(db) and bool(fetch_scalar(db, "cluster/events_distributed"))
    _FLAG_CACHE[key] = (answer, time.monotonic())
    return answer


def statement(db: Engine | Connection, name: str) -> str:
    """The statement to run for queries/<name>.sql here: its Citus variant citus/<name> on a
    distributed database when there is one, else name itself (no database round trip for the
    names without a variant)."""
    if name in CITUS_VARIANTS and is_distributed(db):
        return f"citus/{name}"
    return name


# ---------------------------------------------------------------------------------------------
# The roller on Citus

# The single-statement roller (queries/rollup_events.sql) relies on every CTE of one statement
# reading the tables as they were before it; Citus runs a statement's CTEs one after the other,
# each seeing the changes of the ones before, and would pull the whole batch through the
# coordinator. On Citus the roller is these statements, in this order, in the caller's
# transaction: each an INSERT … SELECT that every shard runs on its own campaigns, the reach
# changes first (they read campaign_members as it was before rollup_members changes it), then
# the all-campaigns sums (gathered on the coordinator; their reach changes, read the same way,
# also before rollup_members).
CITUS_ROLLUP_STATEMENTS = ["cluster/rollup_reach", "cluster/rollup_hour",
                           "cluster/rollup_day", "cluster/rollup_breakdown", "cluster/rollup_all_campaigns_reach",
                           "cluster/rollup_all_campaigns_hour", "cluster/rollup_all_campaigns_breakdown_hour",
                           "cluster/rollup_all_campaigns_breakdown_day", "cluster/rollup_members",
                           "cluster/rollup_live_cells", "cluster/rollup_live_actors", "cluster/rollup_live_seconds",
                           "cluster/rollup_live_latest"]


def fold_events(conn: Connection, from_id: int, to_id: int):
    """Fold the events with event_id in (from_id, to_id] into every rollup, in the caller's
    transaction: rollup_events on one node, the statements above on Citus. Returns the
    batch's events and latest_event_at (a mapping, like rollup_events' row)."""
    if not is_distributed(conn):
        return execute(conn, "rollup_events", from_id=from_id, to_id=to_id).mappings().one()
    batch = execute(conn, "cluster/rollup_batch", from_id=from_id, to_id=to_id).mappings().one()
    for name in CITUS_ROLLUP_STATEMENTS:
        execute(conn, name, from_id=from_id, to_id=to_id, latest_event_at=batch["latest_event_at"])
    return batch


# ---------------------------------------------------------------------------------------------
# Placing the tables


def has_citus(db: Engine | Connection) -> bool:
    return bool(fetch_scalar(db, "cluster/extension_present"))


def schema_tables(db: Engine | Connection) -> set[str]:
    return set(fetch_df(db, "cluster/schema_tables").table_name)


def unknown_tables(db: Engine | Connection) -> list[str]:
    """Tables of the schema that no placement above names (a new migration's tables)."""
    return sorted(schema_tables(db) - set(PLACEMENTS))


def current_placements(db: Engine | Connection) -> dict[str, str]:
    """Where Citus keeps each table now (tables it does not know are absent)."""
    frame = fetch_df(db, "cluster/table_placements")
    return dict(zip(frame.table_name, frame.placement))


def distribute(engine: Engine, shard_count: int | None = None, progress=None) -> DistributionReport:
    """Place every table as planned above; idempotent (placed tables are left alone). On plain
    PostgreSQL it changes nothing and says so."""
    say = progress or (lambda message: None)
    if not has_citus(engine):
        return DistributionReport(False, {}, 0, "this database has no Citus extension (plain PostgreSQL): "
                                                "nothing to distribute, every table stays as it is")
    unknown = unknown_tables(engine)
    if unknown:
        raise DistributionError(
            f"table(s) {', '.join(unknown)} are not placed: add each to DISTRIBUTED (per campaign, key starting "
            "with campaign_id), REFERENCE (small, joined everywhere), COORDINATOR or PLAIN in "
            "core/platform/distribute.py, then run `python -m core distribute` again")
    missing = sorted(set(PLACEMENTS) - {"alembic_version"} - schema_tables(engine))
    if missing:
        raise DistributionError(f"table(s) {', '.join(missing)} do not exist yet: run `python -m core migrate up` first")
    placed: dict[str, list[str]] = {"reference": [], "distributed": [], "coordinator": []}
    already = 0
    with engine.begin() as conn:
        now = current_placements(conn)
        for table in REFERENCE:
            if now.get(table) == "reference":
                already += 1
                continue
            say(f"reference table {table}")
            execute(conn, "cluster/create_reference_table", table_name=table)
            placed["reference"].append(table)
        for table in DISTRIBUTED:
            if now.get(table) == "distributed":
                already += 1
                continue
            say(f"distributed table {table} by {DISTRIBUTION_COLUMN}")
            if table == ANCHOR_TABLE:
                execute(conn, "cluster/create_distributed_table", table_name=table, column=DISTRIBUTION_COLUMN,
                        shard_count=shard_count)
            else:
                execute(conn, "cluster/create_colocated_table", table_name=table, column=DISTRIBUTION_COLUMN,
                        anchor=ANCHOR_TABLE)
            placed["distributed"].append(table)
        for table in COORDINATOR:
            # Citus already made these local tables for their foreign keys ("autoconverted": it
            # may turn them back); adding them to its metadata ourselves keeps them.
            if fetch_scalar(conn, "cluster/table_placed_by_us", table_name=table):
                already += 1
                continue
            say(f"coordinator table {table}")
            execute(conn, "cluster/add_local_table", table_name=table)
            placed["coordinator"].append(table)
        wrong = {t: p for t, p in current_placements(conn).items() if PLACEMENTS.get(t) != p}
        if wrong:
            raise DistributionError(f"tables not where they belong after distributing: {wrong}")
    _FLAG_CACHE.pop(_key(engine), None)
    done = sum(len(tables) for tables in placed.values())
    detail = (f"placed {done} tables ({len(placed['distributed'])} distributed by {DISTRIBUTION_COLUMN}, "
              f"{len(placed['reference'])} reference, {len(placed['coordinator'])} on the coordinator); "
              f"{already} were already placed; {len(PLAIN)} stay plain tables on the coordinator")
    return DistributionReport(True, placed, already, detail)
