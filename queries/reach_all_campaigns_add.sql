-- The reach rollup rows of campaigns written directly (an imported experiment, after
-- reach_from_members), added to the all-campaigns reach rollup: their members first reached
-- and first converting per hour, summed over those campaigns.
INSERT INTO rollup_all_campaigns_reach_hour AS a (bucket, delivered_members, converting_members)
SELECT r.bucket, sum(r.delivered_members), sum(r.converting_members)
FROM rollup_reach_hour r
JOIN campaigns c ON c.campaign_id = r.campaign_id
WHERE r.campaign_id = ANY(:campaign_ids)
GROUP BY r.bucket
ON CONFLICT (bucket) DO UPDATE SET
    delivered_members = a.delivered_members + excluded.delivered_members,
    converting_members = a.converting_members + excluded.converting_members
