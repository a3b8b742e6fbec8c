DELETE FROM rollup_campaign_minute WHERE bucket < :before
