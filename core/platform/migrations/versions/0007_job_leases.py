"""Job runs hold a lease: a run that stops renewing it is marked abandoned.

A running job renews its lease (heartbeat_at, lease_expires_at) while it works; a worker killed
with -9, or one that lost its database, stops renewing, and the next job run of any worker marks
the run `abandoned` with the time it was last seen alive (finished_at = its last heartbeat).
Before this, such runs stayed `running` forever. Runs already `running` when this migration
runs get the lease they would have had at their start plus an hour, so a run that really is
still going is not called abandoned at once.

Going down turns `abandoned` runs into `failed` ones (the old states had no other name for it).
"""
from alembic import op

revision = "0007_job_leases"
down_revision = "0006"
branch_labels = None
depends_on = None

STATUSES = "'running', 'succeeded', 'failed', 'skipped'"

UPGRADE = f"""
ALTER TABLE job_runs
    ADD COLUMN heartbeat_at timestamptz,
    ADD COLUMN lease_expires_at timestamptz;
UPDATE job_runs SET heartbeat_at = started_at, lease_expires_at = started_at + interval '1 hour'
WHERE status = 'running';
ALTER TABLE job_runs DROP CONSTRAINT job_runs_status_check;
ALTER TABLE job_runs ADD CONSTRAINT job_runs_status_check CHECK (status IN ({STATUSES}, 'abandoned'));
CREATE INDEX job_runs_running_lease_idx ON job_runs (lease_expires_at) WHERE status = 'running';
"""

DOWNGRADE = f"""
DROP INDEX IF EXISTS job_runs_running_lease_idx;
UPDATE job_runs SET status = 'failed' WHERE status = 'abandoned';
ALTER TABLE job_runs DROP CONSTRAINT job_runs_status_check;
ALTER TABLE job_runs ADD CONSTRAINT job_runs_status_check CHECK (status IN ({STATUSES}));
ALTER TABLE job_runs DROP COLUMN lease_expires_at, DROP COLUMN heartbeat_at;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
