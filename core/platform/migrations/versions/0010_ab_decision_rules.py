"""A/B decision rules and stored decisions.

- ab_tests keeps each test's pre-registered decision rule (the method that decides — sequential
  by default —, whether CUPED is used, the multiple-comparison correction; the primary metric,
  α, MDE, planned sample and guardrails were already columns) and, when somebody changed the
  rule after the test started, who, when and why (shown on the test).
- ab_decisions: what was known when a person stopped a test or declared a winner — the rule's
  verdict, its statistics and the per-variant data of that moment — so History shows exactly
  that, however much data arrives later. A winner declared against the rule's verdict is
  flagged and carries its reason.
- ab_alerts are closed (closed_at, why) when their condition ends or the test ends.
- ab_pre_period: each assigned member's CUPED covariates (ab_test_pre_period of migration 0002,
  one column per outcome), computed once by the snapshot job — they depend only on the time
  before the test started — so the summaries read them instead of recomputing them on every
  view; members assigned since the last computation are still computed on the fly.
"""
from alembic import op

revision = "0010_ab_decision_rules"
down_revision = "0009_annotations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    ALTER TABLE ab_tests
        ADD COLUMN decision_method text NOT NULL DEFAULT 'sequential'
            CHECK (decision_method IN ('sequential', 'frequentist', 'bayesian')),
        ADD COLUMN decision_cuped boolean NOT NULL DEFAULT true,
        ADD COLUMN correction text NOT NULL DEFAULT 'holm' CHECK (correction IN ('holm', 'none')),
        ADD COLUMN rule_changed_at timestamptz,
        ADD COLUMN rule_changed_by text,
        ADD COLUMN rule_change_reason text;

    ALTER TABLE ab_alerts
        ADD COLUMN closed_at timestamptz,
        ADD COLUMN closed_reason text;
    DROP INDEX ab_alerts_open_idx;
    CREATE INDEX ab_alerts_open_idx ON ab_alerts (raised_at DESC)
        WHERE acknowledged_at IS NULL AND closed_at IS NULL;

    CREATE TABLE ab_decisions (
        decision_id bigserial PRIMARY KEY,
        campaign_id integer NOT NULL,
        test_id integer NOT NULL REFERENCES ab_tests ON DELETE CASCADE,
        action text NOT NULL CHECK (action IN ('stop_test', 'declare_winner')),
        winner text,
        verdict text NOT NULL,                 -- the rule's verdict at that moment
        against_rule boolean NOT NULL DEFAULT false,
        reason text NOT NULL DEFAULT '',
        rule jsonb NOT NULL,                   -- the decision rule it was judged by
        statistics jsonb NOT NULL,             -- the rule's primary-metric rows, checks, plan
        summary jsonb NOT NULL,                -- per variant and metric: n and sums (the data)
        decided_by text NOT NULL,
        decided_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX ab_decisions_test_idx ON ab_decisions (test_id, decided_at);

    CREATE TABLE ab_pre_period (
        campaign_id integer NOT NULL,
        test_id integer NOT NULL REFERENCES ab_tests ON DELETE CASCADE,
        member_id bigint NOT NULL,
        opened double precision NOT NULL DEFAULT 0,
        clicked double precision NOT NULL DEFAULT 0,
        converted double precision NOT NULL DEFAULT 0,
        clicks double precision NOT NULL DEFAULT 0,
        revenue double precision NOT NULL DEFAULT 0,
        reward_cost double precision NOT NULL DEFAULT 0,
        PRIMARY KEY (campaign_id, test_id, member_id)
    );
    """)


def downgrade() -> None:
    op.execute("""
    DROP TABLE IF EXISTS ab_pre_period;
    DROP TABLE IF EXISTS ab_decisions;
    DROP INDEX IF EXISTS ab_alerts_open_idx;
    ALTER TABLE ab_alerts DROP COLUMN IF EXISTS closed_at, DROP COLUMN IF EXISTS closed_reason;
    CREATE INDEX ab_alerts_open_idx ON ab_alerts (raised_at DESC) WHERE acknowledged_at IS NULL;
    ALTER TABLE ab_tests DROP COLUMN IF EXISTS decision_method, DROP COLUMN IF EXISTS decision_cuped,
        DROP COLUMN IF EXISTS correction, DROP COLUMN IF EXISTS rule_changed_at,
        DROP COLUMN IF EXISTS rule_changed_by, DROP COLUMN IF EXISTS rule_change_reason;
    """)
