"""ui.vega's spec defaults: which charts are drawn on a canvas."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ui import vega
from ui.campaign_charts import revenue_cost_chart


def campaigns(count: int) -> pd.DataFrame:
    generator = np.random.default_rng(3)
    cost = generator.uniform(10, 1_000, count)
    revenue = generator.uniform(0, 2_000, count)
    return pd.DataFrame({"name": [f"Campaign {i}" for i in range(count)], "channel": ["push", "email"] * (count // 2),
                         "cost": cost, "revenue": revenue, "sends": generator.integers(1, 10_000, count),
                         "roi": (revenue - cost) / cost})


def test_a_chart_of_many_marks_is_drawn_on_a_canvas_and_a_small_one_as_svg():
    assert "usermeta" not in vega.spec("few", marks=vega.CANVAS_ABOVE_MARKS)
    assert vega.spec("many", marks=vega.CANVAS_ABOVE_MARKS + 1)["usermeta"] == {"embedOptions": {"renderer": "canvas"}}
    assert "usermeta" not in vega.spec("unsaid")


def test_the_portfolio_bubbles_go_on_a_canvas_at_1500_campaigns_not_at_40():
    """1,500 bubbles as SVG were about 17,000 DOM changes per rerun (issue 15)."""
    assert revenue_cost_chart(campaigns(1_500))["usermeta"]["embedOptions"]["renderer"] == "canvas"
    assert "usermeta" not in revenue_cost_chart(campaigns(40))
