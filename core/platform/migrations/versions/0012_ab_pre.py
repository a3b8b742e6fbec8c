"""A/B CUPED covariates read in one place: ab_test_covariates() gives each assigned member's
non-zero covariates of a test — the ones the snapshot job kept (ab_pre_period, migration 0010)
and, computed on the fly by ab_test_pre_period() (migration 0002), those of members it has not
done yet (never run when there are none). queries/ab_summary.sql and ab_daily_summary.sql read
it instead of each spelling the same union out. (Their Citus variants keep the body written
out: Citus does not plan a SQL function that reads distributed tables.)
"""
from alembic import op

revision = "0012_ab_pre"
down_revision = "0011_demo_world"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE FUNCTION ab_test_covariates(for_test integer, pre_days integer)
    RETURNS TABLE (member_id bigint, metric text, pre double precision)
    LANGUAGE sql STABLE PARALLEL SAFE AS $fn$
        SELECT s.member_id, x.metric, x.pre
        FROM ab_tests t
        JOIN ab_pre_period s ON s.campaign_id = t.campaign_id AND s.test_id = t.test_id
        CROSS JOIN LATERAL (VALUES ('opened', s.opened), ('clicked', s.clicked), ('converted', s.converted),
                                   ('clicks', s.clicks), ('revenue', s.revenue),
                                   ('reward_cost', s.reward_cost)) AS x(metric, pre)
        WHERE t.test_id = for_test AND x.pre <> 0
        UNION ALL
        SELECT p.member_id, p.metric, p.pre
        FROM ab_test_pre_period(for_test, pre_days) p
        WHERE EXISTS (SELECT 1 FROM ab_tests t
                      JOIN ab_assignments a ON a.campaign_id = t.campaign_id AND a.test_id = t.test_id
                      WHERE t.test_id = for_test
                        AND NOT EXISTS (SELECT 1 FROM ab_pre_period s WHERE s.campaign_id = a.campaign_id
                                        AND s.test_id = a.test_id AND s.member_id = a.member_id))
          AND NOT EXISTS (SELECT 1 FROM ab_tests t
                          JOIN ab_pre_period s ON s.campaign_id = t.campaign_id AND s.test_id = t.test_id
                          WHERE t.test_id = for_test AND s.member_id = p.member_id)
    $fn$;
    """)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS ab_test_covariates(integer, integer)")
