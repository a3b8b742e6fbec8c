-- Each member's outcomes in each campaign (exact per-member state kept by the rollup worker).
SELECT cm.campaign_id, cm.member_id, cm.variant, cm.sends, cm.opens, cm.clicks, cm.conversions,
       cm.revenue::float8 AS revenue, cm.reward_cost::float8 AS reward_cost,
       cm.first_send_at, cm.last_engaged_at
FROM campaign_members cm
WHERE cm.sends > 0
