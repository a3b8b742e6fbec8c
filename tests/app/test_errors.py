"""Errors say what they are, on a real PostgreSQL: a statement that times out (a rollup table
locked) is "taking longer than usual" and shows the last numbers with since when; an outage
shows the last numbers saying so; a query error says this view failed. Bad input in the
sidebar and NUL characters in test texts get a message instead of a crash or a silent no-op,
and job runs a dead worker left behind show as abandoned on the System screen."""
from __future__ import annotations

import logging
import re
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import streamlit as st
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from core.access.auth import User
from core.experiments import tests_repo
from core.platform import config, rollup
from core.platform.db import execute, make_engine
from tests.app.conftest import (UNREACHABLE_URL, app_database, database_url_of, new_app, open_tab, plain,
                                screen_path, shown_metrics, shown_period)
from tests.factories import events_frame, insert_events, seed_dimensions
from ui import errors

CAMPAIGNS = screen_path("Campaign analytics")
DETAIL = "Campaign detail"  # the campaigns screen's tab with the KPI cards (its tabs are lazy)
LOCKED_ROLLUPS = "rollup_campaign_day, rollup_campaign_hour, rollup_all_campaigns_hour"  # the last: "All campaigns"
MANAGER = User("manager@swipesavvy.example", "Manager", "manager")


@pytest.fixture(autouse=True)
def nothing_remembered():
    errors.forget_last_good()
    yield
    errors.forget_last_good()


@pytest.fixture
def short_timeout(monkeypatch):
    """The app's statement timeout, short enough to wait for in a test (the engine is made anew
    by app_database, which empties Streamlit's caches)."""
    monkeypatch.setattr(config, "DASHBOARD_STATEMENT_TIMEOUT_MS", 1000)


def clocks(earliest: datetime, latest: datetime, tz: str) -> set[str]:
    """HH:MM in `tz` of every minute from earliest to latest."""
    first, last = (moment.astimezone(ZoneInfo(tz)).replace(second=0, microsecond=0) for moment in (earliest, latest))
    return {f"{first + timedelta(minutes=m):%H:%M}" for m in range(int((last - first).total_seconds() // 60) + 1)}


def shown_text(at) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    for kind in ("success", "info", "warning", "error"):
        parts += [str(e.value) for e in getattr(at, kind)]
    return plain("\n".join(parts))


def lock_in_another_session(engine, tables: str):
    """A connection holding ACCESS EXCLUSIVE locks on `tables` until it is closed."""
    holder = engine.connect()
    holder.begin()
    holder.exec_driver_sql(f"LOCK TABLE {tables} IN ACCESS EXCLUSIVE MODE")
    return holder


def with_recent_events(engine) -> None:
    """A few days of events for the factories' campaigns, rolled up: numbers on the screens."""
    seed_dimensions(engine)
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    rows = []
    for day in range(1, 6):
        for member in range(1, 11):
            at = now - timedelta(days=day, hours=member)
            rows += [(at, 1, member, "send"), (at, 1, member, "delivered"), (at, 1, member, "open")]
    insert_events(engine, events_frame(rows))
    rollup.refresh_all(engine)


# --- the three kinds, from real errors of a real PostgreSQL ----------------------------------------

def caught(action) -> BaseException:
    try:
        action()
    except Exception as error:  # noqa: BLE001 - the error is what is examined
        return error
    raise AssertionError("no error raised")


def test_each_kind_of_database_error_is_told_apart(db):
    url = database_url_of(db)
    slow = make_engine(url, statement_timeout_ms=200, pool_size=1)

    def sleep_too_long():
        with slow.connect() as conn:
            conn.exec_driver_sql("SELECT pg_sleep(2)")

    def wait_for_a_locked_table():
        with db.connect() as conn:
            conn.exec_driver_sql("SET lock_timeout = 200")
            conn.exec_driver_sql("SELECT count(*) FROM rollup_campaign_day")

    def connect_to_nothing():
        make_engine(UNREACHABLE_URL, pool_size=1).connect()

    single = create_engine(db.url, pool_size=1, max_overflow=0, pool_timeout=0.2)

    def wait_for_a_free_connection():
        with single.connect():
            single.connect()

    def use_a_terminated_session():
        with db.connect() as victim:
            pid = victim.exec_driver_sql("SELECT pg_backend_pid()").scalar()
            with db.connect() as other:
                other.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid)})")
            victim.exec_driver_sql("SELECT 1")

    def query_a_missing_table():
        with db.connect() as conn:
            conn.exec_driver_sql("SELECT * FROM no_such_rollup")

    def divide_by_zero():
        with db.connect() as conn:
            conn.exec_driver_sql("SELECT 1 / 0")

    holder = lock_in_another_session(db, "rollup_campaign_day")
    try:
        assert errors.classify(caught(sleep_too_long)) == errors.TIMEOUT
        assert errors.classify(caught(wait_for_a_locked_table)) == errors.TIMEOUT
    finally:
        holder.close()
    assert errors.classify(caught(connect_to_nothing)) == errors.UNREACHABLE
    assert errors.classify(caught(wait_for_a_free_connection)) == errors.UNREACHABLE
    assert errors.classify(caught(use_a_terminated_session)) == errors.UNREACHABLE
    missing = caught(query_a_missing_table)
    assert isinstance(missing, DBAPIError) and errors.classify(missing) == errors.QUERY_ERROR
    assert errors.short_reason(missing) == 'relation "no_such_rollup" does not exist'
    assert errors.classify(caught(divide_by_zero)) == errors.QUERY_ERROR
    for engine in (slow, single):
        engine.dispose()


