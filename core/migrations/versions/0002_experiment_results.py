"""Experiment results: daily snapshots of each test's per-variant summary statistics, and
alerts (sample-ratio mismatch, guardrail breached, decision reached), each raised once."""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE TABLE ab_snapshots (
        campaign_id integer NOT NULL,
        test_id integer NOT NULL REFERENCES ab_tests ON DELETE CASCADE,
        snapshot_date date NOT NULL,
        metric text NOT NULL,
        variant text NOT NULL,
        n bigint NOT NULL,
        sum double precision NOT NULL,
        sum_squares double precision NOT NULL,
        estimate double precision,
        ci_low double precision,
        ci_high double precision,
        p_value double precision,
        chance_to_win double precision,
        taken_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (campaign_id, test_id, snapshot_date, metric, variant)
    );
    CREATE TABLE ab_alerts (
        alert_id bigserial PRIMARY KEY,
        campaign_id integer NOT NULL,
        test_id integer NOT NULL REFERENCES ab_tests ON DELETE CASCADE,
        kind text NOT NULL CHECK (kind IN ('srm', 'guardrail', 'decision')),
        message text NOT NULL,
        raised_at timestamptz NOT NULL DEFAULT now(),
        acknowledged_by text,
        UNIQUE (test_id, kind)
    );
    """)


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS ab_alerts, ab_snapshots")
