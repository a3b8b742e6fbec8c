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

-- The last two hours of what is already rolled up, so the live screen is whole at once.
INSERT INTO rollup_live_cell_minute
SELECT e.campaign_id, date_trunc('minute', e.event_time, 'UTC'), coalesce(e.region_code, m.region_code, 'unknown'),
       coalesce(e.device, m.device, 'unknown'), count(*), count(*) FILTER (WHERE e.event_type = 6)
FROM events e
LEFT JOIN members m ON m.member_id = e.member_id
WHERE e.event_time >= now() - interval '2 hours'
  AND e.event_id <= (SELECT last_event_id FROM rollup_watermarks WHERE name = 'events')
GROUP BY 1, 2, 3, 4;

INSERT INTO rollup_live_actor_minute
SELECT DISTINCT campaign_id, date_trunc('minute', event_time, 'UTC'), member_id
FROM events
WHERE event_type >= 3 AND event_time >= now() - interval '2 hours'
  AND event_id <= (SELECT last_event_id FROM rollup_watermarks WHERE name = 'events');
"""

DOWNGRADE = "DROP TABLE rollup_live_actor_minute; DROP TABLE rollup_live_cell_minute;"


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
