SELECT EXISTS (SELECT 1 FROM campaigns WHERE campaign_id = :campaign_id)
