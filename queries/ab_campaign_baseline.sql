-- What a new test on this campaign can expect: every outcome's mean and variance over the
-- members the campaign reached so far, and how many new members it reached per day lately.
SELECT x.metric, x.kind, count(*) AS n, avg(x.value) AS mean, coalesce(var_samp(x.value), 0) AS variance,
       count(*) FILTER (WHERE cm.first_send_at >= now() - make_interval(days => :recent_days))::float8
           / :recent_days AS new_members_per_day
FROM campaign_members cm
CROSS JOIN LATERAL ab_member_outcomes(cm.first_open_at, cm.first_click_at, cm.first_conversion_at, cm.clicks,
                                      cm.revenue, cm.reward_cost, '-infinity', 'infinity') x
WHERE cm.campaign_id = :campaign_id AND cm.first_send_at IS NOT NULL
GROUP BY x.metric, x.kind
