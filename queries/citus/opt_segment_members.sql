-- Citus variant of queries/opt_segment_members.sql (same parameters, same answer): Citus
-- cannot join a coordinator table (opt_member_segments) to a distributed one inside a
-- subquery, so the campaign's audience (one shard) is fetched first.
WITH audience AS MATERIALIZED (
    SELECT member_id FROM campaign_members WHERE campaign_id = :campaign_id AND sends > 0
)
SELECT ms.member_id
FROM opt_member_segments ms
WHERE ms.run_id = :run_id AND ms.segment_key = :segment_key
  AND EXISTS (SELECT 1 FROM audience a WHERE a.member_id = ms.member_id) = :inside
ORDER BY ms.member_id
