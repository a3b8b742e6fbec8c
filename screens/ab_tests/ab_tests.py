"""Screen 2 — A/B test tracker: open alerts, then tabs: active tests with a plain verdict each and
one test's results and controls, history of ended tests, creating a test, and the analysts'
calculator (one module per tab in this package)."""
import streamlit as st

from core.access.auth import can
from core.experiments import snapshots
from screens.ab_tests.active import active_tab
from screens.ab_tests.calculator import calculator_tab
from screens.ab_tests.create import create_tab
from screens.ab_tests.history import history_tab
from ui import ab_data, data
from ui.format import date_time, escape_markdown
from ui.session import current_user
from ui.errors import database_guard
from ui.widgets import TIME_ZONES

user = current_user()
tz = st.session_state.get("tz", TIME_ZONES[0])
st.title("A/B tests")
st.caption(f"Unit of analysis: the member. Days are **UTC** days (the statistics are kept per UTC day); other "
           f"times are in **{tz}**. The default sequential statistics stay valid however often you look.")


def alerts_section() -> None:
    alerts = ab_data.open_alerts()
    if alerts.empty:
        return
    with st.expander(f":red[**{len(alerts)} open alert{'s' if len(alerts) != 1 else ''}**] — sample-ratio "
                     "mismatch, guardrails, decisions", expanded=True):
        for alert in alerts.itertuples():
            left, right = st.columns([5, 1])
            left.markdown(f"**{alert.kind_label}** · {escape_markdown(alert.message)} · raised "
                          f"{date_time(alert.raised_at, tz)}")
            if can(user, "control_test") and right.button("Acknowledge", key=f"ack_{alert.alert_id}"):
                snapshots.acknowledge_alert(data.engine(), user, int(alert.alert_id))
                ab_data.clear()
                st.rerun()


with database_guard():
    if "ab_flash" in st.session_state:  # written with its names escaped
        st.success(st.session_state.pop("ab_flash"), icon=":material/check_circle:")
    alerts_section()
    all_tests = ab_data.tests()
    sections = {
        "Active tests": lambda: active_tab(user, tz, all_tests),
        "History": lambda: history_tab(user, tz, all_tests),
        "Create a test": lambda: create_tab(user, all_tests),
        "Calculator": calculator_tab,
    }
    if "ab_open_tab" in st.session_state:  # an action's result is on another tab (set before the tabs are drawn)
        st.session_state["ab_tab"] = st.session_state.pop("ab_open_tab")
    # Only the open tab runs (a tab is a rerun away, and its name is in the URL): drawing every
    # tab on each visit cost seconds in the browser (issue 15).
    for tab, show in zip(st.tabs(list(sections), key="ab_tab", bind="query-params"), sections.values()):
        if tab.open:
            with tab:
                show()
