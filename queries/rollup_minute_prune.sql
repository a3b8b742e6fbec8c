-- Minute rollups past their keep: the campaign minutes before :before, the live activity
-- minutes before :live_before. Returns how many rows went.
WITH live_cells AS (
    DELETE FROM rollup_live_cell_minute WHERE bucket < :live_before RETURNING 1
), live_actors AS (
    DELETE FROM rollup_live_actor_minute WHERE bucket < :live_before RETURNING 1
), campaign_minutes AS (
    DELETE FROM rollup_campaign_minute WHERE bucket < :before RETURNING 1
)
SELECT (SELECT count(*) FROM campaign_minutes) + (SELECT count(*) FROM live_cells)
       + (SELECT count(*) FROM live_actors) AS pruned
