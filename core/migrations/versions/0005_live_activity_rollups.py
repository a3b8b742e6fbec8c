"""Live activity rollups: per minute, events and conversions by region and device, and the
members who acted (opened, saw, clicked or converted). The live map, device breakdown and
active-member counter read these plus the raw events of the running minute, so their cost no
longer grows with the live event rate.

Both hold only recent minutes: the roller folds in events less than 70 minutes older than the
newest event of its batch, and maintenance deletes rows older than two hours. Regions and
devices fall back to the member's own, as in the daily breakdowns.
"""
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE rollup_live_cell_minute (
    campaign_id integer NOT NULL,
    bucket timestamptz NOT NULL,
    region_code text NOT NULL,
    device text NOT NULL,
    events bigint NOT NULL DEFAULT 0,
    conversions bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, bucket, region_code, device)
);
CREATE INDEX rollup_live_cell_minute_bucket_idx ON rollup_live_cell_minute (bucket);

CREATE TABLE rollup_live_actor_minute (
    campaign_id integer NOT NULL,
    bucket timestamptz NOT NULL,
    member_id bigint NOT NULL,
    PRIMARY KEY (campaign_id, bucket, member_id)
);
CREATE INDEX rollup_live_actor_minute_bucket_idx ON rollup_live_actor_minute (bucket, member_id);
"""

DOWNGRADE = "DROP TABLE rollup_live_actor_minute; DROP TABLE rollup_live_cell_minute;"


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
