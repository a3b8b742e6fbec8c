"""Live queries on a real PostgreSQL, with events written at known times: counts, rates and
deltas exact for every event the rollups hold, and nothing they do not hold yet; the reach of the
rollups (now when caught up, else when the roller last moved); window edges exact to the second
(yesterday's window ends inside a minute); older and later events excluded; "yesterday" on the
viewer's wall clock across a DST change; times shown in the viewer's time zone."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import create_engine

from core.platform import rollup
from core.platform.db import fetch_df, fetch_scalar
from core.access.auth import User
from core.live import tiles
from core.live.windows import (WINDOW_CHOICES, LiveWindow, held_until, live_window, same_time_yesterday,
                               yesterday_window)
from core.access.pii import mask_frame
from tests.factories import events_frame, insert_events, seed_dimensions

UTC = timezone.utc
NOW = datetime(2026, 11, 10, 12, 0, 30, tzinfo=UTC)
S = timedelta(seconds=1)


def expected_totals(frame: pd.DataFrame, window: LiveWindow) -> dict:
    """The window's counts straight from the rows written (independent of SQL and rollups)."""
    inside = frame[(frame.event_time >= window.start_at) & (frame.event_time < window.end_at)]
    out = {name: int((inside.event_type == code).sum()) for name, code in
           [("sends", 1), ("delivered", 2), ("opens", 3), ("impressions", 4), ("clicks", 5), ("conversions", 6)]}
    out["revenue"] = round(float(inside.revenue.fillna(0).sum()), 2)
    out["events"] = len(inside)
    return out


def window_rows() -> pd.DataFrame:
    """Events around the 15-minute window ending at NOW = 12:00:30: the 15 whole minutes before
    the running one and the running one, [11:45:00, 12:00:30)."""
    start = datetime(2026, 11, 10, 11, 45, tzinfo=UTC)
    rows = [
        (start - 0.001 * S, 1, 1, "send"),               # a millisecond too early
        (start, 1, 2, "send"),                           # first instant: inside
        (start + 15 * S, 1, 2, "delivered"),             # the leading partial minute
        (start + 20 * S, 2, 3, "send"),
        (start + 70 * S, 2, 3, "delivered"),             # 11:46:10
        (NOW - timedelta(minutes=9), 1, 4, "click"),
        (NOW - timedelta(minutes=8), 1, 4, "conversion", 25.50, 1.25),
        (NOW - timedelta(minutes=5), 3, 5, "send"),
        (NOW - timedelta(minutes=5) + 3 * S, 3, 5, "delivered"),
        (NOW - timedelta(minutes=4), 3, 5, "open"),
        (NOW - timedelta(minutes=1), 3, 6, "click"),
        (NOW - 31 * S, 3, 6, "conversion", 10.00, 0.50),  # 11:59:59
        (NOW - 20 * S, 2, 7, "send"),                    # the running minute 12:00
        (NOW - 1 * S, 2, 7, "conversion", 4.25, 0.25),
        (NOW, 1, 8, "send"),                             # the end is exclusive
        (NOW + 5 * S, 1, 8, "delivered"),                # after now
        (NOW - timedelta(days=1, minutes=3), 1, 9, "send"),       # yesterday, inside its window
        (NOW - timedelta(days=1, minutes=3) + S, 1, 9, "delivered"),
        (NOW - timedelta(days=1, minutes=20), 1, 9, "send"),      # yesterday, before its window
        (NOW - timedelta(days=1) - 10 * S, 1, 9, "click"),        # yesterday 12:00:20: its partial minute
        (NOW - timedelta(days=1) + 10 * S, 1, 9, "click"),        # yesterday 12:00:40: after its end
    ]
    return events_frame(rows)


