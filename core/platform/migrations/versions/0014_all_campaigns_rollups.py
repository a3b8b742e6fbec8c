"""All-campaigns rollups: every campaign summed, kept by the same roller in the same transaction
as the per-campaign rollups, so that "All campaigns" on the campaign detail reads a few hundred
rows per period however many campaigns there are (summing the per-campaign rollups read
1,500 × 672 hourly rows and 20 hours of raw events for a 28-day period at 1,500 campaigns).

- rollup_all_campaigns_hour: per UTC hour with events, the counts and money of every campaign
  and the send cost (sends × each campaign's cost per send).
- rollup_all_campaigns_reach_hour: per UTC hour, members first reached / first converting,
  summed over campaigns as the KPI cards sum them (rollup_reach_hour without the campaign).
- rollup_all_campaigns_breakdown_day / _hour: per UTC day and per UTC hour, the same by segment,
  device and region (the roller's fallbacks to the member's own) and by channel. Whole UTC days
  come from the daily table and the partial days at a period's ends from the hourly one, as the
  per-campaign breakdown takes them from rollup_breakdown_day and from raw events.

Only events of campaigns in `campaigns` are counted (the per-campaign queries read only those).
The send cost and channel are the campaign's when its events are folded: nothing changes a
campaign's cost_per_send or channel after it is created.

Filled here from what is rolled up already (under the roller's lock, so no batch lands
half-way): the hourly totals and channels from rollup_campaign_hour, the reach from
rollup_reach_hour, the daily breakdown from rollup_breakdown_day and rollup_campaign_day, and
the hourly breakdown by segment, device and region from the raw events up to the watermark.
Hours whose raw events are gone (retention) have no hourly breakdown, and show as
'(not broken down)' at a period's ends, as they do for the per-campaign breakdown.
"""
from alembic import op

revision = "0014_all_campaigns_rollups"
down_revision = "0013_ab_stored_inputs"
branch_labels = None
depends_on = None

ROLLUP_LOCK_KEY = 7_301_001  # core.platform.rollup.ROLLUP_LOCK_KEY (migrations import nothing of core)

SUMS = """
    sends bigint NOT NULL DEFAULT 0,
    delivered bigint NOT NULL DEFAULT 0,
    opens bigint NOT NULL DEFAULT 0,
    impressions bigint NOT NULL DEFAULT 0,
    clicks bigint NOT NULL DEFAULT 0,
    conversions bigint NOT NULL DEFAULT 0,
    revenue numeric NOT NULL DEFAULT 0,
    reward_cost numeric NOT NULL DEFAULT 0,
    send_cost numeric NOT NULL DEFAULT 0"""

UPGRADE = f"""
SELECT pg_advisory_xact_lock({ROLLUP_LOCK_KEY});

CREATE TABLE rollup_all_campaigns_hour (
    bucket timestamptz PRIMARY KEY,
    {SUMS}
);

CREATE TABLE rollup_all_campaigns_reach_hour (
    bucket timestamptz PRIMARY KEY,
    delivered_members bigint NOT NULL DEFAULT 0,
    converting_members bigint NOT NULL DEFAULT 0
);

CREATE TABLE rollup_all_campaigns_breakdown_day (
    day date NOT NULL,
    dimension text NOT NULL,
    value text NOT NULL,
    {SUMS},
    PRIMARY KEY (day, dimension, value)
);

CREATE TABLE rollup_all_campaigns_breakdown_hour (
    bucket timestamptz NOT NULL,
    dimension text NOT NULL,
    value text NOT NULL,
    {SUMS},
    PRIMARY KEY (bucket, dimension, value)
);

INSERT INTO rollup_all_campaigns_hour
SELECT h.bucket, sum(h.sends), sum(h.delivered), sum(h.opens), sum(h.impressions), sum(h.clicks),
       sum(h.conversions), sum(h.revenue), sum(h.reward_cost), sum(h.sends * c.cost_per_send)
FROM rollup_campaign_hour h JOIN campaigns c USING (campaign_id)
GROUP BY h.bucket;

INSERT INTO rollup_all_campaigns_reach_hour
SELECT r.bucket, sum(r.delivered_members), sum(r.converting_members)
FROM rollup_reach_hour r JOIN campaigns c USING (campaign_id)
GROUP BY r.bucket;

INSERT INTO rollup_all_campaigns_breakdown_day
SELECT day, dimension, value, sum(sends), sum(delivered), sum(opens), sum(impressions), sum(clicks),
       sum(conversions), sum(revenue), sum(reward_cost), sum(send_cost)
FROM (
    SELECT b.day, b.dimension, b.value, b.sends, b.delivered, b.opens, b.impressions, b.clicks,
           b.conversions, b.revenue, b.reward_cost, b.sends * c.cost_per_send AS send_cost
    FROM rollup_breakdown_day b JOIN campaigns c USING (campaign_id)
    UNION ALL
    SELECT d.day, 'channel', c.channel, d.sends, d.delivered, d.opens, d.impressions, d.clicks,
           d.conversions, d.revenue, d.reward_cost, d.sends * c.cost_per_send
    FROM rollup_campaign_day d JOIN campaigns c USING (campaign_id)
) AS parts
GROUP BY day, dimension, value;

INSERT INTO rollup_all_campaigns_breakdown_hour
SELECT bucket, dimension, value, sum(sends), sum(delivered), sum(opens), sum(impressions), sum(clicks),
       sum(conversions), sum(revenue), sum(reward_cost), sum(send_cost)
FROM (
    SELECT date_trunc('hour', e.event_time, 'UTC') AS bucket, d.dimension, d.value,
           count(*) FILTER (WHERE e.event_type = 1) AS sends, count(*) FILTER (WHERE e.event_type = 2) AS delivered,
           count(*) FILTER (WHERE e.event_type = 3) AS opens, count(*) FILTER (WHERE e.event_type = 4) AS impressions,
           count(*) FILTER (WHERE e.event_type = 5) AS clicks, count(*) FILTER (WHERE e.event_type = 6) AS conversions,
           coalesce(sum(e.revenue), 0) AS revenue, coalesce(sum(e.reward_cost), 0) AS reward_cost,
           coalesce(sum(c.cost_per_send) FILTER (WHERE e.event_type = 1), 0) AS send_cost
    FROM events e
    JOIN campaigns c ON c.campaign_id = e.campaign_id
    LEFT JOIN members m ON m.member_id = e.member_id
    CROSS JOIN LATERAL (VALUES ('segment', coalesce(m.segment, 'unknown')),
                               ('device', coalesce(e.device, m.device, 'unknown')),
                               ('region', coalesce(e.region_code, m.region_code, 'unknown'))) AS d (dimension, value)
    WHERE e.event_id <= (SELECT last_event_id FROM rollup_watermarks WHERE name = 'events')
    GROUP BY 1, 2, 3
    UNION ALL
    SELECT h.bucket, 'channel', c.channel, sum(h.sends), sum(h.delivered), sum(h.opens), sum(h.impressions),
           sum(h.clicks), sum(h.conversions), sum(h.revenue), sum(h.reward_cost), sum(h.sends * c.cost_per_send)
    FROM rollup_campaign_hour h JOIN campaigns c USING (campaign_id)
    GROUP BY 1, 2, 3
) AS parts
GROUP BY bucket, dimension, value;
"""

DOWNGRADE = """
DROP TABLE rollup_all_campaigns_breakdown_hour;
DROP TABLE rollup_all_campaigns_breakdown_day;
DROP TABLE rollup_all_campaigns_reach_hour;
DROP TABLE rollup_all_campaigns_hour;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
