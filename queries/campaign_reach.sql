-- Distinct members, exact, from the per-member table, cumulative from the campaign's start to
-- end_at: members reached (delivered) by then, and those of them who had converted by then.
SELECT count(*) FILTER (WHERE first_delivered_at < :end_at) AS delivered_members,
       count(*) FILTER (WHERE first_delivered_at < :end_at AND first_conversion_at < :end_at) AS converting_members
FROM campaign_members
WHERE campaign_id = ANY(:campaign_ids)
