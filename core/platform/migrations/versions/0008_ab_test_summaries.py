"""A/B test summaries: each test's verdict, members, predicted winner and its probability as of
the latest snapshot, written by the ab_snapshots job, so the tracker's list of tests reads one
row per test instead of analysing every test on every view.
"""
from alembic import op

revision = "0008_ab_test_summaries"
down_revision = "0007_job_leases"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE TABLE ab_test_summaries (
        campaign_id integer NOT NULL,
        test_id integer NOT NULL REFERENCES ab_tests ON DELETE CASCADE,
        as_of timestamptz NOT NULL,               -- the moment the data describe
        verdict text NOT NULL,
        members bigint NOT NULL,
        predicted_winner text,
        winner_probability double precision,
        sample_ratio_mismatch boolean NOT NULL,
        ready_for_decision boolean NOT NULL,
        PRIMARY KEY (campaign_id, test_id)
    );
    CREATE UNIQUE INDEX ab_test_summaries_test_idx ON ab_test_summaries (test_id);
    """)


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS ab_test_summaries")
