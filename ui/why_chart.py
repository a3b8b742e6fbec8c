""""Why did this change", drawn: the decomposition's waterfall (before, each group's
contribution, now) and the words that go with it — one definition, shared by the Overview and
a campaign's detail on Campaign analytics.

Names from data go into Plotly labels HTML-escaped (Plotly renders tags and links in them)."""
from __future__ import annotations

import html

import plotly.graph_objects as go

from core.analytics.decomposition import Decomposition
from core.analytics.metrics import METRICS
from ui import format as fmt

WATERFALL_BARS = 8


def as_points(kpi: str) -> bool:
    return METRICS[kpi].unit in ("%", "ratio")


def contribution_text(kpi: str, value) -> str:
    """A contribution in the KPI's unit of change: points for rates and ROI, else signed."""
    if as_points(kpi):
        return fmt.points(value)
    return fmt.money(value, signed=True) if METRICS[kpi].unit == "USD" else fmt.decimal(value, 0, signed=True)


def chart_label(value, limit: int = 28) -> str:
    """A name from data for a Plotly label: HTML-escaped (Plotly renders tags and links) and short."""
    text = str(value)
    return html.escape(text if len(text) <= limit else text[:limit - 1] + "…")


def waterfall(result: Decomposition, tz: str) -> go.Figure:
    scale = 100 if as_points(result.kpi) else 1          # rates and ROI in percent and points
    shown = result.groups.head(WATERFALL_BARS)
    rest = result.groups.iloc[WATERFALL_BARS:]
    names = [fmt.segment_label(v) if result.by == "segment" else v for v in shown.label]
    labels = [f"{chart_label(n)}{'' if beyond else ' (noise)'}" for n, beyond in zip(names, shown.exceeds_noise)]
    steps = list(shown.contribution)
    hover = [f"{chart_label(n, 80)}<br>{contribution_text(result.kpi, c)}; 95 % interval "
             f"{contribution_text(result.kpi, lo)} to {contribution_text(result.kpi, hi)}"
             for n, c, lo, hi in zip(names, shown.contribution, shown.low, shown.high)]
    if len(rest):
        labels.append(f"{len(rest)} other{'s' if len(rest) > 1 else ''}")
        steps.append(float(rest.contribution.sum()))
        hover.append(f"{len(rest)} other {result.by}s together: {contribution_text(result.kpi, steps[-1])}")
    before_label, after_label = "Before", "Now"
    figure = go.Figure(go.Waterfall(
        orientation="v", measure=["absolute"] + ["relative"] * len(steps) + ["total"],
        x=[before_label] + labels + [after_label],
        y=[result.before * scale] + [s * scale for s in steps] + [0],
        text=[fmt.metric_value(result.kpi, result.before)] + [contribution_text(result.kpi, s) for s in steps]
        + [fmt.metric_value(result.kpi, result.after)],
        hovertext=[f"{METRICS[result.kpi].label} before"] + hover + [f"{METRICS[result.kpi].label} now"],
        hoverinfo="text", textposition="outside",
        increasing=dict(marker=dict(color=fmt.GREEN if METRICS[result.kpi].higher_is_better else fmt.RED)),
        decreasing=dict(marker=dict(color=fmt.RED if METRICS[result.kpi].higher_is_better else fmt.GREEN)),
        totals=dict(marker=dict(color=fmt.BLUE)), connector=dict(line=dict(color=fmt.GREY))))
    unit = {"%": " (%)", "ratio": " (%)", "USD": " (USD)"}.get(METRICS[result.kpi].unit, "")
    fmt.chart_layout(figure, height=420, title=f"{METRICS[result.kpi].label} by {result.by} · {tz}")
    figure.update_layout(showlegend=False, yaxis_title=METRICS[result.kpi].label + unit, xaxis_tickangle=-40)
    return figure


def caption(result: Decomposition) -> str:
    """What the bars are, under the chart (our own Markdown: no data in it)."""
    return (f"Each bar is a {result.by}'s contribution to the change; they add up exactly from before to now. "
            + ("Rates and ROI: a group's rate moving (rate) and its share of the volume moving (mix). "
               if result.kind == "ratio" else "")
            + f"“(noise)” marks a contribution whose 95 % interval includes zero ({result.noise}).")
