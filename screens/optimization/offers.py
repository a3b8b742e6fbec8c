"""Tab "Offers": every candidate offer of a campaign by predicted profit per send, the reward
type each segment prefers, the model's held-out check, and the uplift models of its A/B test."""
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from screens.optimization.model_run import as_dict
from ui import optimize_data as opt
from ui.format import BLUE, GREY, RED, chart_layout, channel_label, count, escape_markdown, percent, segment_label

OFFER_COLUMNS = {
    "offer": "Offer", "category": "Category", "reward_type": "Reward", "is_current": "Current",
    "reward_value": st.column_config.NumberColumn("Value (% or USD)", format="%.2f"),
    "p_conversion": st.column_config.NumberColumn("Conversions per send (%)", format="%.2f%%"),
    "p_low": st.column_config.NumberColumn("low (%)", format="%.2f%%"),
    "p_high": st.column_config.NumberColumn("high (%)", format="%.2f%%"),
    "profit_per_send": st.column_config.NumberColumn("Profit per send (USD)", format="$%.3f"),
    "profit_low": st.column_config.NumberColumn("low (USD)", format="$%.3f"),
    "profit_high": st.column_config.NumberColumn("high (USD)", format="$%.3f"),
    "prob_better": st.column_config.NumberColumn("P(beats current) (%)", format="%.0f%%"),
}


def best_offers_chart(scores: pd.DataFrame) -> go.Figure:
    current = scores[scores.is_current]
    top = pd.concat([scores.head(15), current]).drop_duplicates("offer_id").sort_values("profit_per_send")
    figure = go.Figure(go.Bar(
        x=top.profit_per_send, y=top.offer, orientation="h", marker_color=[RED if c else BLUE for c in top.is_current],
        error_x=dict(type="data", symmetric=False, array=top.profit_high - top.profit_per_send,
                     arrayminus=top.profit_per_send - top.profit_low, color="#334155"),
        hovertemplate="%{y}<br>profit per send $%{x:.3f}<extra></extra>"))
    figure.update_xaxes(title="Expected profit per send (USD)", tickprefix="$")
    return chart_layout(figure, 420, "Best offers by profit per send")


def offers_section(run: dict, campaigns: pd.DataFrame) -> None:
    names = dict(zip(campaigns.campaign_id, campaigns.name))
    chosen = st.selectbox("Campaign", campaigns.campaign_id.tolist(), key="opt_offer_campaign",
                          format_func=lambda i: names.get(i, f"#{i}"))
    scores = opt.offer_scores(int(chosen))
    if scores.empty:
        st.info("No offer scores for this campaign in the current run (it has no audience yet).")
        return
    campaign = campaigns.set_index("campaign_id").loc[chosen]
    st.caption(f"Every candidate offer for **{escape_markdown(segment_label(campaign.segment))}** members over "
               f"**{escape_markdown(channel_label(campaign.channel))}**: predicted conversions per send and profit "
               "per send (revenue − reward cost − send cost) with 90 % intervals from a bootstrap over campaigns.")
    st.plotly_chart(best_offers_chart(scores), width="stretch")
    st.caption("Expected profit per send with its 90 % interval; the campaign's current offer in red.")
    table = scores.assign(p_conversion=scores.p_conversion * 100, p_low=scores.p_low * 100, p_high=scores.p_high * 100,
                          prob_better=scores.prob_better * 100)
    st.dataframe(table[list(OFFER_COLUMNS)], hide_index=True, width="stretch", height=320, column_config=OFFER_COLUMNS)
    metrics = as_dict(run["metrics"])
    effects = pd.DataFrame(metrics.get("offers", {}).get("reward_type_effect", []))
    check = metrics.get("offers", {}).get("held_out_campaigns", {})
    left, right = st.columns(2)
    with left:
        if not effects.empty:
            figure = go.Figure(go.Scatter(
                x=effects.odds_ratio_percent, y=effects.segment.map(segment_label), mode="markers",
                marker=dict(size=11, color=BLUE),
                error_x=dict(type="data", symmetric=False, array=effects.high - effects.odds_ratio_percent,
                             arrayminus=effects.odds_ratio_percent - effects.low)))
            figure.add_vline(x=1, line_dash="dot", line_color=GREY)
            figure.update_xaxes(title="Conversion odds ratio, percent vs fixed cashback (90 %)", type="log")
            st.plotly_chart(chart_layout(figure, 260, "Reward type each segment prefers"), width="stretch")
    with right:
        if check:
            st.markdown("**Held-out check (campaigns the model never saw)**")
            st.markdown(f"Error of conversions per send: model **{percent(check['model_error'], 3)}** vs "
                        f"segment-average baseline **{percent(check['baseline_error'], 3)}**; log-loss "
                        f"{check['model_log_loss']:.4f} vs {check['baseline_log_loss']:.4f} ({check['folds']}-fold, "
                        "by campaign).")
    uplift_section(int(chosen))


def uplift_section(campaign_id: int) -> None:
    found = opt.uplift(campaign_id)
    if found.empty:
        return
    st.subheader("Uplift: who responds because of the tested variant")
    st.caption("T-learner on the campaign's A/B test (features from each member's behaviour in *other* campaigns), "
               "evaluated on held-out members: targeting by predicted uplift against random targeting.")
    cols = st.columns(min(len(found), 2))
    for i, row in enumerate(found.itertuples()):
        curve = as_dict(row.curve)
        share, q = curve.get("share", []), curve.get("qini", [])
        if not share:
            continue
        figure = go.Figure()
        figure.add_trace(go.Scatter(x=[s * 100 for s in share], y=q, name="By predicted uplift", line=dict(color=BLUE)))
        figure.add_trace(go.Scatter(x=[0, 100], y=[0, q[-1]], name="Random targeting", line=dict(color=GREY, dash="dot")))
        figure.update_xaxes(title="Held-out members targeted (%)")
        figure.update_yaxes(title=f"Incremental members {row.outcome}")
        with cols[i % len(cols)]:
            st.plotly_chart(chart_layout(figure, 280, f"{row.variant} vs control · {row.outcome}"), width="stretch",
                            key=f"qini_{i}")
            st.caption(f"Qini coefficient {row.qini_coefficient:+.2f} (95 %: {row.qini_low:+.2f} to "
                       f"{row.qini_high:+.2f}; 0 = random targeting) on {count(row.held_out_members)} held-out members.")
