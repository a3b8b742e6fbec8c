"""A/B results read from what the snapshot job stored: each test's summary row also keeps the
exposure (members assigned, reached, and reached at the start of the traffic-rate window) and
that window's start, so the results screen analyses the job's last snapshot (the rows of
ab_snapshots as of the same moment) instead of aggregating every member on every view
(core.experiments.results.analyze_stored).
"""
from alembic import op

revision = "0013_ab_stored_inputs"
down_revision = "0012_ab_pre"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    ALTER TABLE ab_test_summaries
        ADD COLUMN exposure jsonb,              -- [{variant, assigned, reached, reached_before}]
        ADD COLUMN lookback_from timestamptz    -- the traffic-rate window's start (reached_before)
    """)


def downgrade() -> None:
    op.execute("ALTER TABLE ab_test_summaries DROP COLUMN IF EXISTS exposure, DROP COLUMN IF EXISTS lookback_from")
