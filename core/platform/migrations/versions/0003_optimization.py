"""Optimization: versioned model outputs, recommendation lifecycle, holdouts and the settings
one-click implementation writes.

Model outputs carry the run_id of the retrain that produced them; `opt_current` points at the
run the app reads. A retrain writes every table under a new run_id and moves the pointer in
the same transaction, so a retrain that fails half-way leaves the previous results in place.
Tables that are per campaign have campaign_id first in their key.

What one-click implementation writes (all keyed by campaign_id first):
- campaign_holdouts: every member an applied recommendation affects, and whether they are in
  its random holdout (in_holdout: kept on the old setting), so the real effect can be measured
  later from the events of both groups;
- campaign_member_send_hours: per-member local send hours (instead of campaigns.send_hour);
- campaign_audience_rules: behavioural segments added to or dropped from a campaign.
A sender reads them as: members with in_holdout in campaign_holdouts of an applied
recommendation keep that recommendation's `details.change.before`; everyone else gets the
campaign's new setting.
"""
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE opt_model_runs (
    run_id bigserial PRIMARY KEY,
    started_at timestamptz NOT NULL,
    finished_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    data_through timestamptz,
    holdout_from timestamptz,
    seconds double precision NOT NULL,
    trained_by text NOT NULL,
    metrics jsonb NOT NULL DEFAULT '{}'
);

