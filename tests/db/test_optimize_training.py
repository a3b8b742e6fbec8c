"""A retrain publishes every model output and the cards atomically: a second worker skips, a
retrain that fails half-way leaves the previous results in place, old proposals expire, and a
per-member send-time card applies with its holdout. Also the migration's downgrade.

A small demo (1,500 members, 10 campaigns, 45 days) is trained once per session and shared
read-only (`shared_trained`, also used by the app and browser tests, which copy it before they
change anything); the retrain life-cycle tests below run in order on a database of their own.
"""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import text

from core.platform import db as core_db
from core import worker
from core.demo import generator as demo
from core.platform import migrate
from core.platform import rollup
from core.access.auth import User
from core.platform.jobs import try_exclusive
from core.optimize import apply as optimize_apply
from core.optimize import recommendations as cards_module
from core.optimize import store, training
from tests.conftest import PRIMARY_BACKEND

# A fixed end (it was the hour the tests ran, so the data changed every hour): with this one the
# first retrain keeps a small cluster of outliers that the next retrain's sample barely holds, the
# case where the next retrain renumbered two segments (tests/db: keeps_segments, failed in CI).
END = datetime(2026, 11, 29, 10, 0, tzinfo=timezone.utc)
MANAGER = User("manager@swipesavvy.example", "Manager", "manager")
OUTPUT_TABLES = ["opt_member_send_time", "opt_segment_send_time", "opt_member_affinity", "opt_segment_affinity",
                 "opt_offer_scores", "opt_segments", "opt_member_segments", "opt_campaign_segment_roi"]


_SHARED: dict = {}


def small_demo(backends, template: str | None = None):
    """A new database with the small demo loaded (or a copy of `template`); returns its engine."""
    backend = backends[PRIMARY_BACKEND]
    name = backend.create_database(template=template or backend.template)
    engine = core_db.make_engine(backend.url(name), pool_size=3)
    engine.database_name = name
    if template is None:
        demo.load(engine, demo.generate(seed=5, members=1500, campaigns=10, days=45, end=END))
        rollup.refresh_all(engine)
    return engine


def shared_trained(backends) -> tuple:
    """(engine, first retrain's outcome) of the session's trained small demo. Read-only."""
    if "engine" not in _SHARED:
        engine = small_demo(backends)
        outcome = training.retrain(engine)
        assert not outcome.skipped, outcome.detail
        _SHARED.update(engine=engine, outcome=outcome)
    return _SHARED["engine"], _SHARED["outcome"]


def copy_of_shared_trained(backends):
    """A private copy of the trained demo to change (CREATE DATABASE … TEMPLATE; call it before
    anything else connects to the shared one)."""
    engine, _ = shared_trained(backends)
    engine.dispose()  # a template must have no open connections: close ours, end any others
    with backends[PRIMARY_BACKEND].admin.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": engine.database_name})
    return small_demo(backends, template=engine.database_name)


@pytest.fixture(scope="module")
def trained(backends):
    return shared_trained(backends)


@pytest.fixture(scope="module")
def lifecycle(backends):
    """One database for the ordered life-cycle tests: first retrain, failure, next retrain, apply."""
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
    selection = metrics["recommendations"]
    assert selection["shown"] == len(cards) and selection["candidates"] >= len(cards)
    assert selection["candidates"] == selection["shown"] + sum(selection["suppressed"].values())
    for card in cards.itertuples():
        assert cards_module.MIN_CONFIDENCE <= card.confidence <= cards_module.MAX_CONFIDENCE < 1
        assert card.kind in cards_module.KIND_LABELS and card.kind != "budget"  # only mechanisms the product has
        assert card.ease == cards_module.EASE[card.kind]
        evidence = card.details["evidence"]
        revenue, spend = evidence["campaign_revenue_per_week"], evidence["campaign_cost_per_week"]
        if card.impact_mean > revenue + spend:  # above what the campaign earns and spends: the card says why
            assert card.details["above_revenue_plus_cost"] and "because" in card.details["why"]
        else:
            assert not card.details["above_revenue_plus_cost"]
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


