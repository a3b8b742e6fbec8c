"""The A/B tracker's tables and charts of one test's view, built once per view and data and shared
by every session (ui.shared: st.cache_resource keyed on the data caches' epoch and on the time
of the stored analysis they show): building the Plotly figures took most of a rerun of the
screen (issue 15). The objects returned are shared: treat them as read-only.

Variant names from data go into Plotly labels HTML-escaped (Plotly renders tags and links)."""
from __future__ import annotations

import html

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from core.experiments import results as tracker
from core.experiments.outcomes import OUTCOMES
from ui import ab_data
from ui.format import GREY, MISSING, RED, count, decimal, outcome_value, p_value, percent, points, probability
from ui.shared import shared

COLORS = px.colors.qualitative.Safe
INTERVALS = {"sequential": "always-valid interval", "frequentist": "confidence interval",
             "bayesian": "credible interval"}
VIEWS = 256  # (test, method, CUPED, lift) views kept


def as_of_key(outcome: tracker.TrackerResults) -> str:
    """The time of the data a view shows (the snapshot job's run, else "live"): part of the key,
    so a figure is never older than the results it is drawn beside."""
    return "live" if outcome.as_of is None else str(outcome.as_of)


@shared(VIEWS)
def variant_table(test_id: int, method: str, cuped: bool, difference: str, as_of: str) -> pd.DataFrame:
    return _variant_table(ab_data.results(test_id, method, cuped, difference))


@shared(VIEWS)
def forest_plot(test_id: int, method: str, cuped: bool, difference: str, as_of: str) -> go.Figure:
    return _forest_plot(ab_data.results(test_id, method, cuped, difference))


@shared(VIEWS)
def sample_chart(test_id: int, method: str, cuped: bool, difference: str, as_of: str) -> go.Figure:
    return _sample_chart(ab_data.results(test_id, method, cuped, difference))


@shared(VIEWS)
def export_frame(test_id: int, method: str, cuped: bool, difference: str, as_of: str) -> pd.DataFrame:
    return tracker.export_frame(ab_data.results(test_id, method, cuped, difference))


@shared(VIEWS)
def over_time_chart(test_id: int, metric: str, method: str, cuped: bool, difference: str) -> go.Figure:
    return _over_time_chart(ab_data.over_time(test_id, metric, method, cuped, difference), difference == "relative")


def lift_text(row, difference: str, metric: str) -> str:
    if pd.isna(row.get("estimate")):
        return MISSING
    low, estimate, high = row["ci_low"], row["estimate"], row["ci_high"]
    if difference == "relative":
        return f"{percent(estimate, signed=True)} [{percent(low, signed=True)}, {percent(high, signed=True)}]"
    unit = OUTCOMES[metric].unit
    if unit == "%":
        return f"{points(estimate, 2)} [{points(low, 2)}, {points(high, 2)}]"
    suffix = " USD" if unit == "USD" else ""
    return f"{decimal(estimate, 2, True)} [{decimal(low, 2, True)}, {decimal(high, 2, True)}]{suffix}"


def _variant_table(outcome: tracker.TrackerResults) -> pd.DataFrame:
    table = tracker.metrics_table(outcome)
    primary = table[table.metric == outcome.primary]
    shown = pd.DataFrame({
        "Variant": primary.variant + np.where(primary.is_control, " (control)", ""),
        "Members": primary.n.astype(int),
        OUTCOMES[outcome.primary].label: [outcome_value(outcome.primary, v) for v in primary["mean"]],
        f"Lift, {outcome.difference} ({1 - float(outcome.test.alpha):.0%} interval)":
            [lift_text(r, outcome.difference, outcome.primary) for _, r in primary.iterrows()],
    })
    if outcome.method == "bayesian":
        shown["Chance to beat control"] = [probability(v) if not c else MISSING for v, c in
                                           zip(primary.get("chance_to_win", np.nan), primary.is_control)]
    else:
        column = "adjusted_p_value" if "adjusted_p_value" in primary else "p_value"
        shown["p-value (Holm)" if column == "adjusted_p_value" else "p-value"] = [p_value(v) for v in primary[column]]
    return shown


