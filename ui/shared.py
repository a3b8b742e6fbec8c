"""How long the screens' data is reused, in one place (`period_data`), and objects built from
data (figures, tables, decompositions) once for every session (`shared`).

Period data — what a screen reads for its period (KPIs, series, breakdowns, the portfolio, the
Overview) — is fresh for DATA_FRESH_SECONDS. After that, a rerun is served the previous result
at once while the next one is read in the background (Streamlit's refresh_mode="background"),
so nobody waits for a refresh of what someone looked at in the last 2 × DATA_FRESH_SECONDS;
only after that does a rerun wait for the database. With the foreground refresh before, every
view expired together every 30 s and the next click after that waited for all of its
statements at once (issue 15: the slowest interactions). The numbers shown are at most
4 × DATA_FRESH_SECONDS old (a shared object served stale, built from data served stale), as
before (30 s data under a 30 s epoch).

A cache of built objects does not empty when the data caches do — st.cache_data.clear(), which
the app runs when the database is back, or after a change — and would go on drawing numbers
older than the data. Keyed on the epoch, which changes whenever the data caches are emptied,
they are built again from the data read afresh, and a database error in that read reaches the
screen's guard as it would without them; between clears, they are refreshed as period data is.
st.cache_resource hands out the same object to everyone: treat what a shared function returns
as read-only.

A stale entry is refreshed when something asks for it. Left to the reader's next click, the
refreshes of everything on the screen ran in threads beside that click's own rerun and took the
CPU from it (issue 15: a stale click started four refreshes of 18-45 ms each). So the server
remembers the cached reads of
the view on each session's screen (`remember_read`; a run of the whole page starts the list
again, `forget_view_reads`), and one thread of the server asks for them again every
REFRESH_WHILE_IDLE_SECONDS (`refresh_idle_views`): the refreshes start while the reader reads,
not when they click. It runs on the server, not as a timed fragment in the page, so an idle page
gets no message and redraws nothing. A session that has gone, or has not run for
IDLE_VIEW_MINUTES, is forgotten: its next click reads as before. Measured
(bench/browser_idle_click.py): a change of campaign after 17 s without a click, 268 -> 258 ms
at the median; most of what such a click costs over a quick one is not these refreshes.
"""
from __future__ import annotations

import functools
import logging
import threading
import time

import streamlit as st
from streamlit.runtime import Runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from ui.errors import DATABASE_ERRORS

log = logging.getLogger("ui.shared")

DATA_FRESH_SECONDS = 15
# How often the server asks for the views' data again; a stale entry waits at most this long for
# its refresh to start without a click.
REFRESH_WHILE_IDLE_SECONDS = 5
IDLE_VIEW_MINUTES = 30


class _View:
    """The cached reads of one session's view, and when its page last ran."""

    def __init__(self) -> None:
        self.reads: dict = {}   # key -> (cached function, args, kwargs)
        self.ran_at = time.monotonic()


_views: dict[str, _View] = {}  # session id -> its view
_views_lock = threading.Lock()
_refresher: threading.Thread | None = None


def remember_read(read, args: tuple, kwargs: dict) -> None:
    """Note a cached read of the view on the calling session's screen."""
    context = get_script_run_ctx(suppress_warning=True)
    if context is None:
        return  # a background refresh building a shared object: no session, no view
    try:
        key = (read, args, tuple(sorted(kwargs.items())))
        hash(key)
    except TypeError:
        return
    with _views_lock:
        _views.setdefault(context.session_id, _View()).reads[key] = (read, args, kwargs)
    if _refresher is None and _session_is_open(context.session_id):
        _start_refresher()


def forget_view_reads() -> None:
    """The whole page runs again: what it reads now is the session's view."""
    context = get_script_run_ctx(suppress_warning=True)
    if context is not None:
        with _views_lock:
            _views[context.session_id] = _View()


def refresh_idle_views(session_is_open=lambda session_id: True) -> int:
    """Ask once for every remembered read of the sessions still open and run within
    IDLE_VIEW_MINUTES (each distinct read once): a stale one is served from the cache and refreshed
    in the background, a fresh one costs a cache hit. Period data first, then what is built from
    it. Returns the number of reads asked for."""
    oldest = time.monotonic() - IDLE_VIEW_MINUTES * 60
    with _views_lock:
        for session_id in [s for s, view in _views.items() if view.ran_at < oldest or not session_is_open(s)]:
            del _views[session_id]
        reads = {key: entry for view in _views.values() for key, entry in view.reads.items()}
    for read, args, kwargs in sorted(reads.values(), key=lambda entry: entry[0] in _SHARED):
        try:
            read(*args, **kwargs)
        except DATABASE_ERRORS:
            pass  # read in the foreground after an eviction, and the database is away: the screen says so on its next run
    return len(reads)


def _session_is_open(session_id: str) -> bool:
    """True for a session of this server still connected. (AppTest runs a script without a
    server: its runtime is a stand-in that answers no such thing, so tests start no thread and
    call refresh_idle_views themselves.)"""
    return Runtime.exists() and Runtime.instance().is_active_session(session_id) is True


def served() -> bool:
    """True when the calling script runs in a session of this server (not in AppTest, not in a
    thread of the server's own): work started for the reader in the background is for them."""
    context = get_script_run_ctx(suppress_warning=True)
    return context is not None and _session_is_open(context.session_id)


def _refresh_while_idle() -> None:
    while True:
        time.sleep(REFRESH_WHILE_IDLE_SECONDS)
        try:
            refresh_idle_views(_session_is_open)
        except Exception:  # noqa: BLE001 — the thread must outlive a bug in one read; the screen shows that bug
            log.exception("refreshing the idle views failed")


def _start_refresher() -> None:
    """The refreshing thread, once per server."""
    global _refresher
    with _views_lock:
        if _refresher is None:
            _refresher = threading.Thread(target=_refresh_while_idle, name="refresh-idle-views", daemon=True)
            _refresher.start()


def _remembered(cached):
    @functools.wraps(cached)
    def read(*args, **kwargs):
        remember_read(read, args, kwargs)
        return cached(*args, **kwargs)
    read.clear = cached.clear
    return read


_SHARED: set = set()  # the remembered readers of shared objects (refreshed after period data)


def period_data(max_entries: int):
    """st.cache_data for period data: fresh for DATA_FRESH_SECONDS, then refreshed in the
    background while the previous result is served; remembered as a read of the view (see above)."""
    def decorate(function):
        return _remembered(st.cache_data(ttl=DATA_FRESH_SECONDS, max_entries=max_entries, show_spinner=False,
                                         refresh_mode="background")(function))
    return decorate


@st.cache_data(max_entries=1, show_spinner=False)
def data_epoch() -> float:
    """A token that changes whenever the data caches are emptied."""
    return time.time()


def shared(max_entries: int):
    """Decorate a function of small hashable arguments whose result is built from cached data."""
    def decorate(function):
        def built(epoch: float, *args):
            return function(*args)
        # Streamlit keys a cache on the function's module, name and source: this inner function
        # has the same source for every decorated function, so it takes the decorated one's name.
        built.__module__, built.__qualname__ = function.__module__, function.__qualname__
        cached = st.cache_resource(ttl=DATA_FRESH_SECONDS, max_entries=max_entries, show_spinner=False,
                                   refresh_mode="background")(built)

        @functools.wraps(function)
        def wrapper(*args):
            remember_read(wrapper, args, {})
            return cached(data_epoch(), *args)
        wrapper.clear = cached.clear
        _SHARED.add(wrapper)
        return wrapper
    return decorate
