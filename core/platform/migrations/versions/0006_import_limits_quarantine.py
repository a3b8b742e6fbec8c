"""Imports and rollups that no input can stop.

- event_imports: the key of every events import (the SHA-256 of the file's content), so that
  importing the same file again writes nothing.
- rollup_quarantine: events the roller could not fold (e.g. a text too long for an index row),
  moved out of events with the reason, so one bad row never stops the rollups of everyone.
- Sums of money in the rollups and the per-member table become numeric without a precision: an
  event holds at most 9,999,999,999.99 (numeric(12,2)), but how many events a sum adds up has
  no bound, so any fixed precision could overflow (101 conversions of one member at the maximum
  overflowed campaign_members' numeric(14,2)). Dropping a numeric's precision rewrites nothing.
  Going down restores the precisions and fails if some sum no longer fits them.
"""
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

SUM_TABLES = {"rollup_campaign_minute": 16, "rollup_campaign_hour": 16, "rollup_campaign_day": 16,
              "rollup_breakdown_day": 16, "campaign_members": 14}

UPGRADE = """
CREATE TABLE event_imports (
    content_sha256 text PRIMARY KEY,
    file_name text NOT NULL,
    rows bigint NOT NULL,
    attributed bigint NOT NULL DEFAULT 0,
    imported_by text NOT NULL,
    imported_at timestamptz NOT NULL DEFAULT now()
);

-- The event as it was in events (text kept whole, whatever its size), and why it was moved.
CREATE TABLE rollup_quarantine (
    event_id bigint PRIMARY KEY,
    event_time timestamptz NOT NULL,
    campaign_id integer NOT NULL,
    member_id bigint NOT NULL,
    variant text,
    event_type smallint NOT NULL,
    revenue numeric(12,2),
    reward_cost numeric(12,2),
    device text,
    region_code text,
    reason text NOT NULL,
    quarantined_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rollup_quarantine_at_idx ON rollup_quarantine (quarantined_at DESC);
"""


def _sums(precision_of) -> str:
    return "\n".join(
        f"ALTER TABLE {table} ALTER COLUMN revenue TYPE {precision_of(digits)}, "
        f"ALTER COLUMN reward_cost TYPE {precision_of(digits)};"
        for table, digits in SUM_TABLES.items())


def upgrade() -> None:
    op.execute(UPGRADE)
    op.execute(_sums(lambda digits: "numeric"))


def downgrade() -> None:
    op.execute(_sums(lambda digits: f"numeric({digits},2)"))
    op.execute("DROP TABLE rollup_quarantine; DROP TABLE event_imports;")
