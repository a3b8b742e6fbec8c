"""Tab "History": every ended test with its decision, then one of them in full."""
import pandas as pd
import streamlit as st

from core.access.auth import User
from core.experiments import tests_repo
from core.experiments.outcomes import OUTCOMES
from screens.ab_tests.active import pick_test
from screens.ab_tests.detail import test_detail


def history_tab(user: User, tz: str, tests: pd.DataFrame) -> None:
    ended = tests[tests.status.isin(tests_repo.ENDED_STATUSES)]
    if ended.empty:
        st.info("No test has ended yet.")
        return
    shown = ended.assign(primary_metric=ended.primary_metric.map(lambda m: OUTCOMES[m].label))
    st.dataframe(shown[["name", "campaign", "status", "decision", "winner", "primary_metric", "started_at", "ended_at"]],
                 hide_index=True, width="stretch", column_config={
                     "started_at": st.column_config.DatetimeColumn(f"Started ({tz})", format="YYYY-MM-DD HH:mm",
                                                                   timezone=tz),
                     "ended_at": st.column_config.DatetimeColumn(f"Ended ({tz})", format="YYYY-MM-DD HH:mm",
                                                                 timezone=tz)})
    test_detail(user, tz, pick_test(ended, "ab_history_test"), "history")
