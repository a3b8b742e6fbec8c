"""Rollups equal the same aggregation run directly on the raw events: after random batches,
with two workers at once, and after a crash half-way; "All campaigns" equals every campaign
summed, after late events and when the migration fills its rollups."""
from __future__ import annotations

import threading
from datetime import date, datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

from core.analytics import campaigns as analytics
from core.analytics.periods import Period, comparison_period
from core.platform import migrate, rollup
from core.platform.db import fetch_scalar
from tests.factories import insert_events, random_events, seed_dimensions

COUNTS = "sends, delivered, opens, impressions, clicks, conversions, revenue, reward_cost"
DIRECT = """
    count(*) FILTER (WHERE event_type = 1) AS sends, count(*) FILTER (WHERE event_type = 2) AS delivered,
    count(*) FILTER (WHERE event_type = 3) AS opens, count(*) FILTER (WHERE event_type = 4) AS impressions,
    count(*) FILTER (WHERE event_type = 5) AS clicks, count(*) FILTER (WHERE event_type = 6) AS conversions,
    coalesce(sum(revenue), 0) AS revenue, coalesce(sum(reward_cost), 0) AS reward_cost"""

PAIRS = {
    "hour": (f"SELECT campaign_id, bucket, {COUNTS} FROM rollup_campaign_hour",
             f"SELECT campaign_id, date_trunc('hour', event_time, 'UTC') AS bucket, {DIRECT} FROM events GROUP BY 1, 2"),
    "day": (f"SELECT campaign_id, day, {COUNTS} FROM rollup_campaign_day",
            f"SELECT campaign_id, (event_time AT TIME ZONE 'UTC')::date AS day, {DIRECT} FROM events GROUP BY 1, 2"),
    "breakdown": (f"SELECT campaign_id, day, dimension, value, {COUNTS} FROM rollup_breakdown_day",
                  f"""SELECT e.campaign_id, (e.event_time AT TIME ZONE 'UTC')::date AS day, d.dimension, d.value, {DIRECT}
                      FROM events e LEFT JOIN members m USING (member_id)
                      CROSS JOIN LATERAL (VALUES ('segment', coalesce(m.segment, 'unknown')),
                                                 ('device', coalesce(e.device, m.device, 'unknown')),
                                                 ('region', coalesce(e.region_code, m.region_code, 'unknown'))) d(dimension, value)
                      GROUP BY 1, 2, 3, 4"""),
    "members": ("""SELECT campaign_id, member_id, variant, first_send_at, first_delivered_at, first_open_at, first_click_at,
                          first_conversion_at, last_engaged_at, sends, opens, clicks, conversions, revenue, reward_cost
                   FROM campaign_members""",
                """SELECT campaign_id, member_id, max(variant) AS variant,
                          min(event_time) FILTER (WHERE event_type = 1) AS first_send_at,
                          min(event_time) FILTER (WHERE event_type = 2) AS first_delivered_at,
                          min(event_time) FILTER (WHERE event_type = 3) AS first_open_at,
                          min(event_time) FILTER (WHERE event_type = 5) AS first_click_at,
                          min(event_time) FILTER (WHERE event_type = 6) AS first_conversion_at,
                          max(event_time) FILTER (WHERE event_type IN (3, 5)) AS last_engaged_at,
                          count(*) FILTER (WHERE event_type = 1) AS sends, count(*) FILTER (WHERE event_type = 3) AS opens,
                          count(*) FILTER (WHERE event_type = 5) AS clicks, count(*) FILTER (WHERE event_type = 6) AS conversions,
                          coalesce(sum(revenue), 0) AS revenue, coalesce(sum(reward_cost), 0) AS reward_cost
                   FROM events GROUP BY 1, 2"""),
    # members first reached (first delivery) and first converting (later of first delivery and
    # first conversion) per hour, counted straight from each member's events
    "reach": ("""SELECT campaign_id, bucket, delivered_members, converting_members FROM rollup_reach_hour
                 WHERE delivered_members <> 0 OR converting_members <> 0""",
              """WITH firsts AS (
                     SELECT campaign_id, member_id, min(event_time) FILTER (WHERE event_type = 2) AS delivered_at,
                            min(event_time) FILTER (WHERE event_type = 6) AS converted_at
                     FROM events GROUP BY 1, 2)
                 SELECT campaign_id, bucket, sum(d) AS delivered_members, sum(c) AS converting_members FROM (
                     SELECT campaign_id, date_trunc('hour', delivered_at, 'UTC') AS bucket, 1 AS d, 0 AS c
                     FROM firsts WHERE delivered_at IS NOT NULL
                     UNION ALL
                     SELECT campaign_id, date_trunc('hour', greatest(delivered_at, converted_at), 'UTC'), 0, 1
                     FROM firsts WHERE delivered_at IS NOT NULL AND converted_at IS NOT NULL) moments
                 GROUP BY 1, 2"""),
}


