"""Exports: every file that leaves the app goes through export_frame, which checks the export
right, masks personal data for everyone but admins, and writes an audit entry — in core, so a
screen that forgets to hide its download button still cannot hand out a file."""
from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine

from core.access.audit import record
from core.access.auth import User, action, can
from core.access.pii import PERSONAL_COLUMNS, mask_frame

MAX_AUDITED_COLUMNS = 40  # the audit entry names the columns; a very wide frame is summarised


@action("export")
def export_frame(db: Engine, user: User, frame: pd.DataFrame, what: str) -> pd.DataFrame:
    """The frame as `user` may take it away (personal data masked unless an admin), recorded in
    the audit log as an export of `what` (e.g. the file's name without extension)."""
    return _checked_out(db, user, frame, what)


@action("export_overview")
def export_overview(db: Engine, user: User, frame: pd.DataFrame, what: str) -> pd.DataFrame:
    """The Overview's totals, which executives may take away too (a narrower right than
    "export"); masked and audited as every export."""
    return _checked_out(db, user, frame, what)


def _checked_out(db: Engine, user: User, frame: pd.DataFrame, what: str) -> pd.DataFrame:
    shown = mask_frame(frame, user)
    columns = [str(c) for c in frame.columns]
    personal = sorted(set(columns) & set(PERSONAL_COLUMNS))
    details = {"rows": int(len(frame)), "columns": columns[:MAX_AUDITED_COLUMNS],
               "more_columns": max(len(columns) - MAX_AUDITED_COLUMNS, 0),
               "personal_columns": personal, "masked": bool(personal) and not can(user, "see_personal_data")}
    with db.begin() as conn:
        record(conn, user, "export", f"export:{str(what)[:200]}", details)
    return shown
