"""Database trouble said as what it is, and the last good numbers meanwhile.

Three kinds, each with its own message:
- timeout: the database answers, but this view's statement ran past its time limit or waited too
  long for a lock (SQLSTATE 57014 statement timeout or cancel, 55P03 lock timeout) — a busy
  moment, or a table locked by maintenance. "Taking longer than usual."
- unreachable: no connection at all — refused or failed while connecting, the pool had none free
  in time, the server is shutting down or restarting, the connection broke (SQLSTATE class 08,
  57P01-57P03, 53300, or a driver error without a server message).
- query error: anything else the database refused. That is a bug or bad data, not a wait: the
  screen says this view failed and why in a few words; the full detail goes to the app's log.

The cached data functions keep their last good result (`remember_last_good`): during a timeout
or an outage they return it instead of failing, and `database_guard` says on the screen since
when those numbers are. A query error never shows old numbers: it would hide the bug.
"""
from __future__ import annotations

import copy
import functools
import logging
import threading
import time
from collections import OrderedDict
from contextlib import contextmanager
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import streamlit as st
from sqlalchemy.exc import DBAPIError, OperationalError, TimeoutError as PoolTimeout

from ui.format import escape_markdown

log = logging.getLogger("ui.errors")

TIMEOUT, UNREACHABLE, QUERY_ERROR = "timeout", "unreachable", "query error"
DATABASE_ERRORS = (DBAPIError, PoolTimeout, ConnectionError, OSError)
TIMEOUT_STATES = {"57014", "55P03"}            # query_canceled (statement timeout), lock_not_available
UNREACHABLE_STATES = {"57P01", "57P02", "57P03", "53300"}  # shutdowns, cannot connect now, too many connections
REMEMBERED_RESULTS = 256
RETRY_SECONDS = 10

_NOTICES = "_database_notices"        # session state: (kind, since) of each stale result served this run
_GUARD_DEPTH = "_database_guard_depth"
_RETRY_STARTED = "_database_retry_started"


def classify(error: BaseException) -> str:
    """TIMEOUT, UNREACHABLE or QUERY_ERROR for an exception from the database layer."""
    if isinstance(error, (PoolTimeout, ConnectionError, OSError)):
        return UNREACHABLE
    original = getattr(error, "orig", None) or error
    state = getattr(original, "sqlstate", None) or ""
    if state in TIMEOUT_STATES:
        return TIMEOUT
    if state.startswith("08") or state in UNREACHABLE_STATES:
        return UNREACHABLE
    if isinstance(error, DBAPIError) and (error.connection_invalidated or error.statement is None):
        return UNREACHABLE  # lost on the way, or raised while connecting (no statement yet)
    if isinstance(error, OperationalError) and not state:
        return UNREACHABLE  # the driver's own error, with no answer from a server behind it
    return QUERY_ERROR


def short_reason(error: BaseException) -> str:
    """The database's own one-line reason, without the SQL or parameters."""
    original = getattr(error, "orig", None) or error
    diagnostic = getattr(original, "diag", None)
    reason = getattr(diagnostic, "message_primary", None) or (str(original).strip().splitlines() or [""])[0]
    return (reason or type(error).__name__)[:200]


# --- the last good result of each cached call -------------------------------------------------------

_last_good: OrderedDict = OrderedDict()  # (database, function, arguments) -> (result, when)
_last_good_lock = threading.Lock()


def forget_last_good() -> None:
    with _last_good_lock:
        _last_good.clear()


def _database_of_app() -> str:
    from ui import data  # data decorates its functions with remember_last_good: import when called

    return data.engine().url.render_as_string(hide_password=True)


def remember_last_good(function):
    """Wrap a cached data function (outside its st.cache_data) so that a timeout or an outage
    returns the last result it gave for the same arguments on the same database, noted for
    database_guard to say since when. Without one, or for a query error, the error stays."""
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            key = (_database_of_app(), function.__qualname__, args, tuple(sorted(kwargs.items())))
            hash(key)
        except TypeError:  # arguments that cannot be a key: nothing to remember
            key = None
        try:
            result = function(*args, **kwargs)
        except DATABASE_ERRORS as error:
            kind = classify(error)
            with _last_good_lock:
                remembered = _last_good.get(key) if key is not None and kind != QUERY_ERROR else None
            if remembered is None:
                raise
            result, since = remembered
            _note_stale(kind, since)
            return copy.deepcopy(result)
        if key is not None:
            with _last_good_lock:
                _last_good[key] = (copy.deepcopy(result), datetime.now(timezone.utc))
                _last_good.move_to_end(key)
                while len(_last_good) > REMEMBERED_RESULTS:
                    _last_good.popitem(last=False)
        return result
    if hasattr(function, "clear"):  # st.cache_data's own: empty the cache
        wrapper.clear = function.clear
    return wrapper