@pytest.mark.parametrize("rolled_up", ["none", "all", "first_half"])
def test_window_totals_count_exactly_what_the_rollups_hold(db, rolled_up):
    """Every event the rollups hold in the window, and none they do not hold yet."""
    seed_dimensions(db)
    frame = window_rows()
    held = frame.iloc[:0]
    if rolled_up == "first_half":
        insert_events(db, frame.iloc[::2])
        rollup.refresh_all(db)
        insert_events(db, frame.iloc[1::2])  # written after the rollup ran: not counted yet
        held = frame.iloc[::2]
    else:
        insert_events(db, frame)
        if rolled_up == "all":
            rollup.refresh_all(db)
            held = frame

    window = live_window(NOW, 15)
    got = tiles.window_totals(db, window)
    want = expected_totals(held, window)
    assert {k: (round(float(got[k]), 2) if k == "revenue" else int(got[k])) for k in want} == want
    if rolled_up != "all":
        return
    assert want == {"sends": 4, "delivered": 3, "opens": 1, "impressions": 0, "clicks": 2, "conversions": 3,
                    "revenue": 39.75, "events": 13}  # the hand count of window_rows()
    assert got.delivery_rate == pytest.approx(3 / 4)
    assert got.conversion_rate == pytest.approx(3 / 2)  # conversions / clicks (core.analytics.metrics)

    yesterday = tiles.window_totals(db, yesterday_window(NOW, 15, "UTC"))
    assert (int(yesterday.sends), int(yesterday.delivered), int(yesterday.clicks), int(yesterday.events)) == (1, 1, 1, 3)
    cards = {k.key: k for k in tiles.kpis(got, yesterday, min_to_compare=1)}  # the arithmetic, on a handful
    assert cards["events"].change == pytest.approx((13 - 3) / 3)
    assert cards["delivered"].change == pytest.approx((3 - 1) / 1)
    assert np.isnan(cards["conversions"].change)  # nothing yesterday: no relative change
    assert cards["delivery_rate"].value == pytest.approx(0.75)
    # with the screen's threshold, a handful is not compared: +233 % from 3 to 13 events is noise
    shown = {k.key: k for k in tiles.kpis(got, yesterday)}
    assert all(np.isnan(k.change) for k in shown.values()) and shown["events"].previous == 3


def test_the_numbers_reach_now_when_the_rollups_have_caught_up_else_their_last_run():
    rolled_at = NOW - 4 * S
    assert held_until(NOW, 100, 100, rolled_at) == NOW      # nothing written beyond the watermark
    assert held_until(NOW, 100, 130, rolled_at) == rolled_at
    assert held_until(NOW, 100, 130, NOW + 9 * S) == NOW    # never after now
    with pytest.raises(ValueError, match="aware"):
        held_until(datetime(2026, 11, 10, 12, 0), 1, 1, None)


def test_a_snapshot_says_how_far_behind_its_numbers_are(db):
    seed_dimensions(db)
    frame = window_rows()
    insert_events(db, frame.iloc[:10])
    rollup.refresh_all(db)
    insert_events(db, frame.iloc[10:])  # not rolled up
    later = datetime.now(UTC) + timedelta(minutes=10)
    watermark = fetch_scalar(db, "live_rollup_state")  # last_event_id: the first column
    behind = tiles.snapshot(db, 5, "UTC", now=later)
    state = fetch_df(db, "live_rollup_state").iloc[0]
    assert int(state.last_event_id) == watermark and int(state.last_assigned_id) > int(state.last_event_id)
    assert behind.ok and behind.held_until == pd.Timestamp(state.updated_at).to_pydatetime()
    assert behind.seconds_behind == pytest.approx((later - behind.held_until).total_seconds())
    assert behind.window.end_at == behind.held_until.replace(microsecond=0)
    rollup.refresh_all(db)
    caught_up = tiles.snapshot(db, 5, "UTC", now=later)
    assert caught_up.held_until == later and caught_up.seconds_behind == 0


@pytest.mark.parametrize("minutes", WINDOW_CHOICES)
def test_window_totals_from_the_minute_series_equal_the_window_query(db, minutes):
    """tiles.snapshot sums the sparkline's minutes for the window instead of reading it again."""
    seed_dimensions(db)
    frame = window_rows()
    insert_events(db, frame)
    rollup.refresh_all(db)
    window = live_window(NOW, minutes)
    from_series = tiles.totals_since(tiles.minute_series(db, NOW, "UTC"), window.start_at)
    from_query = tiles.window_totals(db, window)
    pd.testing.assert_series_equal(from_series.astype(float), from_query.astype(float), check_names=False)


