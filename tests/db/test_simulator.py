"""The live simulator continues the demo's history with the same model (core.demo.world), on a
real PostgreSQL, with a fixed demo end and a simulated clock (no test depends on today):

- what it writes after the end is exactly what the history would have had;
- a stretch of simulated time looks like the same stretch one week earlier;
- a test created through core gets its members at once and, with nothing planted, is an A/A;
- applied changes (send hours, audience rules, an offer and its holdout) act as the truth says;
- written events are consistent with the data and never in the future; a database that goes
  away is waited for.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sqlalchemy import text

from core.access.auth import User
from core.demo import generator as demo
from core.demo import simulator, truth, world
from core.experiments import tests_repo
from core.platform.events import EVENT_CODES

UTC = timezone.utc
END = datetime(2026, 11, 11, 6, tzinfo=UTC)  # a Wednesday morning, no holiday in the weeks around
MANAGER = User("manager@example.com", "Manager", "manager")


def frame(db, sql: str, **params) -> pd.DataFrame:
    with db.connect() as conn:
        result = conn.execute(text(sql), params)
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def simulate(sim: simulator.Simulator, until: datetime, step: timedelta = timedelta(minutes=5)) -> pd.DataFrame:
    batches, now = [], sim.clock
    while now < pd.Timestamp(until):
        now = min(now + step, pd.Timestamp(until))
        batches.append(sim.step(now.to_pydatetime()))
    return pd.concat(batches, ignore_index=True)


@pytest.fixture
def small_world(db):
    data = demo.generate(seed=5, members=2500, campaigns=10, days=40, end=END)
    demo.load(db, data)
    return db, data


def test_the_simulator_writes_exactly_what_the_history_would_have(small_world):
    db, _ = small_world
    sim = simulator.Simulator(simulator.load_world(db, END), END)
    live = simulate(sim, END + timedelta(hours=10))
    longer = demo.generate(seed=5, members=2500, campaigns=10, days=40, end=END + timedelta(hours=10)).events
    history = longer[longer.event_time > pd.Timestamp(END)]
    key = ["event_time", "campaign_id", "member_id", "event_type"]
    assert len(live) > 500
    a = live[key].sort_values(key, ignore_index=True)
    b = history[key].sort_values(key, ignore_index=True)
    pd.testing.assert_frame_equal(a, b, check_dtype=False)
    assert np.allclose(live.revenue.sum(), history.revenue.sum())


@pytest.mark.slow
def test_a_simulated_day_looks_like_the_same_day_a_week_earlier(primary_db):
    """The default demo (seed 7, default size), one simulated day after its end against the
    same 24 hours a week earlier: every live KPI's count within ±25 %."""
    db = primary_db
    data = demo.generate(seed=7, members=15_000, campaigns=36, days=90, end=END)
    demo.load(db, data)
    sim = simulator.Simulator(simulator.load_world(db, END), END)
    live = simulate(sim, END + timedelta(days=1), step=timedelta(minutes=30))
    week = frame(db, "SELECT event_type, revenue FROM events WHERE event_time > :a AND event_time <= :b",
                 a=END - timedelta(days=7), b=END - timedelta(days=6))
    for name in ("send", "delivered", "open", "impression", "click", "conversion"):
        now, before = (live.event_type == EVENT_CODES[name]).sum(), (week.event_type == EVENT_CODES[name]).sum()
        assert before > 50 and abs(now / before - 1) <= 0.25, (name, now, before)
    revenue_now, revenue_before = live.revenue.sum(), week.revenue.astype(float).sum()
    assert abs(revenue_now / revenue_before - 1) <= 0.25, (revenue_now, revenue_before)


