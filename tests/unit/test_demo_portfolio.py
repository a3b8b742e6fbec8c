"""A demo programme of many campaigns (the load tests' 1,500) sends a member about as many offers
as the default one: each campaign reaches proportionally fewer of its segment beyond
core.demo.truth.PORTFOLIO_REACH campaigns. Without it, 30 days of 1,500 campaigns were 300 M events
and the generator was killed for memory at 23 GB."""
from __future__ import annotations

from datetime import datetime, timezone

import numpy as np

from core.demo import generator, truth

END = datetime(2026, 11, 2, tzinfo=timezone.utc)


def test_audience_shares_shrink_only_beyond_the_portfolio_reach():
    ids = np.arange(1, 2_001)
    plain = truth.campaign_audience_share(7, ids)
    assert np.array_equal(truth.campaign_audience_share(7, ids, portfolio=truth.PORTFOLIO_REACH), plain)
    large = truth.campaign_audience_share(7, ids, portfolio=1_500)
    tests = ids <= len(truth.AB_TESTS)  # the experiments keep their whole segment: they need the power
    assert np.array_equal(large[tests], plain[tests])
    assert np.allclose(large[~tests], plain[~tests] * truth.PORTFOLIO_REACH / 1_500)


def sends_per_member_day(campaigns: int, members: int = 2_000, days: int = 4) -> float:
    data = generator.generate(seed=7, members=members, campaigns=campaigns, days=days, end=END)
    sends = int((data.events.event_type == 1).sum())
    return sends / members / days


def test_a_large_programme_sends_a_member_about_as_much_as_the_default_one():
    default = sends_per_member_day(generator.DEFAULT_CAMPAIGNS)
    large = sends_per_member_day(600)
    assert 0.5 * default < large < 3.0 * default, (default, large)
