SELECT campaign_id, name, status, offer_id, send_hour, budget::float8 AS budget
FROM campaigns WHERE campaign_id = :campaign_id FOR UPDATE
