"""One test's results: the verdict of its pre-registered rule (other methods are other views of
the same data and never change it), an ended test's stored decision, sample size reached
against the stored plan, the variant table with intervals, the lift per metric, guardrails, the
estimate over time, the export, the managers' controls (for every status, whatever the member
count) and the audit trail."""
from datetime import datetime, timezone

import numpy as np
import pandas as pd
import streamlit as st

from core.access.auth import User, can
from core.experiments import results as tracker
from core.experiments import tests_repo, verdicts
from core.experiments.outcomes import OUTCOMES
from screens.ab_tests.controls import controls, plan_text, rule_section
from screens.ab_tests.decided import decision_section, verdict_box
from ui import ab_charts, ab_data
from ui.format import count, date_time, details, decimal, escape_markdown, p_value, percent, probability
from ui.errors import database_guard
from ui.html_table import Column, html_table, text, written_markup
from ui.widgets import csv_download, vega_chart

STATUS_BADGE = {"draft": ":gray[draft]", "running": ":green[running]", "paused": ":orange[paused]",
                "stopped": ":red[stopped]", "completed": ":blue[completed]"}


def summary_cards(outcome: tracker.TrackerResults) -> None:
    c1, c2, c3, c4 = st.columns(4)
    needed = outcome.needed_per_arm
    reached = outcome.smallest_arm
    c1.metric("Members in the smallest arm", count(reached), border=True,
              delta=f"of {count(needed)} needed" if needed else "no plan", delta_color="off", delta_arrow="off",
              help=f"Sample size reached against the sample per arm: {plan_text(outcome)} (80 % power for the "
                   "minimum detectable effect, fixed-horizon plan, made once when the test was planned).")
    if needed:
        c1.progress(min(reached / needed, 1.0), text=f"{percent(min(reached / needed, 1.0), 0)} of the needed sample")
    winner, chance = outcome.predicted_winner
    # short values: a metric's value is cut to its column's width ("not enough…")
    c2.metric("Predicted winner", "none" if outcome.srm_detected else escape_markdown(winner), border=True,
              delta=("sample ratio mismatch" if outcome.srm_detected
                     else f"{probability(chance)} chance to be best" if chance is not None else None),
              delta_color="off", delta_arrow="off",
              help="Probability that each arm has the best true value of the primary metric (Bayesian, flat prior). "
                   "Another view of the data: the verdict above comes from the test's rule.")
    srm_ok = not outcome.srm_detected
    ratio = "MISMATCH" if outcome.srm_detected else "as designed" if outcome.srm_judgeable else "too early"
    c3.metric("Sample ratio", ratio, border=True,
              delta=(f"p {p_value(outcome.srm_p_value)} split · {p_value(outcome.exposure_p_value)} reach"
                     if outcome.srm_judgeable or outcome.srm_detected else "judged once every arm expects "
                     f"{tracker.SRM_MIN_EXPECTED} members"),
              delta_color="off" if srm_ok else "inverse", delta_arrow="off",
              help="Chi-square of members per arm against the weights, and of the share of assigned members each "
                   "arm reached; alarm below p = 0.001.")
    days = tests_repo.started_days(outcome.test, datetime.now(timezone.utc))
    left = outcome.expected_days_left
    if left is None:
        left_text = "unknown"
    elif not np.isfinite(left):
        left_text = "never at the current traffic"
    else:
        left_text = f"≈ {left:.0f} more days"
    active = str(outcome.test.status) in tests_repo.ACTIVE_STATUSES
    c4.metric("Days running", decimal(days, 1), border=True,
              delta=left_text if active and needed and reached < needed else None,
              delta_color="off", delta_arrow="off",
              help=f"New members per day in the smallest arm over the last {tracker.GROWTH_LOOKBACK_DAYS} days: "
                   f"{decimal(outcome.members_per_day_smallest_arm or 0, 1)}.")


