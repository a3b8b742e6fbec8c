"""Personal data: which columns hold it and how it is masked for everyone but admins."""
from __future__ import annotations

import re

import pandas as pd

PERSONAL_COLUMNS = {"full_name": "name", "name_of_member": "name", "email": "email", "phone": "phone"}


def mask_email(value: str | None) -> str | None:
    if not isinstance(value, str) or "@" not in value:
        return value if value is None else "•••"
    local, domain = value.split("@", 1)
    return f"{local[:1]}•••@{domain}"


def mask_phone(value: str | None) -> str | None:
    if not isinstance(value, str):
        return value
    digits = re.sub(r"\D", "", value)
    return f"•••-•••-{digits[-2:]}" if len(digits) >= 2 else "•••"


def mask_name(value: str | None) -> str | None:
    if not isinstance(value, str):
        return value
    return " ".join(f"{part[:1]}." for part in value.split() if part)


MASKS = {"name": mask_name, "email": mask_email, "phone": mask_phone}


def mask_frame(frame: pd.DataFrame, user) -> pd.DataFrame:
    """The frame as `user` may see it: personal columns masked unless the user is an admin."""
    from core.access.auth import can

    if can(user, "see_personal_data"):
        return frame
    out = frame.copy()
    for column, kind in PERSONAL_COLUMNS.items():
        if column in out:
            out[column] = out[column].map(MASKS[kind])
    return out
