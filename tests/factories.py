"""Small hand-made rows for database tests: a few members and campaigns, and events at known
times, so expected numbers can be computed by hand."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd

from core.platform.events import EVENT_CODES
from core.platform.ingest import copy_frame, write_events

CAMPAIGN_IDS = [1, 2, 3]
MEMBER_IDS = list(range(1, 21))


def seed_dimensions(engine) -> None:
    with engine.begin() as conn:
        copy_frame(conn, "regions", pd.DataFrame([("NYC", "New York", 40.7, -74.0, "America/New_York"),
                                                  ("LAX", "Los Angeles", 34.0, -118.2, "America/Los_Angeles")],
                                                 columns=["region_code", "name", "latitude", "longitude", "timezone"]))
        copy_frame(conn, "members", pd.DataFrame({
            "member_id": MEMBER_IDS,
            "signup_at": pd.Timestamp("2025-01-01", tz="UTC"),
            "region_code": ["NYC" if m % 2 else "LAX" for m in MEMBER_IDS],
            "latitude": 40.0, "longitude": -74.0,
            "device": [("ios", "android", "web")[m % 3] for m in MEMBER_IDS],
            "timezone": "America/New_York",
            "segment": ["active" if m <= 10 else "lapsed" for m in MEMBER_IDS],
            "notifications_opt_in": True,
            "full_name": [f"Person {m}" for m in MEMBER_IDS],
            "email": [f"person{m}@example.com" for m in MEMBER_IDS],
            "phone": [f"+1-555-000-{m:04d}" for m in MEMBER_IDS],
        }))
        copy_frame(conn, "merchants", pd.DataFrame({"merchant_id": [1], "name": ["Shop"], "category": ["grocery"]}))
        copy_frame(conn, "offers", pd.DataFrame({"offer_id": [1], "merchant_id": [1], "name": ["5% back"],
                                                 "reward_type": ["percent"], "reward_value": [5]}))
        copy_frame(conn, "campaigns", pd.DataFrame({
            "campaign_id": CAMPAIGN_IDS, "name": [f"Campaign {c}" for c in CAMPAIGN_IDS],
            "channel": ["push", "email", "in_app"], "offer_id": 1, "segment": ["active", "lapsed", "active"],
            "starts_at": pd.Timestamp("2025-01-01", tz="UTC"), "ends_at": pd.Timestamp("2027-01-01", tz="UTC"),
            "send_hour": 9, "status": "live", "budget": 1000, "cost_per_send": [0.01, 0.02, 0.05],
        }))


def events_frame(rows: list[tuple]) -> pd.DataFrame:
    """rows: (event_time, campaign_id, member_id, event type name[, revenue, reward_cost])."""
    out = []
    for row in rows:
        when, campaign, member, kind = row[:4]
        revenue = row[4] if len(row) > 4 else (np.nan if kind != "conversion" else 10.0)
        reward = row[5] if len(row) > 5 else (np.nan if kind != "conversion" else 1.0)
        out.append({"event_time": pd.Timestamp(when), "campaign_id": campaign, "member_id": member, "variant": None,
                    "event_type": EVENT_CODES[kind], "revenue": revenue, "reward_cost": reward,
                    "device": None, "region_code": None})
    frame = pd.DataFrame(out)
    frame["event_time"] = pd.to_datetime(frame.event_time, utc=True)
    return frame


def random_events(rng: np.random.Generator, count: int, start: datetime, days: float = 10) -> pd.DataFrame:
    kinds = np.array(list(EVENT_CODES))
    kind = rng.choice(kinds, size=count, p=[0.3, 0.28, 0.15, 0.12, 0.1, 0.05])
    is_conversion = kind == "conversion"
    frame = pd.DataFrame({
        "event_time": pd.to_datetime(start) + pd.to_timedelta(rng.uniform(0, days * 86400, count), unit="s"),
        "campaign_id": rng.choice(CAMPAIGN_IDS, count),
        "member_id": rng.choice(MEMBER_IDS, count),
        "variant": rng.choice(np.array(["control", "treatment", None], dtype=object), count),
        "event_type": np.array([EVENT_CODES[k] for k in kind], dtype=np.int16),
        "revenue": np.where(is_conversion, np.round(rng.uniform(1, 200, count), 2), np.nan),
        "reward_cost": np.where(is_conversion, np.round(rng.uniform(0, 10, count), 2), np.nan),
        "device": rng.choice(np.array(["ios", "android", "web", None], dtype=object), count),
        "region_code": rng.choice(np.array(["NYC", "LAX", None], dtype=object), count),
    })
    frame["event_time"] = frame.event_time.dt.tz_convert("UTC") if frame.event_time.dt.tz else frame.event_time.dt.tz_localize("UTC")
    return frame


def insert_events(engine, frame: pd.DataFrame) -> None:
    with engine.begin() as conn:
        write_events(conn, frame)


UTC = timezone.utc