def header(test: pd.Series, tz: str) -> None:
    """Name, status, campaign, primary metric, plan, dates, hypothesis and decision."""
    st.subheader(escape_markdown(test["name"]))
    started = date_time(test.started_at, tz) if pd.notna(test.started_at) else "not started"
    ended = f" · ended {date_time(test.ended_at, tz)}" if pd.notna(test.ended_at) else ""
    status = STATUS_BADGE.get(test.status, escape_markdown(test.status))
    st.markdown(f"{status} · campaign **{escape_markdown(test.campaign)}** · primary metric "
                f"**{OUTCOMES[test.primary_metric].label}** · MDE {percent(test.minimum_detectable_effect, 0)} relative · "
                f"α = {test.alpha:g} · started {started}{ended}")
    if test.hypothesis:
        st.caption(f"Hypothesis: {escape_markdown(test.hypothesis)}")
    if pd.notna(test.decision) and test.decision:
        winner = f" (winner: **{escape_markdown(test.winner)}**)" if pd.notna(test.winner) else ""
        st.caption(f"Decision: {escape_markdown(test.decision)}{winner}")


def test_detail_fragment(user: User, tz: str, test_id: int, prefix: str) -> None:
    """One test in full as a fragment: another view of its data (method, CUPED, lift), metric
    over time or the rule's and controls' inputs rerun this test alone, not the tab's list, the
    sidebar and the page around it (issue 15). An action that changes the test (st.rerun)
    reruns the whole page. In its own guard: a fragment's rerun runs outside the page's."""
    st.fragment(guarded_test_detail)(user, tz, test_id, prefix)


def guarded_test_detail(user: User, tz: str, test_id: int, prefix: str) -> None:
    with database_guard():
        test_detail(user, tz, test_id, prefix)


def test_detail(user: User, tz: str, test_id: int, prefix: str) -> None:
    tests = ab_data.tests()
    test = tests[tests.test_id == test_id].iloc[0]
    header(test, tz)
    rule_section(user, test, tz, prefix)
    rule = tests_repo.rule_of(test)
    c1, c2, c3 = st.columns([3, 1, 2])
    method = c1.segmented_control("Other views of the same data", list(tracker.METHODS),
                                  format_func=tracker.METHODS.get, default=rule["method"], required=True,
                                  key=f"{prefix}_method",
                                  help="The verdict comes from the test's pre-registered rule alone; these views "
                                       "show the same data another way and never change it. Sequential: "
                                       "always-valid intervals. Frequentist: fixed-horizon test, valid at the "
                                       "planned sample. Bayesian: chance to beat control and expected loss.")
    cuped = c2.toggle("CUPED", value=rule["cuped"], key=f"{prefix}_cuped",
                      help="Variance reduction with the same metric in the member's other campaigns in the 28 days "
                           "before the test started.")
    difference = c3.radio("Lift", ["relative", "absolute"], horizontal=True, key=f"{prefix}_difference")
    outcome = ab_data.results(int(test_id), method, cuped, difference)

    decided = str(test.status) in tests_repo.ENDED_STATUSES and decision_section(outcome, tz, prefix)
    if not decided:
        verdict_box(outcome.verdict)
    if outcome.as_of is not None:
        data_time = f"Data as of {date_time(outcome.as_of, tz)} (the snapshot job refreshes them every 5 minutes)"
    elif pd.notna(test.ended_at):
        data_time = f"Data up to the test's end, {date_time(test.ended_at, tz)}"
    else:
        data_time = "Data as of now"
    st.caption(f"Verdict by the test's rule ({tracker.METHODS[rule['method']]}); the view below is "
               f"{tracker.METHODS[method]}{' with CUPED' if cuped else ''}, {difference} lift. {data_time}.")
    if outcome.srm_detected:
        st.warning(f"**No winner can be read from these data.** {verdicts.SRM_CHECKS}", icon=":material/report:")
    summary_cards(outcome)
    left = outcome.expected_days_left
    if str(test.status) == "running" and left is not None and not np.isfinite(left):
        st.caption(f"The campaign reached no new member of the smallest arm in the last {tracker.GROWTH_LOOKBACK_DAYS} "
                   "days, so the planned sample will not be reached at this traffic. The sequential verdict may "
                   "still decide earlier if the effect is larger than planned; otherwise widen the audience or "
                   "accept a larger minimum detectable effect.")
    if outcome.problem:
        st.info(escape_markdown(outcome.problem), icon=":material/hourglass_empty:")
    else:
        results_section(user, outcome, prefix)
    if can(user, "control_test"):
        controls(user, outcome, prefix)
    with st.expander("Audit trail of this test"):
        trail = ab_data.audit_trail(int(test_id))
        html_table(trail, {"at": Column("When", lambda at: date_time(at, tz, seconds=True)), "actor": text("Who"),
                           "role": text("Role"), "action": text("Action"), "details": Column("Details", details)},
                   css_class="audit-trail")


