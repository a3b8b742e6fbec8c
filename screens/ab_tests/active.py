"""Tab "Active tests": every running or paused test with its verdict, then one of them in full."""
import pandas as pd
import streamlit as st

from core.access.auth import User
from core.experiments import tests_repo
from core.experiments.outcomes import OUTCOMES
from screens.ab_tests.detail import test_detail_fragment
from ui import ab_data
from ui.format import MISSING, count, date_time, probability
from ui.html_table import written_markup


def overview(frame: pd.DataFrame, tz: str) -> pd.DataFrame:
    """One row per test from its stored summary (the ab_snapshots job analyses every running test
    every few minutes; text, escaped where it is drawn: ui.html_table)."""
    stored = ab_data.summaries().set_index("test_id")
    rows = []
    for test in frame.itertuples():
        summary = stored.loc[test.test_id] if test.test_id in stored.index else None
        if summary is None:
            verdict, members, winner, as_of = "not analysed yet — the next snapshot does it (every 5 minutes)", None, MISSING, MISSING
        else:
            verdict, members, as_of = summary.verdict, int(summary.members), date_time(summary.as_of, tz)
            winner = (f"{summary.predicted_winner} ({probability(summary.winner_probability)})"
                      if isinstance(summary.predicted_winner, str) else MISSING)
        rows.append({"Test": test.name, "Verdict": verdict, "Status": test.status, "Members": count(members),
                     "Predicted winner": winner, "Primary metric": OUTCOMES[test.primary_metric].label,
                     "Campaign": test.campaign, "As of": as_of})
    return pd.DataFrame(rows)


def pick_test(frame: pd.DataFrame, key: str) -> int:
    """A select box of tests (its options are plain text, not Markdown). A test just created or
    ended is picked: the action leaves its id under "ab_pick_next", and the box is drawn in
    another section than the action's, for the first time since.

    The pick is the box's own default (index=), not a value put in the session before the box is
    drawn: a box drawn for the first time with a value set that way shows its default in the
    browser (the first test), which the next click sends back (the demo role picker did exactly
    that, ui.session.account_box)."""
    names = dict(zip(frame.test_id, frame.name))
    options = frame.test_id.tolist()
    chosen = st.session_state.pop("ab_pick_next", None)
    index = 0
    if chosen in names:
        st.session_state.pop(key, None)  # the box is new in the browser: its default decides
        index = options.index(chosen)
    return int(st.selectbox("Test", options, index=index, format_func=lambda i: f"{names[i]} (#{i})", key=key))


def active_tab(user: User, tz: str, tests: pd.DataFrame) -> None:
    active = tests[tests.status.isin(tests_repo.ACTIVE_STATUSES)]
    if active.empty:
        st.info("No active test. Managers can create one in “Create a test”.")
        return
    st.html(written_markup(overview(active, tz), numbers=["Members"], css_class="active-tests"))
    test_detail_fragment(user, tz, pick_test(active, "ab_active_test"), "active")