# --- what the screen says -----------------------------------------------------------------------

def test_a_locked_rollup_table_is_slow_not_down_and_the_last_numbers_say_since_when(app_env, short_timeout):
    at = new_app("analyst", CAMPAIGNS)
    before = datetime.now(timezone.utc)
    open_tab(at, "tab", DETAIL)
    after = datetime.now(timezone.utc)
    numbers = shown_metrics(at)
    assert numbers and not at.warning

    holder = lock_in_another_session(app_env, LOCKED_ROLLUPS)
    try:
        st.cache_data.clear()  # the same viewer a moment later, once the cached results expired
        at.run()
    finally:
        holder.close()
    assert not at.exception, [e.value for e in at.exception]
    shown = shown_text(at)
    assert "Taking longer than usual" in shown and "cannot be reached" not in shown
    found = re.search(r"showing the last numbers from (\d\d:\d\d)", shown)
    assert found and found.group(1) in clocks(before, after, at.session_state["tz"]), shown
    assert shown_metrics(at) == numbers  # the last good numbers, not an empty screen


def test_a_locked_rollup_table_without_earlier_numbers_is_taking_longer_not_unreachable(app_env, short_timeout):
    holder = lock_in_another_session(app_env, LOCKED_ROLLUPS)
    try:
        at = new_app("analyst", CAMPAIGNS).run()
    finally:
        holder.close()
    assert not at.exception, [e.value for e in at.exception]
    messages = plain(" ".join(e.value for e in at.error))
    assert "taking longer than usual" in messages and "cannot be reached" not in messages
    assert "QueryCanceled" in shown_text(at)  # the operator's detail names the timeout


def test_an_outage_keeps_the_last_numbers_and_says_since_when(db, backends):
    with_recent_events(db)
    name = db.url.database
    admin = backends[db.backend].admin
    with app_database(database_url_of(db)):
        at = new_app("analyst", CAMPAIGNS)
        before = datetime.now(timezone.utc)
        open_tab(at, "tab", DETAIL)
        after = datetime.now(timezone.utc)
        numbers = shown_metrics(at)
        assert numbers
        try:  # the database goes away: no new connection, and the open ones are cut
            with admin.connect() as conn:
                conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
                conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"),
                             {"name": name})
            st.cache_data.clear()
            at.run()
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
    assert not at.exception, [e.value for e in at.exception]
    shown = shown_text(at)
    found = re.search(r"The database cannot be reached right now\W+showing the last numbers from (\d\d:\d\d)", shown)
    assert found and found.group(1) in clocks(before, after, at.session_state["tz"]), shown
    assert "Taking longer" not in shown
    assert shown_metrics(at) == numbers


