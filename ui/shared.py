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
as read-only."""
from __future__ import annotations

import functools
import time

import streamlit as st

DATA_FRESH_SECONDS = 15


def period_data(max_entries: int):
    """st.cache_data for period data: fresh for DATA_FRESH_SECONDS, then refreshed in the
    background while the previous result is served (see above)."""
    return st.cache_data(ttl=DATA_FRESH_SECONDS, max_entries=max_entries, show_spinner=False,
                         refresh_mode="background")


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
            return cached(data_epoch(), *args)
        wrapper.clear = cached.clear
        return wrapper
    return decorate
