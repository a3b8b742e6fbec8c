"""A retrain publishes every model output and the cards atomically: a second worker skips, a
retrain that fails half-way leaves the previous results in place, old proposals expire, and a
per-member send-time card applies with its holdout. Also the migration's downgrade.

Each test trains a small demo (1,500 members, 10 campaigns, 45 days) of its own; the module's
`trained` database is shared read-only by the tests that only look.
"""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import text

from core import db as core_db
from core import demo, migrate, rollup, worker
from core.auth import User
from core.jobs import try_exclusive
from core.optimize import apply as optimize_apply
from core.optimize import recommendations as cards_module
from core.optimize import store, training
from tests.conftest import PRIMARY_BACKEND

END = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
MANAGER = User("manager@swipesavvy.example", "Manager", "manager")
OUTPUT_TABLES = ["opt_member_send_time", "opt_segment_send_time", "opt_member_affinity", "opt_segment_affinity",
                 "opt_offer_scores", "opt_segments", "opt_member_segments", "opt_campaign_segment_roi"]


def small_demo(backends):
    backend = backends[PRIMARY_BACKEND]
    engine = core_db.make_engine(backend.url(backend.create_database(template=backend.template)), pool_size=3)
    demo.load(engine, demo.generate(seed=5, members=1500, campaigns=10, days=45, end=END))
    rollup.refresh_all(engine)
    return engine


@pytest.fixture(scope="module")
def trained(backends):
    engine = small_demo(backends)
    outcome = training.retrain(engine)
    assert not outcome.skipped, outcome.detail
    yield engine, outcome
    engine.dispose()


@pytest.fixture
def fresh(backends):
    engine = small_demo(backends)
    yield engine
    engine.dispose()


