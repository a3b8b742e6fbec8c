SELECT campaign_id FROM campaigns