def test_windows_start_on_a_whole_minute_and_end_on_a_whole_second():
    today = live_window(NOW + 0.4 * S, 15)  # the running minute up to the last whole second
    assert (today.start_at, today.end_at, today.until) == (
        datetime(2026, 11, 10, 11, 45, tzinfo=UTC), NOW, datetime(2026, 11, 10, 12, 1, tzinfo=UTC))
    assert today.running_minute == datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
    before = yesterday_window(NOW, 15, "UTC")  # yesterday's ends inside its minute too
    assert (before.start_at, before.end_at) == (datetime(2026, 11, 9, 11, 45, tzinfo=UTC), NOW - timedelta(days=1))
    on_the_minute = live_window(datetime(2026, 11, 10, 12, 0, tzinfo=UTC), 5)  # no running minute yet
    assert on_the_minute.seconds == 5 * 60
    assert today.seconds == before.seconds == 15.5 * 60
    with pytest.raises(ValueError, match="aware"):
        live_window(datetime(2026, 11, 10, 12, 0), 5)
    with pytest.raises(ValueError, match="whole minute"):
        LiveWindow(NOW, NOW)
    with pytest.raises(ValueError, match="whole second"):
        LiveWindow(datetime(2026, 11, 10, 12, 0, tzinfo=UTC), NOW + 0.5 * S)


def test_yesterday_is_the_same_wall_clock_minutes_across_a_dst_change(db):
    """US clocks went forward on Sunday 8 March 2026. At 12:00:30 EDT that day (16:00:30 UTC),
    the same minutes yesterday in New York were 12:00:30 EST = 17:00:30 UTC on 7 March: 23 hours
    earlier, not 24. Viewers in UTC compare with 16:00:30 UTC on 7 March."""
    seed_dimensions(db)
    now = datetime(2026, 3, 8, 16, 0, 30, tzinfo=UTC)
    assert same_time_yesterday(now, "America/New_York") == datetime(2026, 3, 7, 17, 0, 30, tzinfo=UTC)
    assert same_time_yesterday(now, "UTC") == datetime(2026, 3, 7, 16, 0, 30, tzinfo=UTC)
    rows = ([(datetime(2026, 3, 7, 16, 50, tzinfo=UTC) + i * S, 1, 1, "send") for i in range(3)]      # NY window
            + [(datetime(2026, 3, 7, 15, 50, tzinfo=UTC) + i * S, 1, 2, "send") for i in range(5)]  # UTC window
            + [(now - timedelta(minutes=2) + i * S, 1, 3, "send") for i in range(6)])                 # today
    insert_events(db, events_frame(rows))
    rollup.refresh_all(db)
    new_york = tiles.snapshot(db, 15, "America/New_York", now=now)
    in_utc = tiles.snapshot(db, 15, "UTC", now=now)
    assert new_york.ok and in_utc.ok
    assert int(new_york.totals.sends) == int(in_utc.totals.sends) == 6
    assert int(new_york.yesterday.sends) == 3 and int(in_utc.yesterday.sends) == 5
    change = lambda snap: {k.key: k.change for k in tiles.kpis(snap.totals, snap.yesterday, min_to_compare=1)}
    assert change(new_york)["events"] == pytest.approx((6 - 3) / 3)
    assert change(in_utc)["events"] == pytest.approx((6 - 5) / 5)


def test_minute_series_counts_each_minute_in_the_viewers_time_zone(db):
    seed_dimensions(db)
    rows = [(NOW - timedelta(minutes=70), 1, 1, "click"),                      # before the hour: out
            (NOW - timedelta(minutes=50, seconds=10), 1, 1, "click"),          # 11:10:20
            (NOW - timedelta(minutes=50), 1, 1, "click"),                      # 11:10:30
            (NOW - timedelta(minutes=49, seconds=50), 1, 1, "conversion"),     # 11:10:40
            (NOW + 5 * S, 3, 3, "click"),                                      # after now: out
            (NOW - timedelta(minutes=2), 2, 2, "click"),                       # 11:58:30
            (NOW - 10 * S, 3, 3, "click"),                                     # 12:00:20, running minute
            (NOW - 5 * S, 3, 3, "conversion")]
    insert_events(db, events_frame(rows))
    rollup.refresh_all(db)
    series = tiles.minute_series(db, NOW, "Asia/Kolkata")  # UTC+05:30
    assert len(series) == 61 and series.incomplete.tolist() == [False] * 60 + [True]
    by_minute = series.set_index("bucket")
    at = lambda h, m: pd.Timestamp(datetime(2026, 11, 10, h, m, tzinfo=UTC))
    assert (by_minute.loc[at(11, 10), "clicks"], by_minute.loc[at(11, 10), "conversions"]) == (2, 1)
    assert by_minute.loc[at(11, 10), "conversion_rate"] == pytest.approx(0.5)
    assert by_minute.loc[at(11, 58), "clicks"] == 1 and by_minute.loc[at(11, 58), "conversion_rate"] == 0
    assert by_minute.loc[at(12, 0), "conversion_rate"] == pytest.approx(1.0)
    assert np.isnan(by_minute.loc[at(11, 30), "conversion_rate"]) and by_minute.loc[at(11, 30), "clicks"] == 0
    assert series.clicks.sum() == 4  # the click 70 minutes ago is not in the hour
    assert by_minute.loc[at(11, 10), "minute"] == pd.Timestamp("2026-11-10 16:40")  # local time in Kolkata