def _note_stale(kind: str, since: datetime) -> None:
    st.session_state.setdefault(_NOTICES, []).append((kind, since))


def _clock(moment: datetime) -> str:
    """HH:MM in the viewer's time zone (with the day when it is not today)."""
    zone = ZoneInfo(st.session_state.get("tz") or "UTC")
    local = moment.astimezone(zone)
    return f"{local:%H:%M}" if local.date() == datetime.now(zone).date() else f"{local:%d %b %H:%M}"


# --- the screen's guard -----------------------------------------------------------------------------

@contextmanager
def database_guard():
    """Run a screen's body. Database trouble becomes a plain message of its kind, never a
    traceback; numbers shown from before the trouble say since when; timeouts and outages try
    again by themselves."""
    state = st.session_state
    if not state.get(_GUARD_DEPTH):
        state[_NOTICES] = []
        state.pop(_RETRY_STARTED, None)
    state[_GUARD_DEPTH] = state.get(_GUARD_DEPTH, 0) + 1
    banner = st.empty()  # at the top of the body, filled once it is known whether numbers are old
    failed = None
    try:
        yield
    except DATABASE_ERRORS as error:
        failed = classify(error)
        _show_failure(failed, error)
    finally:
        state[_GUARD_DEPTH] -= 1
    notices = state.get(_NOTICES, [])
    if notices:
        kind = UNREACHABLE if any(k == UNREACHABLE for k, _ in notices) else TIMEOUT
        since = _clock(min(at for _, at in notices))
        if kind == TIMEOUT:
            banner.warning(f"**Taking longer than usual** — showing the last numbers from {since}: the database did "
                           f"not answer in time (busy, or a table is locked). They update by themselves when it "
                           f"answers.", icon=":material/hourglass_top:")
        else:
            banner.warning(f"**The database cannot be reached right now** — showing the last numbers from {since}. "
                           f"They update by themselves as soon as it answers again.", icon=":material/cloud_off:")
        if not state[_GUARD_DEPTH]:
            state[_NOTICES] = []
        if failed is None:
            _try_again(kind)


def _show_failure(kind: str, error: BaseException) -> None:
    detail = f"{type(getattr(error, 'orig', None) or error).__name__}: {short_reason(error)}"
    if kind == TIMEOUT:
        st.error("**This is taking longer than usual.** The database did not answer in time — it is busy, or a "
                 "table is locked for a moment. This view tries again by itself.", icon=":material/hourglass_top:")
        st.caption(f"Detail for the operator: {escape_markdown(detail)}")
    elif kind == UNREACHABLE:
        st.error("**The database cannot be reached right now.** The numbers will come back by "
                 "themselves as soon as it answers again — no need to reload.", icon=":material/cloud_off:")
        st.caption(f"Detail for the operator: {escape_markdown(detail)}")
    else:
        log.error("a view failed with a database error", exc_info=error)
        st.error(f"**This view failed:** {escape_markdown(short_reason(error))}. The operator has the detail "
                 f"(the app's log); reloading will not help until it is fixed.", icon=":material/error:")
        return
    _try_again(kind)


def _try_again(kind: str) -> None:
    if kind == UNREACHABLE:
        _retry_when_database_is_back()
    else:
        _retry_in_a_moment()


@st.fragment(run_every=5)
def _retry_when_database_is_back() -> None:
    try:
        from ui import data

        with data.engine().connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except Exception:
        st.caption(f"Still unreachable at {datetime.now():%H:%M:%S}; trying again every 5 seconds.")
        return
    st.cache_data.clear()
    st.rerun()


@st.fragment(run_every=RETRY_SECONDS)
def _retry_in_a_moment() -> None:
    """Runs once with the page, then every RETRY_SECONDS: from the second time on, the whole page
    runs again (the database answers; it was only slow)."""
    started = st.session_state.setdefault(_RETRY_STARTED, time.monotonic())
    if time.monotonic() - started >= RETRY_SECONDS - 1:
        st.session_state.pop(_RETRY_STARTED, None)
        st.rerun()
    st.caption(f"Trying again every {RETRY_SECONDS} seconds.")