# Every campaign summed ("All campaigns"), counted straight from the raw events of the campaigns
# in campaigns: per hour and per day, by segment, device, region and channel, the send cost
# from each campaign's cost per send, and the reach per hour.
ALL_DIRECT = DIRECT + """,
    coalesce(sum(c.cost_per_send) FILTER (WHERE event_type = 1), 0) AS send_cost"""
ALL_BREAKDOWN = f"""SELECT {{key}}, d.dimension, d.value, {ALL_DIRECT}
    FROM events e JOIN campaigns c USING (campaign_id) LEFT JOIN members m USING (member_id)
    CROSS JOIN LATERAL (VALUES ('segment', coalesce(m.segment, 'unknown')),
                               ('device', coalesce(e.device, m.device, 'unknown')),
                               ('region', coalesce(e.region_code, m.region_code, 'unknown')),
                               ('channel', c.channel)) d(dimension, value)
    GROUP BY 1, 2, 3"""
PAIRS.update({
    "all campaigns hour": (f"SELECT bucket, {COUNTS}, send_cost FROM rollup_all_campaigns_hour",
                           f"""SELECT date_trunc('hour', event_time, 'UTC') AS bucket, {ALL_DIRECT}
                               FROM events JOIN campaigns c USING (campaign_id) GROUP BY 1"""),
    "all campaigns breakdown hour": (
        f"SELECT bucket, dimension, value, {COUNTS}, send_cost FROM rollup_all_campaigns_breakdown_hour",
        ALL_BREAKDOWN.format(key="date_trunc('hour', e.event_time, 'UTC') AS bucket")),
    "all campaigns breakdown day": (
        f"SELECT day, dimension, value, {COUNTS}, send_cost FROM rollup_all_campaigns_breakdown_day",
        ALL_BREAKDOWN.format(key="(e.event_time AT TIME ZONE 'UTC')::date AS day")),
    "all campaigns reach": ("""SELECT bucket, delivered_members, converting_members FROM rollup_all_campaigns_reach_hour
                               WHERE delivered_members <> 0 OR converting_members <> 0""",
                            f"""SELECT bucket, sum(delivered_members) AS delivered_members,
                                       sum(converting_members) AS converting_members
                                FROM ({PAIRS["reach"][1]}) per_campaign JOIN campaigns c USING (campaign_id)
                                GROUP BY 1"""),
})


def table(engine, sql: str) -> pd.DataFrame:
    with engine.connect() as conn:
        result = conn.execute(text(sql))
        frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    return frame.sort_values(list(frame.columns[:4 if "dimension" in frame else 2])).reset_index(drop=True)


def assert_rollups_match_raw(engine) -> None:
    for name, (rolled_sql, direct_sql) in PAIRS.items():
        rolled, direct = table(engine, rolled_sql), table(engine, direct_sql)
        if name == "members":
            # the per-member variant keeps the first non-empty value seen; with random variants
            # per event that is not max(): compare it separately as "one of the member's variants"
            rolled, direct = rolled.drop(columns="variant"), direct.drop(columns="variant")
        pd.testing.assert_frame_equal(rolled, direct, check_dtype=False, obj=f"{name} rollup")


def test_rollup_after_random_batches_equals_direct_aggregation(db):
    seed_dimensions(db)
    rng = np.random.default_rng(1)
    start = datetime(2026, 10, 20, tzinfo=timezone.utc)
    for batch in range(6):
        insert_events(db, random_events(rng, int(rng.integers(1, 3000)), start, days=12))
        if batch % 2:  # sometimes two batches arrive between refreshes
            rollup.refresh_all(db, batch_events=700)
    rollup.refresh_all(db, batch_events=700)
    assert_rollups_match_raw(db)
    assert fetch_scalar(db, "rollup_watermark_read") == fetch_scalar(db, "events_last_assigned_id")


