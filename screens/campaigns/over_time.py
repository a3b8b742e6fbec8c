"""Campaign analytics, the time series of the detail tab: one metric per hour, day or week in the
viewer's zone, holidays and people's notes drawn as dashed vertical markers (hover for the text,
HTML-escaped), and the form that adds a note (analysts, managers, admins)."""
from __future__ import annotations

import html
from datetime import timedelta

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.access.auth import User, can
from core.analytics import campaigns as analytics
from core.analytics.annotations import MAX_NOTE_CHARS, NoteRefused, add_note
from core.analytics.metrics import METRICS
from core.analytics.periods import GRAINS, Period
from ui import data
from ui.export_tables import export_table, file_stem
from ui.format import BLUE, GREY, RED, escape_markdown, percent
from ui.widgets import csv_download

CHART_METRICS = ["conversions", "revenue", "sends", "open_rate", "ctr", "conversion_rate", "delivery_rate", "roi", "cost"]
TOP_MARGIN = 100
TITLE_AT_TOP = dict(y=0.98, yref="container", yanchor="top")
LEGEND_ON_TOP = dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0, title_text="")
MARKER_COLOURS = {"holiday": GREY, "note": RED}


def hover_text(row) -> str:
    """A marker's hover: the text HTML-escaped (Plotly renders tags and links), a note's author."""
    text = html.escape(str(row.text))
    if row.kind == "holiday":
        return f"{row.day:%a %d %b %Y}<br>Holiday: {text}"
    return (f"{row.day:%a %d %b %Y}<br>Note: {text}<br>by {html.escape(str(row.created_by))}, "
            f"{pd.Timestamp(row.created_at):%Y-%m-%d %H:%M} UTC")


def add_markers(figure: go.Figure, marks: pd.DataFrame, values: pd.Series) -> None:
    """Each holiday and note as a dashed vertical line at the start of its day, with a marker on
    top that shows the text on hover (one trace per kind, so the legend names them)."""
    if marks.empty:
        return
    top = float(values.max()) if len(values) and pd.notna(values.max()) else 1.0
    for kind, part in marks.groupby("kind", sort=False):
        days = pd.to_datetime(part.day)
        for day in days:
            figure.add_vline(x=day, line=dict(color=MARKER_COLOURS[kind], dash="dash", width=1))
        figure.add_trace(go.Scatter(
            x=days, y=[top] * len(part), mode="markers", name="Holidays" if kind == "holiday" else "Notes",
            marker=dict(symbol="triangle-down", size=11, color=MARKER_COLOURS[kind]),
            hovertext=[hover_text(row) for row in part.itertuples()], hoverinfo="text"))


def series_chart(frame: pd.DataFrame, metric: str, grain: str, tz: str, marks: pd.DataFrame) -> go.Figure:
    spec = METRICS[metric]
    values = frame[metric].astype(float) * (100 if spec.unit in ("%", "ratio") else 1)
    unit = {"%": " (%)", "ratio": " (%)", "USD": " (USD)"}.get(spec.unit, "")
    figure = go.Figure()
    complete = ~frame.incomplete
    figure.add_trace(go.Scatter(x=frame.bucket[complete], y=values[complete], mode="lines+markers",
                                name=spec.label, line=dict(color=BLUE)))
    if frame.incomplete.any():
        tail = frame.index[frame.incomplete]
        joined = frame.index[complete][-1:].append(tail) if complete.any() else tail
        figure.add_trace(go.Scatter(x=frame.bucket[joined], y=values[joined], mode="lines+markers",
                                    name=f"{spec.label} (incomplete {grain})",
                                    line=dict(color=BLUE, dash="dot"), marker=dict(symbol="circle-open")))
    add_markers(figure, marks, values)
    # Dates as dates (not Plotly's sub-second ticks around a lone point), a lone bucket padded.
    figure.update_xaxes(tickformat="%d %b %H:%M" if grain == "hour" else "%d %b %Y")
    if len(frame) == 1:
        step = {"hour": pd.Timedelta(hours=1), "day": pd.Timedelta(days=1), "week": pd.Timedelta(weeks=1)}[grain]
        figure.update_xaxes(range=[frame.bucket.iloc[0] - step / 2, frame.bucket.iloc[0] + step / 2])
    figure.update_layout(title=dict(TITLE_AT_TOP, text=f"{spec.label} per {grain} · {tz}"), height=360,
                         margin=dict(l=0, r=0, t=TOP_MARGIN if len(figure.data) > 1 else 40, b=0),  # legend: 2 lines only
                         yaxis_title=f"{spec.label}{unit}",
                         xaxis_title=f"{GRAINS[grain]} ({tz})", legend=LEGEND_ON_TOP)
    return figure


