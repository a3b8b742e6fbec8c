-- The live screen's rollups past their keep: its minutes before :live_before and its seconds
-- before :live_seconds_before. An actor's latest minute goes with the minute's counts (both
-- before :live_before), so the counts stay the sums of what is kept. Returns how many rows went.
WITH live_cells AS (
    DELETE FROM rollup_live_cell_minute WHERE bucket < :live_before RETURNING 1
), live_actors AS (
    DELETE FROM rollup_live_actor_minute WHERE bucket < :live_before RETURNING 1
), live_member_last AS (
    DELETE FROM rollup_live_member_last WHERE bucket < :live_before RETURNING 1
), live_actor_counts AS (
    DELETE FROM rollup_live_actors_minute WHERE bucket < :live_before RETURNING 1
), live_seconds AS (
    DELETE FROM rollup_live_second WHERE bucket < :live_seconds_before RETURNING 1
)
SELECT (SELECT count(*) FROM live_cells)
       + (SELECT count(*) FROM live_actors) + (SELECT count(*) FROM live_member_last)
       + (SELECT count(*) FROM live_actor_counts) + (SELECT count(*) FROM live_seconds) AS pruned