-- The run the app reads: one row, moved in the retrain's transaction.
CREATE TABLE opt_current (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    run_id bigint NOT NULL REFERENCES opt_model_runs,
    switched_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE opt_member_send_time (
    run_id bigint NOT NULL REFERENCES opt_model_runs ON DELETE CASCADE,
    member_id bigint NOT NULL,
    segment text NOT NULL,
    best_hour smallint NOT NULL CHECK (best_hour BETWEEN 0 AND 23),
    confidence real NOT NULL,
    personal boolean NOT NULL,
    sends integer NOT NULL,
    opens integer NOT NULL,
    open_by_hour real[] NOT NULL,
    click_per_open real NOT NULL,
    PRIMARY KEY (run_id, member_id)
);
CREATE INDEX opt_member_send_time_segment_idx ON opt_member_send_time (run_id, segment);

CREATE TABLE opt_segment_send_time (
    run_id bigint NOT NULL REFERENCES opt_model_runs ON DELETE CASCADE,
    segment text NOT NULL,
    best_hour smallint NOT NULL,
    members integer NOT NULL,
    personal_members integer NOT NULL,
    hour_prior real[] NOT NULL,
    open_by_hour real[] NOT NULL,
    weekday_factor real[] NOT NULL,
    PRIMARY KEY (run_id, segment)
);

CREATE TABLE opt_member_affinity (
    run_id bigint NOT NULL REFERENCES opt_model_runs ON DELETE CASCADE,
    member_id bigint NOT NULL,
    category text NOT NULL,
    rank smallint NOT NULL,
    score real NOT NULL,
    expected_engagement real NOT NULL,
    impressions integer NOT NULL,
    clicks integer NOT NULL,
    conversions integer NOT NULL,
    PRIMARY KEY (run_id, member_id, category)
);

CREATE TABLE opt_segment_affinity (
    run_id bigint NOT NULL REFERENCES opt_model_runs ON DELETE CASCADE,
    segment text NOT NULL,
    category text NOT NULL,
    mean_score real NOT NULL,
    top3_share real NOT NULL,
    members integer NOT NULL,
    PRIMARY KEY (run_id, segment, category)
);

CREATE TABLE opt_offer_scores (
    campaign_id integer NOT NULL,
    run_id bigint NOT NULL REFERENCES opt_model_runs ON DELETE CASCADE,
    offer_id integer NOT NULL,
    segment text NOT NULL,
    is_current boolean NOT NULL,
    p_conversion double precision NOT NULL,
    p_low double precision NOT NULL,
    p_high double precision NOT NULL,
    profit_per_send double precision NOT NULL,
    profit_low double precision NOT NULL,
    profit_high double precision NOT NULL,
    prob_better double precision NOT NULL,
    PRIMARY KEY (campaign_id, run_id, offer_id)
);

CREATE TABLE opt_uplift (
    campaign_id integer NOT NULL,
    run_id bigint NOT NULL REFERENCES opt_model_runs ON DELETE CASCADE,
    test_id integer NOT NULL,
    variant text NOT NULL,
    outcome text NOT NULL,
    learner text NOT NULL,
    train_members integer NOT NULL,
    held_out_members integer NOT NULL,
    qini_coefficient double precision,
    qini_low double precision,
    qini_high double precision,
    auuc double precision,
    auuc_random double precision,
    curve jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (campaign_id, run_id, test_id, variant, outcome)
);

CREATE TABLE opt_segments (
    run_id bigint NOT NULL REFERENCES opt_model_runs ON DELETE CASCADE,
    segment_key integer NOT NULL,
    name text NOT NULL,
    members integer NOT NULL,
    profile jsonb NOT NULL,
    centroid double precision[] NOT NULL,
    PRIMARY KEY (run_id, segment_key)
);

CREATE TABLE opt_member_segments (
    run_id bigint NOT NULL REFERENCES opt_model_runs ON DELETE CASCADE,
    member_id bigint NOT NULL,
    segment_key integer NOT NULL,
    PRIMARY KEY (run_id, member_id)
);

CREATE TABLE opt_campaign_segment_roi (
    campaign_id integer NOT NULL,
    run_id bigint NOT NULL REFERENCES opt_model_runs ON DELETE CASCADE,
    segment_key integer NOT NULL,
    targeted boolean NOT NULL,
    members integer NOT NULL,
    sends bigint NOT NULL,
    profit_per_week double precision NOT NULL,
    roi double precision,
    roi_low double precision,
    roi_high double precision,
    PRIMARY KEY (campaign_id, run_id, segment_key)
);

ALTER TABLE recommendations
    ADD COLUMN run_id bigint,
    ADD COLUMN expires_at timestamptz,
    ADD COLUMN holdout_share real,
    ADD COLUMN applied_at timestamptz;
CREATE INDEX recommendations_status_impact_idx ON recommendations (status, impact_mean DESC);
CREATE INDEX recommendations_campaign_idx ON recommendations (campaign_id, created_at DESC);

CREATE TABLE campaign_holdouts (
    campaign_id integer NOT NULL,
    recommendation_id bigint NOT NULL REFERENCES recommendations ON DELETE CASCADE,
    member_id bigint NOT NULL,
    in_holdout boolean NOT NULL,
    PRIMARY KEY (campaign_id, recommendation_id, member_id)
);

CREATE TABLE campaign_member_send_hours (
    campaign_id integer NOT NULL,
    member_id bigint NOT NULL,
    send_hour smallint NOT NULL CHECK (send_hour BETWEEN 0 AND 23),
    recommendation_id bigint NOT NULL REFERENCES recommendations ON DELETE CASCADE,
    PRIMARY KEY (campaign_id, member_id)
);

CREATE TABLE campaign_audience_rules (
    campaign_id integer NOT NULL,
    segment_key integer NOT NULL,
    segment_name text NOT NULL,
    action text NOT NULL CHECK (action IN ('include', 'exclude')),
    recommendation_id bigint NOT NULL REFERENCES recommendations ON DELETE CASCADE,
    PRIMARY KEY (campaign_id, segment_key)
);

CREATE TABLE opt_realised_impact (
    campaign_id integer NOT NULL,
    recommendation_id bigint NOT NULL REFERENCES recommendations ON DELETE CASCADE,
    measured_at timestamptz NOT NULL DEFAULT now(),
    days double precision NOT NULL,
    treated_members integer NOT NULL,
    holdout_members integer NOT NULL,
    enough_data boolean NOT NULL,
    impact_mean double precision,
    impact_low double precision,
    impact_high double precision,
    detail jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (campaign_id, recommendation_id)
);
"""

DOWNGRADE = """
DROP TABLE IF EXISTS opt_realised_impact, campaign_audience_rules, campaign_member_send_hours,
    campaign_holdouts, opt_campaign_segment_roi, opt_member_segments, opt_segments, opt_uplift,
    opt_offer_scores, opt_segment_affinity, opt_member_affinity, opt_segment_send_time,
    opt_member_send_time, opt_current, opt_model_runs;
DROP INDEX IF EXISTS recommendations_status_impact_idx, recommendations_campaign_idx;
ALTER TABLE recommendations
    DROP COLUMN IF EXISTS run_id,
    DROP COLUMN IF EXISTS expires_at,
    DROP COLUMN IF EXISTS holdout_share,
    DROP COLUMN IF EXISTS applied_at;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