LIVE_PAIRS = {  # name: (rolled up, straight from the events, key columns)
    "live seconds": (f"SELECT bucket, {COUNTS} FROM rollup_live_second",
                     f"""SELECT date_trunc('second', event_time) AS bucket, {DIRECT}
                         FROM events GROUP BY 1""", ["bucket"]),
    "live cells": ("SELECT bucket, region_code, device, events, conversions FROM rollup_live_cell_minute",
                   """SELECT date_trunc('minute', e.event_time, 'UTC') AS bucket,
                             coalesce(e.region_code, m.region_code, 'unknown') AS region_code,
                             coalesce(e.device, m.device, 'unknown') AS device,
                             count(*) AS events, count(*) FILTER (WHERE e.event_type = 6) AS conversions
                      FROM events e LEFT JOIN members m USING (member_id) GROUP BY 1, 2, 3""",
                   ["bucket", "region_code", "device"]),
    "live actors": ("SELECT bucket, member_id FROM rollup_live_actor_minute",
                    """SELECT DISTINCT date_trunc('minute', event_time, 'UTC') AS bucket, member_id
                       FROM events WHERE event_type >= 3""", ["bucket", "member_id"]),
    "live latest minute": ("SELECT member_id, bucket FROM rollup_live_member_last",
                           """SELECT member_id, max(date_trunc('minute', event_time, 'UTC')) AS bucket
                              FROM events WHERE event_type >= 3 GROUP BY 1""", ["member_id"]),
    "live actor counts": ("SELECT bucket, members, last_members FROM rollup_live_actors_minute "
                          "WHERE members <> 0 OR last_members <> 0",
                          """WITH acted AS (SELECT DISTINCT date_trunc('minute', event_time, 'UTC') AS bucket, member_id
                                            FROM events WHERE event_type >= 3),
                                  latest AS (SELECT member_id, max(bucket) AS bucket FROM acted GROUP BY 1)
                             SELECT a.bucket, count(*) AS members,
                                    (SELECT count(*) FROM latest l WHERE l.bucket = a.bucket) AS last_members
                             FROM acted a GROUP BY a.bucket""", ["bucket"]),
    "live latest events": ("SELECT event_id, event_time, event_type, campaign_id, member_id, device, region_code "
                           "FROM rollup_live_latest",
                           """SELECT e.event_id, e.event_time, e.event_type, e.campaign_id, e.member_id,
                                     coalesce(e.device, m.device, 'unknown') AS device,
                                     coalesce(e.region_code, m.region_code, 'unknown') AS region_code
                              FROM events e LEFT JOIN members m USING (member_id)
                              ORDER BY e.event_id DESC LIMIT 50""", ["event_id"]),
}


def test_live_rollups_equal_direct_aggregation(db):
    """Events of the last hour, arriving in random order across batches, fold into the live
    screen's rollups exactly (every campaign summed: per second, per minute by region and device,
    who acted, each actor's latest minute and the counts of both, the 50 newest events); events
    far older than a batch's newest are left out of the minute ones."""
    seed_dimensions(db)
    rng = np.random.default_rng(4)
    start = datetime(2026, 11, 10, 11, 0, tzinfo=timezone.utc)
    for batch in range(5):
        frame = random_events(rng, int(rng.integers(1, 2000)), start, days=55 / 1440)  # within 55 minutes
        frame["region_code"] = rng.choice(np.array(["NYC", "LAX", None], dtype=object), len(frame))
        insert_events(db, frame)
        if batch % 2:
            rollup.refresh_all(db, batch_events=500)
    rollup.refresh_all(db, batch_events=500)
    for name, (rolled_sql, direct_sql, keys) in LIVE_PAIRS.items():
        rolled, direct = (table(db, sql) for sql in (rolled_sql, direct_sql))
        assert len(direct) > 0, name
        pd.testing.assert_frame_equal(rolled.sort_values(keys, ignore_index=True),
                                      direct.sort_values(keys, ignore_index=True), check_dtype=False, obj=name)
    late = random_events(rng, 50, start - timedelta(hours=3), days=0.01)  # hours older than the batch's newest
    insert_events(db, pd.concat([late, random_events(rng, 50, start, days=55 / 1440)], ignore_index=True))
    rollup.refresh_all(db)
    rolled = table(db, LIVE_PAIRS["live actors"][0])
    assert rolled.bucket.min() >= pd.Timestamp(start)
    seconds = table(db, LIVE_PAIRS["live seconds"][0])  # the seconds keep 27 hours: the late events are in
    assert seconds.bucket.min() < pd.Timestamp(start - timedelta(hours=2))


