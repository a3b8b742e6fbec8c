"""Streamlit-side data access for the Recommendations screen: cached reads of the current
model run (small scalar arguments only), and the actions (apply, dismiss, train) that clear
those caches. Personal data is never cached here: member profiles are read per request and
masked by the page for the viewer."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core.access.auth import User
from core.optimize import apply as optimize_apply
from core.optimize import store, training
from ui.data import engine
from ui.shared import shared


@st.cache_data(ttl=30, max_entries=2, show_spinner=False)
def current_run() -> dict | None:
    return store.current_run(engine())


@shared(max_entries=64)
def recommendations(campaign_id: int | None, kind: str | None, segment: str | None) -> pd.DataFrame:
    """The open cards, one frame shared by every session (ui.shared; read-only): at 1,500
    campaigns a run holds 3,300 cards, and st.cache_data unpickled their details on every rerun
    (0.3 s of the screen's 0.4 s)."""
    return store.recommendations(engine(), campaign_id, kind, segment)


@st.cache_data(ttl=10, max_entries=16, show_spinner=False)
def history(campaign_id: int | None) -> pd.DataFrame:
    return store.history(engine(), campaign_id)


@st.cache_data(ttl=60, max_entries=64, show_spinner=False)
def offer_scores(campaign_id: int) -> pd.DataFrame:
    return store.offer_scores(engine(), campaign_id)


@st.cache_data(ttl=300, max_entries=2, show_spinner=False)
def send_time_distribution() -> pd.DataFrame:
    return store.send_time_distribution(engine())


@st.cache_data(ttl=300, max_entries=2, show_spinner=False)
def segment_send_time() -> pd.DataFrame:
    return store.segment_send_time(engine())


@st.cache_data(ttl=300, max_entries=2, show_spinner=False)
def segment_affinity() -> pd.DataFrame:
    return store.segment_affinity(engine())


@st.cache_data(ttl=300, max_entries=2, show_spinner=False)
def segments() -> pd.DataFrame:
    return store.segments(engine())


@st.cache_data(ttl=300, max_entries=64, show_spinner=False)
def uplift(campaign_id: int | None) -> pd.DataFrame:
    return store.uplift(engine(), campaign_id)


@st.cache_data(ttl=300, max_entries=64, show_spinner=False)
def campaign_segment_roi(campaign_id: int) -> pd.DataFrame:
    return store.campaign_segment_roi(engine(), campaign_id)


@st.cache_data(ttl=300, max_entries=2, show_spinner=False)
def members_with_estimates(limit: int = 300) -> pd.DataFrame:
    return store.members_with_estimates(engine(), limit)


def member_profile(member_id: int) -> pd.DataFrame:
    """Not cached: it holds personal data (the page masks it for the viewer)."""
    return store.member_profile(engine(), member_id)


@st.cache_data(ttl=300, max_entries=256, show_spinner=False)
def member_affinity(member_id: int) -> pd.DataFrame:
    return store.member_affinity(engine(), member_id)


def _clear() -> None:
    for cached in (current_run, recommendations, history, offer_scores, send_time_distribution, segment_send_time,
                   segment_affinity, segments, uplift, campaign_segment_roi, members_with_estimates, member_affinity):
        cached.clear()


def apply_recommendation(user: User, recommendation_id: int, holdout_share: float) -> dict:
    result = optimize_apply.apply(engine(), user, recommendation_id, holdout_share)
    _clear()
    st.cache_data.clear()  # campaign lists and analytics on other screens show the new setting
    return result


def dismiss_recommendation(user: User, recommendation_id: int, reason: str) -> None:
    optimize_apply.dismiss(engine(), user, recommendation_id, reason)
    _clear()


def train_now(user: User, progress) -> training.TrainingOutcome:
    """Retrain by hand: core checks the right (training.train_now); its own engine, since a
    retrain outlasts the dashboard's statement timeout."""
    from core.platform.db import database_url, make_engine

    long_running = make_engine(database_url(), pool_size=1)
    try:
        outcome = training.train_now(long_running, user, progress=progress)
    finally:
        long_running.dispose()
    _clear()
    return outcome
