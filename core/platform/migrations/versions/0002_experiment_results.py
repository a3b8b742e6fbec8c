"""Experiment results: the per-member outcome definitions of A/B tests, daily snapshots of each
test's per-variant summary statistics, alerts (sample-ratio mismatch, guardrail breached,
decision reached) each raised once, the planned sample size of a test, the declared order of
its variants, and at most one active test per campaign.

ab_member_outcomes() is THE definition of every per-member experiment outcome (the Python
catalogue core.experiments.outcomes names the same keys): binary outcomes come from the first_*
timestamps of campaign_members, so they can be evaluated exactly as of any past moment; totals
(clicks, revenue, reward cost) are only known as of now. ab_test_units() is the unit of analysis
and ab_test_pre_period() the CUPED covariate; the queries in queries/ab_*summary.sql build on them.
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    -- THE per-member outcomes of a test: binary ones are 1 when the member first did it
    -- (achieved_at) inside [since, cut); totals are as of now (achieved_at is NULL for them).
    CREATE FUNCTION ab_member_outcomes(
        first_open_at timestamptz, first_click_at timestamptz, first_conversion_at timestamptz,
        clicks bigint, revenue numeric, reward_cost numeric, since timestamptz, cut timestamptz)
    RETURNS TABLE (metric text, kind text, achieved_at timestamptz, value double precision)
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
        SELECT o.metric, o.kind, o.achieved_at,
               CASE WHEN o.kind = 'mean' THEN o.total
                    WHEN o.achieved_at >= since AND o.achieved_at < cut THEN 1.0 ELSE 0.0 END
        FROM (VALUES
            ('opened',      'binomial', first_open_at,       NULL::float8),
            ('clicked',     'binomial', first_click_at,      NULL),
            ('converted',   'binomial', first_conversion_at, NULL),
            ('clicks',      'mean',     NULL::timestamptz,   clicks::float8),
            ('revenue',     'mean',     NULL,                revenue::float8),
            ('reward_cost', 'mean',     NULL,                reward_cost::float8)
        ) AS o(metric, kind, achieved_at, total)
    $fn$;

    -- The units of a test: assigned members the campaign sent something before the test ended,
    -- with their per-member state in the campaign.
    CREATE FUNCTION ab_test_units(for_test integer)
    RETURNS TABLE (member_id bigint, variant text, first_send_at timestamptz, first_open_at timestamptz,
                   first_click_at timestamptz, first_conversion_at timestamptz, clicks bigint,
                   revenue numeric, reward_cost numeric, ended_at timestamptz)
    LANGUAGE sql STABLE PARALLEL SAFE AS $fn$
        SELECT a.member_id, a.variant, cm.first_send_at, cm.first_open_at, cm.first_click_at,
               cm.first_conversion_at, cm.clicks, cm.revenue, cm.reward_cost,
               coalesce(t.ended_at, 'infinity'::timestamptz)
        FROM ab_tests t
        JOIN ab_assignments a ON a.campaign_id = t.campaign_id AND a.test_id = t.test_id
        JOIN campaign_members cm ON cm.campaign_id = a.campaign_id AND cm.member_id = a.member_id
        WHERE t.test_id = for_test AND cm.first_send_at < coalesce(t.ended_at, 'infinity'::timestamptz)
    $fn$;

    -- CUPED covariates of a test's units (non-zero ones only), from their other campaigns in
    -- the pre_days before the test started: a binary outcome first achieved inside the window;
    -- totals of campaigns that first reached the member inside it and ended before the start.
    CREATE FUNCTION ab_test_pre_period(for_test integer, pre_days integer)
    RETURNS TABLE (member_id bigint, metric text, pre double precision)
    LANGUAGE sql STABLE PARALLEL SAFE AS $fn$
        SELECT u.member_id, x.metric,
               CASE WHEN x.kind = 'binomial' THEN max(x.value)
                    ELSE coalesce(sum(x.value) FILTER (WHERE c.ends_at <= t.started_at
                        AND o.first_send_at >= t.started_at - make_interval(days => pre_days)), 0) END
        FROM ab_tests t
        JOIN ab_assignments u ON u.campaign_id = t.campaign_id AND u.test_id = t.test_id
        JOIN campaign_members o ON o.member_id = u.member_id AND o.campaign_id <> t.campaign_id
                               AND o.first_send_at < t.started_at
        JOIN campaigns c ON c.campaign_id = o.campaign_id
        CROSS JOIN LATERAL ab_member_outcomes(o.first_open_at, o.first_click_at, o.first_conversion_at, o.clicks,
                                              o.revenue, o.reward_cost,
                                              t.started_at - make_interval(days => pre_days), t.started_at) x
        WHERE t.test_id = for_test
        GROUP BY u.member_id, x.metric, x.kind
        HAVING CASE WHEN x.kind = 'binomial' THEN max(x.value)
                    ELSE coalesce(sum(x.value) FILTER (WHERE c.ends_at <= t.started_at
                        AND o.first_send_at >= t.started_at - make_interval(days => pre_days)), 0) END <> 0
    $fn$;

    ALTER TABLE ab_tests ADD COLUMN planned_per_arm integer CHECK (planned_per_arm > 0);
    -- The declared order of a test's variants: they own consecutive slices of [0, 1) in it.
    ALTER TABLE ab_variants ADD COLUMN position smallint NOT NULL DEFAULT 0;
    -- Two live tests on one campaign would share its per-member outcomes; allow one at a time.
    CREATE UNIQUE INDEX ab_tests_one_active_per_campaign ON ab_tests (campaign_id)
        WHERE status IN ('draft', 'running', 'paused');
    CREATE INDEX ab_assignments_test_idx ON ab_assignments (test_id, variant);

    CREATE TABLE ab_snapshots (
        campaign_id integer NOT NULL,
        test_id integer NOT NULL REFERENCES ab_tests ON DELETE CASCADE,
        snapshot_date date NOT NULL,          -- UTC day
        metric text NOT NULL,
        variant text NOT NULL,
        as_of timestamptz NOT NULL,           -- the moment the sums describe
        n bigint NOT NULL,
        sum double precision NOT NULL,
        sum_squares double precision NOT NULL,
        pre_sum double precision NOT NULL DEFAULT 0,
        pre_sum_squares double precision NOT NULL DEFAULT 0,
        pre_sum_product double precision NOT NULL DEFAULT 0,
        taken_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (campaign_id, test_id, snapshot_date, metric, variant)
    );
    CREATE TABLE ab_alerts (
        alert_id bigserial PRIMARY KEY,
        campaign_id integer NOT NULL,
        test_id integer NOT NULL REFERENCES ab_tests ON DELETE CASCADE,
        kind text NOT NULL CHECK (kind IN ('srm', 'guardrail', 'decision')),
        message text NOT NULL,
        details jsonb NOT NULL DEFAULT '{}',
        raised_at timestamptz NOT NULL DEFAULT now(),
        acknowledged_by text,
        acknowledged_at timestamptz,
        UNIQUE (test_id, kind)
    );
    CREATE INDEX ab_alerts_open_idx ON ab_alerts (raised_at DESC) WHERE acknowledged_at IS NULL;
    """)


def downgrade() -> None:
    op.execute("""
    DROP TABLE IF EXISTS ab_alerts, ab_snapshots;
    DROP INDEX IF EXISTS ab_assignments_test_idx;
    DROP INDEX IF EXISTS ab_tests_one_active_per_campaign;
    ALTER TABLE ab_tests DROP COLUMN IF EXISTS planned_per_arm;
    ALTER TABLE ab_variants DROP COLUMN IF EXISTS position;
    DROP FUNCTION IF EXISTS ab_test_pre_period(integer, integer);
    DROP FUNCTION IF EXISTS ab_test_units(integer);
    DROP FUNCTION IF EXISTS ab_member_outcomes(timestamptz, timestamptz, timestamptz, bigint, numeric, numeric, timestamptz, timestamptz);
    """)
