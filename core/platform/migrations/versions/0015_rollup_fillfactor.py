"""Room on every page of the rollups the roller updates in place, so that its updates are HOT.

The roller adds each batch (every 3 s) to the rows of the current minute, hour and day with
INSERT … ON CONFLICT DO UPDATE. On a full page (the default fillfactor, 100) each update writes
the new row version on another page and a new entry in every index of the table, and the dead
versions stay until vacuum: at 20,000 events/s the live tiles' bitmap scans of
rollup_live_cell_minute met 16,219 index entries for 3,652 live rows (132 ms for that scan
alone). With half of each new page left free, an update whose indexed columns do not change
(only the sums do) stays on its page as a heap-only tuple: no index entry, and the page's dead
versions are pruned as it is read. Only pages written from now on are affected; the tables
are a small fraction of the events'.
"""
from alembic import op

revision = "0015_rollup_fillfactor"
down_revision = "0014_all_campaigns_rollups"
branch_labels = None
depends_on = None

# the tables whose newest rows the roller updates on every batch (campaign_members is updated
# too, but it is large and its rows are spread over every campaign and member)
TABLES = (
    "rollup_campaign_minute", "rollup_campaign_hour", "rollup_campaign_day", "rollup_breakdown_day",
    "rollup_live_cell_minute", "rollup_reach_hour", "rollup_all_campaigns_hour",
    "rollup_all_campaigns_reach_hour", "rollup_all_campaigns_breakdown_hour", "rollup_all_campaigns_breakdown_day",
)
FILLFACTOR = 50


def upgrade() -> None:
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} SET (fillfactor = {FILLFACTOR})")


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} RESET (fillfactor)")
