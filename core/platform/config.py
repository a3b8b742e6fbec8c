"""Settings read from the environment, with the defaults a fresh machine runs on."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"{name}={raw!r} is not a whole number; set it to e.g. {default}.")


DATA_DIR = Path(os.environ.get("SWIPESAVVY_DATA_DIR", ROOT / ".data"))
# Dashboard queries answer from rollups in milliseconds; anything slower is a bug, not a wait.
DASHBOARD_STATEMENT_TIMEOUT_MS = _int("DASHBOARD_STATEMENT_TIMEOUT_MS", 15000)
ATTRIBUTION_WINDOW_DAYS = _int("ATTRIBUTION_WINDOW_DAYS", 7)
RAW_RETENTION_DAYS = _int("RAW_RETENTION_DAYS", 400)
PARTITIONS_AHEAD_DAYS = _int("PARTITIONS_AHEAD_DAYS", 7)
ROLLUP_INTERVAL_SECONDS = _int("ROLLUP_INTERVAL_SECONDS", 3)
