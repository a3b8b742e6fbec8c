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
CPU from it: the first change of campaign after 15 s of reading took 250-450 ms against
160-220 ms for clicks in quick succession (issue 15). So each session remembers the cached reads
of the view on its screen (`remember_read`, emptied by `forget_view_reads` when the whole page
runs again), and `keep_view_fresh`, a fragment that draws nothing, asks for them again every
REFRESH_WHILE_IDLE_SECONDS: the refreshes start while the reader reads, not when they click.
"""
from __future__ import annotations

import functools
import time

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from ui.errors import DATABASE_ERRORS

DATA_FRESH_SECONDS = 15
# How often an idle page asks for its view's data again; a stale entry waits at most this long
# for its refresh to start without a click.
REFRESH_WHILE_IDLE_SECONDS = 5
_VIEW_READS = "_view_reads"  # session state: key -> (cached function, args, kwargs) read for the view


def remember_read(read, args: tuple, kwargs: dict) -> None:
    """Note a cached read of the view on screen, for keep_view_fresh to ask for again."""
    if get_script_run_ctx(suppress_warning=True) is None:
        return  # a background refresh building a shared object: no session, no view
    try:
        key = (read, args, tuple(sorted(kwargs.items())))
        hash(key)
    except TypeError:
        return
    st.session_state.setdefault(_VIEW_READS, {})[key] = (read, args, kwargs)


def forget_view_reads() -> None:
    """The whole page runs again: what it reads now is the view."""
    st.session_state.pop(_VIEW_READS, None)


def refresh_view_reads() -> None:
    """Ask for every remembered read again: a stale one is served from the cache and refreshed in
    the background; a fresh one costs a cache hit. Period data first, then what is built from it."""
    reads = sorted(st.session_state.get(_VIEW_READS, {}).values(), key=lambda entry: entry[0] in _SHARED)
    for read, args, kwargs in reads:
        try:
            read(*args, **kwargs)
        except DATABASE_ERRORS:
            pass  # evicted and read in the foreground, and the database is away: the screen says so on its next run


@st.fragment(run_every=REFRESH_WHILE_IDLE_SECONDS)
def keep_view_fresh() -> None:
    """Placed once after the screen; draws nothing. On the page's own run the reads were just
    made, so only the fragment's timed runs ask again."""
    context = get_script_run_ctx(suppress_warning=True)
    if context is not None and context.fragment_ids_this_run:
        refresh_view_reads()


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
    background while the previous result is served (see above); remembered for keep_view_fresh."""
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