def test_refresh_twice_counts_nothing_twice(db):
    seed_dimensions(db)
    insert_events(db, random_events(np.random.default_rng(2), 500, datetime(2026, 10, 1, tzinfo=timezone.utc)))
    assert rollup.refresh_all(db) == 500
    assert rollup.refresh_all(db) == 0
    assert_rollups_match_raw(db)


def test_two_workers_in_parallel_equal_one(db):
    seed_dimensions(db)
    rng = np.random.default_rng(3)
    start = datetime(2026, 10, 1, tzinfo=timezone.utc)
    stop = threading.Event()
    errors = []

    def worker():
        while not stop.is_set():
            try:
                rollup.refresh(db, batch_events=400)
            except Exception as error:  # pragma: no cover - reported below
                errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for _ in range(8):  # events keep arriving while both workers roll up
        insert_events(db, random_events(rng, 800, start))
    stop.set()
    for thread in threads:
        thread.join()
    assert not errors
    rollup.refresh_all(db)
    assert_rollups_match_raw(db)


def test_crash_half_way_leaves_no_partial_rollup(db, monkeypatch):
    seed_dimensions(db)
    insert_events(db, random_events(np.random.default_rng(4), 1000, datetime(2026, 10, 1, tzinfo=timezone.utc)))
    real_execute = rollup.execute

    def crash_on_watermark(conn, name, **params):
        if name == "rollup_watermark_advance":
            raise RuntimeError("worker killed")
        return real_execute(conn, name, **params)

    monkeypatch.setattr(rollup, "execute", crash_on_watermark)
    with pytest.raises(RuntimeError):
        rollup.refresh(db)
    monkeypatch.undo()
    assert fetch_scalar(db, "rollup_watermark_read") == 0
    with db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM rollup_campaign_hour")).scalar() == 0
        assert conn.execute(text("SELECT count(*) FROM campaign_members")).scalar() == 0
    rollup.refresh_all(db)
    assert_rollups_match_raw(db)


def test_writer_in_flight_is_not_skipped(db):
    """An event whose transaction commits after later ids were rolled up is still counted."""
    seed_dimensions(db)
    from tests.factories import events_frame
    from core.platform.ingest import write_events

    insert_events(db, events_frame([("2026-10-01T09:00:00Z", 1, 3, "send")]))  # the day's partition exists
    slow = db.connect()
    transaction = slow.begin()
    write_events(slow, events_frame([("2026-10-01T10:00:00Z", 1, 1, "send")]))  # takes an id, not committed
    insert_events(db, events_frame([("2026-10-01T10:01:00Z", 1, 2, "send")]))   # later id, committed

    result = {}
    roller = threading.Thread(target=lambda: result.setdefault("r", rollup.refresh(db)))
    roller.start()
    roller.join(timeout=1.0)
    assert roller.is_alive(), "the roller must wait for the writer in flight"
    transaction.commit()
    slow.close()
    roller.join(timeout=30)
    assert result["r"].events == 3
    assert_rollups_match_raw(db)


# --------------------------------------------------------------------------- poison isolation


def poison_events(rng, good: int, bad_rows: list[dict]) -> pd.DataFrame:
    """Good random events with bad rows spread among them, written straight to events (as a
    loader that skipped the import's checks would)."""
    frame = random_events(rng, good, datetime(2026, 10, 1, tzinfo=timezone.utc), days=5)
    spots = rng.choice(good, len(bad_rows), replace=False)
    for spot, changes in zip(spots, bad_rows):
        for column, value in changes.items():
            frame.at[spot, column] = value
    return frame