def save_note(user: User, campaign_ids) -> None:
    """The form's callback: runs before the page, so the charts of this very run show the note."""
    state = st.session_state
    try:
        add_note(data.engine(), user, state.note_day, state.note_text, campaign_ids[0] if campaign_ids else None)
    except NoteRefused as refused:
        state.note_outcome = ("error", str(refused))
    else:
        data.annotations.clear()
        state.note_outcome = ("success", "Saved: the note is on the charts of that day.")


def note_form(user: User, period: Period, campaign_ids) -> None:
    """Add a note about a day (this campaign's, or every campaign's when none is chosen)."""
    outcome = st.session_state.pop("note_outcome", None)
    with st.expander("Add a note to the charts", icon=":material/edit_note:", expanded=outcome is not None):
        with st.form("add_note", clear_on_submit=True):
            st.date_input("Day", value=period.last, min_value=period.first - timedelta(days=366),
                          max_value=period.last + timedelta(days=366), format="YYYY-MM-DD", key="note_day")
            st.text_area("Note", max_chars=MAX_NOTE_CHARS, key="note_text",
                         placeholder="What happened that day, e.g. “Push provider outage 14:00–16:00”")
            about = "this campaign" if campaign_ids else "every campaign"
            st.form_submit_button(f"Save note about {about}", icon=":material/save:", on_click=save_note,
                                  args=(user, campaign_ids))
        if outcome and outcome[0] == "error":
            st.error(escape_markdown(outcome[1]))  # the message may quote the note
        elif outcome:
            st.success(outcome[1])


def over_time_section(user: User, period: Period, campaign_ids) -> None:
    st.subheader("Over time")
    c1, c2 = st.columns([1, 1])
    grain = c1.segmented_control("Grain", list(GRAINS), default="day", format_func=GRAINS.get, key="grain",
                                 bind="query-params") or "day"
    metric = c2.selectbox("Metric", CHART_METRICS, format_func=lambda k: METRICS[k].label, key="series_metric")
    frame = data.series(period.first, period.last, period.tz, campaign_ids, grain)
    marks = data.annotations(period.first, period.last, period.tz, campaign_ids)
    if frame.empty:
        st.info("No activity in this period.")
    else:
        st.plotly_chart(series_chart(frame, metric, grain, period.tz, marks), width="stretch", key="series_chart")
        if grain == "day":
            fitted = analytics.trend(frame, metric)
            if fitted:
                arrow = {"up": "trending up", "down": "trending down", "flat": "no clear trend"}[fitted.direction]
                st.caption(f"Trend: {METRICS[metric].label} {arrow} — fitted {percent(fitted.slope_per_week, signed=True)} per week "
                           f"(p = {fitted.p_value:.3f}, complete days only).")
        if frame.incomplete.any():
            st.caption(f"The dotted end of the line is the current {grain}, not finished yet.")
        if can(user, "export"):
            metrics = [c for c in CHART_METRICS if c in frame]
            stamp = "%Y-%m-%dT%H:%M:%S" if grain == "hour" else "%Y-%m-%d"
            export = export_table(frame, metrics)
            export.insert(0, f"{grain}_start", frame.bucket.dt.strftime(stamp).to_numpy())
            export.insert(1, "time_zone", period.tz)
            export.insert(2, "complete", (~frame.incomplete).to_numpy())
            csv_download(export, "Download series (CSV)", file_stem(f"series_{grain}", period.first, period.last, period.tz),
                         "dl_series")
    notes = marks[marks.kind == "note"]
    if len(notes):
        st.dataframe(notes[["day", "text", "campaign", "created_by", "created_at"]], hide_index=True, width="stretch",
                     column_config={"day": st.column_config.DateColumn("Day", format="YYYY-MM-DD"),
                                    "text": "Note", "campaign": "About campaign", "created_by": "By",
                                    "created_at": st.column_config.DatetimeColumn("Written (UTC)")},
                     key="notes_table")
    if can(user, "annotate"):
        note_form(user, period, campaign_ids)
