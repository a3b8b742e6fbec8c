"""Screen 4 (real-time) in AppTest: renders for every role; shows the numbers written a moment
ago; masks personal data for everyone but admins; warns when data is stale; says so plainly
(no traceback) when the database is unreachable; pausing stops the refresh."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from core.access.auth import ROLES
from core.platform import rollup
from tests.app.conftest import (chart_specs, UNREACHABLE_URL, app_database, count, database_url_of, html_tables, new_app,
                                shown_metrics)
from tests.factories import events_frame, insert_events, seed_dimensions

PAGE = "screens/live.py"


@pytest.mark.parametrize("role", ROLES)
def test_live_screen_renders_for_every_role(open_app, role):
    at = open_app(role, PAGE)
    assert [t.value for t in at.title] == ["Real-time performance"]
    assert {"Active members", "Events", "Deliveries", "Conversions", "Revenue"} <= set(shown_metrics(at))


def event_stream(at) -> list[dict]:
    """The live event stream's rows as {header: text} (an HTML block: the markup unescaped, as shown)."""
    (stream,) = html_tables(at, "live-stream")
    return stream.to_dict("records")


@pytest.fixture
def live_db(db):
    """Known events of the last minutes: 4 sends, 3 deliveries, 2 opens, 1 conversion of $42."""
    seed_dimensions(db)
    now = datetime.now(timezone.utc)
    rows = [(now - timedelta(seconds=s), 1, member, kind) for s, member, kind in [
        (200, 1, "send"), (190, 1, "delivered"), (150, 2, "send"), (140, 2, "delivered"), (100, 3, "send"),
        (95, 3, "delivered"), (60, 1, "open"), (40, 2, "open"), (20, 4, "send")]]
    rows.append((now - timedelta(seconds=10), 1, 2, "conversion", 42.0, 2.0))
    insert_events(db, events_frame(rows))
    rollup.refresh_all(db)  # as the worker does every few seconds: the screen shows what is rolled up
    return db


