"""The demo world's identity: the seed and end time of the loaded demo.

The live simulator continues the demo's history with the same generative model
(core.demo.world), whose draws are hashes of the seed, and the demo's planted drop starts a
fixed number of days before the demo's end: both must be known after the load. One row per
loaded demo (none when the data were imported instead).
"""
from alembic import op

revision = "0011_demo_world"
down_revision = "0010_ab_decision_rules"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE TABLE demo_world (
        seed integer NOT NULL,
        ended_at timestamptz NOT NULL,
        loaded_at timestamptz NOT NULL DEFAULT now()
    )
    """)


def downgrade() -> None:
    op.execute("DROP TABLE demo_world")