def test_a_new_test_gets_members_at_once_and_is_an_a_a(small_world):
    db, data = small_world
    campaign = int(data.campaigns[(data.campaigns.status == "live") & (data.campaigns.channel == "in_app")
                                  & (data.campaigns.campaign_id > len(truth.AB_TESTS))].campaign_id.iloc[0])
    test_id = tests_repo.create_test(db, MANAGER, campaign_id=campaign, name="Warmer greeting",
                                     hypothesis="A warmer greeting gets more clicks", primary_metric="clicked",
                                     variants={"control": 0.5, "warm": 0.5}, minimum_detectable_effect=0.05,
                                     alpha=0.05, start=True)
    with db.begin() as conn:  # created at the simulated moment END (the screen stamps the wall clock)
        conn.execute(text("UPDATE ab_tests SET started_at = :at, created_at = :at WHERE test_id = :t"), {"at": END, "t": test_id})
    sim = simulator.Simulator(simulator.load_world(db, END), END)
    simulate(sim, END + timedelta(minutes=1), step=timedelta(minutes=1))
    assigned = frame(db, "SELECT variant, count(*) AS n FROM ab_assignments WHERE test_id = :t GROUP BY 1", t=test_id)
    assert assigned.n.sum() > 100 and set(assigned.variant) == {"control", "warm"}  # within one simulated minute
    live = simulate(sim, END + timedelta(days=4), step=timedelta(hours=1))
    mine = live[live.campaign_id == campaign]
    sent = mine[mine.event_type == EVENT_CODES["send"]]
    assert sent.variant.notna().all() and set(sent.variant) == {"control", "warm"}
    clicked = mine[mine.event_type == EVENT_CODES["click"]].groupby("variant").member_id.nunique()
    reached = sent.groupby("variant").member_id.nunique()
    table = np.array([[clicked.get(v, 0), reached[v] - clicked.get(v, 0)] for v in ("control", "warm")])
    assert stats.chi2_contingency(table)[1] > 0.001  # nothing planted: no difference


def _campaign(data, **settings) -> world.Campaign:
    senders = demo.world_campaigns(data.seed, data.campaigns.assign(cadence_days=2, audience_share=1.0, paused_days_ago=np.nan), data.offers,
                                   data.merchants, data.ab_tests.iloc[0:0], data.ab_assignments.iloc[0:0], END)
    chosen = next(c for c in senders if c.channel == "email" and c.campaign_id > len(truth.AB_TESTS))
    for name, value in settings.items():
        setattr(chosen, name, value)
    chosen.sends_until = None
    return chosen


def _rates(campaign: world.Campaign, members: world.Members, days: int = 40) -> pd.DataFrame:
    events = world.events_between([campaign], members, END, END + timedelta(days=days))
    per_member = events.pivot_table(index="member_id", columns="event_type", values="event_ns", aggfunc="count", fill_value=0)
    return per_member.reindex(columns=[1, 2, 3, 5, 6], fill_value=0)


def test_an_applied_send_hour_lifts_opens_by_the_planted_amount(small_world):
    db, data = small_world
    members = world.Members.from_frame(data.members, data.seed)
    base = _campaign(data)
    audience = members.member_id[base.audience(members)]
    own = pd.Series(members.preferred_hour[base.audience(members)], index=audience)
    before = _rates(base, members)
    after = _rates(_campaign(data, member_send_hour=own), members)
    # the planted lift of an open at the preferred hour, against the campaign's fixed hour
    fixed_lift = truth.open_multiplier(np.full(len(audience), base.send_hour), own.to_numpy())
    expected = np.mean(np.minimum(truth.SEGMENT_RESPONSE[base.segment]["open"] * truth.CHANNEL_OPEN_FACTOR["email"]
                                  * truth.PREFERRED_HOUR_LIFT[0], 0.95)) / np.mean(np.minimum(
        truth.SEGMENT_RESPONSE[base.segment]["open"] * truth.CHANNEL_OPEN_FACTOR["email"] * fixed_lift, 0.95))
    ratio = (after[3].sum() / after[2].sum()) / (before[3].sum() / before[2].sum())
    assert abs(ratio / expected - 1) < 0.15, (ratio, expected)  # weekdays and holidays average out


def test_an_applied_audience_rule_adds_and_removes_members(small_world):
    db, data = small_world
    members = world.Members.from_frame(data.members, data.seed)
    base = _campaign(data)
    inside = members.member_id[base.audience(members)]
    outside = members.member_id[members.segment != base.segment][:200]
    changed = _campaign(data, added=outside, removed=inside[:100])
    sent = set(world.events_between([changed], members, END, END + timedelta(days=6)).member_id)
    assert set(outside) & sent and not set(inside[:100]) & sent


