"""Tab "Segments": behavioural segments (k-means on recency, frequency, money, open rate and
channel and category mix) and the ROI of each segment within one campaign."""
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.optimize.segments import K_SWITCH_MARGIN, MIN_SEGMENT_SHARE
from screens.optimization.model_run import as_dict
from ui import optimize_data as opt
from ui.format import BLUE, GREY, RED, chart_layout

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


def segment_roi(campaigns: pd.DataFrame) -> None:
    names = dict(zip(campaigns.campaign_id, campaigns.name))
    chosen = st.selectbox("ROI of each segment within a campaign", campaigns.campaign_id.tolist(),
                          key="opt_segment_campaign", format_func=lambda i: names.get(i, f"#{i}"))
    roi = opt.campaign_segment_roi(int(chosen))
    if roi.empty:
        st.info("This campaign has no audience yet.")
        return
    figure = go.Figure(go.Scatter(
        x=roi.roi * 100, y=roi.name, mode="markers", marker=dict(size=11, color=[RED if h < 0 else BLUE for h in roi.roi_high]),
        error_x=dict(type="data", symmetric=False, array=(roi.roi_high - roi.roi) * 100, arrayminus=(roi.roi - roi.roi_low) * 100)))
    figure.add_vline(x=0, line_dash="dot", line_color=GREY)
    figure.update_xaxes(title="ROI (%) with 90 % interval")
    st.plotly_chart(chart_layout(figure, 80 + 45 * len(roi), "Segment ROI in this campaign (red: below zero with 95 % confidence)"),
                    width="stretch")


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
    figure = go.Figure(go.Scatter(x=table.open_rate, y=table.revenue, mode="markers+text",
                                  text=[f"#{k}" for k in table.segment_key], textposition="middle center",
                                  hovertext=table.name, marker=dict(size=np.sqrt(table.members) / 1.5 + 14,
                                                                    color=BLUE, opacity=0.55)))
    figure.update_xaxes(title="Open rate of the segment's members (%)")
    figure.update_yaxes(title="Revenue per member (USD)", tickprefix="$")
    st.plotly_chart(chart_layout(figure, 340, "Segment profiles (bubble size: members; keys as in the table)"), width="stretch")
    st.dataframe(table, hide_index=True, width="stretch", column_config=SEGMENT_COLUMNS)
    segment_roi(campaigns)
