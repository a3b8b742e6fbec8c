"""The Real-time screen reads only what the roller keeps for it, every campaign summed (issue 15:
all tiles of one refresh in < 25 ms of query time at 20,000 events/s).

Before, every tile added to the rollups the raw events above the watermark (at 20,000 events/s,
about 70,000 rows read three times per refresh) and read the per-campaign live rollups (at 1,500
live campaigns, 1,500 × regions × devices rows per minute). Now the tiles show every event the
roller has folded in (the screen says as of when), from these tables only:

- rollup_live_second: per UTC second, the counts and money of every campaign (KPI cards, the same
  minutes yesterday, the per-minute sparkline). Kept 27 hours: yesterday's window, 25 hours back
  across a daylight-saving change, plus its hour.
- rollup_live_cell_minute: per UTC minute, events and conversions by region and device, every
  campaign summed (the map and the devices). Replaces the per-campaign table of 0005.
- rollup_live_actor_minute: per UTC minute, who acted (opened, saw, clicked or converted), once
  per minute whatever the campaign. Replaces the per-campaign table of 0005.
- rollup_live_member_last: each recent actor's latest minute; rollup_live_actors_minute: per
  minute, how many members acted in it (`members`) and how many have it as their latest minute
  so far (`last_members`). The members active since a minute are the sum of `last_members` from
  it on: the sliding "active members" count reads a few rows instead of counting distinct
  members over thousands.
- rollup_live_latest: the 50 newest events folded in (the event stream).

rollup_campaign_minute goes: the live tiles were its only readers, and the roller no longer
updates a row per campaign and minute on every batch (at 1,500 live campaigns, 1,500 rows every
3 s). A downgrade recreates it empty.

Filled here from what is rolled up already, under the roller's lock (no batch lands half-way).
All are plain tables on Citus: there is no campaign to distribute them by, the roller adds the
shards' sums to them on the coordinator, and the screen reads them alone.
"""
from alembic import op

revision = "0016_live_screen_rollups"
down_revision = "0015_rollup_fillfactor"
branch_labels = None
depends_on = None

ROLLUP_LOCK_KEY = 7_301_001  # core.platform.rollup.ROLLUP_LOCK_KEY (migrations import nothing of core)
HELD = "e.event_id <= (SELECT last_event_id FROM rollup_watermarks WHERE name = 'events')"
# the newest time rolled up, never in the future (a clock ahead would leave everything out)
NEWEST = "least(now(), (SELECT latest_event_at FROM rollup_watermarks WHERE name = 'events'))"



def sums(money: str) -> str:
    """The counts and money columns of a rollup (money as `money`: the live seconds' plain numeric,
    the dropped minute rollup's numeric(16,2) as 0001 made it)."""
    return ", ".join([f"{name} bigint NOT NULL DEFAULT 0"
                      for name in ("sends", "delivered", "opens", "impressions", "clicks", "conversions")]
                     + [f"{name} {money} NOT NULL DEFAULT 0" for name in ("revenue", "reward_cost")])