def test_an_applied_offer_moves_profit_as_planted_and_the_holdout_keeps_the_old_one(small_world):
    db, data = small_world
    population = demo.make_members(np.random.default_rng(1), data.seed, 20_000, END)
    members = world.Members.from_frame(population, data.seed)
    base = _campaign(data)
    base.added = members.member_id[members.segment == base.segment]  # the whole segment: enough sends to see it
    audience = members.member_id[base.audience(members)]
    offers = data.offers.merge(data.merchants, on="merchant_id").set_index("offer_id")
    # the planted best offer for this audience, by the truth's expected profit per send
    profit = {}
    for offer_id, o in offers.iterrows():
        profit[offer_id] = truth.expected_profit_per_send(
            data.seed, audience, base.segment, base.send_hour, 2, base.channel, o.category, o.reward_type,
            o.reward_value, 0.0).mean()
    best, worst = max(profit, key=profit.get), min(profit, key=profit.get)
    offer = lambda offer_id: world.Offer(int(offer_id), offers.loc[offer_id, "category"],
                                         offers.loc[offer_id, "reward_type"], float(offers.loc[offer_id, "reward_value"]))
    held = set(int(m) for m in audience[::2])  # the holdout keeps the offer the card replaced
    changed = _campaign(data, offer=offer(best), offer_of={m: offer(worst) for m in held}, added=base.added)
    events = world.events_between([changed], members, END, END + timedelta(days=90))
    sends = events[events.event_type == EVENT_CODES["send"]]
    conversions = events[events.event_type == EVENT_CODES["conversion"]]
    # profit of each send (a member converts at most once per send: key the conversion to its send)
    gain = (conversions.revenue - conversions.reward_cost).groupby(conversions.member_id).sum()
    per_member = pd.DataFrame({"sends": sends.groupby("member_id").size(), "gain": gain}).fillna(0)
    per_member["held"] = per_member.index.isin(held)
    treated, holdout = per_member[~per_member.held], per_member[per_member.held]
    realised = treated.gain.sum() / treated.sends.sum() - holdout.gain.sum() / holdout.sends.sum()
    # the ratio estimators' standard errors, clustered by member (delta method)
    se = lambda g: np.sqrt(((g.gain - g.sends * g.gain.sum() / g.sends.sum()) ** 2).sum()) / g.sends.sum()
    error = np.hypot(se(treated), se(holdout))
    planted = profit[best] - profit[worst]
    # in the planted direction, by the planted amount within its 99.7 % interval
    assert planted > 0 and realised > 0, (planted, realised, error)
    assert abs(realised - planted) < 3 * error, (realised, planted, error)


def test_the_simulator_reads_applied_settings_from_the_database(small_world):
    db, data = small_world
    campaign = int(data.campaigns[(data.campaigns.status == "live")
                                  & (data.campaigns.campaign_id > len(truth.AB_TESTS))].campaign_id.iloc[0])
    member = int(frame(db, "SELECT member_id FROM members WHERE segment = (SELECT segment FROM campaigns "
                           "WHERE campaign_id = :c) LIMIT 1", c=campaign).member_id.iloc[0])
    with db.begin() as conn:
        rec = conn.execute(text("INSERT INTO recommendations (campaign_id, kind, title, details, status) VALUES "
                                "(:c, 'offer', 't', CAST(:d AS jsonb), 'applied') RETURNING recommendation_id"),
                           {"c": campaign, "d": '{"change": {"before": 3, "after": 4}}'}).scalar()
        conn.execute(text("INSERT INTO campaign_holdouts VALUES (:c, :r, :m, true)"), {"c": campaign, "r": rec, "m": member})
        conn.execute(text("INSERT INTO campaign_member_send_hours VALUES (:c, :m, 21, :r)"), {"c": campaign, "r": rec, "m": member})
    loaded = next(c for c in simulator.load_campaigns(db, data.seed, END) if c.campaign_id == campaign)
    assert loaded.offer_of[member].offer_id == 3
    assert int(loaded.member_send_hour[member]) == 21


