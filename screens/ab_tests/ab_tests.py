"""Screen 2 — A/B test tracker: open alerts, then sections: active tests with a plain verdict each and
one test's results and controls, history of ended tests, creating a test, and the analysts'
calculator (one module per section in this package)."""
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
    if "ab_open_tab" in st.session_state:  # an action's result is in another section (set before the switch is drawn)
        st.session_state["ab_tab"] = st.session_state.pop("ab_open_tab")
    # A segmented control, not st.tabs: creating a test opens "Active tests" and ending one opens
    # "History" by setting this value, and st.tabs (1.67) does not take a value set from the
    # script reliably: the browser kept the tab clicked last and sent it back with the next click,
    # so the page jumped back to "Create a test" (streamlit issue #15458; seen in CI). Only the open
    # section runs (its name is in the URL): drawing every section on each visit cost seconds in
    # the browser (issue 15).
    section = st.segmented_control("Section", list(sections), default="Active tests", required=True,
                                   key="ab_tab", bind="query-params", label_visibility="collapsed")
    sections[section]()
