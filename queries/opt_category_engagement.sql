-- Impressions, clicks and conversions per member and offer category, exponentially decayed
-- with a half-life of :half_life_days. "fit_*": all events, decayed to :as_of (the model the
-- app uses). "train_*": events before :holdout_from, decayed to :holdout_from, and "held_out_*"
-- the raw counts from :holdout_from on (the evaluation split).
WITH scored AS (
    SELECT e.member_id, mc.category, e.event_type, e.event_time >= :holdout_from AS held_out,
           exp(-ln(2) * extract(epoch FROM CAST(:as_of AS timestamptz) - e.event_time) / 86400.0
               / :half_life_days) AS fit_weight,
           exp(-ln(2) * extract(epoch FROM CAST(:holdout_from AS timestamptz) - e.event_time) / 86400.0
               / :half_life_days) AS train_weight
    FROM events e
    JOIN campaigns c USING (campaign_id)
    JOIN offers o USING (offer_id)
    JOIN merchants mc USING (merchant_id)
    WHERE e.event_type IN (4, 5, 6) AND e.event_time >= :since AND e.event_time < :as_of
)
SELECT member_id, category,
       coalesce(sum(fit_weight) FILTER (WHERE event_type = 4), 0) AS fit_impressions,
       coalesce(sum(fit_weight) FILTER (WHERE event_type = 5), 0) AS fit_clicks,
       coalesce(sum(fit_weight) FILTER (WHERE event_type = 6), 0) AS fit_conversions,
       count(*) FILTER (WHERE event_type = 4) AS impressions,
       count(*) FILTER (WHERE event_type = 5) AS clicks,
       count(*) FILTER (WHERE event_type = 6) AS conversions,
       coalesce(sum(train_weight) FILTER (WHERE event_type = 4 AND NOT held_out), 0) AS train_impressions,
       coalesce(sum(train_weight) FILTER (WHERE event_type = 5 AND NOT held_out), 0) AS train_clicks,
       coalesce(sum(train_weight) FILTER (WHERE event_type = 6 AND NOT held_out), 0) AS train_conversions,
       count(*) FILTER (WHERE event_type = 4 AND NOT held_out) AS train_raw_impressions,
       count(*) FILTER (WHERE event_type = 5 AND NOT held_out) AS train_raw_clicks,
       count(*) FILTER (WHERE event_type = 6 AND NOT held_out) AS train_raw_conversions,
       count(*) FILTER (WHERE event_type IN (5, 6) AND held_out) AS held_out_engagements,
       count(*) FILTER (WHERE event_type = 4 AND held_out) AS held_out_impressions,
       count(*) FILTER (WHERE event_type = 5 AND held_out) AS held_out_clicks
FROM scored
GROUP BY member_id, category
