SELECT r.segment_key, s.name, r.targeted, r.members, r.sends, r.profit_per_week, r.roi, r.roi_low, r.roi_high
FROM opt_campaign_segment_roi r
LEFT JOIN opt_segments s ON s.run_id = r.run_id AND s.segment_key = r.segment_key
WHERE r.campaign_id = :campaign_id AND r.run_id = (SELECT run_id FROM opt_current)
ORDER BY r.segment_key
