"""The live event simulator on a real PostgreSQL with a small demo data set: what it writes is
consistent with the data (live campaigns, their segments, opt-in, A/B assignments, devices and
regions), never in the future; its funnel follows the demo's planted truth; its rate holds."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

from core.demo import generator as demo
from core.demo import truth
from core.platform.events import EVENT_CODES
from core.demo import simulator

UTC = timezone.utc


@pytest.fixture
def small_demo(db):
    data = demo.generate(seed=5, members=900, campaigns=8, days=20,
                         end=datetime.now(UTC).replace(minute=0, second=0, microsecond=0))
    demo.load(db, data)
    return db


def frame(db, sql: str) -> pd.DataFrame:
    with db.connect() as conn:
        result = conn.execute(text(sql))
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def test_simulated_events_are_consistent_with_the_data(small_demo):
    db = small_demo
    before = int(frame(db, "SELECT coalesce(max(event_id), 0) AS id FROM events").id.iloc[0])
    started = datetime.now(UTC)
    report = simulator.run(db, rate=400, seconds=3, burst_every=1, tick_seconds=0.25, seed=3)
    finished = datetime.now(UTC)
    written = frame(db, f"""
        SELECT e.*, m.segment AS member_segment, m.device AS member_device, m.region_code AS member_region,
               m.notifications_opt_in, c.segment AS campaign_segment, c.channel, c.status,
               a.variant AS assigned_variant, t.status AS test_status
        FROM events e JOIN members m USING (member_id) JOIN campaigns c USING (campaign_id)
        LEFT JOIN ab_assignments a ON a.campaign_id = e.campaign_id AND a.member_id = e.member_id
        LEFT JOIN ab_tests t ON t.test_id = a.test_id
        WHERE e.event_id > {before}""")
    assert len(written) == report.events > 3 * 400 * 0.8
    assert report.bursts >= 1 and report.batches >= 8
    assert written.event_time.max() <= pd.Timestamp(finished)       # never in the future
    assert written.event_time.min() >= pd.Timestamp(started) - pd.Timedelta(seconds=2)
    assert (written.status == "live").all()
    assert (written.member_segment == written.campaign_segment).all()
    assert written[written.channel == "push"].notifications_opt_in.all()
    assert (written.device == written.member_device).all() and (written.region_code == written.member_region).all()
    tested = written[written.test_status == "running"]
    assert len(tested) and (tested.variant == tested.assigned_variant).all()
    assert written[written.assigned_variant.isna()].variant.isna().all()
    conversions = written[written.event_type == EVENT_CODES["conversion"]]
    others = written[written.event_type != EVENT_CODES["conversion"]]
    assert others.revenue.isna().all() and others.reward_cost.isna().all()
    assert (conversions.revenue > 0).all() and (conversions.reward_cost <= conversions.revenue).all()
    # every stage follows its member's send to that campaign
    sends = written[written.event_type == 1].groupby(["campaign_id", "member_id"]).event_time.min()
    later = written[written.event_type > 1].join(sends.rename("sent_at"), on=["campaign_id", "member_id"])
    assert later.sent_at.notna().all() and (later.event_time >= later.sent_at).all()


def test_funnel_follows_the_planted_truth(small_demo):
    population = simulator.Population.load(small_demo)
    campaigns = simulator.load_campaigns(small_demo, population, datetime.now(UTC))
    campaign = next(c for c in campaigns if c.channel == "email" and not c.click_multiplier)
    rng = np.random.default_rng(1)
    n = 200_000
    members = campaign.audience[rng.integers(0, len(campaign.audience), n)]
    sent = np.full(n, np.datetime64("2026-11-11T10:00:00", "ns"))  # a Wednesday
    events = simulator.events_frame(simulator.funnel_events(rng, [campaign], population, np.zeros(n, int), members, sent))
    counts = events.event_type.value_counts()
    response = truth.SEGMENT_RESPONSE[campaign.segment]

    def close(observed, trials, p):  # within 4.5 binomial standard errors
        assert abs(observed / trials - p) < 4.5 * np.sqrt(p * (1 - p) / trials), (observed / trials, p)

    close(counts[2], n, truth.DELIVERY_RATE["email"])
    close(counts[3], counts[2], response["open"] * truth.CHANNEL_OPEN_FACTOR["email"] * truth.WEEKDAY_FACTOR[2])
    close(counts[4], counts[3], truth.IMPRESSION_GIVEN_OPEN["email"])
    close(counts[5], counts[4], response["click"])
    lift = truth.REWARD_TYPE_LIFT if truth.BEST_REWARD_TYPE[campaign.segment] == campaign.reward_type else 1.0
    close(counts[6], counts[5], response["convert"] * lift)
    assert (events.event_time >= pd.Timestamp("2026-11-11T10:00:00Z")).all()
    conversion_revenue = events[events.event_type == 6].revenue
    assert conversion_revenue.mean() == pytest.approx(truth.CATEGORIES[campaign.category][0], rel=0.1)


def test_rate_holds_steady_and_nothing_is_in_the_future(small_demo):
    population = simulator.Population.load(small_demo)
    campaigns = simulator.load_campaigns(small_demo, population, datetime.now(UTC))
    sim = simulator.Simulator(population, campaigns, rate=300, burst_every=0, seed=2)
    now = datetime(2026, 11, 11, 10, 0, tzinfo=UTC)
    per_step = []
    for step in range(1200):  # ten minutes of half-second batches, simulated clock
        now += timedelta(milliseconds=500)
        batch = sim.step(now, monotonic=step * 0.5)
        assert batch.empty or batch.event_time.max() <= pd.Timestamp(now)
        per_step.append(len(batch))
    steady = np.array(per_step[240:])  # after two minutes, when every stage is flowing
    assert steady.mean() / 0.5 == pytest.approx(300, rel=0.05)
    assert (steady / 0.5 < 300 * 1.5).all()  # no batch far above the rate without a burst
    kinds = sim.step(now + timedelta(seconds=30), monotonic=630).event_type
    assert set(kinds) == set(EVENT_CODES.values())  # every stage of the funnel is flowing


def test_burst_sends_to_a_slice_of_one_campaigns_audience(small_demo):
    population = simulator.Population.load(small_demo)
    campaigns = simulator.load_campaigns(small_demo, population, datetime.now(UTC))
    sim = simulator.Simulator(population, campaigns, rate=0, burst_every=60, burst_share=0.5, seed=4)
    start = datetime(2026, 11, 11, 10, 0, tzinfo=UTC)
    assert sim.step(start, monotonic=0).empty           # rate 0, the first burst is 60 s away
    burst = sim.step(start + timedelta(seconds=1), monotonic=61)
    sends = burst[burst.event_type == 1]
    assert sends.campaign_id.nunique() == 1 and sends.member_id.is_unique
    campaign = next(c for c in campaigns if c.campaign_id == sends.campaign_id.iloc[0])
    assert len(sends) == min(int(len(campaign.audience) * 0.5), sim.burst_max)
    assert sim.report.bursts == 1


def test_a_bad_rate_is_refused_with_a_clear_message(small_demo):
    with pytest.raises(ValueError, match="--rate must be zero or more"):
        simulator.Simulator(simulator.Population.load(small_demo), [], rate=-5)


def test_an_unreachable_database_is_waited_for_not_a_crash():
    from sqlalchemy import create_engine

    messages = []
    unreachable = create_engine("postgresql+psycopg://postgres@127.0.0.1:1/x", connect_args={"connect_timeout": 1})
    report = simulator.run(unreachable, rate=100, seconds=2.5, progress=messages.append)
    assert report.events == 0 and any("database unreachable" in m for m in messages)
