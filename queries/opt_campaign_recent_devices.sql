-- Each campaign's opens, conversions, revenue and reward cost per device over the UTC days
-- [:day_from, :day_to), the last days (from :change_day) apart from the days before them: what an
-- open earns on each device now, and whether it changed lately (an app release that broke the
-- checkout shows on one device first; core.optimize.economics.open_value).
SELECT campaign_id, value AS device, (day >= CAST(:change_day AS date)) AS last_days,
       sum(opens)::bigint AS opens, sum(conversions)::bigint AS conversions,
       sum(revenue)::float8 AS revenue, sum(reward_cost)::float8 AS reward_cost
FROM rollup_breakdown_day
WHERE dimension = 'device' AND day >= :day_from AND day < :day_to
GROUP BY campaign_id, value, (day >= CAST(:change_day AS date))
