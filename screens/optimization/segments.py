"""Tab "Segments": behavioural segments (k-means on recency, frequency, money, open rate and
channel and category mix) and the ROI of each segment within one campaign."""
import numpy as np
import pandas as pd
import streamlit as st

from core.optimize.segments import K_SWITCH_MARGIN, MIN_SEGMENT_SHARE
from screens.optimization.model_run import as_dict
from ui import optimize_data as opt
from ui import vega
from ui.format import BLUE, RED
from ui.optimize_charts import ROW_LABELS, chart_spec, interval_layers, reference_rule
from ui.widgets import vega_chart

SEGMENT_COLUMNS = {
    "segment_key": "Key", "name": "Segment", "members": st.column_config.NumberColumn("Members", format="%d"),
    "recency_days": st.column_config.NumberColumn("Days since engaged (mean)", format="%.1f"),
    "engagements": st.column_config.NumberColumn("Clicks + conversions (mean)", format="%.1f"),
    "revenue": st.column_config.NumberColumn("Revenue per member (USD)", format="$%.2f"),
    "open_rate": st.column_config.NumberColumn("Open rate (%)", format="%.1f%%"),
    "top_channel": "Most used channel", "top_category": "Stand-out category",
}


def profile_table(profiles: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for row in profiles.itertuples():
        p = as_dict(row.profile)
        rows.append({"segment_key": row.segment_key, "name": row.name, "members": row.members,
                     "recency_days": p["recency_days"], "engagements": p["frequency"], "revenue": p["monetary"],
                     "open_rate": p["open_rate"] * 100,
                     "top_channel": max(p["channels"], key=p["channels"].get) if p["channels"] else "",
                     "top_category": max(p["category_lift"], key=p["category_lift"].get) if p["category_lift"] else ""})
    return pd.DataFrame(rows)


def padded(values: pd.Series, share: float = 0.18) -> list[float]:
    """A domain around the values with room for the bubbles at its ends."""
    low, high = float(values.min()), float(values.max())
    pad = (high - low) * share if high > low else max(abs(high) * 0.2, 1.0)
    return [low - pad, high + pad]


def profiles_chart(table: pd.DataFrame) -> dict:
    """Each segment as a bubble: open rate against revenue per member, its size the members,
    its key (as in the table) written in it."""
    frame = table[["segment_key", "name", "members", "open_rate", "revenue"]].astype(
        {"segment_key": int, "members": int, "open_rate": float, "revenue": float})
    # Bubble diameters as Plotly's were (√members / 1.5 + 14 px); Vega-Lite sizes are areas.
    data = vega.records(frame.assign(key=[f"#{k}" for k in frame.segment_key],
                                     area=(np.sqrt(frame.members) / 1.5 + 14) ** 2))
    x = {"field": "open_rate", "type": "quantitative", "title": "Open rate of the segment's members (%)",
         "scale": {"domain": padded(frame.open_rate), "zero": False, "nice": False}}
    y = {"field": "revenue", "type": "quantitative", "title": "Revenue per member (USD)",
         "scale": {"domain": padded(frame.revenue), "zero": False, "nice": False}, "axis": {"format": "$,.2f"}}
    tooltip = [{"field": "key", "title": "Key"}, {"field": "name", "title": "Segment"},
               {"field": "members", "title": "Members", "format": ","},
               {"field": "open_rate", "title": "Open rate (%)", "format": ".1f"},
               {"field": "revenue", "title": "Revenue per member (USD)", "format": "$,.2f"}]
    return chart_spec(
        "Segment profiles: open rate against revenue per member, bubble size members", 240,
        title={"text": "Segment profiles", "subtitle": "bubble size: members; keys as in the table"},
        layer=[{"data": data, "mark": {"type": "circle", "color": BLUE, "opacity": 0.55, "clip": False},
                "encoding": {"x": x, "y": y, "size": {"field": "area", "type": "quantitative", "scale": None},
                             "tooltip": tooltip}},
               {"data": data, "mark": {"type": "text", "fontSize": 12, "color": "#111827"},
                "encoding": {"x": x, "y": y, "text": {"field": "key"}, "tooltip": tooltip}}],
    )


def segment_roi_chart(roi: pd.DataFrame) -> dict:
    """Each segment's ROI within the campaign with its 90 % interval; red where the interval lies
    below zero (below zero with 95 % confidence)."""
    frame = pd.DataFrame({"segment": roi.name, "roi": roi.roi.astype(float) * 100,
                          "low": roi.roi_low.astype(float) * 100, "high": roi.roi_high.astype(float) * 100,
                          "members": roi.members.astype(int), "profit": roi.profit_per_week.astype(float)})
    tooltip = [{"field": "segment", "title": "Segment"}, {"field": "roi", "title": "ROI (%)", "format": ",.1f"},
               {"field": "low", "title": "90 % low (%)", "format": ",.1f"},
               {"field": "high", "title": "90 % high (%)", "format": ",.1f"},
               {"field": "members", "title": "Members", "format": ","},
               {"field": "profit", "title": "Profit per week (USD)", "format": "$,.2f"}]
    return chart_spec(
        "Segment ROI in this campaign with 90 % intervals (red: below zero with 95 % confidence)", 40 * len(frame),
        title={"text": "Segment ROI in this campaign", "subtitle": "red: below zero with 95 % confidence"},
        layer=[reference_rule("x", 0)] + interval_layers(
            vega.records(frame), {"field": "segment", "type": "nominal", "title": None, "axis": ROW_LABELS,
                                 "sort": frame.segment.tolist()},
            {"field": "roi", "type": "quantitative", "title": "ROI (%) with 90 % interval", "axis": {"format": ",d"}},
            "low", "high", {"condition": {"test": "datum.high < 0", "value": RED}, "value": BLUE}, tooltip))


def segment_roi(campaigns: pd.DataFrame) -> None:
    names = dict(zip(campaigns.campaign_id, campaigns.name))
    chosen = st.selectbox("ROI of each segment within a campaign", campaigns.campaign_id.tolist(),
                          key="opt_segment_campaign", format_func=lambda i: names.get(i, f"#{i}"))
    roi = opt.campaign_segment_roi(int(chosen))
    if roi.empty:
        st.info("This campaign has no audience yet.")
        return
    vega_chart(spec=segment_roi_chart(roi), width="stretch", key="opt_segment_roi")


def segments_section(run: dict, campaigns: pd.DataFrame) -> None:
    profiles = opt.segments()
    if profiles.empty:
        st.info("No behavioural segments in this run.")
        return
    meta = as_dict(run["metrics"]).get("segments", {})
    table = profile_table(profiles)
    st.caption(f"k-means on recency, frequency, monetary value, open rate and channel and category mix; "
               f"{meta.get('k', len(table))} segments chosen by the best silhouette score among counts whose "
               f"every segment holds at least {MIN_SEGMENT_SHARE:.0%} of the members "
               f"({', '.join(f'k={k}: {v:.3f}' for k, v in meta.get('silhouette', {}).items())}), the previous "
               f"run's count kept unless another beats it by {K_SWITCH_MARGIN}; "
               f"{meta.get('kept_from_previous_run', 0)} kept their name from the previous run."
               + (f" Segments are found from behaviour before {str(meta['features_before'])[:10]} and each segment's "
                  "ROI in a campaign is measured on the outcomes from then on, so no segment is judged on the "
                  "outcomes that defined it." if meta.get("features_before") else ""))
    vega_chart(spec=profiles_chart(table), width="stretch", key="opt_segment_profiles")
    st.dataframe(table, hide_index=True, width="stretch", column_config=SEGMENT_COLUMNS)
    segment_roi(campaigns)
