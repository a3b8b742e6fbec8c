"""Stored decisions: what the tracker knew when a person stopped a test or declared a winner —
the rule's verdict (as it reads at the end), its statistics and the per-variant data — kept in
ab_decisions by core.experiments.tests_repo.control, and read back for History, which shows
exactly that beside what the data look like now."""
from __future__ import annotations

import json
from datetime import datetime

import pandas as pd

from core.platform.db import fetch_df
from core.experiments import results as tracker
from core.experiments import verdicts
from core.experiments.tests_repo import rule_of


def decision_record(db, test_id: int, action: str, winner: str | None, note: str,
                    as_of: datetime | None = None) -> dict:
    """The rule's verdict, statistics and data as of now (or as of a past moment the system
    records), for ab_decisions; refuses a winner against the verdict without a reason."""
    outcome = tracker.analyze_test(db, test_id, as_of=as_of)
    verdict = verdicts.at_end(outcome.decision)
    against = action == "declare_winner" and not verdicts.consistent_winner(verdict, winner, outcome.control)
    if against and not note:
        raise ValueError(f"The test's rule says “{verdict.text}”; declaring {winner} the winner goes against it. "
                         "Write the reason in the note: it is stored with the decision, which is flagged. "
                         "Nothing was changed.")
    rows = outcome.rule_analysis
    statistics = {
        "verdict_kind": verdict.kind, "n_per_arm": {str(k): int(v) for k, v in outcome.n_per_arm.items()},
        "needed_per_arm": outcome.needed_per_arm, "current_needed_per_arm": outcome.current_needed_per_arm,
        "srm_p_value": outcome.srm_p_value, "exposure_p_value": outcome.exposure_p_value,
        "srm_detected": bool(outcome.srm_detected), "control": outcome.control,
        "best_probability": {str(k): float(v) for k, v in outcome.best_probability.items()},
        "rows": json.loads(rows.to_json(orient="records")) if len(rows) else [],
    }
    summary = outcome.summary[["metric", "variant", "n", "sum", "sum_squares"]]
    return {"action": action, "winner": winner, "verdict": verdict.text, "against_rule": bool(against),
            "reason": note, "rule": json.dumps(rule_of(outcome.test)), "statistics": json.dumps(statistics),
            "summary": summary.to_json(orient="records")}


def decisions(db, test_id: int) -> pd.DataFrame:
    """A test's stored decisions, latest first (rule, statistics and summary as dicts/lists)."""
    frame = fetch_df(db, "ab_decisions_for_test", test_id=int(test_id))
    for column in ("rule", "statistics", "summary"):
        frame[column] = [json.loads(v) if isinstance(v, str) else v for v in frame[column]] if len(frame) else []
    return frame


def changed_since(decision: pd.Series, now: tracker.TrackerResults) -> bool:
    """Whether the data now differ from the data the decision saw: members per arm, or any
    metric's sum (totals such as revenue keep changing after a test ends)."""
    then = pd.DataFrame(decision.summary)
    if then.empty:
        return bool(now.n_per_arm.sum())
    keys = ["metric", "variant"]
    merged = then.merge(now.summary[keys + ["n", "sum"]], on=keys, how="outer", suffixes=("_then", "_now")).fillna(0)
    return bool(((merged.n_then - merged.n_now).abs() > 0).any()
                or ((merged.sum_then - merged.sum_now).abs() > 1e-6 * (1 + merged.sum_then.abs())).any())
