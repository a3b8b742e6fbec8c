"""The verdict box, and an ended test's stored decision: the rule's verdict, statistics and data
as they were when a person stopped it or declared the winner (ab_decisions), with what the data
look like now beside them when they changed since."""
import pandas as pd
import streamlit as st

from core.experiments import decisions, verdicts
from core.experiments import results as tracker
from core.experiments.outcomes import OUTCOMES
from ui import ab_data
from ui.format import MISSING, count, date_time, escape_markdown, outcome_value, p_value, percent, probability

VERDICT_STYLE = {"success": (st.success, ":material/emoji_events:"), "alarm": (st.warning, ":material/report:"),
                 "warning": (st.warning, ":material/trending_down:"), "info": (st.info, ":material/hourglass_top:"),
                 "neutral": (st.info, ":material/balance:")}
ACTION_WORDS = {"stop_test": "Stopped", "declare_winner": "Winner declared"}


def verdict_box(verdict: str, label: str = "Verdict") -> None:
    """The verdict in words, coloured by what it means (it can name variants: escaped)."""
    show, icon = VERDICT_STYLE[verdicts.style(verdict)]
    show(f"**{label}: {escape_markdown(verdict)}**", icon=icon)


def stored_table(statistics: dict, metric: str) -> pd.DataFrame:
    """The primary metric per variant as stored with the decision."""
    rows = {str(r["variant"]): r for r in statistics.get("rows", [])}
    control = statistics.get("control")
    n_per_arm = statistics.get("n_per_arm", {})
    shown = []
    for variant, n in n_per_arm.items():
        row = rows.get(variant, {})
        mean = row.get("treatment_mean") if variant != control else next(
            (r.get("control_mean") for r in rows.values()), None)
        interval = MISSING
        if row.get("estimate") is not None:
            interval = (f"{percent(row['estimate'], signed=True)} [{percent(row.get('ci_low'), signed=True)}, "
                        f"{percent(row.get('ci_high'), signed=True)}]")
        chance = statistics.get("best_probability", {}).get(variant)
        shown.append({"Variant": variant + (" (control)" if variant == control else ""), "Members": count(n),
                      OUTCOMES[metric].label: outcome_value(metric, mean),
                      "Lift, relative (interval)": interval,
                      "p-value": p_value(row.get("adjusted_p_value", row.get("p_value"))) if row else MISSING,
                      "Chance to be best": probability(chance) if chance is not None and not
                      statistics.get("srm_detected") else MISSING})
    return pd.DataFrame(shown)


def decision_section(outcome: tracker.TrackerResults, tz: str, prefix: str) -> bool:
    """The latest stored decision of an ended test; False when it has none (ended before
    decisions were stored, or imported as ended)."""
    stored = ab_data.decisions(int(outcome.test.test_id))
    if stored.empty:
        return False
    latest = stored.iloc[0]
    winner = f" · winner **{escape_markdown(latest.winner)}**" if isinstance(latest.winner, str) else ""
    st.markdown(f"**{ACTION_WORDS[latest.action]}** by {escape_markdown(latest.decided_by)} on "
                f"{date_time(latest.decided_at, tz)}{winner} — as stored at that moment")
    verdict_box(latest.verdict, "Verdict when decided")
    if latest.against_rule:
        st.warning(f"Flagged: the winner was declared against the rule's verdict. Reason given: "
                 f"{escape_markdown(latest.reason)}", icon=":material/flag:")
    elif latest.reason:
        st.caption(f"Note: {escape_markdown(latest.reason)}")
    metric = str(latest.rule.get("primary_metric", outcome.primary))
    st.dataframe(stored_table(latest.statistics, metric), hide_index=True, width="stretch", key=f"{prefix}_stored")
    if decisions.changed_since(latest, outcome):
        now = ", ".join(f"{escape_markdown(v)} {count(n)}" for v, n in outcome.n_per_arm.items())
        st.info(f"The data changed since the decision (members per arm now: {now}). On today's data the rule would "
                f"say “{escape_markdown(outcome.verdict)}”; the decision above stays as it was taken.",
                icon=":material/update:")
    return True
