-- The next free ids for rows an experiment import creates (the caller holds the import lock).
SELECT (SELECT coalesce(max(member_id), 0) + 1 FROM members) AS member_id,
       (SELECT coalesce(max(campaign_id), 0) + 1 FROM campaigns) AS campaign_id,
       (SELECT coalesce(max(merchant_id), 0) + 1 FROM merchants) AS merchant_id,
       (SELECT coalesce(max(offer_id), 0) + 1 FROM offers) AS offer_id,
       EXISTS (SELECT 1 FROM campaigns WHERE name = :campaign_name) AS name_taken
