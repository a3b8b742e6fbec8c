"""Cached data access for the A/B test tracker (and the A/B alerts on the system screen).

Small scalar arguments only; results live 30–60 s (the snapshot job refreshes every 5 minutes,
the per-member state every few seconds). Every action that changes a test clears them.
"""
from __future__ import annotations

import streamlit as st

from core.experiments import results as tracker
from core.experiments import decisions as stored_decisions
from core.experiments import snapshots, tests_repo
from ui.data import engine


@st.cache_data(ttl=30, max_entries=4, show_spinner=False)
def tests():
    return tests_repo.list_tests(engine())


@st.cache_data(ttl=30, max_entries=2, show_spinner=False)
def summaries():
    """Each test's summary as of the latest snapshot (the list of tests reads these; it never
    analyses every test on a view)."""
    return snapshots.summaries(engine())


@st.cache_data(ttl=60, max_entries=64, show_spinner="Reading the test's data…")
def inputs(test_id: int):
    """What every view of the test analyses: as of the snapshot job's last run (every 5
    minutes) when it has one, else live."""
    return tracker.screen_inputs(engine(), test_id)


@st.cache_data(ttl=60, max_entries=128, show_spinner="Analysing the test…")
def results(test_id: int, method: str, cuped: bool, difference: str):
    """One view of the test's inputs: another method, CUPED or lift reads nothing again (the
    inputs took 0.2 s of the 0.25 s a view took, issue 15)."""
    return tracker.analyze_inputs(inputs(test_id), method=method, cuped=cuped, difference=difference)


@st.cache_data(ttl=120, max_entries=64, show_spinner="Reading the daily snapshots…")
def over_time_inputs(test_id: int, metric: str):
    """What every view of the test's course reads: the test, its arms and its daily snapshots of
    `metric`. Another method, CUPED or lift reads nothing again: the snapshots took 70–110 ms of
    a method switch on an ended test, the estimate 13 ms (issue 15)."""
    db = engine()
    return tests_repo.get_test(db, test_id), tests_repo.variants_of(db, test_id), tracker.history(db, test_id, metric)


@st.cache_data(ttl=120, max_entries=128, show_spinner=False)
def over_time(test_id: int, metric: str, method: str, cuped: bool, difference: str):
    test, variants, daily = over_time_inputs(test_id, metric)
    return tracker.estimate_over_time(test, variants, daily, metric, method=method, cuped=cuped, difference=difference)


@st.cache_data(ttl=60, max_entries=64, show_spinner=False)
def decisions(test_id: int):
    """A test's stored decisions (they never change once taken; cleared with every action)."""
    return stored_decisions.decisions(engine(), test_id)


@st.cache_data(ttl=30, max_entries=2, show_spinner=False)
def open_alerts():
    return snapshots.open_alerts(engine())


@st.cache_data(ttl=300, max_entries=64, show_spinner=False)
def campaign_baseline(campaign_id: int):
    return tests_repo.campaign_baseline(engine(), campaign_id)


@st.cache_data(ttl=10, max_entries=64, show_spinner=False)
def audit_trail(test_id: int):
    return tests_repo.audit_trail(engine(), test_id)


def clear() -> None:
    """Forget everything cached about tests (after a person changed one)."""
    for cached in (tests, summaries, inputs, results, over_time_inputs, over_time, open_alerts, audit_trail,
                   decisions):
        cached.clear()
