-- Each campaign's totals over the UTC days [:day_from, :day_to) from the daily rollup, with the
-- first day it sent anything in that span (weekly volumes are totals over the weeks it was
-- sending: a campaign that sends every few days has sends on few days, so dividing by the days
-- with sends would overstate its weekly volume) and its sends over the last 7 days.
SELECT campaign_id, count(DISTINCT day) AS active_days, min(day) AS first_day,
       sum(sends)::bigint AS sends, sum(delivered)::bigint AS delivered, sum(opens)::bigint AS opens,
       sum(impressions)::bigint AS impressions, sum(clicks)::bigint AS clicks,
       sum(conversions)::bigint AS conversions,
       sum(revenue)::float8 AS revenue, sum(reward_cost)::float8 AS reward_cost,
       coalesce(sum(sends) FILTER (WHERE day >= CAST(:day_to AS date) - 7), 0)::bigint AS sends_last_7_days
FROM rollup_campaign_day
WHERE day >= :day_from AND day < :day_to AND sends > 0
GROUP BY campaign_id
