"""Objects built from data (figures, tables, decompositions) once for every session: `shared`, a
st.cache_resource keyed on the arguments and on the data caches' epoch.

A cache of built objects does not empty when the data caches do — st.cache_data.clear(), which
the app runs when the database is back, or after a change — and would go on drawing numbers
older than the data. Keyed on the epoch, which changes whenever the data caches are emptied and
when the period data expires, they are built again from the data read afresh, and a database
error in that read reaches the screen's guard as it would without them. st.cache_resource hands
out the same object to everyone: treat what a shared function returns as read-only."""
from __future__ import annotations

import functools
import time

import streamlit as st

DATA_LIFETIME_SECONDS = 30  # as ui.data's period data


@st.cache_data(ttl=DATA_LIFETIME_SECONDS, max_entries=1, show_spinner=False)
def data_epoch() -> float:
    """A token that changes whenever the data caches are emptied, and at least as often as the
    period data expires."""
    return time.time()


def shared(max_entries: int):
    """Decorate a function of small hashable arguments whose result is built from cached data."""
    def decorate(function):
        def built(epoch: float, *args):
            return function(*args)
        # Streamlit keys a cache on the function's module, name and source: this inner function
        # has the same source for every decorated function, so it takes the decorated one's name.
        built.__module__, built.__qualname__ = function.__module__, function.__qualname__
        cached = st.cache_resource(ttl=DATA_LIFETIME_SECONDS, max_entries=max_entries, show_spinner=False)(built)

        @functools.wraps(function)
        def wrapper(*args):
            return cached(data_epoch(), *args)
        wrapper.clear = cached.clear
        return wrapper
    return decorate
