"""Tab "Active tests": every running or paused test with its verdict, then one of them in full."""
import pandas as pd
import streamlit as st

from core.access.auth import User
from core.experiments import results as tracker
from core.experiments import tests_repo
from core.experiments.outcomes import OUTCOMES
from screens.ab_tests.detail import test_detail
from ui import ab_data
from ui.format import MISSING, probability


def overview(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per test (a table: names need no escaping)."""
    rows = []
    for test in frame.itertuples():
        outcome = ab_data.results(int(test.test_id), tracker.DEFAULT_METHOD, True, "relative")
        winner, chance = outcome.predicted_winner
        rows.append({"Test": test.name, "Verdict": outcome.verdict, "Status": test.status,
                     "Members": int(outcome.n_per_arm.sum()),
                     "Predicted winner": f"{winner} ({probability(chance)})" if winner else MISSING,
                     "Primary metric": OUTCOMES[test.primary_metric].label, "Campaign": test.campaign})
    return pd.DataFrame(rows)


def pick_test(frame: pd.DataFrame, key: str) -> int:
    """A select box of tests (its options are plain text, not Markdown)."""
    names = dict(zip(frame.test_id, frame.name))
    return int(st.selectbox("Test", frame.test_id.tolist(), format_func=lambda i: f"{names[i]} (#{i})", key=key))


def active_tab(user: User, tz: str, tests: pd.DataFrame) -> None:
    active = tests[tests.status.isin(tests_repo.ACTIVE_STATUSES)]
    if active.empty:
        st.info("No active test. Managers can create one in “Create a test”.")
        return
    st.dataframe(overview(active), hide_index=True, width="stretch",
                 column_config={"Members": st.column_config.NumberColumn("Members", format="%d")})
    test_detail(user, tz, pick_test(active, "ab_active_test"), "active")
