"""Tab "History": every card ever made, and for applied ones the projected impact against the
impact realised (treated members against their holdout)."""
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from ui import optimize_data as opt
from ui.format import BLUE, GREY, chart_layout, count, money, percent

STATUSES = ["proposed", "applied", "dismissed", "expired"]


def projected_against_realised(applied: pd.DataFrame) -> go.Figure:
    labels = [f"#{r.recommendation_id} {r.title[:40]}" for r in applied.itertuples()]
    figure = go.Figure()
    figure.add_trace(go.Scatter(x=applied.impact_mean, y=labels, mode="markers", name="Projected",
                                marker=dict(color=GREY, size=10),
                                error_x=dict(type="data", symmetric=False, array=applied.impact_high - applied.impact_mean,
                                             arrayminus=applied.impact_mean - applied.impact_low)))
    measured_rows = applied.enough_data.fillna(False).astype(bool)
    measured = applied[measured_rows]
    if not measured.empty:
        figure.add_trace(go.Scatter(x=measured.realised_mean, y=[label for label, ok in zip(labels, measured_rows) if ok],
                                    mode="markers", name="Realised (treated vs holdout)",
                                    marker=dict(color=BLUE, size=10, symbol="diamond"),
                                    error_x=dict(type="data", symmetric=False,
                                                 array=measured.realised_high - measured.realised_mean,
                                                 arrayminus=measured.realised_mean - measured.realised_low)))
    figure.add_vline(x=0, line_dash="dot", line_color=GREY)
    figure.update_xaxes(title="USD profit per week", tickprefix="$")
    return chart_layout(figure, 100 + 40 * len(applied))


def calibration_text(applied: pd.DataFrame) -> str:
    """Over every applied card whose realised impact is measured: the share whose realised impact
    falls inside its projected 90 % interval (about 90 % if the projections are honest)."""
    measured = applied[applied.enough_data.fillna(False).astype(bool) & applied.realised_mean.notna()]
    if measured.empty:
        return "Calibration: no applied card has a measured realised impact yet."
    inside = ((measured.realised_mean >= measured.impact_low) & (measured.realised_mean <= measured.impact_high))
    right_sign = (measured.realised_mean > 0) == (measured.impact_mean > 0)
    return (f"Calibration over {count(len(measured))} measured card(s): {percent(inside.mean(), 0)} realised inside "
            f"their projected 90 % interval (honest projections: about 90 %); {percent(right_sign.mean(), 0)} with "
            "the projected sign.")


def realised_text(row) -> str:
    if bool(row.enough_data) and pd.notna(row.realised_mean):
        return f"{money(row.realised_mean)} ({money(row.realised_low)} to {money(row.realised_high)})"
    return "collecting data" if row.status == "applied" and row.holdout_share else ""


def history_section(tz: str) -> None:
    frame = opt.history(None)
    if frame.empty:
        st.info("No recommendation has been made yet.")
        return
    counts = frame.status.value_counts()
    for col, status in zip(st.columns(len(STATUSES)), STATUSES):
        col.metric(status.capitalize(), count(counts.get(status, 0)), border=True)
    applied = frame[frame.status == "applied"]
    if not applied.empty:
        st.markdown("**Applied: projected against realised impact** (USD profit per week, 90 % intervals)")
        st.plotly_chart(projected_against_realised(applied), width="stretch")
        st.caption(calibration_text(applied))
        waiting = applied[~applied.enough_data.fillna(False).astype(bool)]
        if not waiting.empty:
            st.caption(f"{len(waiting)} applied card(s) are still collecting data: realised impact is shown once the "
                       "holdout has at least 30 members and 7 days of events.")
    shown = frame.assign(realised=frame.apply(realised_text, axis=1))
    st.dataframe(shown[["recommendation_id", "status", "campaign", "kind", "title", "impact_mean", "impact_low",
                        "impact_high", "confidence", "created_at", "decided_at", "decided_by", "realised"]],
                 hide_index=True, width="stretch", height=360, column_config={
                     "recommendation_id": "Card", "status": "Status", "campaign": "Campaign", "kind": "Type",
                     "title": "What", "impact_mean": st.column_config.NumberColumn("Projected / week (USD)", format="$%.0f"),
                     "impact_low": st.column_config.NumberColumn("low", format="$%.0f"),
                     "impact_high": st.column_config.NumberColumn("high", format="$%.0f"),
                     "confidence": st.column_config.NumberColumn("Confidence", format="%.2f"),
                     "created_at": st.column_config.DatetimeColumn(f"Proposed ({tz})", format="YYYY-MM-DD HH:mm",
                                                                   timezone=tz),
                     "decided_at": st.column_config.DatetimeColumn(f"Decided ({tz})", format="YYYY-MM-DD HH:mm",
                                                                   timezone=tz),
                     "decided_by": "By", "realised": "Realised / week (90 %)"})
