-- Members the campaign has sent to so far.
SELECT member_id FROM campaign_members WHERE campaign_id = :campaign_id AND sends > 0 ORDER BY member_id
