-- Reach rollup rows of campaigns whose campaign_members rows were written directly (an
-- imported experiment), counted from those rows: reached at the first delivery, converting at
-- the later of first delivery and first conversion.
INSERT INTO rollup_reach_hour (campaign_id, bucket, delivered_members, converting_members)
SELECT campaign_id, bucket, sum(delivered), sum(converting)
FROM campaign_members cm
CROSS JOIN LATERAL (
    VALUES (date_trunc('hour', cm.first_delivered_at, 'UTC'), 1, 0),
           (date_trunc('hour', greatest(cm.first_delivered_at, cm.first_conversion_at), 'UTC'), 0, 1)
) AS moment (bucket, delivered, converting)
WHERE cm.campaign_id = ANY(:campaign_ids)
  AND cm.first_delivered_at IS NOT NULL
  AND (moment.delivered = 1 OR cm.first_conversion_at IS NOT NULL)
GROUP BY campaign_id, bucket
