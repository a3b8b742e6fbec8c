"""Screen 2 — A/B test tracker: active tests with a plain verdict each, one test's results
(variants, intervals, estimate over time, sample size, predicted winner), the managers'
controls, history of ended tests, creating a test, and the analysts' calculator."""
from datetime import datetime, timezone

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from core.access.auth import PermissionDenied, can
from core.experiments import calculator
from core.experiments import results as tracker
from core.experiments import snapshots, tests_repo
from core.experiments.outcomes import OUTCOMES, format_outcome
from ui import ab_data, data
from ui.session import current_user
from ui.widgets import csv_download, database_guard

user = current_user()
st.title("A/B tests")
st.caption("Unit of analysis: the member. Days are **UTC** days and times are UTC. The default "
           "sequential statistics stay valid however often you look.")

VERDICT_STYLE = {"success": (st.success, ":material/emoji_events:"), "error": (st.error, ":material/report:"),
                 "warning": (st.warning, ":material/trending_down:"), "info": (st.info, ":material/hourglass_top:"),
                 "neutral": (st.info, ":material/balance:")}
STATUS_BADGE = {"draft": ":gray[draft]", "running": ":green[running]", "paused": ":orange[paused]",
                "stopped": ":red[stopped]", "completed": ":blue[completed]"}
COLORS = px.colors.qualitative.Safe


def percent(value, signed: bool = False) -> str:
    if value is None or not np.isfinite(value):
        return "–"
    return f"{value:+.1%}" if signed else f"{value:.1%}"


def lift_text(row, difference: str, metric: str) -> str:
    if pd.isna(row.get("estimate")):
        return "–"
    if difference == "relative":
        return f"{percent(row['estimate'], True)} [{percent(row['ci_low'], True)}, {percent(row['ci_high'], True)}]"
    unit = OUTCOMES[metric].unit
    scale, suffix = (100, " pp") if unit == "%" else (1, " USD" if unit == "USD" else "")
    return (f"{row['estimate'] * scale:+.2f} [{row['ci_low'] * scale:+.2f}, {row['ci_high'] * scale:+.2f}]{suffix}")


def p_short(value) -> str:
    return "–" if value is None or pd.isna(value) else f"{value:.2g}"


def p_text(value) -> str:
    if value is None or pd.isna(value):
        return "–"
    return "< 0.0001" if value < 1e-4 else f"{value:.4f}"


# ----------------------------------------------------------------------------- one test


def verdict_box(outcome: tracker.TrackerResults) -> None:
    show, icon = VERDICT_STYLE[outcome.verdict_kind]
    show(f"**Verdict: {outcome.verdict}**", icon=icon)