def activity_rows() -> pd.DataFrame:
    rows = [(NOW - timedelta(minutes=m), 1, member, kind) for m, member, kind in [
        (1, 1, "open"), (2, 1, "click"), (2, 2, "impression"), (3, 3, "send"), (3, 3, "delivered"),  # 3: no action
        (4.5, 99, "conversion"), (4.6, 4, "open"), (6, 5, "open"), (7, 6, "click"), (8, 1, "open"),  # 5 to 10 min ago
        (12, 7, "open"), (20, 8, "open")]]
    frame = events_frame(rows)
    frame["device"] = ["ios", "ios", "web", "android", "android", "ios", None, "web", "web", "ios", "android", "ios"]
    # member 99 is in no member table: no region or device to fall back on; member 4 (LAX, android)
    frame["region_code"] = ["NYC", "NYC", "LAX", "NYC", "NYC", None, None, "LAX", "LAX", "NYC", "LAX", "NYC"]
    frame.loc[frame.member_id == 99, "device"] = None
    return frame


def test_activity_counts_active_members_regions_and_devices(db):
    seed_dimensions(db)
    insert_events(db, activity_rows())
    rollup.refresh_all(db)
    found = tiles.activity(db, NOW)  # the last 5 whole minutes and the running one: [11:55, 12:01)
    assert found.active_members == 4  # members 1, 2, 4 and 99 acted (3 was only sent to)
    at = lambda h, m: pd.Timestamp(datetime(2026, 11, 10, h, m, tzinfo=UTC))
    assert dict(zip(found.active_per_minute.bucket, found.active_per_minute.members)) == {
        at(11, 55): 1, at(11, 56): 1, at(11, 58): 2, at(11, 59): 1}
    assert found.active_per_minute.bucket.is_monotonic_increasing  # the sparkline's bars in time order
    assert found.regions.events.is_monotonic_decreasing and found.devices.events.is_monotonic_decreasing
    regions = found.regions.set_index("region_code")
    # events' own region, else the member's (member 4 lives in LAX), else unknown
    assert regions.events.to_dict() == {"NYC": 4, "LAX": 2, "unknown": 1}
    assert regions.conversions.to_dict() == {"NYC": 0, "LAX": 0, "unknown": 1}
    assert regions.loc["NYC", "latitude"] == pytest.approx(40.7) and regions.loc["NYC", "region_name"] == "New York"
    assert np.isnan(regions.loc["unknown", "latitude"])
    devices = found.devices.set_index("device")
    assert devices.events.to_dict() == {"ios": 2, "android": 3, "web": 1, "unknown": 1}  # member 4: android
    # counts as integers, not decimals (a chart given Decimal objects draws no bars)
    assert all(pd.api.types.is_integer_dtype(part.events) for part in (found.regions, found.devices))
    assert pd.api.types.is_integer_dtype(found.active_per_minute.members)
    assert devices.share.sum() == pytest.approx(1.0)
    fifteen = tiles.activity(db, NOW, minutes=15)  # the event 20 minutes ago is in neither stretch
    assert fifteen.regions.set_index("region_code").events.to_dict() == {"NYC": 5, "LAX": 5, "unknown": 1}
    assert fifteen.active_members == 7  # members 1, 2, 4, 5, 6, 7 and 99


