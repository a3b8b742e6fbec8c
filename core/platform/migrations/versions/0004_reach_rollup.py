"""Reach rollup: members reached and members converting, counted at the hour they first
qualified (per campaign), so that "members reached up to the end of a period" is a sum over a
few hundred small rows instead of a count over every member of the campaign.

A member counts as reached from their first delivery and as converting from the later of their
first delivery and first conversion. The roller keeps it in step with campaign_members: when a
batch moves a member's first moment earlier, it takes the member out of the old hour and puts
them in the new one, in the same statement that updates campaign_members.
"""
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE rollup_reach_hour (
    campaign_id integer NOT NULL,
    bucket timestamptz NOT NULL,
    delivered_members integer NOT NULL DEFAULT 0,
    converting_members integer NOT NULL DEFAULT 0,
    -- the counts ride in the index: "reach up to a moment" is an index-only scan
    PRIMARY KEY (campaign_id, bucket) INCLUDE (delivered_members, converting_members)
);

INSERT INTO rollup_reach_hour (campaign_id, bucket, delivered_members, converting_members)
SELECT campaign_id, bucket, sum(delivered), sum(converting)
FROM campaign_members cm
CROSS JOIN LATERAL (
    VALUES (date_trunc('hour', cm.first_delivered_at, 'UTC'), 1, 0),
           (date_trunc('hour', greatest(cm.first_delivered_at, cm.first_conversion_at), 'UTC'), 0, 1)
) AS moment (bucket, delivered, converting)
WHERE cm.first_delivered_at IS NOT NULL
  AND (moment.delivered = 1 OR cm.first_conversion_at IS NOT NULL)
GROUP BY campaign_id, bucket;
"""

DOWNGRADE = "DROP TABLE rollup_reach_hour;"


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
