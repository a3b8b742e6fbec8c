-- After retention dropped the raw events of the UTC day :day: its hours leave the all-campaigns
-- hourly breakdown by segment, device and region (its channels stay, as the hourly rollup does),
-- so "All campaigns" shows those hours at a period's ends as '(not broken down)', as the
-- per-campaign breakdown (which reads the raw events there) does. Returns how many rows went.
WITH pruned AS (
    DELETE FROM rollup_all_campaigns_breakdown_hour
    WHERE dimension <> 'channel'
      AND bucket >= CAST(:day AS date)::timestamp AT TIME ZONE 'UTC'
      AND bucket < (CAST(:day AS date) + 1)::timestamp AT TIME ZONE 'UTC'
    RETURNING 1
)
SELECT count(*) FROM pruned
