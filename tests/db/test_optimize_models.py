"""Each optimization model recovers the demo's planted truth (core/demo/truth.py) within a stated
tolerance, and each held-out evaluation beats its baseline.

The shared test demo (3,000 members, 12 campaigns) sends each member too few campaigns for
per-member send times, so this module loads a larger demo once: 8,000 members, 36 campaigns,
90 days (about 1.7 M events) in a fresh database, and reads the training inputs from it once.
Tolerances (why they are what they are) are in docs/optimization.md.
"""
from __future__ import annotations

import json
import os
from datetime import datetime

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score
from sqlalchemy import text

from core.platform import db as core_db
from core.demo import generator as demo
from core.demo import truth as demo_truth
from core.platform import rollup
from core.optimize import affinity, inputs, offers, segments, send_time, uplift
from tests.conftest import PRIMARY_BACKEND

# A fixed seed and end, never "now": what the models see must not move with the calendar. The
# tolerances below were checked over several seeds and every end day of a week
# (bench/check_model_tolerances.py sets SWIPESAVVY_TEST_DEMO_SEED and _END in turn).
SEED = int(os.environ.get("SWIPESAVVY_TEST_DEMO_SEED", "23"))
END = datetime.fromisoformat(os.environ.get("SWIPESAVVY_TEST_DEMO_END", "2026-11-02T00:00:00+00:00"))


@pytest.fixture(scope="module")
def large_demo(backends):
    backend = backends[PRIMARY_BACKEND]
    url = backend.url(backend.create_database(template=backend.template))
    engine = core_db.make_engine(url, pool_size=2)
    data = demo.generate(seed=SEED, members=8000, campaigns=36, days=90, end=END)
    demo.load(engine, data)
    rollup.refresh_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def training_inputs(large_demo):
    with large_demo.connect() as conn:
        latest = inputs.latest_event_time(conn)
        window = inputs.Window.ending(pd.Timestamp(latest).ceil("min").to_pydatetime())
        return inputs.load(conn, window)


@pytest.fixture(scope="module")
def timing(training_inputs):
    return send_time.fit(training_inputs.send_cells, training_inputs.members)


def categories(data) -> list[str]:
    return sorted(data.offers.category.unique())


# --- send time ------------------------------------------------------------------------------

def test_send_time_learns_the_planted_open_lift(timing, training_inputs):
    # Planted: ×2.2 at the preferred hour, ×1.5 one hour off, ×1 beyond.
    assert timing.kernel[0] == pytest.approx(demo_truth.PREFERRED_HOUR_LIFT[0], abs=0.3)
    assert timing.kernel[1] == pytest.approx(demo_truth.PREFERRED_HOUR_LIFT[1], abs=0.25)
    assert timing.kernel[2] == pytest.approx(1.0, abs=0.15)
    # Planted weekday factor (normalised to mean 1 per segment): each segment's estimate within
    # 4 standard errors of a Poisson count ratio (factor / sqrt(opens that segment-day)), at least
    # ±0.06. A fixed tolerance failed on some demo end days: the lapsed segment opens ~9 % and its
    # Saturday/Sunday gap (0.05) is within its noise.
    planted = demo_truth.WEEKDAY_FACTOR / demo_truth.WEEKDAY_FACTOR.mean()
    cells = training_inputs.send_cells
    segment_of = training_inputs.members.set_index("member_id").segment.astype(str)
    names = np.unique(training_inputs.members.segment.astype(str))
    opens = (cells.assign(segment=segment_of.reindex(cells.member_id).to_numpy())
             .pivot_table(index="segment", columns="local_weekday", values="opens", aggfunc="sum")
             .reindex(index=names, columns=range(7)).fillna(0).to_numpy())
    tolerance = np.maximum(0.06, 4 * planted / np.sqrt(np.maximum(opens, 1)))
    assert np.all(np.abs(timing.weekday_factor - planted) <= tolerance)
    # Over all segments (weighted by opens): Saturday highest, Monday lowest.
    pooled = (timing.weekday_factor * opens).sum(axis=0) / opens.sum(axis=0)
    assert np.argmax(pooled) == 5 and np.argmin(pooled) == 0


