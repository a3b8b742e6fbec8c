"""Map context shipped with the repository: a coarse outline of the contiguous US and a small
polygon around each demo region (core/demo/us_regions.json), so maps need no tile service."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import pandas as pd

OUTLINES_FILE = Path(__file__).with_name("us_regions.json")


@lru_cache(maxsize=1)
def _outlines() -> dict:
    return json.loads(OUTLINES_FILE.read_text())


def country_outline() -> list[list[float]]:
    """The contiguous US as one closed ring of [longitude, latitude] points."""
    return _outlines()["country"]["polygon"]


def region_outlines() -> pd.DataFrame:
    """One row per region: region_code, name, latitude, longitude, polygon (closed ring)."""
    return pd.DataFrame(_outlines()["regions"])
