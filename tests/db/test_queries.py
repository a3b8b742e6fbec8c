"""Every SQL file in queries/ runs against a real database with representative parameters
(each inside a transaction that is rolled back). A new query without parameters here fails."""
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import text

from core.platform import rollup
from core.platform.db import query, query_names
from tests.db.test_ab_tracker import AB_QUERY_PARAMS
from tests.db.test_optimize_apply import OPT_QUERY_PARAMS
from tests.factories import events_frame, insert_events, seed_dimensions

T0 = datetime(2026, 10, 1, tzinfo=timezone.utc)
T1 = datetime(2026, 10, 8, tzinfo=timezone.utc)
RANGE = {"campaign_ids": [1, 2], "start_at": T0, "end_at": T1, "day_from": date(2026, 10, 2), "day_to": date(2026, 10, 8),
         "cmp_start_at": T0 - (T1 - T0), "cmp_end_at": T0, "cmp_day_from": date(2026, 9, 25),
         "cmp_day_to": date(2026, 10, 1), "with_reach": True}

PARAMS: dict[str, dict] = {
    "advisory_try_lock": {"lock_key": 1},
    "all_campaigns_breakdown": {key: value for key, value in RANGE.items() if key not in ("campaign_ids", "with_reach")},
    "all_campaigns_series": {"grain": "day", "tz": "America/New_York", "start_at": T0, "end_at": T1},
    "all_campaigns_totals": {"start_at": T0, "end_at": T1, "cmp_start_at": T0 - (T1 - T0), "cmp_end_at": T0},
    "advisory_try_session_lock": {"lock_key": 1},
    "advisory_unlock": {"lock_key": 1},
    "annotation_insert": {"day": date(2026, 10, 1), "campaign_id": 1, "body": "note", "created_by": "a@example.com"},
    "annotations_between": {"first": date(2026, 10, 1), "last": date(2026, 10, 8), "campaign_ids": [1, 2]},
    "attribute_conversions": {"member_ids": [1, 2], "event_times": [T1, T1], "window_days": 7},
    "audit_insert": {"actor": "a@example.com", "role": "admin", "action": "test", "target": "x", "details": "{}"},
    "audit_recent": {"limit": 5},
    "campaign_breakdown": RANGE,
    "campaign_exists": {"campaign_id": 1},
    "campaign_ids": {},
    "campaign_series": {"campaign_ids": [1], "grain": "day", "tz": "America/New_York", "start_at": T0, "end_at": T1},
    "campaign_totals": RANGE,
    "campaigns_list": {},
    "database_is_empty": {},
    "event_partitions": {},
    "events_lock_for_writing": {},
    "events_ensure_partitions": {"first_day": date(2026, 10, 1), "last_day": date(2026, 10, 3)},
    "events_ensure_partition_days": {"days": [date(2026, 10, 1), date(2026, 10, 5)]},
    "event_import_claim": {"content_sha256": "0" * 64, "file_name": "events.csv", "rows": 1, "attributed": 0,
                           "imported_by": "admin@example.com"},
    "event_import_find": {"content_sha256": "0" * 64},
    "event_import_attributed": {"content_sha256": "0" * 64, "attributed": 2},
    "events_brin_summarize": {"first_day": date(2026, 10, 1), "last_day": date(2026, 10, 3)},
    "events_last_assigned_id": {},
    "events_lock_for_reserving": {},
    "events_reserve_ids": {"count": 3},
    "events_wait_for_writers": {},
    "health_freshness": {},
    "health_row_counts": {},
    "job_run_finish": {"run_id": 1, "status": "succeeded", "rows": 1, "detail": ""},
    "job_run_heartbeat": {"run_id": 1, "lease_seconds": 60},
    "job_run_start": {"job": "test", "worker": "w", "attempt": 1, "lease_seconds": 60},
    "job_runs_abandon_expired": {},
    "job_runs_latest": {},
    "job_runs_prune": {"before": T0},
    "job_runs_recent": {"limit": 5},
    "live_activity": {"start_at": T0, "until": T1},
    "live_latest_events": {"since": T0, "now": T1, "limit": 50},
    "live_minute_series": {"start_at": T0, "end_at": T1, "tz": "America/New_York"},
    "live_rollup_state": {},
    "live_session_settings": {},
    "live_simulator_assignments": {"campaign_ids": [1, 2]},
    "live_simulator_campaigns": {"now": T1},
    "live_simulator_members": {},
    "live_simulator_applied_changes": {"campaign_ids": [1, 2]},
    "live_simulator_offers": {},
    "live_simulator_running_tests": {"campaign_ids": [1, 2]},
    "live_simulator_send_hours": {"campaign_ids": [1, 2]},
    "demo_world_read": {},
    "demo_world_insert": {"seed": 7, "ended_at": T1},
    "live_window_totals": {"start_at": T0, "end_at": T1},
    "member_ids": {},
    "partition_detach_drop": {"partition": "events_p20261001"},
    "partition_max_event_id": {"partition": "events_p20261001"},
    "rollup_events": {"from_id": 0, "to_id": 10},
    "rollup_live_prune": {"live_before": T0, "live_seconds_before": T0},
    "rollup_quarantine_event": {"event_id": 1, "reason": "test"},
    "rollup_quarantine_recent": {"limit": 20},
    "reach_from_members": {"campaign_ids": [999]},
    "reach_all_campaigns_add": {"campaign_ids": [999]},
    "rollup_all_campaigns_breakdown_prune": {"day": date(2026, 10, 1)},
    "rollup_watermark_advance": {"to_id": 0, "latest_event_at": T0},
    "rollup_watermark_lock": {},
    "rollup_watermark_read": {},
    "user_role": {"email": "a@example.com"},
    "user_role_upsert": {"email": "a@example.com", "role": "analyst", "granted_by": "admin@example.com"},
    "user_roles_list": {},
}

PARAMS.update(AB_QUERY_PARAMS)
PARAMS.update(OPT_QUERY_PARAMS)


@pytest.fixture
def populated(db):
    seed_dimensions(db)
    insert_events(db, events_frame([("2026-10-01T10:00:00Z", 1, 1, "send"), ("2026-10-01T10:05:00Z", 1, 1, "open"),
                                    ("2026-10-02T10:00:00Z", 2, 3, "click"), ("2026-10-03T10:00:00Z", 2, 3, "conversion")]))
    rollup.refresh_all(db)
    return db


def test_every_query_has_parameters_here():
    missing = sorted(set(query_names()) - set(PARAMS))
    assert not missing, f"add representative parameters for {missing} to PARAMS"
    stale = sorted(set(PARAMS) - set(query_names()))
    assert not stale, f"PARAMS names queries that no longer exist: {stale}"


@pytest.mark.parametrize("name", query_names())
def test_query_runs(populated, name):
    with populated.connect() as conn:
        transaction = conn.begin()
        try:
            conn.execute(text("SET LOCAL lock_timeout = '5s'"))
            result = conn.execute(query(name), PARAMS[name])
            if result.returns_rows:
                result.fetchall()
        finally:
            transaction.rollback()
