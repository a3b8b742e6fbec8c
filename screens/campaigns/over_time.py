"""Campaign analytics, the time series of the detail tab: one metric per hour, day or week in the
viewer's zone, holidays and people's notes drawn as dashed vertical markers (hover for the text,
drawn by Vega-Lite as plain text), and the dialog that adds a note (analysts, managers, admins)."""
from __future__ import annotations

from datetime import timedelta

import streamlit as st

from core.access.auth import User, can
from core.analytics.annotations import MAX_NOTE_CHARS, NoteRefused, add_note
from core.analytics.metrics import METRICS
from core.analytics.periods import GRAINS, Period
from ui import campaign_charts, data
from ui.export_tables import file_stem
from ui.format import date_time, escape_markdown
from ui.html_table import Column, html_table, text
from ui.widgets import csv_download, vega_chart

CHART_METRICS = campaign_charts.SERIES_METRICS


def save_note(user: User, campaign_ids) -> None:
    """The form's callback: runs before the page, so the charts of this very run show the note."""
    state = st.session_state
    try:
        add_note(data.engine(), user, state.note_day, state.note_text, campaign_ids[0] if campaign_ids else None)
    except NoteRefused as refused:
        state.note_outcome = ("error", str(refused))
    else:
        data.annotations.clear()
        campaign_charts.series_view.clear()  # its markers come from the annotations
        state.note_outcome = ("success", "Saved: the note is on the charts of that day.")


@st.dialog("Add a note to the charts")
def note_dialog(user: User, period: Period, campaign_ids) -> None:
    """Add a note about a day (this campaign's, or every campaign's when none is chosen). A
    dialog, not a form under the chart: the form's four elements (the date picker among them)
    were redrawn at every change of campaign, grain or metric for a note written once in a while
    (issue 15). A click in it reruns the dialog alone: a refused note says why here, and a saved
    one closes it with a rerun of the page, whose chart then shows it."""
    with st.form("add_note", clear_on_submit=True):
        st.date_input("Day", value=period.last, min_value=period.first - timedelta(days=366),
                      max_value=period.last + timedelta(days=366), format="YYYY-MM-DD", key="note_day")
        st.text_area("Note", max_chars=MAX_NOTE_CHARS, key="note_text",
                     placeholder="What happened that day, e.g. “Push provider outage 14:00–16:00”")
        about = "this campaign" if campaign_ids else "every campaign"
        st.form_submit_button(f"Save note about {about}", icon=":material/save:", on_click=save_note,
                              args=(user, campaign_ids))
    outcome = st.session_state.get("note_outcome")
    if outcome and outcome[0] == "error":
        st.session_state.pop("note_outcome")
        st.error(escape_markdown(outcome[1]))  # the message may quote the note
    elif outcome:
        st.rerun()  # the page shows the outcome


def note_button(user: User, period: Period, campaign_ids) -> None:
    """The button that opens the note dialog, and the outcome of the last note (a rerun of the
    whole page after saving, or of a test's page, where the form's callback ran without the
    dialog)."""
    outcome = st.session_state.pop("note_outcome", None)
    if outcome and outcome[0] == "error":
        st.error(escape_markdown(outcome[1]))
    elif outcome:
        st.success(outcome[1])
    if st.button("Add a note to the charts", icon=":material/edit_note:", key="open_note_dialog"):
        note_dialog(user, period, campaign_ids)


def over_time_section(user: User, period: Period, campaign_ids) -> None:
    # No subheader: the section's tab says "Over time" just above (one element fewer to redraw at
    # every change of campaign, issue 15).
    controls = st.container(horizontal=True)  # one block, not three (columns)
    grain = controls.segmented_control("Grain", list(GRAINS), default="day", format_func=GRAINS.get, key="grain",
                                 bind="query-params") or "day"
    metric = controls.selectbox("Metric", CHART_METRICS, format_func=lambda k: METRICS[k].label, key="series_metric",
                                width=280)
    view = campaign_charts.series_view(period.first, period.last, period.tz, campaign_ids, grain, metric)
    if view is None:
        st.info("No activity in this period.")
    else:
        vega_chart(spec=view.spec, width="stretch", height=campaign_charts.SERIES_HEIGHT, key="series_chart")
        notes = [view.trend] if view.trend else []
        if view.incomplete:
            notes.append(f"The dotted end of the line is the current {grain}, not finished yet.")
        if notes:
            st.caption("  \n".join(notes))  # one caption, two lines
        if can(user, "export"):
            csv_download(view.export, "Download series (CSV)",
                         file_stem(f"series_{grain}", period.first, period.last, period.tz), "dl_series")
    marks = data.annotations(period.first, period.last, period.tz, campaign_ids)
    notes = marks[marks.kind == "note"]
    if len(notes):
        html_table(notes, {"day": Column("Day", lambda day: f"{day:%Y-%m-%d}"), "text": text("Note"),
                           "campaign": text("About campaign"), "created_by": text("By"),
                           "created_at": Column("Written", lambda at: date_time(at, "UTC"))},
                   css_class="notes")
    if can(user, "annotate"):
        note_button(user, period, campaign_ids)