def scalar(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def test_a_retrain_publishes_every_output_and_its_cards(trained):
    engine, outcome = trained
    run = store.current_run(engine)
    assert run["run_id"] == outcome.run_id
    for table in OUTPUT_TABLES:
        assert scalar(engine, f"SELECT count(*) FROM {table} WHERE run_id = :r", r=outcome.run_id) > 0, table
    metrics = run["metrics"]
    assert {"send_time", "affinity", "offers", "segments", "uplift", "timings_seconds"} <= set(metrics)
    cards = store.recommendations(engine)
    assert len(cards) == outcome.recommendations > 0
    for card in cards.itertuples():
        assert cards_module.MIN_CONFIDENCE <= card.confidence <= 1
        assert card.ease == cards_module.EASE[card.kind]
        assert card.impact_low < card.impact_mean < card.impact_high  # every card has an honest interval
        assert card.details["why"] and card.details["change"] and card.details["unit"] == "USD profit per week"
        assert len(card.details["projection"]["weeks"]) == cards_module.PROJECTION_WEEKS
    assert list(cards.impact_mean) == sorted(cards.impact_mean, reverse=True)
    # One current offer per campaign among the scored candidates.
    per_campaign = scalar(engine, "SELECT max(c) FROM (SELECT count(*) FILTER (WHERE is_current) c FROM opt_offer_scores "
                                  "WHERE run_id = :r GROUP BY campaign_id) x", r=outcome.run_id)
    assert per_campaign == 1


def test_filters_read_the_current_run(trained):
    engine, _ = trained
    everything = store.recommendations(engine)
    kind = everything.kind.iloc[0]
    campaign = int(everything.campaign_id.iloc[0])
    assert set(store.recommendations(engine, kind=kind).kind) == {kind}
    assert set(store.recommendations(engine, campaign_id=campaign).campaign_id) == {campaign}
    scores = store.offer_scores(engine, campaign)
    assert len(scores) == scalar(engine, "SELECT count(*) FROM offers")
    assert not store.send_time_distribution(engine).empty and not store.segments(engine).empty


def test_a_second_worker_skips_while_one_trains(trained):
    engine, outcome = trained
    with engine.connect() as holder, holder.begin():
        assert try_exclusive(holder, training.LOCK_NAME)
        second = training.retrain(engine)
    assert second.skipped and "another worker" in second.detail
    assert store.current_run(engine)["run_id"] == outcome.run_id


def test_a_retrain_that_fails_half_way_leaves_the_previous_results(fresh, monkeypatch):
    first = training.retrain(fresh)
    cards_before = store.recommendations(fresh).recommendation_id.tolist()
    runs_before = scalar(fresh, "SELECT count(*) FROM opt_model_runs")
    real_copy = store.copy_frame

    def copy_until_offers(conn, table, frame, *args, **kwargs):
        if table == "opt_offer_scores":  # after the send-time and affinity outputs were written
            raise RuntimeError("disk full")
        return real_copy(conn, table, frame, *args, **kwargs)

    monkeypatch.setattr(store, "copy_frame", copy_until_offers)
    with pytest.raises(RuntimeError, match="disk full"):
        training.retrain(fresh)
    assert store.current_run(fresh)["run_id"] == first.run_id
    assert store.recommendations(fresh).recommendation_id.tolist() == cards_before
    assert scalar(fresh, "SELECT count(*) FROM opt_model_runs") == runs_before
    assert scalar(fresh, "SELECT count(*) FROM opt_member_send_time WHERE run_id <> :r", r=first.run_id) == 0

    monkeypatch.setattr(store, "copy_frame", real_copy)
    second = training.retrain(fresh)  # and the next retrain replaces the proposals
    assert second.run_id > first.run_id
    statuses = dict(text_rows(fresh, "SELECT status, count(*) FROM recommendations WHERE run_id = :r GROUP BY 1", r=first.run_id))
    assert set(statuses) <= {"expired"} and statuses
    assert store.recommendations(fresh).recommendation_id.min() > max(cards_before)
    # Segments keep their keys and names from one retrain to the next.
    assert second.metrics["segments"]["kept_from_previous_run"] == second.metrics["segments"]["k"]


def text_rows(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).all()


def test_old_runs_are_pruned(fresh):
    for _ in range(store.KEEP_RUNS + 1):
        with fresh.begin() as conn:  # runs with no outputs, as if trained long ago
            conn.execute(text("INSERT INTO opt_model_runs (started_at, seconds, trained_by) VALUES (now(), 0, 'old')"))
    outcome = training.retrain(fresh)
    runs = [r for (r,) in text_rows(fresh, "SELECT run_id FROM opt_model_runs ORDER BY run_id")]
    assert len(runs) == store.KEEP_RUNS and runs[-1] == outcome.run_id


def test_apply_a_per_member_send_time_card(fresh):
    training.retrain(fresh)
    cards = store.recommendations(fresh, kind="send_time")
    if cards.empty:
        pytest.skip("this small demo produced no send-time card")
    card = cards.iloc[0]
    result = optimize_apply.apply(fresh, MANAGER, int(card.recommendation_id))
    treated = result["affected_members"] - result["holdout_members"]
    assert result["affected_members"] > 100 and 0 < result["holdout_members"] < 0.2 * result["affected_members"]
    assert scalar(fresh, "SELECT count(*) FROM campaign_member_send_hours WHERE recommendation_id = :i",
                  i=int(card.recommendation_id)) == treated
    # Each treated member gets the best hour of the run that made the card; the holdout keeps the campaign's.
    mismatched = scalar(fresh, """
        SELECT count(*) FROM campaign_member_send_hours h
        JOIN recommendations r USING (recommendation_id)
        JOIN opt_member_send_time st ON st.run_id = r.run_id AND st.member_id = h.member_id
        WHERE h.recommendation_id = :i AND h.send_hour <> st.best_hour""", i=int(card.recommendation_id))
    in_holdout = scalar(fresh, """
        SELECT count(*) FROM campaign_member_send_hours h JOIN campaign_holdouts c
          ON c.campaign_id = h.campaign_id AND c.member_id = h.member_id AND c.in_holdout
        WHERE h.recommendation_id = :i""", i=int(card.recommendation_id))
    assert mismatched == 0 and in_holdout == 0


def test_nothing_to_train_on_an_empty_database(db):
    outcome = training.retrain(db)
    assert outcome.skipped and outcome.run_id is None
    assert store.current_run(db) is None
    assert worker.run_once(db, ["retrain"])[0].status == "skipped"


def test_the_migration_rolls_back_and_forward(db):
    migrate.downgrade(db, "0002")
    with db.connect() as conn:
        assert conn.execute(text("SELECT to_regclass('opt_model_runs')")).scalar() is None
        assert conn.execute(text("SELECT count(*) FROM information_schema.columns WHERE table_name = 'recommendations' "
                                 "AND column_name = 'run_id'")).scalar() == 0
    migrate.upgrade(db)
    assert migrate.current_revision(db) == "0003" or migrate.current_revision(db) > "0003"
    with db.connect() as conn:
        assert conn.execute(text("SELECT to_regclass('campaign_holdouts')")).scalar() is not None

