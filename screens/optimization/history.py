"""Tab "History": every card ever made, and for applied ones the projected impact against the
impact realised (treated members against their holdout)."""
import pandas as pd
import streamlit as st

from ui import optimize_data as opt
from ui import vega
from ui.format import BLUE, GREY, count, money, percent
from ui.optimize_charts import ROW_LABELS, chart_spec, interval_layers, reference_rule
from ui.widgets import vega_chart

STATUSES = ["proposed", "applied", "dismissed", "expired"]


def projected_against_realised(applied: pd.DataFrame) -> dict:
    """Each applied card's projected impact (grey dot, 90 % interval) and, once measured, its
    realised impact (blue diamond, treated members against the holdout, 90 % interval) a little
    below it on the same row."""
    labels = [f"#{r.recommendation_id} {r.title[:40]}" for r in applied.itertuples()]
    projected = pd.DataFrame({"card": labels, "series": "Projected", "mean": applied.impact_mean.astype(float),
                              "low": applied.impact_low.astype(float), "high": applied.impact_high.astype(float)})
    measured_rows = applied.enough_data.fillna(False).astype(bool).to_numpy()
    realised = pd.DataFrame({"card": labels, "series": "Realised (treated vs holdout)",
                             "mean": pd.to_numeric(applied.realised_mean, errors="coerce"),
                             "low": pd.to_numeric(applied.realised_low, errors="coerce"),
                             "high": pd.to_numeric(applied.realised_high, errors="coerce")})[measured_rows]
    realised = realised.dropna(subset=["mean", "low", "high"])
    series = ["Projected"] + (["Realised (treated vs holdout)"] if not realised.empty else [])
    legend = {"title": None, "columns": 1, "labelLimit": 320}
    colour = {"field": "series", "type": "nominal", "title": "Impact", "legend": legend,
              "scale": {"domain": series, "range": [GREY, BLUE][:len(series)]}}
    shape = {"field": "series", "type": "nominal", "title": "Impact", "legend": legend,
             "scale": {"domain": series, "range": ["circle", "diamond"][:len(series)]}}
    y = {"field": "card", "type": "nominal", "title": None, "sort": labels, "axis": ROW_LABELS}
    x = {"field": "mean", "type": "quantitative", "title": "USD profit per week", "axis": {"format": "$,.0f"}}
    tooltip = [{"field": "card", "title": "Card"}, {"field": "series", "title": "Impact"},
               {"field": "mean", "title": "USD profit per week", "format": "$,.2f"},
               {"field": "low", "title": "90 % low", "format": "$,.2f"},
               {"field": "high", "title": "90 % high", "format": "$,.2f"}]
    layers = [reference_rule("x", 0)]
    offset = -5 if not realised.empty else 0
    layers += interval_layers(vega.records(projected), y, x, "low", "high", colour, tooltip, shape, offset)
    if not realised.empty:
        layers += interval_layers(vega.records(realised), y, x, "low", "high", colour, tooltip, shape, 5)
    return chart_spec("Applied cards: projected against realised impact (USD profit per week, 90 % intervals)",
                      max(60, 40 * len(applied)), layer=layers)


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
        vega_chart(spec=projected_against_realised(applied), width="stretch", key="opt_history_chart")
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
