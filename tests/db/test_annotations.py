"""People's notes on the charts: stored exactly as written, audited, refused with a clear message
when they cannot be stored (and then nothing is written), read back with the holidays."""
from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import text

from core.access.audit import recent
from core.access.auth import PermissionDenied, User
from core.analytics import annotations
from core.analytics.annotations import MAX_NOTE_CHARS, NoteRefused, add_note
from core.analytics.periods import Period
from tests.factories import seed_dimensions

ANALYST = User("ana@swipesavvy.example", "Ana", "analyst")
EXEC = User("eve@swipesavvy.example", "Eve", "exec")
NY = "America/New_York"


def count_notes(db) -> int:
    with db.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM annotations")).scalar()


def test_a_note_is_stored_as_written_and_audited(db):
    seed_dimensions(db)
    written = "Thanksgiving dip <b>expected</b> — see [the plan](javascript:alert(1)) *not bold*\nline two"
    note_id = add_note(db, ANALYST, date(2026, 11, 26), written, campaign_id=2)
    everyone = add_note(db, ANALYST, date(2026, 11, 27), "Black Friday push went out late")
    found = annotations.notes(db, date(2026, 11, 1), date(2026, 11, 30))
    assert found.annotation_id.tolist() == [note_id, everyone]
    first = found.iloc[0]
    assert first.body == written and first.campaign_id == 2 and first.campaign == "Campaign 2"
    assert first.created_by == ANALYST.email and first.created_at is not None
    log = recent(db)
    assert log.action.tolist() == ["add_note", "add_note"] and set(log.actor) == {ANALYST.email}
    details = log.details.iloc[-1]
    details = details if isinstance(details, dict) else json.loads(details)
    assert details == {"day": "2026-11-26", "campaign_id": 2, "text": written}
    assert log.target.iloc[-1] == f"annotation:{note_id}"


def test_notes_for_chosen_campaigns_and_the_holidays_of_the_period(db):
    seed_dimensions(db)
    add_note(db, ANALYST, date(2026, 11, 26), "about campaign 1", campaign_id=1)
    add_note(db, ANALYST, date(2026, 11, 26), "about campaign 3", campaign_id=3)
    add_note(db, ANALYST, date(2026, 11, 30), "about every campaign")
    add_note(db, ANALYST, date(2026, 12, 2), "after the period")
    period = Period(date(2026, 11, 23), date(2026, 11, 30), NY)
    marks = annotations.annotations(db, period, [1])
    assert list(zip(marks.day, marks.kind, marks.text)) == [
        (date(2026, 11, 26), "holiday", "Thanksgiving"), (date(2026, 11, 26), "note", "about campaign 1"),
        (date(2026, 11, 27), "holiday", "Black Friday"),
        (date(2026, 11, 30), "holiday", "Cyber Monday"), (date(2026, 11, 30), "note", "about every campaign")]
    everything = annotations.annotations(db, period, None)
    assert (everything.kind == "note").sum() == 3


@pytest.mark.parametrize("note, message", [
    ("before\x00after", "NUL character at character 7"),
    ("x" * (MAX_NOTE_CHARS + 1), f"{MAX_NOTE_CHARS + 1:,} characters long; a note holds at most {MAX_NOTE_CHARS:,}"),
    ("   \n ", "The note is empty"),
])
def test_what_cannot_be_stored_is_refused_clearly_and_nothing_is_written(db, note, message):
    seed_dimensions(db)
    with pytest.raises(NoteRefused, match=message):
        add_note(db, ANALYST, date(2026, 11, 26), note)
    assert count_notes(db) == 0 and recent(db).empty


def test_a_note_at_the_limit_is_kept_whole_and_bad_days_or_campaigns_are_refused(db):
    seed_dimensions(db)
    longest = "é" * MAX_NOTE_CHARS     # characters, not bytes
    add_note(db, ANALYST, date(2026, 11, 26), longest)
    assert annotations.notes(db, date(2026, 11, 26), date(2026, 11, 26)).body.iloc[0] == longest
    with pytest.raises(NoteRefused, match="There is no campaign 99"):
        add_note(db, ANALYST, date(2026, 11, 26), "lost", campaign_id=99)
    with pytest.raises(NoteRefused, match="pick a day"):
        add_note(db, ANALYST, date(1999, 12, 31), "too early")
    assert count_notes(db) == 1


def test_the_database_refuses_an_over_long_note_from_any_writer(db):
    with pytest.raises(Exception, match="annotations_body_check"):
        with db.begin() as conn:
            conn.execute(text("INSERT INTO annotations (day, body, created_by) VALUES ('2026-11-26', :body, 'x')"),
                         {"body": "x" * (MAX_NOTE_CHARS + 1)})


def test_executives_read_notes_but_may_not_add_them(db):
    seed_dimensions(db)
    with pytest.raises(PermissionDenied, match="may not annotate"):
        add_note(db, EXEC, date(2026, 11, 26), "exec note")
    assert count_notes(db) == 0
    assert annotations.notes(db, date(2026, 11, 1), date(2026, 11, 30)).empty