def test_send_time_recovers_planted_hours_for_members_with_enough_history(timing, training_inputs):
    planted = demo_truth.preferred_hour(SEED, timing.member_ids)
    best = timing.best_hour()
    personal = timing.personal
    assert personal.sum() > 0.25 * len(best)
    # Members with a personal estimate: the exact planted hour for at least 65 %, within an hour 85 %.
    assert (best[personal] == planted[personal]).mean() >= 0.65
    assert (np.abs(best[personal] - planted[personal]) <= 1).mean() >= 0.85
    # Members sent at their planted hour at least 20 times: exact for 80 % of those not lapsed
    # (a lapsed member's 9 % open rate leaves 20 sends ambiguous: they fall back to their
    # segment's hour), within an hour for 85 % of all. Those of them with a personal estimate: exact
    # for 90 %, within an hour for 98 %.
    cells = training_inputs.send_cells
    index = pd.Index(timing.member_ids).get_indexer(cells.member_id)
    at_planted = np.bincount(index, cells.sends * (cells.local_hour.to_numpy() == planted[index]), len(best))
    enough = at_planted >= 20
    assert enough.sum() >= 300
    lapsed = training_inputs.members.set_index("member_id").segment.reindex(timing.member_ids).to_numpy() == "lapsed"
    assert (best[enough & ~lapsed] == planted[enough & ~lapsed]).mean() >= 0.80
    assert (np.abs(best[enough] - planted[enough]) <= 1).mean() >= 0.85
    sure_history = enough & personal
    # 85 % less twice its binomial error over these members (about 1,000-2,300), so the floor
    # does not fail on a demo's draw: measured 0.89-0.91 for seed 23 over end days 2026-11-02 … 05,
    # 0.86-0.87 for seed 7 (bench/check_model_tolerances.py --seeds 7 11 23)
    floor = 0.85 - 2 * np.sqrt(0.85 * 0.15 / max(int(sure_history.sum()), 1))
    assert (best[sure_history] == planted[sure_history]).mean() >= floor
    assert (np.abs(best[sure_history] - planted[sure_history]) <= 1).mean() >= 0.98
    # The confidence means what it says: members at ≥ 0.9 are right at least 85 % of the time.
    sure = personal & (timing.confidence() >= 0.9)
    assert sure.sum() > 100 and (best[sure] == planted[sure]).mean() >= 0.85


def test_send_time_held_out_weeks_beat_the_other_hours(training_inputs):
    cells = training_inputs.send_cells
    fitted = send_time.fit(cells[~cells.held_out], training_inputs.members)
    check = send_time.evaluate_held_out(fitted, cells[cells.held_out])
    assert check.sends_at_best > 5_000
    assert check.rate_ratio.low > 1.2          # ×1.5–1.6 on the demo; random timing would be ×1
    assert check.open_rate_at_best.low > check.open_rate_other.high


def test_send_time_falls_back_to_the_segment_without_history():
    members = pd.DataFrame({"member_id": [1, 2, 3], "segment": ["a", "a", "a"]})
    cells = pd.DataFrame({"member_id": [1] * 4, "campaign_id": [1] * 4, "local_hour": [9, 9, 18, 18],
                          "local_weekday": [0, 1, 0, 1], "sends": [20, 20, 20, 20], "opens": [2, 3, 12, 13],
                          "clicks": [0, 0, 1, 1]})
    fitted = send_time.fit(cells, members)
    assert not fitted.personal[1] and not fitted.personal[2]
    assert fitted.best_hour()[1] == fitted.best_hour()[2] == fitted.segment_best_hour()[0]


# --- affinity -------------------------------------------------------------------------------

def test_affinity_beats_popularity_on_the_held_out_weeks(training_inputs):
    check = affinity.evaluate_held_out(training_inputs.category_engagement, training_inputs.members,
                                       categories(training_inputs))
    assert check.members > 2_000
    assert check.model.low > check.popularity.high
    assert check.model.estimate >= check.own_history.estimate


def test_affinity_recovers_planted_favourites(training_inputs):
    names = categories(training_inputs)
    fitted = affinity.fit(training_inputs.category_engagement, training_inputs.members, names)
    scores = fitted.matrix("score", 1.0)
    exposed = fitted.matrix("impressions", 0).to_numpy() > 0
    segments = training_inputs.members.set_index("member_id").segment.reindex(scores.index).to_numpy()
    first, second = demo_truth.favourite_categories(SEED, scores.index.to_numpy(), segments)
    columns = np.array(scores.columns)
    favourite = (columns[None, :] == first[:, None]) | (columns[None, :] == second[:, None])
    values = scores.to_numpy()
    # Favourite (member, category) pairs score higher than the others: AUC ≥ 0.6 (0.5 = no signal).
    assert roc_auc_score(favourite[exposed], values[exposed]) >= 0.60
    assert values[favourite & exposed].mean() > 1 > values[~favourite & exposed].mean()
    # A member's top category is a planted favourite far more often than a random exposed one.
    engaged = (fitted.matrix("clicks", 0) + fitted.matrix("conversions", 0)).sum(axis=1).to_numpy() >= 5
    top = np.where(exposed, values, -np.inf).argmax(axis=1)
    hit = favourite[np.arange(len(top)), top]
    chance = (favourite & exposed).sum(axis=1) / np.maximum(exposed.sum(axis=1), 1)
    assert engaged.sum() > 500
    assert hit[engaged].mean() >= 1.5 * chance[engaged].mean()