def _forest_plot(outcome: tracker.TrackerResults) -> go.Figure:
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
            x=group.estimate * scale, y=group.metric.map(position) - offset, mode="markers", name=html.escape(str(variant)),
            marker=dict(size=10, color=COLORS[index % len(COLORS)]), customdata=group.metric.map(lambda m: OUTCOMES[m].label),
            error_x=dict(type="data", symmetric=False, array=(group.ci_high - group.estimate) * scale,
                         arrayminus=(group.estimate - group.ci_low) * scale),
            hovertemplate="%{customdata}: %{x:.2f}" + ("%" if relative else "") + "<extra>" + html.escape(str(variant)) + "</extra>"))
    figure.add_vline(x=0, line_dash="dot", line_color="grey")
    labels = [OUTCOMES[m].label + (" ★" if m == outcome.primary else "") for m in metrics]
    figure.update_yaxes(tickvals=[position[m] for m in metrics], ticktext=labels, range=[-0.6, len(metrics) - 0.4])
    unit = "relative lift (%)" if relative else "absolute difference (metric units; rates as fractions)"
    figure.update_layout(height=110 + 50 * len(metrics), margin=dict(l=0, r=0, t=10, b=0),
                         xaxis_title=unit, legend=dict(orientation="h", y=-0.3, title_text="treatment"))
    return figure


def _sample_chart(outcome: tracker.TrackerResults) -> go.Figure:
    frame = outcome.n_per_arm.rename_axis("variant").reset_index(name="members")
    figure = go.Figure(go.Bar(x=frame.members, y=frame.variant.astype(str).map(html.escape), orientation="h",
                              text=frame.members, hovertemplate="%{y}: %{x:,} members<extra></extra>"))
    if outcome.needed_per_arm:
        figure.add_vline(x=outcome.needed_per_arm, line_dash="dash", line_color=RED,
                         annotation_text=f"needed {count(outcome.needed_per_arm)}", annotation_position="bottom left")
    # the axis reaches past the larger of the bars and the needed line: autorange ignores the line,
    # which then sat on the chart's edge with its label cut off whenever no arm had reached it
    top = max(float(frame.members.max()) if len(frame) else 0.0, float(outcome.needed_per_arm or 0))
    figure.update_xaxes(range=[0, (top or 1) * 1.08])
    figure.update_layout(height=110 + 40 * len(frame), margin=dict(l=0, r=0, t=10, b=0), xaxis_title="Members reached")
    return figure


def _over_time_chart(frame: pd.DataFrame, relative: bool) -> go.Figure:
    scale = 100 if relative else 1
    figure = go.Figure()
    for index, (variant, group) in enumerate(frame.groupby("variant", sort=False)):
        color = COLORS[index % len(COLORS)]
        days = pd.to_datetime(group.snapshot_date)
        figure.add_trace(go.Scatter(x=list(days) + list(days[::-1]),
                                    y=list(group.ci_high * scale) + list(group.ci_low[::-1] * scale),
                                    fill="toself", fillcolor=color, opacity=0.2, line=dict(width=0),
                                    name=f"{html.escape(str(variant))} interval", hoverinfo="skip", showlegend=False))
        figure.add_trace(go.Scatter(x=days, y=group.estimate * scale, mode="lines+markers", name=html.escape(str(variant)),
                                    line=dict(color=color), customdata=group.members,
                                    hovertemplate="%{x|%Y-%m-%d}: %{y:.2f} · %{customdata:,} members<extra></extra>"))
    figure.add_hline(y=0, line_dash="dot", line_color=GREY)
    figure.update_layout(height=320, margin=dict(l=0, r=0, t=10, b=0), legend=dict(orientation="h", y=-0.25),
                         xaxis_title="Day (UTC)",
                         yaxis_title="Relative lift (%)" if relative else "Absolute difference")
    return figure
