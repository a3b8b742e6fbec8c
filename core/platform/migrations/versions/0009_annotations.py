"""Annotations: notes people add to the charts (who, when, what, for which day and, optionally,
which campaign). The text is kept exactly as written (shown escaped everywhere); the database
holds it to the same limit as the app, so no other writer can store a longer one.
"""
from alembic import op

revision = "0009_annotations"
down_revision = "0008_ab_test_summaries"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE TABLE annotations (
        annotation_id bigserial PRIMARY KEY,
        day date NOT NULL,                            -- the calendar day the note is about
        campaign_id integer REFERENCES campaigns,     -- none: about every campaign
        body text NOT NULL CHECK (char_length(body) BETWEEN 1 AND 1000),
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX annotations_day_idx ON annotations (day);
    """)


def downgrade() -> None:
    op.execute("DROP TABLE annotations")
