"""Campaign analytics, the Portfolio tab: top campaigns, revenue against cost, and every
campaign with its change against the comparison period (Δ columns), sortable by any of them,
with a totals row whose ratios are ratios of the sums."""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core.access.auth import User, can
from core.analytics import campaigns as analytics
from core.analytics.periods import Period
from ui import campaign_charts, data
from ui.export_tables import export_table, file_stem
from ui.widgets import column_config, csv_download, display_metrics

METRIC_COLUMNS = ["sends", "delivery_rate", "open_rate", "ctr", "conversion_rate", "conversions", "revenue", "cost", "roi"]
CHANGE_LABELS = {"conversions_change": "Δ Conversions", "conversions_change_rel": "Δ Conversions %",
                 "revenue_change": "Δ Revenue", "revenue_change_rel": "Δ Revenue %", "roi_change": "Δ ROI"}
SORTS = {"revenue": "Revenue", "conversions": "Conversions", "roi": "ROI", "revenue_change": "Δ Revenue",
         "conversions_change": "Δ Conversions", "roi_change": "Δ ROI (points)", "sends": "Sends",
         "conversion_rate": "Conversion rate", "cost": "Cost"}
ORDERS = {"desc": "Largest first", "asc": "Smallest first"}


def charts(period: Period, comparison: Period | None) -> None:
    figures = campaign_charts.portfolio_charts(period.first, period.last, period.tz,
                                               comparison.first if comparison else None,
                                               comparison.last if comparison else None)
    if figures is None:
        return
    left, right = st.columns([3, 2])
    left.plotly_chart(figures[0], width="stretch", key="top_campaigns")
    right.plotly_chart(figures[1], width="stretch", key="revenue_cost")


def change_config() -> dict:
    return {
        "conversions_change": st.column_config.NumberColumn("Δ Conversions", format="%+d",
                                                            help="conversions now − conversions before"),
        "conversions_change_rel": st.column_config.NumberColumn("Δ Conversions (%)", format="%+.1f%%"),
        "revenue_change": st.column_config.NumberColumn("Δ Revenue (USD)", format="%+.2f",
                                                        help="revenue now − revenue before"),
        "revenue_change_rel": st.column_config.NumberColumn("Δ Revenue (%)", format="%+.1f%%"),
        "roi_change": st.column_config.NumberColumn("Δ ROI (pts)", format="%+.1f pts",
                                                    help="ROI now − ROI before, in percentage points"),
    }


def on_screen(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Rates and relative changes in percent, ROI change in points, money rounded (the screen's
    numbers; exports keep fractions: ui.export_tables)."""
    shown = display_metrics(frame, [c for c in columns if c not in CHANGE_LABELS])
    for column in [c for c in columns if c in CHANGE_LABELS]:
        values = frame[column].astype(float)
        shown[column] = (values * 100).round(2) if column.endswith(("_rel", "roi_change")) else values.round(2)
    return shown[columns]


def totals_row(result: analytics.PortfolioComparison, count: int) -> pd.DataFrame:
    """All campaigns together: sums from SQL, ratios of the sums, changes of the totals."""
    now, before = result.totals, result.previous_totals
    row = {"name": f"Total of {count} campaigns", **{c: now[c] for c in METRIC_COLUMNS}}
    for key in ("conversions", "revenue"):
        row[f"{key}_change"] = now[key] - before[key] if before is not None else np.nan
        row[f"{key}_change_rel"] = (now[key] - before[key]) / before[key] if before is not None and before[key] else np.nan
    row["roi_change"] = now.roi - before.roi if before is not None else np.nan
    return pd.DataFrame([row])


def portfolio_section(user: User, period: Period, comparison: Period | None) -> None:
    result = data.portfolio_comparison(period.first, period.last, period.tz,
                                       comparison.first if comparison else None, comparison.last if comparison else None)
    frame = result.campaigns
    st.subheader("Portfolio")
    active = frame[frame.sends > 0]
    if active.empty:
        st.info("No campaign sent anything in this period. Widen the period in the sidebar.")
        return
    charts(period, comparison)

    left, right = st.columns(2)
    sort = left.selectbox("Sort by", list(SORTS), format_func=SORTS.get, key="portfolio_sort",
                          help="The chosen column also stands beside the campaign's name, so a phone shows both.")
    order = right.segmented_control("Order", list(ORDERS), default="desc", format_func=ORDERS.get,
                                    key="portfolio_order") or "desc"
    changes = list(CHANGE_LABELS) if comparison else []
    columns = ["name", "channel", "segment", "status"] + METRIC_COLUMNS + changes
    ranked = frame.sort_values(sort, ascending=order == "asc", na_position="last")
    shown = on_screen(ranked, columns)
    first = ["name"] + ([sort] if sort in columns else [])
    order_shown = first + [c for c in columns if c not in first]
    config = {**column_config(columns), **change_config()}
    st.dataframe(shown, hide_index=True, width="stretch", column_config=config, column_order=order_shown,
                 height=420, key="portfolio_table")
    totals = on_screen(totals_row(result, len(frame)), ["name"] + METRIC_COLUMNS + changes)
    st.dataframe(totals, hide_index=True, width="stretch", column_config=config,
                 column_order=[c for c in order_shown if c in totals], key="portfolio_totals")
    st.caption("The totals row sums sends, conversions, revenue and cost over every campaign; its rates and ROI "
               "are those of the sums, not averages of the campaigns' rates."
               + (" Δ: now against the comparison period; rates and ROI change in percentage points."
                  if comparison else " Pick a comparison in the sidebar to see changes."))
    if can(user, "export"):
        export = pd.concat([ranked, totals_row(result, len(frame))], ignore_index=True)
        csv_download(export_table(export, columns), "Download portfolio (CSV)",
                     file_stem("portfolio", period.first, period.last, period.tz), "dl_portfolio")
