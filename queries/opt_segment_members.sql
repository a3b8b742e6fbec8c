-- Members of a behavioural segment in a run, inside or outside a campaign's audience.
SELECT ms.member_id
FROM opt_member_segments ms
WHERE ms.run_id = :run_id AND ms.segment_key = :segment_key
  AND EXISTS (SELECT 1 FROM campaign_members cm
              WHERE cm.campaign_id = :campaign_id AND cm.member_id = ms.member_id AND cm.sends > 0) = :inside
ORDER BY ms.member_id