def test_activity_counts_events_once_they_are_rolled_up(db):
    """Events above the watermark are not counted yet; once rolled up, nothing twice, nothing lost."""
    seed_dimensions(db)
    frame = activity_rows()
    insert_events(db, frame.iloc[:6])
    rollup.refresh_all(db)
    insert_events(db, frame.iloc[6:])        # not rolled up yet
    found = tiles.activity(db, NOW)
    assert found.active_members == 3         # members 1, 2 and 99
    assert found.regions.set_index("region_code").events.to_dict() == {"NYC": 4, "LAX": 1, "unknown": 1}
    rollup.refresh_all(db)
    found = tiles.activity(db, NOW)
    assert found.active_members == 4
    assert found.regions.set_index("region_code").events.to_dict() == {"NYC": 4, "LAX": 2, "unknown": 1}


def test_active_members_whose_latest_action_is_after_the_window_still_count(db):
    """The stretch's members are those whose latest minute is in it, plus those whose latest
    minute is later who acted in it too: member 11 acted at 12:00:10 and again at 12:01:10 (after
    the running minute: active), member 10 only at 12:01:15 (not active), member 12 at 12:00:28."""
    seed_dimensions(db)
    rows = [(NOW - 20 * S, 1, 11, "open"), (NOW + 40 * S, 1, 11, "click"), (NOW + 45 * S, 1, 10, "click"),
            (NOW - 2 * S, 1, 12, "open")]
    frame = events_frame(rows)
    frame["device"], frame["region_code"] = "ios", "NYC"
    insert_events(db, frame)
    rollup.refresh_all(db)
    got = fetch_df(db, "live_activity", **live_window(NOW, 5).minute_bounds())
    members = got[(got.kind == "active_members") & got.minute.isna()].events
    assert members.tolist() == [2]  # members 11 and 12
    places = {(row.kind, row.region_code if row.kind == "region" else row.device): (row.events, row.conversions)
              for row in got[got.kind != "active_members"].itertuples()}
    assert places == {("region", "NYC"): (2, 0), ("device", "ios"): (2, 0)}
    later = tiles.activity(db, NOW + 60 * S)  # a minute on: all three, 11 once
    assert later.active_members == 3


def test_latest_events_newest_first_with_names_masked_for_non_admins(db):
    seed_dimensions(db)
    rows = [(NOW - timedelta(minutes=90), 1, 1, "send")] + [
        (NOW - timedelta(seconds=600 - i), 1 + i % 3, 1 + i % 20, "open") for i in range(60)]
    insert_events(db, events_frame(rows))
    assert tiles.latest_events(db, NOW, "UTC").empty  # the stream shows what the rollups hold
    rollup.refresh_all(db, batch_events=7)  # in several batches: the newest 50 are kept across them
    latest = tiles.latest_events(db, NOW, "America/Los_Angeles")
    assert len(latest) == tiles.LATEST_EVENTS
    assert latest.event_time.is_monotonic_decreasing
    assert latest.event_time.iloc[0] == pd.Timestamp(NOW - timedelta(seconds=541))
    assert latest.local_time.iloc[0] == pd.Timestamp("2026-11-10 03:51:29")  # PST is UTC-8
    assert set(latest.event) == {"open"} and latest.full_name.str.startswith("Person ").all()
    analyst = mask_frame(latest, User("a@x.example", "A", "analyst"))
    assert not analyst.full_name.str.contains("Person").any()
    admin = mask_frame(latest, User("b@x.example", "B", "admin"))
    assert admin.full_name.equals(latest.full_name)


def test_snapshot_flags_stale_data_and_survives_an_unreachable_database(db):
    seed_dimensions(db)
    quiet = tiles.STALE_AFTER_SECONDS + 30
    insert_events(db, events_frame([(NOW - timedelta(seconds=quiet), 1, 1, "send")]))
    rollup.refresh_all(db)
    stale = tiles.snapshot(db, 5, "UTC", now=NOW)
    assert stale.ok and stale.seconds_since_latest_event == pytest.approx(quiet) and stale.is_stale
    fresh = tiles.snapshot(db, 5, "UTC", now=NOW - timedelta(seconds=80))
    assert not fresh.is_stale
    nothing = tiles.snapshot(db, 5, "UTC", now=NOW + timedelta(hours=2))
    assert nothing.latest_event_at is None and nothing.is_stale

    unreachable = create_engine("postgresql+psycopg://postgres@127.0.0.1:1/x", connect_args={"connect_timeout": 2})
    down = tiles.snapshot(unreachable, 5, "UTC", now=NOW)
    assert not down.ok and "OperationalError" in down.error and down.is_stale
    with pytest.raises(ValueError, match="5, 15, 60"):
        tiles.snapshot(db, 7, "UTC")
