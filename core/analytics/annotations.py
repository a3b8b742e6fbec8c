"""Annotations drawn on every time series: the US holidays (core.analytics.calendar) and notes
people add — who, when, the day it is about, the text and, optionally, the campaign.

Adding a note is a person's action ("annotate": analysts, managers, admins), checked here and
audited in the same transaction. The text is stored exactly as written and is data, never
Markdown: every screen shows it escaped (ui.format.escape_markdown). What cannot be stored is
refused with a message that says what to do: a NUL character (PostgreSQL text cannot hold one),
an empty note, a note longer than MAX_NOTE_CHARS, a day outside the days the app shows, a
campaign that does not exist.
"""
from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import Engine

from core.access.audit import record
from core.access.auth import User, action
from core.analytics.calendar import holidays
from core.analytics.periods import EARLIEST_DAY, LATEST_DAY, Period
from core.platform.db import execute, fetch_df, fetch_scalar

MAX_NOTE_CHARS = 1000
COLUMNS = ["day", "kind", "text", "campaign_id", "campaign", "created_by", "created_at"]


class NoteRefused(ValueError):
    """A note that cannot be stored as written; the message says why and what to do."""


def check_note(text: str) -> str:
    """The note as it will be stored (exactly as given), or NoteRefused."""
    if not isinstance(text, str):
        raise NoteRefused(f"A note is text, not {type(text).__name__}; type the note and save again.")
    if "\x00" in text:
        at = text.index("\x00") + 1
        raise NoteRefused(f"The note has a NUL character at character {at:,} (invisible, usually pasted from "
                          "another program), which cannot be stored; remove it and save again. Nothing was saved.")
    if not text.strip():
        raise NoteRefused("The note is empty; write what happened on that day and save again.")
    if len(text) > MAX_NOTE_CHARS:
        raise NoteRefused(f"The note is {len(text):,} characters long; a note holds at most {MAX_NOTE_CHARS:,}. "
                          "Shorten it (or split it over two notes) and save again. Nothing was saved.")
    return text


@action("annotate")
def add_note(db: Engine, user: User, day: date, text: str, campaign_id: int | None = None) -> int:
    """Store a note about `day` (and `campaign_id`, or every campaign when None); returns its id."""
    body = check_note(text)
    if not isinstance(day, date) or not EARLIEST_DAY <= day <= LATEST_DAY:
        raise NoteRefused(f"A note is about a day from {EARLIEST_DAY} to {LATEST_DAY}, not {day!r}; pick a day.")
    if campaign_id is not None:
        campaign_id = int(campaign_id)
        if not fetch_scalar(db, "campaign_exists", campaign_id=campaign_id):
            raise NoteRefused(f"There is no campaign {campaign_id}; pick a campaign from the list, or none "
                              "for a note about every campaign.")
    with db.begin() as conn:
        annotation_id = int(execute(conn, "annotation_insert", day=day, campaign_id=campaign_id, body=body,
                                    created_by=user.email).scalar())
        record(conn, user, "add_note", f"annotation:{annotation_id}",
               {"day": day.isoformat(), "campaign_id": campaign_id, "text": body})
    return annotation_id


def notes(db: Engine, first: date, last: date, campaign_ids=None) -> pd.DataFrame:
    """People's notes about the days first..last: those about every campaign and those about
    one of campaign_ids (all of them when None)."""
    ids = None if campaign_ids is None else [int(i) for i in campaign_ids]
    return fetch_df(db, "annotations_between", first=first, last=last, campaign_ids=ids)


def annotations(db: Engine, period: Period, campaign_ids=None) -> pd.DataFrame:
    """What a time series of the period marks, by day: holidays (kind "holiday") and notes
    (kind "note", with who wrote them and when). `text` is data: show it escaped."""
    rows = [{"day": h.day, "kind": "holiday", "text": h.name} for h in holidays(period.first, period.last)]
    people = notes(db, period.first, period.last, campaign_ids)
    rows += [{"day": n.day, "kind": "note", "text": n.body, "campaign_id": n.campaign_id, "campaign": n.campaign,
              "created_by": n.created_by, "created_at": n.created_at} for n in people.itertuples()]
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return frame.sort_values(["day", "kind"], kind="stable").reset_index(drop=True)
