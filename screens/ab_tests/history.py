"""Tab "History": every ended test with its decision, then one of them in full."""
import pandas as pd
import streamlit as st

from core.access.auth import User
from core.experiments import tests_repo
from core.experiments.outcomes import OUTCOMES
from screens.ab_tests.active import pick_test
from screens.ab_tests.detail import test_detail_fragment
from ui import ab_data
from ui.format import MISSING


def stored_verdict(test_id: int) -> str:
    """The rule's verdict stored with the test's latest decision (tests ended before decisions
    were stored have none)."""
    stored = ab_data.decisions(test_id)
    return str(stored.verdict.iloc[0]) if len(stored) else MISSING


def history_tab(user: User, tz: str, tests: pd.DataFrame) -> None:
    ended = tests[tests.status.isin(tests_repo.ENDED_STATUSES)]
    if ended.empty:
        st.info("No test has ended yet.")
        return
    shown = ended.assign(primary_metric=ended.primary_metric.map(lambda m: OUTCOMES[m].label),
                         decision=ended.decision.fillna(MISSING), winner=ended.winner.fillna(MISSING),
                         verdict=[stored_verdict(int(t)) for t in ended.test_id])
    started, ended_at = f"Started ({tz})", f"Ended ({tz})"
    headers = {"name": "Test", "campaign": "Campaign", "status": "Status", "verdict": "Verdict when decided",
               "winner": "Winner", "decision": "Decision", "primary_metric": "Primary metric",
               "started_at": started, "ended_at": ended_at}
    st.dataframe(shown[list(headers)].rename(columns=headers), hide_index=True, width="stretch", column_config={
        started: st.column_config.DatetimeColumn(started, format="YYYY-MM-DD HH:mm", timezone=tz),
        ended_at: st.column_config.DatetimeColumn(ended_at, format="YYYY-MM-DD HH:mm", timezone=tz)})
    test_detail_fragment(user, tz, pick_test(ended, "ab_history_test"), "history")
