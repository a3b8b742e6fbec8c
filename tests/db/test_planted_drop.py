"""The demo's planted drop (core.demo.truth.PLANTED_DROP: from 7 days before the end, one
campaign's conversions on Android fall to a quarter, a broken app release) is what "why did
this change" finds: the campaign whose conversion rate fell most (the rate part of its
contribution, apart from mix: flights that start or end move the mix), and within it the
Android group's rate, beyond its noise band. Fixed demo end; two seeds."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from core.analytics.decomposition import decompose
from core.analytics.periods import Period
from core.demo import generator as demo
from core.demo import truth
from core.platform import rollup

END = datetime(2026, 11, 4, tzinfo=timezone.utc)  # the drop began on 28 October
WEEK = Period(date(2026, 10, 28), date(2026, 11, 3), "UTC")
WEEK_BEFORE = Period(date(2026, 10, 21), date(2026, 10, 27), "UTC")


@pytest.mark.slow
@pytest.mark.parametrize("seed", [7, 11])
def test_why_did_conversions_fall_names_the_planted_campaign_and_android(primary_db, seed):
    db = primary_db
    demo.load(db, demo.generate(seed=seed, members=15_000, campaigns=12, days=40, end=END))
    rollup.refresh_all(db)
    dropped = truth.PLANTED_DROP["campaign_id"]

    # conversions per click: a flight that ended moves the mix; the planted campaign's rate fell
    by_campaign = decompose(db, "conversion_rate", WEEK, WEEK_BEFORE, by="campaign")
    worst = by_campaign.groups.loc[by_campaign.groups.rate.idxmin()]
    assert int(worst.name) == dropped, by_campaign.groups[["label", "mix", "rate", "contribution"]]

    by_device = decompose(db, "conversion_rate", WEEK, WEEK_BEFORE, campaign_ids=[dropped], by="device")
    assert by_device.change < 0
    main = by_device.main()
    assert main.name == truth.PLANTED_DROP["device"], by_device.groups
    assert by_device.driver(main) == "rate" and main.high < 0  # its rate fell, beyond the noise band
