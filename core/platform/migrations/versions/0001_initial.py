"""Initial schema: dimensions, the partitioned event fact table, rollups, experiments,
recommendations, jobs, audit log and role mapping.

Every key of a fact or rollup table starts with campaign_id, and no fact table has a
cross-campaign foreign key, so the schema can later be distributed by campaign_id.
"""
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

COUNTS = """
    sends bigint NOT NULL DEFAULT 0,
    delivered bigint NOT NULL DEFAULT 0,
    opens bigint NOT NULL DEFAULT 0,
    impressions bigint NOT NULL DEFAULT 0,
    clicks bigint NOT NULL DEFAULT 0,
    conversions bigint NOT NULL DEFAULT 0,
    revenue numeric(16,2) NOT NULL DEFAULT 0,
    reward_cost numeric(16,2) NOT NULL DEFAULT 0
"""

UPGRADE = f"""
CREATE TABLE regions (
    region_code text PRIMARY KEY,
    name text NOT NULL,
    latitude double precision NOT NULL,
    longitude double precision NOT NULL,
    timezone text NOT NULL
);

CREATE TABLE members (
    member_id bigint PRIMARY KEY,
    signup_at timestamptz NOT NULL,
    region_code text NOT NULL REFERENCES regions,
    latitude double precision NOT NULL,
    longitude double precision NOT NULL,
    device text NOT NULL CHECK (device IN ('ios', 'android', 'web')),
    timezone text NOT NULL,
    segment text NOT NULL,
    notifications_opt_in boolean NOT NULL DEFAULT true,
    full_name text NOT NULL,
    email text NOT NULL,
    phone text
);
CREATE INDEX members_segment_idx ON members (segment);

CREATE TABLE merchants (
    merchant_id integer PRIMARY KEY,
    name text NOT NULL,
    category text NOT NULL
);

CREATE TABLE offers (
    offer_id integer PRIMARY KEY,
    merchant_id integer NOT NULL REFERENCES merchants,
    name text NOT NULL,
    reward_type text NOT NULL CHECK (reward_type IN ('percent', 'fixed')),
    reward_value numeric(10,2) NOT NULL CHECK (reward_value > 0)
);

CREATE TABLE campaigns (
    campaign_id integer PRIMARY KEY,
    name text NOT NULL UNIQUE,
    channel text NOT NULL CHECK (channel IN ('push', 'email', 'in_app')),
    offer_id integer NOT NULL REFERENCES offers,
    segment text NOT NULL,
    starts_at timestamptz NOT NULL,
    ends_at timestamptz,
    send_hour smallint NOT NULL CHECK (send_hour BETWEEN 0 AND 23),
    status text NOT NULL CHECK (status IN ('draft', 'scheduled', 'live', 'paused', 'ended')),
    budget numeric(14,2) NOT NULL DEFAULT 0,
    cost_per_send numeric(10,4) NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE event_types (
    event_type smallint PRIMARY KEY,
    name text NOT NULL UNIQUE
);
INSERT INTO event_types VALUES
    (1, 'send'), (2, 'delivered'), (3, 'open'), (4, 'impression'), (5, 'click'), (6, 'conversion');

CREATE SEQUENCE events_event_id_seq AS bigint;
-- Append-only fact table. event_id orders arrival, so rollups advance on it exactly once;
-- BRIN indexes cost almost nothing on COPY and fit time-ordered appends.
CREATE TABLE events (
    event_id bigint NOT NULL DEFAULT nextval('events_event_id_seq'),
    event_time timestamptz NOT NULL,
    campaign_id integer NOT NULL,
    member_id bigint NOT NULL,
    variant text,
    event_type smallint NOT NULL,
    revenue numeric(12,2),
    reward_cost numeric(12,2),
    device text,
    region_code text
) PARTITION BY RANGE (event_time);
ALTER SEQUENCE events_event_id_seq OWNED BY events.event_id;
CREATE INDEX events_time_brin ON events USING brin (event_time);
CREATE INDEX events_id_brin ON events USING brin (event_id);

-- Daily partitions, created ahead by the worker and on demand by loaders.
CREATE FUNCTION ensure_event_partitions(first_day date, last_day date) RETURNS integer
LANGUAGE plpgsql AS $fn$
DECLARE
    day date := first_day;
    created integer := 0;
    partition_name text;
BEGIN
    WHILE day <= last_day LOOP
        partition_name := 'events_p' || to_char(day, 'YYYYMMDD');
        IF to_regclass(partition_name) IS NULL THEN
            EXECUTE format(
                'CREATE TABLE %I PARTITION OF events FOR VALUES FROM (%L) TO (%L)',
                partition_name, day::timestamp AT TIME ZONE 'UTC',
                (day + 1)::timestamp AT TIME ZONE 'UTC');
            created := created + 1;
        END IF;
        day := day + 1;
    END LOOP;
    RETURN created;
END
$fn$;

-- Retention helpers: they act only on partitions of events, named by the catalog.
CREATE FUNCTION event_partition_max_id(partition_name text) RETURNS bigint
LANGUAGE plpgsql AS $fn$
DECLARE
    result bigint;
BEGIN
    PERFORM 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'events'::regclass AND c.relname = partition_name;
    IF NOT FOUND THEN
        RAISE EXCEPTION '% is not a partition of events', partition_name;
    END IF;
    EXECUTE format('SELECT max(event_id) FROM %I', partition_name) INTO result;
    RETURN result;
END
$fn$;

CREATE FUNCTION drop_event_partition(partition_name text) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM event_partition_max_id(partition_name);  -- raises unless it is a partition of events
    EXECUTE format('ALTER TABLE events DETACH PARTITION %I', partition_name);
    EXECUTE format('DROP TABLE %I', partition_name);
END
$fn$;

CREATE TABLE rollup_campaign_minute (
    campaign_id integer NOT NULL,
    bucket timestamptz NOT NULL,
    {COUNTS},
    PRIMARY KEY (campaign_id, bucket)
);
CREATE TABLE rollup_campaign_hour (
    campaign_id integer NOT NULL,
    bucket timestamptz NOT NULL,
    {COUNTS},
    PRIMARY KEY (campaign_id, bucket)
);
CREATE TABLE rollup_campaign_day (
    campaign_id integer NOT NULL,
    day date NOT NULL,
    {COUNTS},
    PRIMARY KEY (campaign_id, day)
);
CREATE INDEX rollup_campaign_day_day_idx ON rollup_campaign_day (day);
-- One row per campaign, UTC day and value of one dimension (segment, device, region):
-- never the cross-product of dimensions.
CREATE TABLE rollup_breakdown_day (
    campaign_id integer NOT NULL,
    day date NOT NULL,
    dimension text NOT NULL,
    value text NOT NULL,
    {COUNTS},
    PRIMARY KEY (campaign_id, day, dimension, value)
);
-- Exact per-member state per campaign: distinct reach, attribution, experiment units.
CREATE TABLE campaign_members (
    campaign_id integer NOT NULL,
    member_id bigint NOT NULL,
    variant text,
    first_send_at timestamptz,
    first_delivered_at timestamptz,
    first_open_at timestamptz,
    first_click_at timestamptz,
    first_conversion_at timestamptz,
    last_engaged_at timestamptz,
    sends integer NOT NULL DEFAULT 0,
    opens integer NOT NULL DEFAULT 0,
    clicks integer NOT NULL DEFAULT 0,
    conversions integer NOT NULL DEFAULT 0,
    revenue numeric(14,2) NOT NULL DEFAULT 0,
    reward_cost numeric(14,2) NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, member_id)
);
CREATE INDEX campaign_members_member_idx ON campaign_members (member_id, last_engaged_at);

CREATE TABLE rollup_watermarks (
    name text PRIMARY KEY,
    last_event_id bigint NOT NULL DEFAULT 0,
    latest_event_at timestamptz,   -- the newest event time rolled up so far
    updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO rollup_watermarks (name) VALUES ('events');

CREATE TABLE ab_tests (
    test_id serial PRIMARY KEY,
    campaign_id integer NOT NULL REFERENCES campaigns,
    name text NOT NULL,
    hypothesis text NOT NULL DEFAULT '',
    primary_metric text NOT NULL,
    guardrail_metrics text[] NOT NULL DEFAULT '{{}}',
    minimum_detectable_effect double precision NOT NULL DEFAULT 0.05,
    alpha double precision NOT NULL DEFAULT 0.05,
    status text NOT NULL DEFAULT 'draft'
        CHECK (status IN ('draft', 'running', 'paused', 'stopped', 'completed')),
    decision text,
    winner text,
    created_by text NOT NULL DEFAULT 'system',
    created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    ended_at timestamptz
);
CREATE TABLE ab_variants (
    test_id integer NOT NULL REFERENCES ab_tests ON DELETE CASCADE,
    variant text NOT NULL,
    weight double precision NOT NULL CHECK (weight > 0),
    is_control boolean NOT NULL DEFAULT false,
    description text NOT NULL DEFAULT '',
    PRIMARY KEY (test_id, variant)
);
CREATE TABLE ab_assignments (
    campaign_id integer NOT NULL,
    test_id integer NOT NULL,
    member_id bigint NOT NULL,
    variant text NOT NULL,
    assigned_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (campaign_id, test_id, member_id)
);

CREATE TABLE recommendations (
    recommendation_id bigserial PRIMARY KEY,
    campaign_id integer REFERENCES campaigns,
    kind text NOT NULL,
    segment text,
    title text NOT NULL,
    details jsonb NOT NULL DEFAULT '{{}}',
    confidence double precision,
    ease text,
    impact_mean double precision,
    impact_low double precision,
    impact_high double precision,
    status text NOT NULL DEFAULT 'proposed'
        CHECK (status IN ('proposed', 'applied', 'dismissed', 'expired')),
    created_at timestamptz NOT NULL DEFAULT now(),
    decided_at timestamptz,
    decided_by text
);

CREATE TABLE job_runs (
    run_id bigserial PRIMARY KEY,
    job text NOT NULL,
    worker text NOT NULL,
    attempt integer NOT NULL DEFAULT 1,
    started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at timestamptz,
    status text NOT NULL DEFAULT 'running'
        CHECK (status IN ('running', 'succeeded', 'failed', 'skipped')),
    rows_processed bigint,
    detail text
);
CREATE INDEX job_runs_job_idx ON job_runs (job, started_at DESC);

CREATE TABLE audit_log (
    audit_id bigserial PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    actor text NOT NULL,
    role text NOT NULL,
    action text NOT NULL,
    target text NOT NULL,
    details jsonb NOT NULL DEFAULT '{{}}'
);

CREATE TABLE user_roles (
    email text PRIMARY KEY,
    role text NOT NULL CHECK (role IN ('exec', 'analyst', 'manager', 'admin')),
    granted_by text NOT NULL,
    granted_at timestamptz NOT NULL DEFAULT now()
);
"""

DOWNGRADE = """
DROP TABLE IF EXISTS user_roles, audit_log, job_runs, recommendations, ab_assignments,
    ab_variants, ab_tests, rollup_watermarks, campaign_members, rollup_breakdown_day,
    rollup_campaign_day, rollup_campaign_hour, rollup_campaign_minute, events, event_types,
    campaigns, offers, merchants, members, regions CASCADE;
DROP FUNCTION IF EXISTS ensure_event_partitions(date, date);
DROP FUNCTION IF EXISTS event_partition_max_id(text);
DROP FUNCTION IF EXISTS drop_event_partition(text);
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
