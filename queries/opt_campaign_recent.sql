-- Each campaign's totals over the UTC days [:day_from, :day_to) from the daily rollup.
SELECT campaign_id, count(DISTINCT day) AS active_days,
       sum(sends)::bigint AS sends, sum(delivered)::bigint AS delivered, sum(opens)::bigint AS opens,
       sum(impressions)::bigint AS impressions, sum(clicks)::bigint AS clicks,
       sum(conversions)::bigint AS conversions,
       sum(revenue)::float8 AS revenue, sum(reward_cost)::float8 AS reward_cost
FROM rollup_campaign_day
WHERE day >= :day_from AND day < :day_to AND sends > 0
GROUP BY campaign_id
