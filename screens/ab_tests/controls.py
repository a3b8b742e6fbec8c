"""One test's decision rule and its managers' controls: the pre-registered rule (and who changed
it after the start, when and why), changing it (a reason once the test started), and the
lifecycle — start, pause, resume, stop, declare a winner — for every status, whatever the
member count. A winner the rule's verdict does not name needs a reason."""
import pandas as pd
import streamlit as st

from core.access.auth import PermissionDenied, User, can
from core.experiments import results as tracker
from core.experiments import tests_repo, verdicts
from core.experiments.outcomes import OUTCOMES
from ui import ab_data, data
from ui.format import count, date_time, escape_markdown, percent

CORRECTION_LABELS = {"holm": "Holm across treatments", "none": "none"}


def rule_text(test: pd.Series) -> str:
    """The decision rule in one line of Markdown (names escaped)."""
    rule = tests_repo.rule_of(test)
    guardrails = ", ".join(OUTCOMES[g].label for g in rule["guardrails"] if g in OUTCOMES) or "none"
    planned = (f"planned sample {count(rule['planned_per_arm'])} members per arm" if rule["planned_per_arm"]
               else "no planned sample stored")
    return (f"**{tracker.METHODS[rule['method']]}**{' with CUPED' if rule['cuped'] else ''} on "
            f"**{OUTCOMES[rule['primary_metric']].label}** · α = {rule['alpha']:g} · MDE "
            f"{percent(rule['mde'], 1)} relative · {planned} · guardrails {guardrails} · correction "
            f"{CORRECTION_LABELS.get(rule['correction'], escape_markdown(rule['correction']))}")


def rule_section(user: User, test: pd.Series, tz: str, prefix: str) -> None:
    """The pre-registered rule; a change after the start is shown with who, when and why."""
    st.markdown(f"Decision rule (pre-registered): {rule_text(test)}")
    if pd.notna(test.get("rule_changed_at")):
        st.warning(f"The decision rule was changed after the test started, on {date_time(test.rule_changed_at, tz)} "
                   f"by {escape_markdown(test.rule_changed_by)}: {escape_markdown(test.rule_change_reason)}",
                   icon=":material/rule:")
    if can(user, "control_test") and str(test.status) in tests_repo.ACTIVE_STATUSES:
        change_rule_form(user, test, prefix)


def change_rule_form(user: User, test: pd.Series, prefix: str) -> None:
    rule = tests_repo.rule_of(test)
    started = str(test.status) != "draft"
    with st.expander("Change the decision rule" + (" (after the start: audited and shown on the test)" if started else "")):
        c1, c2, c3, c4 = st.columns(4)
        methods = list(tracker.METHODS)
        method = c1.selectbox("Method that decides", methods, index=methods.index(rule["method"]),
                              format_func=tracker.METHODS.get, key=f"{prefix}_rule_method")
        cuped = c2.toggle("CUPED", value=rule["cuped"], key=f"{prefix}_rule_cuped")
        alpha = c3.selectbox("α", [0.05, 0.01, 0.1], index=[0.05, 0.01, 0.1].index(rule["alpha"])
                             if rule["alpha"] in (0.05, 0.01, 0.1) else 0, key=f"{prefix}_rule_alpha")
        planned = c4.number_input("Planned members per arm", min_value=1, value=int(rule["planned_per_arm"] or 1000),
                                  step=100, key=f"{prefix}_rule_planned")
        reason = st.text_input("Why the rule changes" + (" (required)" if started else " (optional)"),
                               key=f"{prefix}_rule_reason")
        if st.button("Change the rule", key=f"{prefix}_rule_apply"):
            try:
                tests_repo.change_rule(data.engine(), user, int(test.test_id), reason=reason, decision_method=method,
                                       decision_cuped=cuped, alpha=alpha, planned_per_arm=int(planned))
            except (PermissionDenied, ValueError, LookupError) as error:
                st.error(escape_markdown(error), icon=":material/block:")
            else:
                ab_data.clear()
                st.session_state["ab_flash"] = f"Decision rule of “{escape_markdown(test['name'])}” changed."
                st.rerun()


def controls(user: User, outcome: tracker.TrackerResults, prefix: str) -> None:
    """Start, pause, resume, stop, declare a winner — managers only, confirmed, audited."""
    test = outcome.test
    actions = tests_repo.available_actions(str(test.status))
    if not actions:
        st.caption(f"The test is {escape_markdown(test.status)}; nothing left to control.")
        return
    names = outcome.variants.variant.tolist()
    with st.container(border=True):
        st.markdown("**Control this test** · recorded in the audit log with your name and the time")
        labels = {t.action: t.label for t in actions}
        action = st.radio("Action", list(labels), format_func=labels.get, horizontal=True, key=f"{prefix}_action")
        winner = None
        against = False
        if action == "declare_winner":
            winner = st.selectbox("Winner", names, key=f"{prefix}_winner")
            verdict = verdicts.at_end(outcome.decision)
            against = not verdicts.consistent_winner(verdict, winner, outcome.control)
            if against:
                st.warning(f"The rule's verdict is “{escape_markdown(verdict.text)}”: declaring "
                           f"{escape_markdown(winner)} goes against it. Give the reason below; the decision is "
                           "stored with it and flagged.", icon=":material/flag:")
        note = st.text_input("Reason (required)" if against else "Note (optional)", key=f"{prefix}_note",
                             placeholder="Why, in a few words")
        name = escape_markdown(test["name"])
        if st.session_state.pop(f"{prefix}_confirm_done", False):
            # untick it through its state before it is drawn, so the browser shows it unticked too
            st.session_state[f"{prefix}_confirm"] = False
        confirm = st.checkbox(f"I confirm: {labels[action].lower()} “{name}”"
                              + (f" with {escape_markdown(winner)} as the winner" if winner else ""),
                              key=f"{prefix}_confirm")
        if st.button(labels[action], type="primary", disabled=not confirm, key=f"{prefix}_apply"):
            try:
                tests_repo.control(data.engine(), user, int(test.test_id), action, winner=winner, note=note)
            except (PermissionDenied, ValueError, LookupError) as error:
                st.error(escape_markdown(error), icon=":material/block:")
            else:
                ab_data.clear()
                st.session_state[f"{prefix}_confirm_done"] = True
                st.session_state["ab_flash"] = f"{labels[action]}: done for “{name}”."
                if action in ("stop_test", "declare_winner"):  # History shows the test just ended
                    st.session_state["ab_pick_next"] = int(test.test_id)
                    st.session_state["ab_open_tab"] = "History"
                st.rerun()


def plan_text(outcome: tracker.TrackerResults) -> str:
    """The stored plan, and today's estimate beside it when they differ."""
    planned = tests_repo.rule_of(outcome.test)["planned_per_arm"]
    current = outcome.current_needed_per_arm
    if planned is None:
        return f"no stored plan; at today's baseline {count(current)} per arm" if current else "no stored plan"
    if current and current != planned:
        return f"planned {count(planned)} per arm (at today's baseline: {count(current)})"
    return f"planned {count(planned)} per arm"

