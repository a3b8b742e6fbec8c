"""Migrations upgrade an empty database to head and roll back to nothing, step by step."""
from alembic.script import ScriptDirectory
from alembic.config import Config
from sqlalchemy import inspect, text

from core.platform import migrate

EXPECTED_TABLES = {"members", "regions", "merchants", "offers", "campaigns", "events", "event_types",
                   "rollup_campaign_hour", "rollup_campaign_day", "rollup_live_second", "rollup_live_latest",
                   "rollup_breakdown_day", "campaign_members", "rollup_watermarks", "ab_tests",
                   "ab_variants", "ab_assignments", "recommendations", "job_runs", "audit_log", "user_roles",
                   "rollup_all_campaigns_hour", "rollup_all_campaigns_reach_hour",
                   "rollup_all_campaigns_breakdown_day", "rollup_all_campaigns_breakdown_hour"}


def revisions() -> list[str]:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrate.MIGRATIONS_DIR))
    return [r.revision for r in reversed(list(ScriptDirectory.from_config(cfg).walk_revisions()))]


def tables(engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def test_upgrade_then_downgrade_empty_database(empty_db):
    assert tables(empty_db) == set()
    migrate.upgrade(empty_db)
    assert EXPECTED_TABLES <= tables(empty_db)
    assert migrate.current_revision(empty_db) == revisions()[-1]
    with empty_db.connect() as conn:
        partitioned = conn.execute(text("SELECT relkind FROM pg_class WHERE relname = 'events'")).scalar()
    assert partitioned == "p"
    migrate.downgrade(empty_db)
    assert tables(empty_db) == set()
    assert migrate.current_revision(empty_db) is None
    migrate.upgrade(empty_db)  # and up again: downgrade left nothing behind that blocks it
    assert EXPECTED_TABLES <= tables(empty_db)


def test_each_revision_steps_down_and_up(empty_db):
    migrate.upgrade(empty_db)
    steps = revisions()
    for revision in reversed(steps[:-1]):
        migrate.downgrade(empty_db, revision)
        assert migrate.current_revision(empty_db) == revision
    migrate.downgrade(empty_db, "base")
    for revision in steps:
        migrate.upgrade(empty_db, revision)
        assert migrate.current_revision(empty_db) == revision
