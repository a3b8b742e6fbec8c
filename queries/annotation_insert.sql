-- A note a person adds (core.analytics.annotations.add_note checks and audits it).
INSERT INTO annotations (day, campaign_id, body, created_by)
VALUES (:day, :campaign_id, :body, :created_by)
RETURNING annotation_id, created_at
