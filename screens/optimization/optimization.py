"""Screen 3 — Optimization recommendations: the model run's header, then tabs: cards sorted by
expected impact with their evidence and ROI projection and one-click implementation, offers per
campaign, send times, affinities, behavioural segments and the history of every card (one
module per tab in this package)."""
import streamlit as st

from screens.optimization.affinity import affinity_section
from screens.optimization.cards import cards_section
from screens.optimization.history import history_section
from screens.optimization.model_run import model_quality, run_header, train_button
from screens.optimization.offers import offers_section
from screens.optimization.segments import segments_section
from screens.optimization.send_time import send_time_section
from ui import data
from ui import optimize_data as opt
from ui.session import current_user
from ui.errors import database_guard
from ui.widgets import TIME_ZONES, lazy_tabs

user = current_user()
tz = st.session_state.get("tz", TIME_ZONES[0])
st.title("Recom\u00admendations")  # the soft hyphen lets the long word break on a phone

with database_guard():
    run = opt.current_run()
    top_left, top_right = st.columns([5, 1])
    with top_left:
        run_header(user, run, tz)
    with top_right:
        train_button(user)
    if run is not None:
        campaigns = data.campaigns()
        sections = {
            "Recommendations": lambda: cards_section(user, campaigns, run),
            "Offers": lambda: offers_section(run, campaigns),
            "Send time": lambda: send_time_section(run),
            "Affinity": lambda: affinity_section(user, run),
            "Segments": lambda: segments_section(run, campaigns),
            "History": lambda: history_section(tz),
        }
        lazy_tabs(sections, key="opt_tab")
        model_quality(run)
