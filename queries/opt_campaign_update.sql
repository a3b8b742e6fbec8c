-- One-click implementation: the campaign's new setting (NULL leaves a column as it is).
UPDATE campaigns
SET offer_id = coalesce(CAST(:offer_id AS integer), offer_id),
    status = coalesce(CAST(:status AS text), status),
    budget = coalesce(CAST(:budget AS numeric), budget),
    updated_at = now()
WHERE campaign_id = :campaign_id