@pytest.mark.parametrize("role", ["manager", "admin"])
def test_live_numbers_and_personal_data(live_db, role):
    with app_database(database_url_of(live_db)):
        at = new_app(role, PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    metrics = shown_metrics(at)
    assert count(metrics["Events"]) == 10 and count(metrics["Deliveries"]) == 3
    assert metrics["Conversions"] == "1" and metrics["Revenue"] == "$42.00"
    assert count(metrics["Active members"]) == 2  # members 1 and 2 opened or converted
    stream = event_stream(at)
    assert len(stream) == 10 and stream[0]["Event"] == "conversion" and stream[0]["Revenue (USD)"] == "$42.00"
    assert stream[-1]["Event"] == "send" and stream[-1]["Revenue (USD)"] == "—" and "None" not in str(stream)
    names = " ".join(row["Member"] for row in stream)
    if role == "admin":
        assert "Person 2" in names
    else:
        assert "Person" not in names and "#2 P. 2." in names
    assert not at.warning  # the latest event is seconds old

    # the charts are Vega-Lite: the map's circles carry each region's events (members 1 and 3
    # live in New York: 3 + 2 events; members 2 and 4 in Los Angeles: 4 + 1), and the gauge
    # reads 3 deliveries of 4 sends
    charts = {spec["description"]: spec for spec in chart_specs(at)}
    where = next(spec for name, spec in charts.items() if name.startswith("Where events happen"))
    circles = next(layer for layer in where["layer"] if layer["mark"]["type"] == "circle")["data"]["values"]
    assert {c["region"]: c["events"] for c in circles} == {"New York": 5, "Los Angeles": 5}
    gauge = next(spec for name, spec in charts.items() if name.startswith("Delivery rate"))
    assert [layer["mark"]["text"] for layer in gauge["layer"] if layer["mark"]["type"] == "text"][0] == "75.0 %"
    assert not at.get("plotly_chart") and not at.get("deck_gl_json_chart")


def test_stale_data_is_flagged(db):
    seed_dimensions(db)
    insert_events(db, events_frame([(datetime.now(timezone.utc) - timedelta(minutes=8), 1, 1, "send")]))
    rollup.refresh_all(db)
    with app_database(database_url_of(db)):
        at = new_app("exec", PAGE).run()
    assert not at.exception
    assert any("No new event for" in w.value for w in at.warning)
    assert not any("numbers stop at" in w.value for w in at.warning)  # the rollups hold every event


def test_numbers_behind_the_events_are_flagged(db):
    """The worker stopped 6.5 minutes ago and events kept coming: the numbers stay at what the
    rollups hold, and the screen says up to when and what to check."""
    seed_dimensions(db)
    now = datetime.now(timezone.utc)
    insert_events(db, events_frame([(now - timedelta(seconds=480 - 20 * i), 1, 1 + i, "open") for i in range(5)]))
    rollup.refresh_all(db)
    with db.begin() as conn:  # when the roller last moved
        conn.exec_driver_sql("UPDATE rollup_watermarks SET updated_at = now() - interval '390 seconds'")
    insert_events(db, events_frame([(now, 1, 7, "open")]))  # written since: not rolled up
    with app_database(database_url_of(db)):
        at = new_app("manager", PAGE).run()
    assert not at.exception
    assert count(shown_metrics(at)["Events"]) == 5
    assert any("numbers stop at" in w.value and "python -m core worker" in w.value for w in at.warning)
    assert any("events counted up to" in m.value for m in at.markdown)


def test_unreachable_database_is_a_message_not_a_traceback():
    with app_database(UNREACHABLE_URL):
        at = new_app("manager", PAGE).run()
    assert not at.exception
    assert any("database cannot be reached" in e.value for e in at.error)
    assert not at.metric


def test_pausing_freezes_the_panel(live_db):
    with app_database(database_url_of(live_db)):
        at = new_app("analyst", PAGE).run()
        at.toggle(key="live_paused").set_value(True).run()
    assert not at.exception
    assert any(m.value.startswith("**Paused** at") for m in at.markdown)


def test_viewers_in_one_slot_share_one_snapshot_and_the_next_slot_reads_anew(live_db, monkeypatch):
    """N open tabs cost one set of queries per 2-second slot: two sessions in the same slot get
    the same snapshot (computed once); in the next slot the numbers are read again."""
    from ui import live_data

    clock = {"now": 1_000_000.1}
    monkeypatch.setattr(live_data, "wall_clock", lambda: clock["now"])
    with app_database(database_url_of(live_db)):
        first = new_app("manager", PAGE).run()
        computed = live_data._counter().snapshots
        second = new_app("exec", PAGE).run()                       # same slot, another viewer
        assert live_data._counter().snapshots == computed
        # stamped a second back: the numbers run to the last whole second
        insert_events(live_db, events_frame([(datetime.now(timezone.utc) - timedelta(seconds=1), 1, 5, "open")]))
        rollup.refresh_all(live_db)
        third = new_app("manager", PAGE).run()                    # same slot: still the shared numbers
        clock["now"] += live_data.REFRESH_SECONDS                  # the next slot
        fourth = new_app("manager", PAGE).run()
        assert live_data._counter().snapshots == computed + 1
    for at in (first, second, third, fourth):
        assert not at.exception, [e.value for e in at.exception]
    assert count(shown_metrics(first)["Events"]) == count(shown_metrics(second)["Events"]) == 10
    assert count(shown_metrics(third)["Events"]) == 10
    assert count(shown_metrics(fourth)["Events"]) == 11


def test_slots_are_two_seconds_of_the_clock():
    from ui.live_data import REFRESH_SECONDS, current_slot

    assert REFRESH_SECONDS == 2
    assert current_slot(100.0) == current_slot(101.99) == 50 and current_slot(102.0) == 51