# --- offers ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def offer_fit(training_inputs):
    data = training_inputs
    cells = offers.training_cells(data.outcomes, data.members, data.campaigns, data.offers)
    values = (data.members.segment.unique(), data.campaigns.channel.unique(), categories(data), data.members.device.unique())
    return cells, values, offers.fit(cells, data.conversion_values, *values)


def test_offer_model_finds_each_segments_planted_reward_type(offer_fit):
    cells, _, model = offer_fit
    effects = model.reward_type_effect().set_index("segment")
    conversions = cells.groupby(["segment", "reward_type"]).conversions.sum().unstack(fill_value=0)
    identifiable = [s for s in effects.index if {"percent", "fixed"} <= set(conversions.columns)
                    and conversions.loc[s].min() >= 100]
    assert len(identifiable) >= 2  # which segments' campaigns carry both reward types depends on the seed (2-4)
    for segment in identifiable:
        ratio = effects.loc[segment, "odds_ratio_percent"]
        # A claim (a 90 % interval that excludes 1) is on the planted side. Since favourite
        # categories depend on the segment and conversion on the basket, category, reward type
        # and reward value are entangled across a segment's few campaigns, so some segments make
        # no claim; none may make a wrong one.
        low, high = effects.loc[segment, ["low", "high"]]
        if low > 1 or high < 1:  # (NaN: no claim)
            planted_percent = demo_truth.BEST_REWARD_TYPE[segment] == "percent"
            assert (low > 1) == planted_percent, (segment, ratio, low, high)


def _sorted(cells: pd.DataFrame) -> pd.DataFrame:
    return cells.sort_values(list(cells.columns), ignore_index=True)


def test_an_applied_offer_card_does_not_relabel_what_was_earned_before_it(large_demo, training_inputs):
    """Outcomes count for the offer they were earned under. Offer cards applied to several
    campaigns (each to an offer of the other reward type), with no event since, leave the offer
    model's cells as they were; reading each campaign's outcomes as its current offer's (as the
    retrain did) would move all of them to the new reward type."""
    data = training_inputs
    before = offers.training_cells(data.outcomes, data.members, data.campaigns, data.offers)
    switched = {}
    for campaign in data.campaigns.itertuples():
        other = data.offers[data.offers.reward_type != campaign.reward_type]
        if len(other) and len(switched) < 6:
            switched[int(campaign.campaign_id)] = (int(campaign.offer_id), int(other.offer_id.iloc[0]))
    assert len(switched) >= 3
    with large_demo.connect() as conn:
        transaction = conn.begin()  # rolled back: the module's other tests see the demo as it was
        try:
            for campaign_id, (old, new) in switched.items():
                conn.execute(text("UPDATE campaigns SET offer_id = :new WHERE campaign_id = :campaign_id"),
                             {"new": new, "campaign_id": campaign_id})
                conn.execute(text("INSERT INTO recommendations (campaign_id, kind, title, details, status, applied_at) "
                                  "VALUES (:campaign_id, 'offer', 'Switch the offer', CAST(:details AS jsonb), 'applied', :at)"),
                             {"campaign_id": campaign_id, "at": data.window.as_of,
                              "details": json.dumps({"change": {"before": old, "after": new}})})
            after = inputs.load(conn, data.window)
        finally:
            transaction.rollback()
    assert after.campaigns.set_index("campaign_id").offer_id.loc[list(switched)].tolist() == [n for _, n in switched.values()]
    cells = offers.training_cells(after.outcomes, after.members, after.campaigns, after.offers)
    pd.testing.assert_frame_equal(_sorted(cells), _sorted(before))
    current = after.outcomes.campaign_id.map(after.campaigns.set_index("campaign_id").offer_id)
    relabelled = offers.training_cells(after.outcomes.assign(offer_id=current), after.members, after.campaigns,
                                       after.offers)
    moved = relabelled[relabelled.campaign_id.isin(list(switched))].groupby("campaign_id").reward_type.unique()
    was = before[before.campaign_id.isin(list(switched))].groupby("campaign_id").reward_type.unique()
    assert all(set(moved[c]) != set(was[c]) for c in switched)