def summary_cards(outcome: tracker.TrackerResults) -> None:
    c1, c2, c3, c4 = st.columns(4)
    needed = outcome.needed_per_arm
    reached = outcome.smallest_arm
    c1.metric("Members in the smallest arm", f"{reached:,}", border=True,
              delta=f"of {needed:,} needed" if needed else "no plan", delta_color="off", delta_arrow="off",
              help="Sample size reached against the sample needed per arm for the test's minimum detectable effect "
                   "(80 % power, fixed-horizon plan).")
    if needed:
        c1.progress(min(reached / needed, 1.0), text=f"{min(reached / needed, 1.0):.0%} of the needed sample")
    winner, probability = outcome.predicted_winner
    c2.metric("Predicted winner", winner or "–", border=True,
              delta=f"{probability:.1%} chance to be best" if probability is not None else None, delta_color="off",
              delta_arrow="off",
              help="Probability that each arm has the best true value of the primary metric (Bayesian, flat prior).")
    srm_ok = not outcome.srm_detected
    c3.metric("Sample ratio", "as designed" if srm_ok else "MISMATCH", border=True,
              delta=f"p {p_short(outcome.srm_p_value)} split · {p_short(outcome.exposure_p_value)} reach",
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
    c4.metric("Days running", f"{days:.1f}", border=True,
              delta=left_text if active and needed and reached < needed else None,
              delta_color="off", delta_arrow="off",
              help=f"New members per day in the smallest arm over the last {tracker.GROWTH_LOOKBACK_DAYS} days: "
                   f"{outcome.members_per_day_smallest_arm or 0:,.1f}.")


def variant_table(outcome: tracker.TrackerResults) -> pd.DataFrame:
    table = tracker.metrics_table(outcome)
    primary = table[table.metric == outcome.primary]
    bayesian = outcome.method == "bayesian"
    shown = pd.DataFrame({
        "Variant": primary.variant + np.where(primary.is_control, " (control)", ""),
        "Members": primary.n.astype(int),
        OUTCOMES[outcome.primary].label: [format_outcome(outcome.primary, v) for v in primary["mean"]],
        f"Lift, {outcome.difference} ({1 - float(outcome.test.alpha):.0%} interval)":
            [lift_text(r, outcome.difference, outcome.primary) for _, r in primary.iterrows()],
    })
    if bayesian:
        shown["Chance to beat control"] = [percent(v) if not c else "–" for v, c in
                                           zip(primary.get("chance_to_win", np.nan), primary.is_control)]
    else:
        column = "adjusted_p_value" if "adjusted_p_value" in primary else "p_value"
        shown["p-value (Holm)" if column == "adjusted_p_value" else "p-value"] = [p_text(v) for v in primary[column]]
    return shown


def forest_plot(outcome: tracker.TrackerResults) -> go.Figure:
    """Every treatment's lift and interval per metric, the primary metric on top."""
    rows = outcome.analysis.dropna(subset=["estimate"]).copy()
    metrics = [outcome.primary] + [m for m in rows.metric.unique() if m != outcome.primary]
    position = {m: len(metrics) - 1 - i for i, m in enumerate(metrics)}
    treatments = list(dict.fromkeys(rows.variant))
    spread = 0.5 / max(len(treatments), 1)
    relative = outcome.difference == "relative"
    scale = 100 if relative else 1
    figure = go.Figure()
    for index, variant in enumerate(treatments):
        group = rows[rows.variant == variant]
        offset = (index - (len(treatments) - 1) / 2) * spread
        figure.add_trace(go.Scatter(
            x=group.estimate * scale, y=group.metric.map(position) - offset, mode="markers", name=str(variant),
            marker=dict(size=10, color=COLORS[index % len(COLORS)]), customdata=group.metric.map(lambda m: OUTCOMES[m].label),
            error_x=dict(type="data", symmetric=False, array=(group.ci_high - group.estimate) * scale,
                         arrayminus=(group.estimate - group.ci_low) * scale),
            hovertemplate="%{customdata}: %{x:.2f}" + ("%" if relative else "") + "<extra>" + str(variant) + "</extra>"))
    figure.add_vline(x=0, line_dash="dot", line_color="grey")
    labels = [OUTCOMES[m].label + (" ★" if m == outcome.primary else "") for m in metrics]
    figure.update_yaxes(tickvals=[position[m] for m in metrics], ticktext=labels, range=[-0.6, len(metrics) - 0.4])
    unit = "relative lift (%)" if relative else "absolute difference (metric units; rates as fractions)"
    figure.update_layout(height=110 + 50 * len(metrics), margin=dict(l=0, r=0, t=10, b=0),
                         xaxis_title=unit, legend=dict(orientation="h", y=-0.3, title_text="treatment"))
    return figure


def sample_chart(outcome: tracker.TrackerResults) -> go.Figure:
    frame = outcome.n_per_arm.rename_axis("variant").reset_index(name="members")
    figure = px.bar(frame, x="members", y="variant", orientation="h", text="members",
                    labels={"members": "Members reached", "variant": ""})
    if outcome.needed_per_arm:
        figure.add_vline(x=outcome.needed_per_arm, line_dash="dash", line_color="#dc2626",
                         annotation_text=f"needed {outcome.needed_per_arm:,}", annotation_position="bottom left")
    figure.update_layout(height=110 + 40 * len(frame), margin=dict(l=0, r=0, t=10, b=0))
    return figure


def over_time_chart(frame: pd.DataFrame, metric: str, method: str, relative: bool) -> go.Figure:
    scale = 100 if relative else 1
    figure = go.Figure()
    for index, (variant, group) in enumerate(frame.groupby("variant", sort=False)):
        color = COLORS[index % len(COLORS)]
        days = pd.to_datetime(group.snapshot_date)
        figure.add_trace(go.Scatter(x=list(days) + list(days[::-1]),
                                    y=list(group.ci_high * scale) + list(group.ci_low[::-1] * scale),
                                    fill="toself", fillcolor=color, opacity=0.2, line=dict(width=0),
                                    name=f"{variant} interval", hoverinfo="skip", showlegend=False))
        figure.add_trace(go.Scatter(x=days, y=group.estimate * scale, mode="lines+markers", name=variant,
                                    line=dict(color=color), customdata=group.members,
                                    hovertemplate="%{x|%Y-%m-%d}: %{y:.2f} · %{customdata:,} members<extra></extra>"))
    figure.add_hline(y=0, line_dash="dot", line_color="grey")
    figure.update_layout(height=320, margin=dict(l=0, r=0, t=10, b=0), legend=dict(orientation="h", y=-0.25),
                         xaxis_title="Day (UTC)",
                         yaxis_title="Relative lift (%)" if relative else "Absolute difference")
    return figure


def controls(test: pd.Series, names: list[str], prefix: str) -> None:
    """Pause, resume, stop, declare a winner — managers only, confirmed, audited."""
    actions = tests_repo.available_actions(str(test.status))
    if not actions:
        st.caption(f"The test is {test.status}; nothing left to control.")
        return
    with st.container(border=True):
        st.markdown("**Control this test** · recorded in the audit log with your name and the time")
        labels = {t.action: t.label for t in actions}
        action = st.radio("Action", list(labels), format_func=labels.get, horizontal=True, key=f"{prefix}_action")
        winner = None
        if action == "declare_winner":
            winner = st.selectbox("Winner", names, key=f"{prefix}_winner")
        note = st.text_input("Note (optional)", key=f"{prefix}_note", placeholder="Why, in a few words")
        confirm = st.checkbox(f"I confirm: {labels[action].lower()} “{test['name']}”"
                              + (f" with {winner} as the winner" if winner else ""), key=f"{prefix}_confirm")
        if st.button(labels[action], type="primary", disabled=not confirm, key=f"{prefix}_apply"):
            try:
                tests_repo.control(data.engine(), user, int(test.test_id), action, winner=winner, note=note)
            except (PermissionDenied, ValueError, LookupError) as error:
                st.error(str(error), icon=":material/block:")
            else:
                ab_data.clear()
                st.session_state.pop(f"{prefix}_confirm", None)
                st.session_state["ab_flash"] = f"{labels[action]}: done for “{test['name']}”."
                st.rerun()


def test_detail(test_id: int, prefix: str) -> None:
    tests = ab_data.tests()
    test = tests[tests.test_id == test_id].iloc[0]
    st.subheader(test["name"])
    started = f"{pd.Timestamp(test.started_at):%Y-%m-%d %H:%M} UTC" if pd.notna(test.started_at) else "not started"
    ended = f" · ended {pd.Timestamp(test.ended_at):%Y-%m-%d %H:%M} UTC" if pd.notna(test.ended_at) else ""
    st.markdown(f"{STATUS_BADGE.get(test.status, test.status)} · campaign **{test.campaign}** · primary metric "
                f"**{OUTCOMES[test.primary_metric].label}** · MDE {test.minimum_detectable_effect:.0%} relative · "
                f"α = {test.alpha:g} · started {started}{ended}")
    if test.hypothesis:
        st.caption(f"Hypothesis: {test.hypothesis}")
    if pd.notna(test.decision) and test.decision:
        st.caption(f"Decision: {test.decision}" + (f" (winner: **{test.winner}**)" if pd.notna(test.winner) else ""))

    c1, c2, c3 = st.columns([3, 1, 2])
    method = c1.segmented_control("Method", list(tracker.METHODS), format_func=tracker.METHODS.get,
                                  default=tracker.DEFAULT_METHOD, required=True, key=f"{prefix}_method",
                                  help="Sequential (default): always-valid intervals, safe to look at every day. "
                                       "Frequentist: fixed-horizon test, valid once the planned sample is reached. "
                                       "Bayesian: chance to beat control and expected loss.")
    cuped = c2.toggle("CUPED", value=True, key=f"{prefix}_cuped",
                      help="Variance reduction with the same metric in the member's other campaigns in the 28 days "
                           "before the test started.")
    difference = c3.radio("Lift", ["relative", "absolute"], horizontal=True, key=f"{prefix}_difference")
    outcome = ab_data.results(int(test_id), method, cuped, difference)

    verdict_box(outcome)
    summary_cards(outcome)
    left = outcome.expected_days_left
    if str(test.status) == "running" and left is not None and not np.isfinite(left):
        st.caption(f"The campaign reached no new member of the smallest arm in the last {tracker.GROWTH_LOOKBACK_DAYS} "
                   "days, so the planned sample will not be reached at this traffic. The sequential verdict may "
                   "still decide earlier if the effect is larger than planned; otherwise widen the audience or "
                   "accept a larger minimum detectable effect.")
    if outcome.problem:
        st.info(outcome.problem, icon=":material/hourglass_empty:")
        return

    st.markdown(f"**{OUTCOMES[outcome.primary].label}** (primary) per variant")
    st.dataframe(variant_table(outcome), hide_index=True, width="stretch")
    if len(outcome.variants) > 2 and method != "bayesian":
        st.caption("p-values are Holm-adjusted across the treatments; the interval is not.")
    left, right = st.columns([3, 2])
    left.markdown(f"**Lift per metric, treatment vs control** · {tracker.METHODS[method]}")
    left.plotly_chart(forest_plot(outcome), width="stretch", key=f"{prefix}_forest")
    right.markdown("**Sample size reached against needed** (members per arm)")
    right.plotly_chart(sample_chart(outcome), width="stretch", key=f"{prefix}_sample")
    right.caption("★ primary metric (decides). Other metrics are for exploration; guardrails only "
                  "check that nothing got worse.")
    if len(outcome.guardrails):
        guards = outcome.guardrails.assign(metric=outcome.guardrails.metric.map(lambda m: OUTCOMES[m].label))
        st.markdown("**Guardrails** (one-sided: must not get worse)")
        st.dataframe(guards[["metric", "variant", "estimate", "harm_bound", "guardrail_status"]].rename(columns={
            "estimate": "difference", "harm_bound": "worst case still compatible", "guardrail_status": "status"}),
            hide_index=True, width="stretch")

    metrics = [outcome.primary] + [m for m in outcome.analysis.metric.unique() if m != outcome.primary]
    metric = st.selectbox("Metric over time", metrics, format_func=lambda m: OUTCOMES[m].label, key=f"{prefix}_metric")
    series = ab_data.over_time(int(test_id), metric, method, cuped, difference)
    if series.empty:
        st.info("No daily snapshot of this metric yet: totals such as revenue are stored once a day by the "
                "worker's ab_snapshots job.", icon=":material/timeline:")
    else:
        interval = {"sequential": "always-valid interval", "frequentist": "confidence interval",
                    "bayesian": "credible interval"}[method]
        st.markdown(f"**{OUTCOMES[metric].label}: estimate and its {interval}** at the end of each UTC day")
        st.plotly_chart(over_time_chart(series, metric, method, difference == "relative"), width="stretch",
                        key=f"{prefix}_over_time")

    export = tracker.export_frame(outcome)
    if can(user, "export"):
        csv_download(export, "Download test metrics (CSV)", f"ab_test_{test_id}_{method}_{difference}",
                     f"{prefix}_download")
    if can(user, "control_test"):
        controls(test, outcome.variants.variant.tolist(), prefix)
    with st.expander("Audit trail of this test"):
        trail = ab_data.audit_trail(int(test_id))
        st.dataframe(trail, hide_index=True, width="stretch", column_config={
            "at": st.column_config.DatetimeColumn("When (UTC)", format="YYYY-MM-DD HH:mm:ss")})


# ----------------------------------------------------------------------------- lists


def overview(frame: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for test in frame.itertuples():
        outcome = ab_data.results(int(test.test_id), tracker.DEFAULT_METHOD, True, "relative")
        winner, probability = outcome.predicted_winner
        rows.append({"Test": test.name, "Verdict": outcome.verdict, "Status": test.status,
                     "Members": int(outcome.n_per_arm.sum()),
                     "Predicted winner": f"{winner} ({probability:.0%})" if winner else "–",
                     "Primary metric": OUTCOMES[test.primary_metric].label, "Campaign": test.campaign})
    return pd.DataFrame(rows)


def alerts_section() -> None:
    alerts = ab_data.open_alerts()
    if alerts.empty:
        return
    with st.expander(f":red[**{len(alerts)} open alert{'s' if len(alerts) != 1 else ''}**] — sample-ratio "
                     "mismatch, guardrails, decisions", expanded=True):
        for alert in alerts.itertuples():
            left, right = st.columns([5, 1])
            left.markdown(f"**{alert.kind_label}** · {alert.message} · raised {pd.Timestamp(alert.raised_at):%Y-%m-%d %H:%M} UTC")
            if can(user, "control_test") and right.button("Acknowledge", key=f"ack_{alert.alert_id}"):
                snapshots.acknowledge_alert(data.engine(), user, int(alert.alert_id))
                ab_data.clear()
                st.rerun()


def pick_test(frame: pd.DataFrame, key: str) -> int:
    names = dict(zip(frame.test_id, frame.name))
    return int(st.selectbox("Test", frame.test_id.tolist(), format_func=lambda i: f"{names[i]} (#{i})", key=key))


def active_tab(tests: pd.DataFrame) -> None:
    active = tests[tests.status.isin(tests_repo.ACTIVE_STATUSES)]
    if active.empty:
        st.info("No active test. Managers can create one in “Create a test”.")
        return
    st.dataframe(overview(active), hide_index=True, width="stretch",
                 column_config={"Members": st.column_config.NumberColumn("Members", format="%d")})
    test_detail(pick_test(active, "ab_active_test"), "active")


def history_tab(tests: pd.DataFrame) -> None:
    ended = tests[tests.status.isin(tests_repo.ENDED_STATUSES)]
    if ended.empty:
        st.info("No test has ended yet.")
        return
    shown = ended.assign(primary_metric=ended.primary_metric.map(lambda m: OUTCOMES[m].label))
    st.dataframe(shown[["name", "campaign", "status", "decision", "winner", "primary_metric", "started_at", "ended_at"]],
                 hide_index=True, width="stretch", column_config={
                     "started_at": st.column_config.DatetimeColumn("Started (UTC)", format="YYYY-MM-DD HH:mm"),
                     "ended_at": st.column_config.DatetimeColumn("Ended (UTC)", format="YYYY-MM-DD HH:mm")})
    test_detail(pick_test(ended, "ab_history_test"), "history")


# ----------------------------------------------------------------------------- create


def create_tab(tests: pd.DataFrame) -> None:
    if not can(user, "create_test"):
        st.info("Only marketing managers and admins create tests.", icon=":material/lock:")
        return
    campaigns = data.campaigns()
    if campaigns.empty:
        st.info("There is no campaign yet; a test runs on a campaign's members.")
        return
    busy = set(tests.loc[tests.status.isin(tests_repo.ACTIVE_STATUSES), "campaign_id"])
    free = campaigns[~campaigns.campaign_id.isin(busy) & campaigns.status.isin(["live", "scheduled", "draft", "paused"])]
    if free.empty:
        st.info("Every live or scheduled campaign already has an active test.")
        return
    names = dict(zip(free.campaign_id, free.name))
    campaign_id = st.selectbox("Campaign", free.campaign_id.tolist(), format_func=names.get, key="new_campaign")
    c1, c2 = st.columns(2)
    name = c1.text_input("Test name", key="new_name", placeholder="e.g. Urgent subject line")
    primary = c2.selectbox("Primary metric", list(OUTCOMES), format_func=lambda m: OUTCOMES[m].label, key="new_primary")
    hypothesis = st.text_area("Hypothesis", key="new_hypothesis", height=68,
                              placeholder="What change, which effect, and why")
    guardrails = st.multiselect("Guardrail metrics (must not get worse)", [m for m in OUTCOMES if m != primary],
                                format_func=lambda m: OUTCOMES[m].label, key="new_guardrails")
    st.markdown("**Variants and weights** — the first row is the control")
    variants = st.data_editor(pd.DataFrame({"variant": ["control", "treatment"], "weight": [50.0, 50.0]}),
                              num_rows="dynamic", hide_index=True, key="new_variants", width="stretch")
    variants = variants.dropna()
    weights = dict(zip(variants.variant.astype(str), variants.weight.astype(float)))

    baseline = ab_data.campaign_baseline(int(campaign_id)).set_index("metric")
    spec = OUTCOMES[primary]
    known = primary in baseline.index and baseline.loc[primary, "n"] >= 100
    c1, c2, c3, c4 = st.columns(4)
    mde = c1.number_input("MDE (relative, %)", 0.5, 200.0, 5.0, 0.5, key="new_mde",
                          help="Minimum detectable effect: the smallest relative change worth detecting.") / 100
    alpha = c2.selectbox("α (false-positive rate)", [0.05, 0.01, 0.1], key="new_alpha")
    default_baseline = float(baseline.loc[primary, "mean"]) if known else (0.10 if spec.kind == "binomial" else 1.0)
    label = "Baseline rate (%)" if spec.kind == "binomial" else f"Baseline mean per member ({spec.unit})"
    shown_default = default_baseline * (100 if spec.kind == "binomial" else 1)
    base_value = c3.number_input(label, value=round(shown_default, 3), key=f"new_baseline_{primary}_{campaign_id}",
                                 help="Observed on this campaign's members so far" if known else "No history on this campaign; enter an estimate")
    base_value = base_value / 100 if spec.kind == "binomial" else base_value
    daily_default = float(baseline.new_members_per_day.max()) if len(baseline) else 0.0
    per_day = c4.number_input("New members per day", min_value=0.0, value=round(daily_default, 1),
                              key=f"new_daily_{campaign_id}", help="The campaign's new members per day over the last 14 days")
    sd = float(np.sqrt(baseline.loc[primary, "variance"])) if known and spec.kind == "mean" else None
    if spec.kind == "mean" and not sd:
        sd = st.number_input(f"Standard deviation per member ({spec.unit})", min_value=0.0001, value=max(base_value, 1.0),
                             key="new_sd")
    plan = None
    try:
        plan = tests_repo.plan(primary, base_value, mde, weights, alpha=alpha, sd=sd, members_per_day=per_day)
    except ValueError as error:
        st.warning(str(error))
    if plan and plan.problem:
        st.warning(f"No plan: {plan.problem}")
    elif plan:
        p1, p2, p3 = st.columns(3)
        p1.metric("Members needed per arm", f"{plan.needed_per_arm:,}", border=True,
                  help="80 % power to detect the MDE, two-sided; Bonferroni across treatments for 3+ variants.")
        p2.metric("Members needed in total", f"{plan.needed_total:,}", border=True)
        days = plan.expected_days
        duration = ("–" if days is None else "never at 0 members/day" if not np.isfinite(days)
                    else f"{days / 365:,.1f} years" if days > 730 else f"{days:,.0f} days")
        p3.metric("Expected duration", duration, border=True, help="At the new members per day above.")
        if days is not None and days > 90:
            st.warning("This test would take very long. Choose a larger MDE, a metric with a higher baseline, or a "
                       "campaign that reaches more members.", icon=":material/schedule:")
    start = st.checkbox("Start now (otherwise save as a draft)", value=True, key="new_start")
    if st.button("Create test", type="primary", key="new_create"):
        try:
            test_id = tests_repo.create_test(
                data.engine(), user, campaign_id=int(campaign_id), name=name, primary_metric=primary,
                variants=weights, control=str(variants.variant.iloc[0]) if len(variants) else "", hypothesis=hypothesis,
                guardrail_metrics=guardrails, minimum_detectable_effect=mde, alpha=alpha,
                planned_per_arm=plan.needed_per_arm if plan and not plan.problem else None, start=start)
        except (PermissionDenied, ValueError) as error:
            st.error(str(error), icon=":material/block:")
        else:
            ab_data.clear()
            st.session_state["ab_flash"] = f"Test #{test_id} “{name}” created."
            st.rerun()


# ----------------------------------------------------------------------------- calculator


EXAMPLE = "variant,n,sum\ncontrol,10000,1200\ntreatment,10000,1290"


def calculator_tab() -> None:
    st.markdown("Paste counts and sums per variant (first line the control) and get the tracker's analysis. "
                "Columns: `variant, n, sum` and optionally `sum_squares` (needed for means) and `weight` "
                "(the designed split, for the sample-ratio check).")
    text = st.text_area("Summary statistics (CSV or pasted from a spreadsheet)", EXAMPLE, height=120, key="calc_text")
    c1, c2, c3, c4, c5 = st.columns(5)
    metric = c1.radio("Metric", ["binomial", "mean"], key="calc_metric",
                      format_func={"binomial": "Rate (0/1 per unit)", "mean": "Mean per unit"}.get)
    method = c2.selectbox("Method", list(tracker.METHODS), format_func=tracker.METHODS.get, key="calc_method")
    difference = c3.radio("Lift", ["relative", "absolute"], key="calc_difference")
    alpha = c4.selectbox("α", [0.05, 0.01, 0.1], key="calc_alpha")
    planned = c5.number_input("Planned members per arm", min_value=0, value=0, step=1000, key="calc_planned",
                              help="0 = no plan; with a plan the verdict says how many more members are needed.")
    try:
        frame = calculator.parse_pasted(text)
        answer = calculator.calculate(frame, metric=metric, method=method, difference=difference, alpha=alpha,
                                   needed_per_arm=int(planned) or None)
    except ValueError as error:
        st.error(str(error), icon=":material/error:")
        return
    show, icon = VERDICT_STYLE[tracker.verdict_kind(answer.verdict)]
    show(f"**Verdict: {answer.verdict}**", icon=icon)
    columns = [c for c in ["variant", "n_control", "n_treatment", "control_mean", "treatment_mean", "estimate", "ci_low",
                           "ci_high", "p_value", "adjusted_p_value", "chance_to_win", "risk_treatment", "reason"]
               if c in answer.analysis]
    number = st.column_config.NumberColumn
    lift = "percent" if difference == "relative" else "%.4f"
    st.dataframe(answer.analysis[columns], hide_index=True, width="stretch", key="calc_result", column_config={
        "variant": "Treatment", "n_control": number("Control n", format="%d"),
        "n_treatment": number("Treatment n", format="%d"),
        "control_mean": number("Control mean", format="%.4f"), "treatment_mean": number("Treatment mean", format="%.4f"),
        "estimate": number(f"Lift ({difference})", format=lift), "ci_low": number("Interval low", format=lift),
        "ci_high": number("Interval high", format=lift), "p_value": number("p-value", format="%.4f"),
        "adjusted_p_value": number("p-value (Holm)", format="%.4f"),
        "chance_to_win": number("Chance to win", format="percent"), "risk_treatment": number("Risk of shipping", format="%.4f"),
        "reason": "Why no number"})
    winner = answer.best_probability.idxmax()
    st.caption(f"Sample ratio: p = {p_text(answer.srm_p_value)} ({'mismatch' if answer.srm_detected else 'as designed'}) · "
               f"predicted winner {winner} with {answer.best_probability.max():.1%} chance to be best.")


# ----------------------------------------------------------------------------- page


with database_guard():
    if "ab_flash" in st.session_state:
        st.success(st.session_state.pop("ab_flash"), icon=":material/check_circle:")
    alerts_section()
    all_tests = ab_data.tests()
    active_area, history_area, create_area, calculator_area = st.tabs(
        ["Active tests", "History", "Create a test", "Calculator"])
    with active_area:
        active_tab(all_tests)
    with history_area:
        history_tab(all_tests)
    with create_area:
        create_tab(all_tests)
    with calculator_area:
        calculator_tab()
