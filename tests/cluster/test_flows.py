"""The app's writers and jobs on the cluster: an events import rolls up to the same rows as on
one node, the roller waits for a writer still copying events and folds each event once, the
worker's every job succeeds, retention drops day partitions of the distributed table, the live
simulator feeds the live tiles, and a manager's A/B and recommendation actions go through."""
from __future__ import annotations

import threading
import time
from datetime import date, datetime, timedelta, timezone

import pandas as pd
import pytest
from sqlalchemy import text

from core import worker
from core.access.auth import User
from core.demo import generator as demo
from core.demo import simulator
from core.experiments import tests_repo
from core.live import tiles
from core.live.windows import ACTIVE_MINUTES, live_window
from core.optimize import apply as optimize_apply
from core.platform import db as core_db
from core.platform import maintenance, rollup
from core.platform.ingest import import_events, write_events
from tests.conftest import PRIMARY_BACKEND
from tests.factories import events_frame, insert_events, seed_dimensions

pytestmark = pytest.mark.cluster

ADMIN = User("admin@example.com", "Admin", "admin")
MANAGER = User("manager@example.com", "Manager", "manager")
ROLLUPS = {  # table: its key, for comparing whole tables
    "rollup_campaign_hour": "campaign_id, bucket",
    "rollup_campaign_day": "campaign_id, day", "rollup_breakdown_day": "campaign_id, day, dimension, value",
    "campaign_members": "campaign_id, member_id", "rollup_reach_hour": "campaign_id, bucket",
    "rollup_live_second": "bucket", "rollup_live_cell_minute": "bucket, region_code, device",
    "rollup_live_actor_minute": "bucket, member_id", "rollup_live_member_last": "member_id",
    "rollup_live_actors_minute": "bucket", "rollup_live_latest": "event_id",
    "rollup_all_campaigns_hour": "bucket", "rollup_all_campaigns_reach_hour": "bucket",
    "rollup_all_campaigns_breakdown_day": "day, dimension, value",
    "rollup_all_campaigns_breakdown_hour": "bucket, dimension, value",
}


def rows(engine, table: str, order_by: str) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(f"SELECT * FROM {table} ORDER BY {order_by}"))]