def test_a_query_error_says_this_view_failed_and_logs_the_detail(db, caplog):
    with_recent_events(db)
    with app_database(database_url_of(db)):
        # "Why did this change", by campaign, reads the per-campaign daily rollup broken below
        at = open_tab(open_tab(new_app("analyst", CAMPAIGNS), "tab", DETAIL), "detail_view", "Why did this change")
        assert shown_metrics(at)
        with db.begin() as conn:  # a broken schema: a bug, not a wait
            conn.execute(text("ALTER TABLE rollup_campaign_day RENAME TO rollup_campaign_day_moved"))
        st.cache_data.clear()
        with caplog.at_level(logging.ERROR, logger="ui.errors"):
            at.run()
    assert not at.exception, [e.value for e in at.exception]
    messages = plain(" ".join(e.value for e in at.error))
    assert "This view failed:" in messages and 'relation "rollup_campaign_day" does not exist' in messages
    assert "operator has the detail" in messages
    assert "cannot be reached" not in messages and "longer than usual" not in messages
    assert not at.warning  # no old numbers passed off as current
    assert any(r.name == "ui.errors" and r.exc_info for r in caplog.records)


# --- input that used to crash the page or vanish -------------------------------------------------

@pytest.mark.parametrize("chosen, expected, says", [
    ((date(2026, 11, 10), date(2026, 11, 1)), (date(2026, 11, 1), date(2026, 11, 10)), "swapped"),
    ((date(1, 1, 1), date(1, 1, 5)), (date(2000, 1, 1), date(2000, 1, 1)), "Dates can be from 01 Jan 2000"),
])
def test_a_date_range_backwards_or_in_year_one_is_a_message_not_a_crash(app_env, chosen, expected, says):
    at = new_app("analyst", CAMPAIGNS)
    at.session_state["date_range"] = chosen
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(says in w.value for w in at.sidebar.warning), [w.value for w in at.sidebar.warning]
    assert (shown_period(at).first, shown_period(at).last) == expected


def test_a_nul_character_in_a_test_name_is_refused_with_a_message(db):
    seed_dimensions(db)
    with app_database(database_url_of(db)):
        at = new_app("manager", screen_path("A/B tests")).run()
        assert not at.exception, [e.value for e in at.exception]
        open_tab(at, "ab_tab", "Create a test")
        at.text_input(key="new_name").input("Night\x00owl").run()
        at.button(key="new_create").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("NUL character" in plain(e.value) for e in at.error), [e.value for e in at.error]
    with db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM ab_tests")).scalar() == 0


def test_a_nul_character_in_a_hypothesis_or_note_is_refused_and_nothing_changes(db):
    seed_dimensions(db)
    with pytest.raises(ValueError, match="hypothesis contains a NUL character"):
        tests_repo.create_test(db, MANAGER, campaign_id=1, name="Subject line", primary_metric="opened",
                               variants={"control": 1, "short": 1}, hypothesis="shorter\x00 wins")
    test_id = tests_repo.create_test(db, MANAGER, campaign_id=1, name="Subject line", primary_metric="opened",
                                     variants={"control": 1, "short": 1})
    with pytest.raises(ValueError, match="note contains a NUL character"):
        tests_repo.control(db, MANAGER, test_id, "stop_test", note="enough\x00")
    assert tests_repo.get_test(db, test_id).status == "running"


# --- stuck records ---------------------------------------------------------------------------------

def test_the_system_screen_shows_a_run_abandoned_by_a_dead_worker(db):
    with db.begin() as conn:
        execute(conn, "job_run_start", job="rollup", worker="gone-host:4242", attempt=1, lease_seconds=-1)
    from core.platform.jobs import abandon_expired

    assert abandon_expired(db)
    with app_database(database_url_of(db)):
        at = new_app("admin", screen_path("System")).run()
    assert not at.exception, [e.value for e in at.exception]
    statuses = [d.value.set_index("job").status.get("rollup") for d in at.dataframe
                if {"job", "status"} <= set(d.value.columns)]
    assert "abandoned" in statuses