def test_a_retrain_that_fails_half_way_leaves_the_previous_results(lifecycle, monkeypatch):
    first = training.retrain(lifecycle)
    cards_before = store.recommendations(lifecycle).recommendation_id.tolist()
    runs_before = scalar(lifecycle, "SELECT count(*) FROM opt_model_runs")
    real_copy = store.copy_frame

    def copy_until_offers(conn, table, frame, *args, **kwargs):
        if table == "opt_offer_scores":  # after the send-time and affinity outputs were written
            raise RuntimeError("disk full")
        return real_copy(conn, table, frame, *args, **kwargs)

    monkeypatch.setattr(store, "copy_frame", copy_until_offers)
    with pytest.raises(RuntimeError, match="disk full"):
        training.retrain(lifecycle)
    assert store.current_run(lifecycle)["run_id"] == first.run_id
    assert store.recommendations(lifecycle).recommendation_id.tolist() == cards_before
    assert scalar(lifecycle, "SELECT count(*) FROM opt_model_runs") == runs_before
    assert scalar(lifecycle, "SELECT count(*) FROM opt_member_send_time WHERE run_id <> :r", r=first.run_id) == 0


def test_the_next_retrain_replaces_proposals_keeps_segments_and_prunes_runs(lifecycle):
    previous = store.current_run(lifecycle)
    assert previous is not None, "runs after the failure test"
    cards_before = store.recommendations(lifecycle).recommendation_id.tolist()
    for _ in range(store.KEEP_RUNS):
        with lifecycle.begin() as conn:  # runs with no outputs, as if trained long ago
            conn.execute(text("INSERT INTO opt_model_runs (started_at, seconds, trained_by) VALUES (now(), 0, 'old')"))
    second = training.retrain(lifecycle)
    assert second.run_id > previous["run_id"]
    statuses = dict(text_rows(lifecycle, "SELECT status, count(*) FROM recommendations WHERE run_id = :r GROUP BY 1",
                              r=int(previous["run_id"])))
    assert statuses and set(statuses) == {"expired"}
    assert store.recommendations(lifecycle).recommendation_id.min() > max(cards_before)
    # Segments keep their keys and names from one retrain to the next.
    assert second.metrics["segments"]["kept_from_previous_run"] == second.metrics["segments"]["k"]
    runs = [r for (r,) in text_rows(lifecycle, "SELECT run_id FROM opt_model_runs ORDER BY run_id")]
    assert len(runs) == store.KEEP_RUNS and runs[-1] == second.run_id


def text_rows(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).all()


def test_apply_a_per_member_send_time_card(lifecycle):
    cards = store.recommendations(lifecycle, kind="send_time")
    assert not cards.empty, "the small demo has a send-time card after the retrains above"
    card = cards.iloc[0]
    result = optimize_apply.apply(lifecycle, MANAGER, int(card.recommendation_id))
    treated = result["affected_members"] - result["holdout_members"]
    assert result["affected_members"] > 100 and 0 < result["holdout_members"] < 0.2 * result["affected_members"]
    assert scalar(lifecycle, "SELECT count(*) FROM campaign_member_send_hours WHERE recommendation_id = :i",
                  i=int(card.recommendation_id)) == treated
    # Each treated member gets the best hour of the run that made the card; the holdout keeps the campaign's.
    mismatched = scalar(lifecycle, """
        SELECT count(*) FROM campaign_member_send_hours h
        JOIN recommendations r USING (recommendation_id)
        JOIN opt_member_send_time st ON st.run_id = r.run_id AND st.member_id = h.member_id
        WHERE h.recommendation_id = :i AND h.send_hour <> st.best_hour""", i=int(card.recommendation_id))
    in_holdout = scalar(lifecycle, """
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