def scalar(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


@pytest.fixture(scope="module")
def work_db(cluster_database, demo_data):
    """A cluster database with the demo loaded and rolled up, for flows that change it."""
    engine = cluster_database()
    demo.load(engine, demo_data)
    rollup.refresh_all(engine)
    return engine


def test_an_import_rolls_up_to_the_same_rows_as_on_one_node(backends, cluster_db, tmp_path):
    backend = backends[PRIMARY_BACKEND]
    single = core_db.make_engine(backend.url(backend.create_database(template=backend.template)), pool_size=2)
    day = (datetime.now(timezone.utc) - timedelta(days=2)).date()
    lines = ["event_time,campaign_id,member_id,event_type,variant,revenue,reward_cost,device,region_code"]
    for member in range(1, 21):
        campaign = member % 3 + 1
        lines += [f"{day}T{member % 24:02d}:00:00Z,{campaign},{member},send,v{member % 2},,,,",
                  f"{day}T{member % 24:02d}:00:30Z,{campaign},{member},delivered,,,,ios,NYC",
                  f"{day}T{member % 24:02d}:10:00Z,{campaign},{member},open,,,,,"]
        if member % 4 == 0:
            lines.append(f"{day}T{member % 24:02d}:40:00Z,{campaign},{member},conversion,,25.50,2.55,,")
    path = tmp_path / "events.csv"
    path.write_text("\n".join(lines) + "\n")
    try:
        for engine in (single, cluster_db):
            seed_dimensions(engine)
            assert import_events(engine, path, ADMIN).rows == len(lines) - 1
            rollup.refresh_all(engine)
        for table, key in ROLLUPS.items():
            assert rows(cluster_db, table, key) == rows(single, table, key), f"{table} differs on the cluster"
        assert scalar(cluster_db, "SELECT sum(sends) FROM rollup_campaign_day") == 20
        assert scalar(cluster_db, "SELECT sum(delivered_members) FROM rollup_reach_hour") == 20
    finally:
        single.dispose()


def test_the_roller_waits_for_a_writer_and_folds_each_event_once(cluster_db):
    seed_dimensions(cluster_db)
    insert_events(cluster_db, events_frame([("2026-11-20T10:00:00Z", 1, 1, "send")]))
    writer = cluster_db.connect()
    transaction = writer.begin()
    write_events(writer, events_frame([("2026-11-20T11:00:00Z", 2, 3, "send")] * 50))  # not committed yet
    folded = {}
    roller = threading.Thread(target=lambda: folded.update(result=rollup.refresh(cluster_db)))
    roller.start()
    try:
        time.sleep(2)
        assert roller.is_alive(), "the roller did not wait for the writer's COPY to commit"
        assert rollup.refresh(cluster_db).skipped, "a second roller did not skip while the first holds the lock"
    finally:
        transaction.commit()
        writer.close()
        roller.join(timeout=60)
    assert folded["result"].events == 51
    assert rollup.refresh(cluster_db).events == 0
    assert scalar(cluster_db, "SELECT sum(sends) FROM rollup_campaign_day") == 51
    assert scalar(cluster_db, "SELECT sum(sends) FROM campaign_members") == 51


def test_every_job_of_the_worker_succeeds_on_the_cluster(work_db):
    outcomes = worker.run_once(work_db)
    assert outcomes
    assert {o.job: o.status for o in outcomes if o.status != "succeeded"} == {}, \
        "\n".join(f"{o.job}: {o.status} {o.detail}" for o in outcomes)


def test_retention_drops_day_partitions_of_the_distributed_table(cluster_db):
    seed_dimensions(cluster_db)
    today = date(2026, 11, 27)
    insert_events(cluster_db, events_frame([("2026-01-05T10:00:00Z", 1, 1, "send"), ("2026-11-20T10:00:00Z", 1, 1, "send")]))
    rollup.refresh_all(cluster_db)
    maintenance.maintain(cluster_db, today=today, retention_days=30)
    names = [name for name, _ in maintenance.event_partitions(cluster_db)]
    ahead = f"events_p{today + timedelta(days=7):%Y%m%d}"
    assert "events_p20260105" not in names and ahead in names
    assert scalar(cluster_db, "SELECT count(*) FROM pg_dist_partition WHERE logicalrelid = CAST(:p AS regclass)", p=ahead) == 1
    assert scalar(cluster_db, "SELECT sends FROM rollup_campaign_day WHERE day = '2026-01-05'") == 1
    assert scalar(cluster_db, "SELECT count(*) FROM events") == 1


def test_the_live_simulator_feeds_the_live_tiles(work_db):
    report = simulator.run(work_db, rate=300, seconds=2, tick_seconds=0.25, seed=5)
    assert report.events > 0
    now = datetime.now(timezone.utc) + timedelta(seconds=1)
    rollup.refresh_all(work_db)
    after = tiles.snapshot(work_db, 15, "UTC", now=now)    # the new events, from the rollups
    assert after.ok, after.error
    assert after.held_until == now                         # caught up: every event counted
    counts = ["sends", "delivered", "opens", "impressions", "clicks", "conversions"]
    window, active = after.window, live_window(after.held_until, ACTIVE_MINUTES)
    direct = [scalar(work_db, "SELECT count(*) FROM events WHERE event_type = :t AND event_time >= :a AND event_time < :b",
                     t=code, a=window.start_at, b=window.end_at) for code in range(1, 7)]
    # the world's catch-up since the demo's end is older than the window; the extra load is in it
    assert sum(direct) > 0
    assert [after.totals[c] for c in counts] == direct
    assert after.active_members == scalar(
        work_db, "SELECT count(DISTINCT member_id) FROM events WHERE event_type >= 3 AND event_time >= :a "
                 "AND event_time < :b", a=active.start_at, b=active.until)


def test_a_manager_pauses_a_test_and_applies_a_recommendation(work_db):
    test_id = int(tests_repo.list_tests(work_db).query("status == 'running'").test_id.iloc[0])
    assert tests_repo.control(work_db, MANAGER, test_id, "pause_test").status == "paused"
    assert tests_repo.control(work_db, MANAGER, test_id, "resume_test").status == "running"
    if not scalar(work_db, "SELECT count(*) FROM recommendations WHERE status = 'proposed'"):
        worker.run_once(work_db, ["retrain"])
    card = scalar(work_db, "SELECT recommendation_id FROM recommendations WHERE status = 'proposed' "
                           "AND kind IN ('send_time', 'segment_add') ORDER BY impact_mean DESC LIMIT 1")
    optimize_apply.apply(work_db, MANAGER, card, holdout_share=0.25)
    assert scalar(work_db, "SELECT status FROM recommendations WHERE recommendation_id = :c", c=card) == "applied"
    assert scalar(work_db, "SELECT count(*) FROM campaign_holdouts WHERE recommendation_id = :c", c=card) > 0
    assert isinstance(optimize_apply.measure_realised(work_db), int)
    assert not pd.isna(scalar(work_db, "SELECT max(applied_at) FROM recommendations"))
