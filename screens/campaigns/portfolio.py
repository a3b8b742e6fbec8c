"""Campaign analytics, the Portfolio tab: top campaigns, revenue against cost, and every
campaign with its change against the comparison period (Δ columns), sortable by any of them,
with a totals row whose ratios are ratios of the sums."""
from __future__ import annotations

import streamlit as st

from core.access.auth import User, can
from core.analytics.periods import Period
from ui import campaign_charts
from ui.export_tables import file_stem
from ui.widgets import column_config, csv_download, vega_chart

SORTS = {"revenue": "Revenue", "conversions": "Conversions", "roi": "ROI", "revenue_change": "Δ Revenue",
         "conversions_change": "Δ Conversions", "roi_change": "Δ ROI (points)", "sends": "Sends",
         "conversion_rate": "Conversion rate", "cost": "Cost"}
ORDERS = {"desc": "Largest first", "asc": "Smallest first"}


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


def portfolio_section(user: User, period: Period, comparison: Period | None) -> None:
    compared = (comparison.first, comparison.last) if comparison else (None, None)
    st.subheader("Portfolio")
    charts = campaign_charts.portfolio_charts(period.first, period.last, period.tz, *compared)
    if charts is None:
        st.info("No campaign sent anything in this period. Widen the period in the sidebar.")
        return
    left, right = st.columns([3, 2])
    vega_chart(where=left, spec=charts[0], width="stretch", height=campaign_charts.PORTFOLIO_HEIGHT, key="top_campaigns")
    vega_chart(where=right, spec=charts[1], width="stretch", height=campaign_charts.PORTFOLIO_HEIGHT, key="revenue_cost")

    left, right = st.columns(2)
    sort = left.selectbox("Sort by", list(SORTS), format_func=SORTS.get, key="portfolio_sort",
                          help="The chosen column also stands beside the campaign's name, so a phone shows both.")
    order = right.segmented_control("Order", list(ORDERS), default="desc", format_func=ORDERS.get,
                                    key="portfolio_order") or "desc"
    tables = campaign_charts.portfolio_tables(period.first, period.last, period.tz, *compared, sort, order)
    if tables is None:  # the data changed since the charts were read (a cache's lifetime apart)
        return
    columns = list(tables.campaigns.columns)
    first = ["name"] + ([sort] if sort in columns else [])
    order_shown = first + [c for c in columns if c not in first]
    config = {**column_config(columns), **change_config()}
    st.dataframe(tables.campaigns, hide_index=True, width="stretch", column_config=config, column_order=order_shown,
                 height=420, key="portfolio_table")
    st.dataframe(tables.totals, hide_index=True, width="stretch", column_config=config,
                 column_order=[c for c in order_shown if c in tables.totals], key="portfolio_totals")
    st.caption("The totals row sums sends, conversions, revenue and cost over every campaign; its rates and ROI "
               "are those of the sums, not averages of the campaigns' rates."
               + (" Δ: now against the comparison period; rates and ROI change in percentage points."
                  if comparison else " Pick a comparison in the sidebar to see changes."))
    if can(user, "export"):
        csv_download(tables.export, "Download portfolio (CSV)",
                     file_stem("portfolio", period.first, period.last, period.tz), "dl_portfolio")
