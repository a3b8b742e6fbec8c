-- The Citus roller, statement 11 of 14: the live screen's events by region and device per
-- minute, every campaign summed, of the events in (:from_id, :to_id] less than 70 minutes older
-- than the batch's newest (:latest_event_at, from rollup_batch: one bound every shard applies
-- alike). A plain table on the coordinator: the shards' sums are gathered there.
INSERT INTO rollup_live_cell_minute AS r
SELECT date_trunc('minute', e.event_time, 'UTC'), coalesce(e.region_code, m.region_code, 'unknown'),
       coalesce(e.device, m.device, 'unknown'), count(*), count(*) FILTER (WHERE e.event_type = 6)
FROM events e
LEFT JOIN members m ON m.member_id = e.member_id
WHERE e.event_id > :from_id AND e.event_id <= :to_id AND e.event_time >= CAST(:latest_event_at AS timestamptz) - interval '70 minutes'
GROUP BY 1, 2, 3
ON CONFLICT (bucket, region_code, device) DO UPDATE SET
    events = r.events + excluded.events, conversions = r.conversions + excluded.conversions
