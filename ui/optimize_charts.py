"""Recommendations' charts, built once per card and shared by every session (ui.shared:
st.cache_resource keyed on the data caches' epoch): a card's projection never changes once the
card is written, and building its figure took most of a rerun of the screen (issue 15). The
objects returned are shared: treat them as read-only."""
from __future__ import annotations

import json

import plotly.graph_objects as go

from ui import optimize_data as opt
from ui.format import BLUE, GREY, chart_layout, percent
from ui.shared import shared


@shared(512)
def projection_chart(recommendation_id: int) -> tuple[go.Figure | None, str]:
    """The card's 8-week projection and its ROI in words (None, "" for a card no longer open)."""
    cards = opt.recommendations(None, None, None)
    found = cards[cards.recommendation_id == recommendation_id]
    if found.empty:
        return None, ""
    details = found.iloc[0].details
    if isinstance(details, str):
        details = json.loads(details) if details else {}
    return _projection_chart(details if isinstance(details, dict) else {})


def _projection_chart(details: dict) -> tuple[go.Figure | None, str]:
    """The card's 8-week projection (cumulative profit, 90 % bands) and its ROI in words."""
    p = details.get("projection")
    if not p:
        return None, ""
    weeks = p["weeks"]
    figure = go.Figure()
    for key, name, colour, fill in (("current", "As is", GREY, "rgba(148,163,184,0.25)"),
                                     ("with_change", "With the change", BLUE, "rgba(37,99,235,0.18)")):
        figure.add_trace(go.Scatter(x=weeks + weeks[::-1], y=p[f"{key}_profit_high"] + p[f"{key}_profit_low"][::-1],
                                    fill="toself", fillcolor=fill, line=dict(width=0), hoverinfo="skip", mode="lines",
                                    name=f"{name}: 90 % band", showlegend=False))
        figure.add_trace(go.Scatter(x=weeks, y=p[f"{key}_profit"], mode="lines+markers", name=name,
                                    line=dict(color=colour, dash="dot" if key == "current" else "solid")))
    figure.update_xaxes(title="Weeks from now", dtick=1)
    figure.update_yaxes(title="Cumulative profit (USD)", tickprefix="$")
    roi_now, roi_new = p.get("current_roi"), p.get("with_change_roi")
    words = ""
    if roi_now is not None and roi_new is not None:
        words = (f"ROI {percent(roi_now, 0, True)} as is → {percent(roi_new, 0, True)} with the change "
                 f"(90 %: {percent(p['with_change_roi_low'], 0, True)} to {percent(p['with_change_roi_high'], 0, True)}); "
                 "cost changes included.")
    elif roi_now is not None:
        words = f"ROI {percent(roi_now, 0, True)} as is; with the change the campaign spends nothing (ROI undefined)."
    return chart_layout(figure, 280, "ROI projection, next 8 weeks"), words
