-- For each (member, conversion time), the campaign whose open or click came last before the
-- conversion within the attribution window. Conversions are numbered by their position.
SELECT c.ordinality, touch.campaign_id
FROM unnest(CAST(:member_ids AS bigint[]), CAST(:event_times AS timestamptz[]))
     WITH ORDINALITY AS c(member_id, event_time, ordinality)
LEFT JOIN LATERAL (
    SELECT cm.campaign_id
    FROM campaign_members cm
    WHERE cm.member_id = c.member_id
      AND cm.last_engaged_at <= c.event_time
      AND cm.last_engaged_at > c.event_time - make_interval(days => :window_days)
    ORDER BY cm.last_engaged_at DESC
    LIMIT 1
) AS touch ON true
ORDER BY c.ordinality
