"""ui.shared's cache lifetimes: period data and shared objects are refreshed in the background
once stale, so a rerun after the lifetime is served the previous result instead of waiting for
the database (issue 15), and a cleared cache is read afresh."""
from __future__ import annotations

import threading
import time

import pytest
import streamlit as st

from ui import shared

FRESH = 0.3  # seconds: the lifetime of the functions under test


def eventually(check, seconds: float = 10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return False


@pytest.fixture
def short_lifetime(monkeypatch):
    monkeypatch.setattr(shared, "DATA_FRESH_SECONDS", FRESH)
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


def slow_after_first(gate: threading.Event):
    """A function whose every call after the first waits for `gate` (a slow database)."""
    calls = []

    def read(key: str) -> int:
        calls.append(key)
        if len(calls) > 1:
            assert gate.wait(10)
        return len(calls)
    return read, calls


def test_stale_period_data_is_served_at_once_and_refreshed_in_the_background(short_lifetime):
    gate = threading.Event()
    read, calls = slow_after_first(gate)
    cached = shared.period_data(max_entries=4)(read)
    assert cached("a") == 1 and cached("a") == 1 and calls == ["a"]  # fresh: read once
    time.sleep(FRESH * 1.2)
    assert cached("a") == 1          # stale: the previous result, without waiting for the read
    assert eventually(lambda: len(calls) == 2)  # ...which runs in the background
    gate.set()
    assert eventually(lambda: cached("a") == 2)
    st.cache_data.clear()
    assert cached("a") == 3          # a cleared cache is read afresh


def test_stale_shared_objects_are_served_at_once_and_rebuilt_when_the_data_caches_are_cleared(short_lifetime):
    gate = threading.Event()
    build, calls = slow_after_first(gate)
    built = shared.shared(max_entries=4)(build)
    assert built("a") == 1 and built("a") == 1
    time.sleep(FRESH * 1.2)
    assert built("a") == 1
    gate.set()
    assert eventually(lambda: built("a") == 2)
    before = len(calls)
    st.cache_data.clear()            # what the app runs after a change: a new epoch
    assert built("a") == before + 1


# --- the server refreshes the views of idle pages (refresh_idle_views) ----------------------------

VIEW: dict = {}  # the functions the scratch page below reads, made by the test with its lifetime
PAGE_FRESH = 3.0  # seconds: their lifetime


def scratch_page():
    """A page reading period data and a shared object, as a screen does (app.py forgets the
    previous view's reads before the screen runs)."""
    import streamlit as st

    from tests.unit.test_period_data import VIEW
    from ui import shared

    shared.forget_view_reads()
    for key in st.session_state.get("keys", ["a"]):
        VIEW["read"](key)
    VIEW["build"]("chart")


@pytest.fixture
def no_views():
    shared._views.clear()
    yield
    shared._views.clear()


def test_the_server_refreshes_the_view_an_idle_page_shows_and_nothing_else(short_lifetime, no_views, monkeypatch):
    from streamlit.testing.v1 import AppTest

    # Long enough that two runs of the page on a busy machine fall within it: the page's own second
    # run must find its read fresh, or it would start the refresh this test expects of the server.
    monkeypatch.setattr(shared, "DATA_FRESH_SECONDS", PAGE_FRESH)
    opened = threading.Event()
    opened.set()  # no slow database here: what matters is who asks for a read, and when
    read, read_calls = slow_after_first(opened)
    build, build_calls = slow_after_first(opened)
    VIEW["read"] = shared.period_data(max_entries=8)(read)
    VIEW["build"] = shared.shared(max_entries=8)(build)
    page = AppTest.from_function(scratch_page)
    page.session_state["keys"] = ["a", "b"]
    page.run()
    assert not page.exception
    assert read_calls == ["a", "b"] and build_calls == ["chart"]  # the page's own run: one read each
    page.session_state["keys"] = ["b"]
    page.run()                                                     # another view: only "b" (fresh)
    assert read_calls == ["a", "b"]
    assert shared.refresh_idle_views() == 2                        # still fresh: cache hits, no read
    assert read_calls == ["a", "b"]
    time.sleep(PAGE_FRESH * 1.2)
    assert shared.refresh_idle_views() == 2                        # the server's timer, nobody clicking
    assert eventually(lambda: read_calls == ["a", "b", "b"]), read_calls  # the view's read, not "a" left behind
    assert eventually(lambda: build_calls == ["chart", "chart"]), build_calls
    assert shared.refresh_idle_views(session_is_open=lambda session_id: False) == 0  # the tab was closed
    page.run()
    monkeypatch.setattr(shared, "IDLE_VIEW_MINUTES", 0)
    assert shared.refresh_idle_views() == 0                        # nobody has run the page for that long