def quarantine(engine) -> pd.DataFrame:
    with engine.connect() as conn:
        result = conn.execute(text("SELECT event_id, length(region_code) AS region_length, variant, reason "
                                   "FROM rollup_quarantine ORDER BY event_id"))
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def test_rows_that_cannot_be_folded_are_quarantined_and_the_rest_proceed(db):
    """The issue's 20 rows with a 1 MB region_code stopped every rollup ("index row requires …
    bytes"); now they move to quarantine with that reason and everything else is folded."""
    seed_dimensions(db)
    rng = np.random.default_rng(9)
    huge = [{"region_code": "".join(rng.choice(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), 1_048_576))} for _ in range(20)]
    insert_events(db, poison_events(rng, 3000, huge))
    with db.connect() as conn:
        poisoned = set(conn.execute(text("SELECT event_id FROM events WHERE length(region_code) > 1000")).scalars())
    assert len(poisoned) == 20
    rollup.refresh_all(db, batch_events=1000)
    assert fetch_scalar(db, "rollup_watermark_read") == fetch_scalar(db, "events_last_assigned_id")
    moved = quarantine(db)
    assert set(moved.event_id) == poisoned and (moved.region_length == 1_048_576).all()
    assert moved.reason.str.contains("index row").all() and moved.reason.str.contains("SQLSTATE 54000").all()
    assert_rollups_match_raw(db)  # the 2,980 good events are all folded, exactly once
    with db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM events")).scalar() == 2980


def test_a_constraint_violation_quarantines_only_its_event(db):
    """Any refusal that comes from the data (here a check constraint on a rollup) isolates the
    one event; events of the same batch before and after it are folded."""
    seed_dimensions(db)
    with db.begin() as conn:
        conn.execute(text("ALTER TABLE rollup_breakdown_day ADD CONSTRAINT no_poison CHECK (value <> 'POISON')"))
    rng = np.random.default_rng(10)
    insert_events(db, poison_events(rng, 500, [{"region_code": "POISON"}]))
    result = rollup.refresh(db)
    assert (result.events, result.quarantined, result.to_id) == (499, 1, 500)
    moved = quarantine(db)
    assert moved.reason.str.contains("no_poison").all() and moved.reason.str.contains("SQLSTATE 23514").all()
    assert_rollups_match_raw(db)


def test_an_error_that_is_not_the_datas_quarantines_nothing(db):
    """A lock timeout (or a lost connection, a cancelled statement) fails the refresh to be
    retried: no event is moved and the watermark stays."""
    seed_dimensions(db)
    insert_events(db, random_events(np.random.default_rng(11), 200, datetime(2026, 10, 1, tzinfo=timezone.utc)))
    with db.connect() as blocker:
        blocker.begin()
        blocker.execute(text("LOCK TABLE rollup_campaign_hour IN ACCESS EXCLUSIVE MODE"))
        with pytest.raises(Exception, match="lock timeout"):
            rollup.refresh(db, lock_timeout_ms=200)
        blocker.rollback()
    assert quarantine(db).empty and fetch_scalar(db, "rollup_watermark_read") == 0
    assert rollup.refresh_all(db) == 200
    assert_rollups_match_raw(db)


def test_quarantined_events_are_reported_for_the_system_screen(db):
    from core.platform import health

    seed_dimensions(db)
    assert health.quarantined_events(db).total == 0
    rng = np.random.default_rng(12)
    long_regions = ["".join(rng.choice(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), 20_000)) for _ in range(3)]
    insert_events(db, poison_events(rng, 100, [{"region_code": region} for region in long_regions]))
    rollup.refresh_all(db)
    report = health.quarantined_events(db, limit=2)
    assert report.total == 3 and len(report.latest) == 2
    assert (report.latest.region_code.str.len() == 40).all() and (report.latest.text_bytes >= 20_000).all()
    assert report.latest.reason.str.contains("index row").all()


# --------------------------------------------------------------------------- all campaigns


def assert_all_campaigns_equal_every_campaign(engine, periods) -> None:
    """"All campaigns" (campaign_ids None, read from the all-campaigns rollups) shows the numbers of
    every campaign summed (the per-campaign rollups of every campaign): KPI totals with reach
    (money to the last bit or two of a float: the sum of every campaign's money is exact in SQL
    now, where it was a float sum of the campaigns' rows), series and breakdowns exactly."""
    every = analytics.list_campaigns(engine).campaign_id.astype(int).tolist()
    for period in periods:
        for comparison in (comparison_period(period, "previous"), None):
            together = analytics.period_summaries(engine, period, None, comparison)
            each = analytics.period_summaries(engine, period, every, comparison)
            assert list(together) == list(each)
            for name in together:
                pd.testing.assert_series_equal(together[name], each[name], check_exact=False, rtol=1e-12,
                                               obj=f"KPI totals {name} {period}")
                counts = ["sends", "delivered", "opens", "impressions", "clicks", "conversions",
                          "delivered_members", "converting_members"]
                assert (together[name][counts] == each[name][counts]).all(), (name, period)
            pd.testing.assert_frame_equal(analytics.breakdowns(engine, period, None, comparison),
                                          analytics.breakdowns(engine, period, every, comparison), obj=f"breakdowns {period}")
        for grain in ("hour", "day", "week"):
            pd.testing.assert_frame_equal(analytics.series(engine, period, None, grain),
                                          analytics.series(engine, period, every, grain), obj=f"{grain} series {period}")


