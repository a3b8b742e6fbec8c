"""Where model results live: writing one run's outputs (under a new run_id, then moving the
`opt_current` pointer — all in the caller's transaction) and reading the current run for the
app. Every read answers from precomputed rows by primary key or a small index range."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from core.platform.db import execute, fetch_df, query
from core.platform.ingest import copy_frame

KEEP_RUNS = 3


@dataclass
class RunResults:
    started_at: datetime
    data_through: datetime | None
    holdout_from: datetime | None
    seconds: float
    trained_by: str
    metrics: dict
    member_send_time: pd.DataFrame
    segment_send_time: pd.DataFrame
    member_affinity: pd.DataFrame
    segment_affinity: pd.DataFrame
    offer_scores: pd.DataFrame
    uplift: pd.DataFrame
    segments: pd.DataFrame
    member_segments: pd.DataFrame
    campaign_segment_roi: pd.DataFrame
    recommendations: list[dict] = field(default_factory=list)


def _pg_array(values) -> str:
    return "{" + ",".join("NULL" if v is None or (isinstance(v, float) and not np.isfinite(v)) else repr(float(v))
                          for v in values) + "}"


def _json(value) -> str:
    return json.dumps(value, default=_json_default, allow_nan=False)


def _json_default(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (pd.Timestamp, datetime)):
        return value.isoformat()
    return str(value)


def _clean(value):
    """NaN and infinities become null (JSON has neither)."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def to_json(value) -> str:
    return _json(_clean(value))


def _with_arrays(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    out = frame.copy()
    for column in columns:
        out[column] = out[column].map(_pg_array)
    return out


def _with_json(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    out = frame.copy()
    for column in columns:
        out[column] = out[column].map(to_json)
    return out


def write_run(conn: Connection, results: RunResults) -> int:
    """Write every output under a new run_id, expire the previous proposals, insert the new
    cards, move the pointer and prune old runs. The caller's transaction makes it atomic."""
    run_id = int(execute(conn, "opt_run_insert", started_at=results.started_at, data_through=results.data_through,
                         holdout_from=results.holdout_from, seconds=results.seconds, trained_by=results.trained_by,
                         metrics=to_json(results.metrics)).scalar())
    tables = [
        ("opt_member_send_time", _with_arrays(results.member_send_time, ["open_by_hour"])),
        ("opt_segment_send_time", _with_arrays(results.segment_send_time, ["hour_prior", "open_by_hour", "weekday_factor"])),
        ("opt_member_affinity", results.member_affinity),
        ("opt_segment_affinity", results.segment_affinity),
        ("opt_offer_scores", results.offer_scores),
        ("opt_uplift", _with_json(results.uplift, ["curve"]) if len(results.uplift) else results.uplift),
        ("opt_segments", _with_arrays(_with_json(results.segments, ["profile"]), ["centroid"])),
        ("opt_member_segments", results.member_segments),
        ("opt_campaign_segment_roi", results.campaign_segment_roi),
    ]
    for table, frame in tables:
        if len(frame):
            copy_frame(conn, table, frame.assign(run_id=run_id))
    execute(conn, "opt_recommendations_expire", run_id=run_id)
    if results.recommendations:
        conn.execute(query("opt_recommendation_insert"), [
            {**{k: card[k] for k in ("campaign_id", "kind", "segment", "title", "confidence", "ease", "impact_mean",
                                      "impact_low", "impact_high", "holdout_share")},
             "details": to_json(card["details"]), "run_id": run_id, "expires_at": card.get("expires_at")}
            for card in results.recommendations])
    execute(conn, "opt_current_set", run_id=run_id)
    execute(conn, "opt_runs_prune", keep=KEEP_RUNS)
    return run_id


# --- reading the current run -------------------------------------------------------------------

def current_run(db: Engine | Connection) -> dict | None:
    frame = fetch_df(db, "opt_current_run")
    return None if frame.empty else frame.iloc[0].to_dict()


def recommendations(db, campaign_id: int | None = None, kind: str | None = None, segment: str | None = None) -> pd.DataFrame:
    return fetch_df(db, "opt_recommendations_list", campaign_id=campaign_id, kind=kind, segment=segment)


def history(db, campaign_id: int | None = None, limit: int = 200) -> pd.DataFrame:
    return fetch_df(db, "opt_recommendations_history", campaign_id=campaign_id, limit=limit)


def offer_scores(db, campaign_id: int) -> pd.DataFrame:
    return fetch_df(db, "opt_offer_scores_read", campaign_id=campaign_id)


def send_time_distribution(db) -> pd.DataFrame:
    return fetch_df(db, "opt_send_time_distribution")


def segment_send_time(db) -> pd.DataFrame:
    return fetch_df(db, "opt_segment_send_time_read")


def member_profile(db, member_id: int) -> pd.DataFrame:
    return fetch_df(db, "opt_member_profile_read", member_id=member_id)


def member_affinity(db, member_id: int) -> pd.DataFrame:
    return fetch_df(db, "opt_member_affinity_read", member_id=member_id)


def segment_affinity(db) -> pd.DataFrame:
    return fetch_df(db, "opt_segment_affinity_read")


def segments(db, run_id: int | None = None) -> pd.DataFrame:
    return fetch_df(db, "opt_segments_read", run_id=run_id)


def uplift(db, campaign_id: int | None = None) -> pd.DataFrame:
    return fetch_df(db, "opt_uplift_read", campaign_id=campaign_id)


def campaign_segment_roi(db, campaign_id: int) -> pd.DataFrame:
    return fetch_df(db, "opt_campaign_segment_roi_read", campaign_id=campaign_id)


def members_with_estimates(db, limit: int = 500) -> pd.DataFrame:
    return fetch_df(db, "opt_member_ids_sample", limit=limit)