def results_section(user: User, outcome: tracker.TrackerResults, prefix: str) -> None:
    """The view's tables and charts, once every arm has members."""
    test_id, method, cuped, difference = int(outcome.test.test_id), outcome.method, outcome.cuped, outcome.difference
    view = (test_id, method, cuped, difference, ab_charts.as_of_key(outcome))
    if outcome.srm_detected:
        return  # with a broken split the numbers would only invite reading a winner into them
    st.markdown(f"**{OUTCOMES[outcome.primary].label}** (primary) per variant · {tracker.METHODS[method]} view")
    variants = ab_charts.variant_table(*view)
    st.html(written_markup(variants, numbers=[c for c in variants.columns if c != "Variant"], css_class="variants"))
    if len(outcome.variants) > 2 and method != "bayesian":
        st.caption("p-values are Holm-adjusted across the treatments; the interval is not.")
    left, right = st.columns([3, 2])
    left.markdown(f"**Lift per metric, treatment vs control** · {tracker.METHODS[method]}")
    forest = ab_charts.forest_plot(*view)
    vega_chart(where=left, spec=forest, width="stretch", height=forest["height"], key=f"{prefix}_forest")
    right.markdown("**Sample size reached against needed** (members per arm)")
    sample = ab_charts.sample_chart(*view)
    vega_chart(where=right, spec=sample, width="stretch", height=sample["height"], key=f"{prefix}_sample")
    right.caption("★ primary metric (decides). Other metrics are for exploration; guardrails only "
                  "check that nothing got worse.")
    if len(outcome.guardrails):
        st.markdown("**Guardrails** (one-sided: must not get worse; judged by the rule)")
        st.html(ab_charts.guardrail_table(outcome))

    metrics = [outcome.primary] + [m for m in outcome.analysis.metric.unique() if m != outcome.primary]
    metric = st.selectbox("Metric over time", metrics, format_func=lambda m: OUTCOMES[m].label, key=f"{prefix}_metric")
    series = ab_data.over_time(test_id, metric, method, cuped, difference)
    if series.empty:
        st.info("No daily snapshot of this metric yet: totals such as revenue are stored once a day by the "
                "worker's ab_snapshots job.", icon=":material/timeline:")
    else:
        st.markdown(f"**{OUTCOMES[metric].label}: estimate and its {ab_charts.INTERVALS[method]}** at the end of each "
                    "UTC day")
        over_time = ab_charts.over_time_chart(test_id, metric, method, cuped, difference)
        vega_chart(spec=over_time, width="stretch", height=over_time["height"], key=f"{prefix}_over_time")
    ab_charts.prefetch_other_methods(test_id, metric, method, cuped, difference)

    if can(user, "export"):
        csv_download(ab_charts.export_frame(*view), "Download test metrics (CSV)",
                     f"ab_test_{test_id}_{method}_{difference}", f"{prefix}_download")
