"""The ui side of exports: a download's data is made when the button is clicked, through
core.access.exports.export_frame (export right checked, personal data masked, audit entry) —
so one audit entry per file taken, not one per page view."""
from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from core.access.exports import export_frame
from ui import data, session


def checked_export(frame: pd.DataFrame, what: str, encode: Callable[[pd.DataFrame], bytes]) -> Callable[[], bytes]:
    """The `data` of an st.download_button: a callable Streamlit runs on click (in another
    thread, so the viewer and the engine are taken now, in the script's run)."""
    user = session.current_user()
    db = data.engine()
    return lambda: encode(export_frame(db, user, frame, what))
