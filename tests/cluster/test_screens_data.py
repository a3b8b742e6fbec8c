"""What the screens show is the same on the cluster: the core functions behind each screen
(portfolio, KPI cards, series in a viewer's time zone, breakdowns, the A/B tracker's analysis
of every test, the live tiles, the System screen's counts) give equal frames on the twin
databases, with the parameter combinations the screens use rather than one set per query."""
from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from core.analytics import campaigns as analytics
from core.analytics.periods import comparison_period, last_days
from core.experiments import results, tests_repo
from core.live import tiles
from core.platform import health
from tests.conftest import DEMO_END

pytestmark = pytest.mark.cluster

ZONES = ["UTC", "America/New_York", "Asia/Kolkata"]


def same_frame(single: pd.DataFrame, cluster: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(single.reset_index(drop=True), cluster.reset_index(drop=True),
                                  check_exact=False, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("tz", ZONES)
def test_the_campaign_screen_shows_the_same(twin_demo, tz):
    single, on_cluster = twin_demo
    today = DEMO_END.date() - timedelta(days=1)
    period = last_days(14, tz, today=today)
    same_frame(analytics.portfolio(single, period), analytics.portfolio(on_cluster, period))
    for campaign_ids in ([1], [2, 3, 4], None):
        expected = [vars(card) for card in analytics.kpi_cards(single, period, campaign_ids, "previous")]
        assert [vars(card) for card in analytics.kpi_cards(on_cluster, period, campaign_ids, "previous")] == expected
        for grain in ("hour", "day", "week"):
            same_frame(analytics.series(single, period, campaign_ids, grain, now=DEMO_END),
                       analytics.series(on_cluster, period, campaign_ids, grain, now=DEMO_END))
        comparison = comparison_period(period, "previous")
        same_frame(analytics.breakdowns(single, period, campaign_ids, comparison),
                   analytics.breakdowns(on_cluster, period, campaign_ids, comparison))


def test_the_ab_tracker_analyses_every_test_the_same(twin_demo):
    single, on_cluster = twin_demo
    for test_id in tests_repo.list_tests(single).test_id.astype(int):
        for cuped in (True, False):
            expected = results.analyze_test(single, test_id, cuped=cuped, now=DEMO_END)
            answer = results.analyze_test(on_cluster, test_id, cuped=cuped, now=DEMO_END)
            same_frame(results.metrics_table(expected), results.metrics_table(answer))
            assert (answer.verdict, answer.ready_for_decision, answer.predicted_winner) == \
                (expected.verdict, expected.ready_for_decision, expected.predicted_winner)


def test_the_live_screen_shows_the_same(twin_demo):
    single, on_cluster = twin_demo
    for tz in ZONES:
        expected = tiles.snapshot(single, 15, tz, now=DEMO_END)
        answer = tiles.snapshot(on_cluster, 15, tz, now=DEMO_END)
        assert expected.ok and answer.ok, expected.error or answer.error
        pd.testing.assert_series_equal(expected.totals, answer.totals, check_exact=False, rtol=1e-9)
        assert answer.active_members == expected.active_members
        for part in ("active_per_minute", "per_minute", "regions", "devices", "latest"):
            same_frame(getattr(expected, part), getattr(answer, part))


def test_the_system_screen_counts_the_same(twin_demo):
    single, on_cluster = twin_demo
    same_frame(health.check(single).row_counts, health.check(on_cluster).row_counts)
    assert health.check(on_cluster).status == "ok"