ALL_CAMPAIGNS_PERIODS = [Period(date(2026, 10, 20), date(2026, 11, 2), "America/New_York"),
                         Period(date(2026, 10, 22), date(2026, 10, 22), "Asia/Kathmandu"),   # +05:45
                         Period(date(2026, 10, 25), date(2026, 10, 31), "UTC"),
                         Period(date(2026, 10, 1), date(2026, 12, 31), "Pacific/Chatham")]  # +13:45 / +12:45


def test_all_campaigns_equal_every_campaign_summed_after_late_events_and_when_filled_by_the_migration(db):
    seed_dimensions(db)
    rng = np.random.default_rng(21)
    start = datetime(2026, 10, 20, tzinfo=timezone.utc)
    for batch in range(4):  # random times over 12 days: most batches hold events older than the last one's
        insert_events(db, random_events(rng, int(rng.integers(200, 1500)), start, days=12))
        rollup.refresh_all(db, batch_events=600)
    assert_all_campaigns_equal_every_campaign(db, ALL_CAMPAIGNS_PERIODS)
    # Late events: first deliveries and conversions hours before the ones already rolled up, so
    # members move to earlier hours of the reach rollups, and events in hours already summed.
    late = random_events(rng, 400, start - timedelta(hours=6), days=1)
    late["event_type"] = rng.choice(np.array([2, 6], dtype=np.int16), len(late))
    insert_events(db, late)
    rollup.refresh_all(db, batch_events=150)
    assert_rollups_match_raw(db)
    assert_all_campaigns_equal_every_campaign(db, ALL_CAMPAIGNS_PERIODS)
    # The migration fills the tables from what is rolled up already: the same rows as the roller's.
    built = {name: table(db, PAIRS[name][0]) for name in PAIRS if name.startswith("all campaigns")}
    migrate.downgrade(db, "0013_ab_stored_inputs")
    migrate.upgrade(db)
    for name, rows in built.items():
        pd.testing.assert_frame_equal(table(db, PAIRS[name][0]), rows, obj=f"{name} filled by the migration")
    insert_events(db, random_events(rng, 300, start, days=12))  # and the roller carries on from there
    rollup.refresh_all(db)
    assert_rollups_match_raw(db)
    assert_all_campaigns_equal_every_campaign(db, ALL_CAMPAIGNS_PERIODS)


def test_live_sized_batches_are_folded_without_jit(db, monkeypatch):
    """The fold reads events by event_id across every daily partition, so its estimated cost
    passes jit_above_cost however few events it folds; compiling it took seconds of a live
    refresh (rollup lag over 5 s at 1,500 live campaigns). Bulk batches keep the server's jit."""
    seed_dimensions(db)
    insert_events(db, random_events(np.random.default_rng(11), 300, datetime(2026, 10, 1, tzinfo=timezone.utc)))
    real_fold = rollup.fold_events
    seen = []

    def watched_fold(conn, from_id, to_id):
        seen.append((to_id - from_id, conn.execute(text("SHOW jit")).scalar()))
        return real_fold(conn, from_id, to_id)

    monkeypatch.setattr(rollup, "fold_events", watched_fold)
    with db.connect() as conn:
        server_jit = conn.execute(text("SHOW jit")).scalar()
    monkeypatch.setattr(rollup, "JIT_MAX_BATCH_EVENTS", 150)
    assert rollup.refresh(db, batch_events=100).events == 100   # live-sized: no JIT
    assert rollup.refresh(db, batch_events=1000).events == 200  # past the limit: the server's setting
    assert seen == [(100, "off"), (200, server_jit)]
    with db.connect() as conn:  # SET LOCAL: the pooled connection is back to the server's setting
        assert conn.execute(text("SHOW jit")).scalar() == server_jit
    assert_rollups_match_raw(db)