def test_reward_type_intervals_hold_their_estimate_or_make_no_claim(offer_fit):
    """Each segment's interval contains its own odds ratio, and is missing (no claim) exactly
    where too few of the refits' campaign draws give the segment clicks under both reward
    types: a refit without one of them fits the penalty's 0 (an odds ratio of exactly 1), which
    once pulled intervals to end at 1.0 or leave out their estimate (deal seeker 0.93 against
    [0.95, 1.24])."""
    cells, _, model = offer_fit
    effects = model.reward_type_effect().set_index("segment")
    identified_share = dict(zip(model.space.segments, model.boot_identified.mean(axis=0)))
    assert model.boot_identified.shape == (len(model.boot_click), len(model.space.segments))
    for segment, row in effects.iterrows():
        # recomputed here from the cells: does the segment have clicks under both reward types at all?
        clicked = cells[(cells.segment == segment) & (cells.clicks > 0)].reward_type
        if not {"percent", "fixed"} <= set(clicked):
            assert identified_share[segment] == 0 and pd.isna(row.low), segment
        if identified_share[segment] < offers.MIN_IDENTIFIED_SHARE:
            assert pd.isna(row.low) and pd.isna(row.high), segment
            continue
        assert row.low <= row.odds_ratio_percent <= row.high, (segment, row.to_dict())
        assert row.low < row.high, segment



def test_best_offer_per_segment_has_the_planted_reward_type(offer_fit, training_inputs):
    cells, _, model = offer_fit
    data = training_inputs
    effects = model.reward_type_effect().set_index("segment")
    for segment, best_type in demo_truth.BEST_REWARD_TYPE.items():
        low, high = effects.loc[segment, ["low", "high"]]
        if pd.isna(low) or low < 1 < high:
            continue  # not identified in this data (too few conversions in one reward type): no claim
        campaign = data.campaigns[data.campaigns.segment == segment].iloc[0]
        audience = data.members[data.members.segment == segment][["member_id", "segment", "device"]]
        scores, _ = offers.score_offers(model, campaign, data.offers, offers.audience_groups(audience))
        top = scores.sort_values("profit_per_send", ascending=False).iloc[0]
        assert data.offers.set_index("offer_id").loc[top.offer_id, "reward_type"] == best_type, segment
        assert top.profit_low <= top.profit_per_send <= top.profit_high


def test_offer_model_beats_segment_average_on_unseen_campaigns(offer_fit):
    cells, values, _ = offer_fit
    check = offers.evaluate_held_out_campaigns(cells, *values)
    assert check.model_error < check.baseline_error
    assert check.model_log_loss < check.baseline_log_loss


# --- uplift and segments on the demo ----------------------------------------------------------

def test_uplift_runs_on_every_demo_experiment(training_inputs):
    data = training_inputs
    rows = uplift.experiment_uplift(data.experiment_units, data.outcomes, data.members, data.window.as_of, bootstrap=30)
    tested = {(r["test_id"], r["variant"]) for r in rows}
    assert (1, "treatment") in tested and (4, "b") in tested
    winner = next(r for r in rows if r["test_id"] == 1 and r["outcome"] == "clicked")
    assert winner["curve"]["average_effect"] > 0  # planted: treatment clicks ×1.35
    assert all(np.isfinite(r["qini_coefficient"]) for r in rows)


def test_segments_are_chosen_named_and_stable(training_inputs):
    data = training_inputs
    features = segments.member_features(data.activity, data.members.member_id.to_numpy(), data.window.as_of, 120)
    first = segments.fit(features)
    assert first.k in segments.K_RANGE and first.k == max(first.silhouette, key=first.silhouette.get)
    assert first.profiles.name.is_unique and len(first.labels) == len(features)
    # Retrained on 90 % of the members: every segment keeps its key and name.
    again = segments.fit(features.sample(frac=0.9, random_state=3), previous=first.profiles, seed=5)
    assert again.matched == first.k
    assert set(again.profiles.name) == set(first.profiles.name)
    common = again.labels.index
    assert (again.labels == first.labels.reindex(common)).mean() > 0.95