def test_an_offer_card_without_a_before_offer_does_not_stop_the_simulator(small_world):
    """A card whose details name no replaced offer (stored by hand, or by an older version)
    must not stop the reload: its holdout has no old offer to keep, so it gets the campaign's."""
    db, data = small_world
    live = data.campaigns[(data.campaigns.status == "live") & (data.campaigns.campaign_id > len(truth.AB_TESTS))]
    campaign, other = (int(c) for c in live.campaign_id.iloc[:2])
    members = frame(db, "SELECT member_id FROM members ORDER BY member_id LIMIT 2").member_id.astype(int).tolist()
    with db.begin() as conn:
        for c, details, m in [(campaign, '{"change": {"after": 4}}', members[0]),
                              (other, '{"change": {"before": 3, "after": 4}}', members[1])]:
            rec = conn.execute(text("INSERT INTO recommendations (campaign_id, kind, title, details, status) VALUES "
                                    "(:c, 'offer', 't', CAST(:d AS jsonb), 'applied') RETURNING recommendation_id"),
                               {"c": c, "d": details}).scalar()
            conn.execute(text("INSERT INTO campaign_holdouts VALUES (:c, :r, :m, true)"), {"c": c, "r": rec, "m": m})
    loaded = {c.campaign_id: c for c in simulator.load_campaigns(db, data.seed, END)}
    assert members[0] not in loaded[campaign].offer_of      # nothing to keep: the campaign's offer
    assert loaded[other].offer_of[members[1]].offer_id == 3  # the other card's holdout still keeps its own


def test_written_events_are_consistent_and_never_in_the_future(small_world):
    db, _ = small_world
    # the wall clock moves on from two hours after the data end: the extra load runs for the
    # whole 4 s (a clock that stood still left the load only the catch-up ticks: flaky counts)
    started = time.monotonic()
    wall = lambda: END + timedelta(hours=2, seconds=time.monotonic() - started)  # noqa: E731
    before = int(frame(db, "SELECT coalesce(max(event_id), 0) AS id FROM events").id.iloc[0])
    latest = frame(db, "SELECT max(event_time) AS t FROM events").t.iloc[0]
    report = simulator.run(db, seconds=4, rate=200, tick_seconds=0.25, seed=3, wall_clock=wall)
    clock = {"now": wall()}
    written = frame(db, f"""
        SELECT e.*, m.segment AS member_segment, m.device AS member_device, m.region_code AS member_region,
               m.notifications_opt_in, c.segment AS campaign_segment, c.channel, c.status,
               a.variant AS assigned_variant, t.status AS test_status
        FROM events e JOIN members m USING (member_id) JOIN campaigns c USING (campaign_id)
        LEFT JOIN ab_assignments a ON a.campaign_id = e.campaign_id AND a.member_id = e.member_id
        LEFT JOIN ab_tests t ON t.test_id = a.test_id
        WHERE e.event_id > {before}""")
    assert len(written) == report.events > 100
    assert written.event_time.max() <= pd.Timestamp(clock["now"])       # never in the future
    assert written.event_time.min() > pd.Timestamp(latest)  # it continues where the data end
    assert report.events < 50_000  # the world's two hours and 4 s of extra load, not hours of it
    assert (written.member_segment == written.campaign_segment).all()
    assert written[written.channel == "push"].notifications_opt_in.all()
    assert (written.device == written.member_device).all() and (written.region_code == written.member_region).all()
    tested = written[written.test_status == "running"]
    assert len(tested) and (tested.variant == tested.assigned_variant).all()
    conversions = written[written.event_type == EVENT_CODES["conversion"]]
    others = written[written.event_type != EVENT_CODES["conversion"]]
    assert others.revenue.isna().all() and others.reward_cost.isna().all()
    assert (conversions.revenue > 0).all() and (conversions.reward_cost <= conversions.revenue).all()


def test_a_bad_speed_or_rate_is_refused_with_a_clear_message(small_world):
    db, _ = small_world
    with pytest.raises(ValueError, match="--speed must be more than 0"):
        simulator.run(db, seconds=1, speed=0)
    with pytest.raises(ValueError, match="--rate must be zero or more"):
        simulator.Simulator(simulator.load_world(db, END), END, rate=-5)


def test_an_unreachable_database_is_waited_for(backends):
    from core.platform.db import make_engine

    unreachable = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none", pool_size=1)
    messages = []
    report = simulator.run(unreachable, seconds=2.5, progress=messages.append)
    assert report.events == 0 and any("database unreachable" in m for m in messages)
