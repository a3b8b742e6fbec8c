"""The A/B test tracker in a real browser: open it, switch the method, download the metrics CSV
and check its rows; screenshots at desktop and phone width."""
from __future__ import annotations

import pandas as pd
import pytest

from core.experiments.outcomes import OUTCOMES
from tests.browser.conftest import screenshot, wait_for_app

pytestmark = pytest.mark.browser


def open_tracker(page, app_url: str) -> None:
    page.goto(app_url)
    wait_for_app(page)
    page.locator('[data-testid="stSidebarNav"]').get_by_text("A/B tests").click()
    wait_for_app(page)
    page.get_by_text("Verdict:").first.wait_for(timeout=60_000)


def test_tracker_method_switch_and_metrics_download(page, app_url, tmp_path):
    open_tracker(page, app_url)
    assert page.get_by_text("Lift per metric, treatment vs control · Sequential").first.is_visible()
    screenshot(page, "ab_tests_sequential")

    page.get_by_text("Bayesian", exact=True).first.click()    # the method switch of the active test
    wait_for_app(page)
    page.get_by_text("Lift per metric, treatment vs control · Bayesian").first.wait_for(timeout=60_000)

    with page.expect_download() as download:
        page.get_by_text("Download test metrics (CSV)").first.click()
    path = tmp_path / "metrics.csv"
    download.value.save_as(path)
    assert download.value.suggested_filename.endswith("_bayesian_relative.csv")
    metrics = pd.read_csv(path)
    assert set(metrics.method) == {"bayesian"}
    assert metrics.test_id.nunique() == 1 and metrics.role.iloc[0] == "primary"
    variants = set(metrics.variant)
    assert len(metrics) == len(variants) * metrics.metric.nunique()      # every variant of every metric
    assert set(metrics.metric) <= set(OUTCOMES) and (metrics.n > 0).all()
    treatments = metrics[~metrics.is_control]
    assert treatments.chance_to_win.between(0, 1).all()
    assert (treatments.lift_relative_ci_low <= treatments.lift_relative).all()
    screenshot(page, "ab_tests_bayesian")


def test_tracker_on_a_phone(page, app_url):
    page.set_viewport_size({"width": 390, "height": 900})
    page.goto(app_url)
    wait_for_app(page)
    page.get_by_text("Campaign analytics").first.wait_for()
    # On a phone the navigation sits in the collapsed sidebar.
    page.locator('[data-testid="stExpandSidebarButton"], [data-testid="stSidebarCollapsedControl"]').first.click()
    page.locator('[data-testid="stSidebarNav"]').get_by_text("A/B tests").click()
    wait_for_app(page)
    page.get_by_text("Verdict:").first.wait_for(timeout=60_000)
    page.locator('[data-testid="stSidebarCollapseButton"]').first.click()
    assert page.get_by_text("Predicted winner").first.is_visible()
    screenshot(page, "ab_tests_phone")