UPGRADE = f"""
SELECT pg_advisory_xact_lock({ROLLUP_LOCK_KEY});
DROP TABLE rollup_live_actor_minute;
DROP TABLE rollup_live_cell_minute;
DROP TABLE rollup_campaign_minute;

CREATE TABLE rollup_live_second (
    bucket timestamptz PRIMARY KEY,
    {sums('numeric')}
) WITH (fillfactor = 50);

CREATE TABLE rollup_live_cell_minute (
    bucket timestamptz NOT NULL,
    region_code text NOT NULL,
    device text NOT NULL,
    events bigint NOT NULL DEFAULT 0,
    conversions bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (bucket, region_code, device)
) WITH (fillfactor = 50);

CREATE TABLE rollup_live_actor_minute (
    bucket timestamptz NOT NULL,
    member_id bigint NOT NULL,
    PRIMARY KEY (bucket, member_id)
);

CREATE TABLE rollup_live_member_last (
    member_id bigint PRIMARY KEY,
    bucket timestamptz NOT NULL
) WITH (fillfactor = 50);

CREATE TABLE rollup_live_actors_minute (
    bucket timestamptz PRIMARY KEY,
    members bigint NOT NULL DEFAULT 0,
    last_members bigint NOT NULL DEFAULT 0
) WITH (fillfactor = 50);

CREATE TABLE rollup_live_latest (
    event_id bigint PRIMARY KEY,
    event_time timestamptz NOT NULL,
    event_type smallint NOT NULL,
    campaign_id integer NOT NULL,
    member_id bigint NOT NULL,
    variant text,
    device text NOT NULL,
    region_code text NOT NULL,
    revenue numeric(12,2)
);

INSERT INTO rollup_live_second
SELECT date_trunc('second', e.event_time),
       count(*) FILTER (WHERE e.event_type = 1), count(*) FILTER (WHERE e.event_type = 2),
       count(*) FILTER (WHERE e.event_type = 3), count(*) FILTER (WHERE e.event_type = 4),
       count(*) FILTER (WHERE e.event_type = 5), count(*) FILTER (WHERE e.event_type = 6),
       coalesce(sum(e.revenue), 0), coalesce(sum(e.reward_cost), 0)
FROM events e
WHERE e.event_time >= {NEWEST} - interval '27 hours' AND {HELD}
GROUP BY 1;

INSERT INTO rollup_live_cell_minute
SELECT date_trunc('minute', e.event_time, 'UTC'), coalesce(e.region_code, m.region_code, 'unknown'),
       coalesce(e.device, m.device, 'unknown'), count(*), count(*) FILTER (WHERE e.event_type = 6)
FROM events e
LEFT JOIN members m ON m.member_id = e.member_id
WHERE e.event_time >= {NEWEST} - interval '70 minutes' AND {HELD}
GROUP BY 1, 2, 3;

INSERT INTO rollup_live_actor_minute
SELECT DISTINCT date_trunc('minute', e.event_time, 'UTC'), e.member_id
FROM events e
WHERE e.event_type >= 3 AND e.event_time >= {NEWEST} - interval '70 minutes' AND {HELD};

INSERT INTO rollup_live_member_last
SELECT member_id, max(bucket) FROM rollup_live_actor_minute GROUP BY member_id;

INSERT INTO rollup_live_actors_minute
SELECT bucket, sum(members), sum(last_members)
FROM (SELECT bucket, count(*) AS members, 0 AS last_members FROM rollup_live_actor_minute GROUP BY bucket
      UNION ALL
      SELECT bucket, 0, count(*) FROM rollup_live_member_last GROUP BY bucket) AS parts
GROUP BY bucket;

INSERT INTO rollup_live_latest
SELECT e.event_id, e.event_time, e.event_type, e.campaign_id, e.member_id, e.variant,
       coalesce(e.device, m.device, 'unknown'), coalesce(e.region_code, m.region_code, 'unknown'),
       CASE WHEN e.event_type = 6 THEN e.revenue END
FROM events e
LEFT JOIN members m ON m.member_id = e.member_id
WHERE e.event_time >= {NEWEST} - interval '10 minutes' AND {HELD}
ORDER BY e.event_id DESC
LIMIT 50;
"""

DOWNGRADE = f"""
DROP TABLE rollup_live_latest, rollup_live_actors_minute, rollup_live_member_last, rollup_live_actor_minute,
    rollup_live_cell_minute, rollup_live_second;
CREATE TABLE rollup_live_cell_minute (
    campaign_id integer NOT NULL,
    bucket timestamptz NOT NULL,
    region_code text NOT NULL,
    device text NOT NULL,
    events bigint NOT NULL DEFAULT 0,
    conversions bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, bucket, region_code, device)
) WITH (fillfactor = 50);
CREATE INDEX rollup_live_cell_minute_bucket_idx ON rollup_live_cell_minute (bucket);
CREATE TABLE rollup_live_actor_minute (
    campaign_id integer NOT NULL,
    bucket timestamptz NOT NULL,
    member_id bigint NOT NULL,
    PRIMARY KEY (campaign_id, bucket, member_id)
);
CREATE INDEX rollup_live_actor_minute_bucket_idx ON rollup_live_actor_minute (bucket, member_id);
CREATE TABLE rollup_campaign_minute (
    campaign_id integer NOT NULL,
    bucket timestamptz NOT NULL,
    {sums('numeric(16,2)')},
    PRIMARY KEY (campaign_id, bucket)
) WITH (fillfactor = 50);
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
