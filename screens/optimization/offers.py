"""Tab "Offers": every candidate offer of a campaign by predicted profit per send, the reward
type each segment prefers, the model's held-out check, and the uplift models of its A/B test."""
import math

import pandas as pd
import streamlit as st

from screens.optimization.model_run import as_dict
from ui import optimize_data as opt
from ui import vega
from ui.format import BLUE, GREY, RED, channel_label, count, escape_markdown, percent, segment_label
from ui.optimize_charts import DOTTED, LINE_LEGEND, ROW_LABELS, chart_spec, interval_layers, reference_rule
from ui.widgets import vega_chart

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


def best_offers_chart(scores: pd.DataFrame) -> dict:
    """The 15 best offers and the current one by expected profit per send (best on top), each
    with its 90 % interval; the current offer in red."""
    current = scores[scores.is_current]
    top = pd.concat([scores.head(15), current]).drop_duplicates("offer_id").sort_values("profit_per_send",
                                                                                           ascending=False)
    data = vega.records(top[["offer", "is_current", "p_conversion", "profit_per_send", "profit_low", "profit_high",
                             "prob_better"]].assign(current=top.is_current.map({True: "yes", False: "no"})))
    y = {"field": "offer", "type": "nominal", "title": None, "sort": top.offer.tolist(), "axis": ROW_LABELS}
    x_title, x_axis = "Expected profit per send (USD)", {"format": "$,.2f", "tickCount": 8}
    tooltip = [{"field": "offer", "title": "Offer"}, {"field": "current", "title": "Current offer"},
               {"field": "profit_per_send", "title": "Profit per send (USD)", "format": "$,.3f"},
               {"field": "profit_low", "title": "90 % low (USD)", "format": "$,.3f"},
               {"field": "profit_high", "title": "90 % high (USD)", "format": "$,.3f"},
               {"field": "p_conversion", "title": "Conversions per send", "format": ".2%"},
               {"field": "prob_better", "title": "P(beats current)", "format": ".0%"}]
    return chart_spec(
        "Best offers by profit per send (90 % intervals; the current offer in red)", 20 * len(top),
        title="Best offers by profit per send",
        layer=[
            {"data": data, "mark": {"type": "bar", "cornerRadiusEnd": 2},
             "encoding": {"y": y, "x": {"field": "profit_per_send", "type": "quantitative", "title": x_title,
                                        "axis": x_axis},
                          "color": {"condition": {"test": "datum.is_current", "value": RED}, "value": BLUE},
                          "tooltip": tooltip}},
            {"data": data, "mark": {"type": "rule", "color": "#334155", "strokeWidth": 1.5},
             "encoding": {"y": y, "x": {"field": "profit_low", "type": "quantitative", "title": x_title, "axis": x_axis},
                          "x2": {"field": "profit_high"}, "tooltip": tooltip}},
            {"data": data, "mark": {"type": "tick", "color": "#334155", "thickness": 1.5, "size": 10},
             "encoding": {"y": y, "x": {"field": "profit_low", "type": "quantitative", "title": x_title, "axis": x_axis},
                          "tooltip": tooltip}},
            {"data": data, "mark": {"type": "tick", "color": "#334155", "thickness": 1.5, "size": 10},
             "encoding": {"y": y, "x": {"field": "profit_high", "type": "quantitative", "title": x_title, "axis": x_axis},
                          "tooltip": tooltip}},
        ],
    )


def reward_type_chart(effects: pd.DataFrame) -> dict:
    """Each segment's conversion odds ratio, percent-of-spend cashback against fixed cashback, with
    its 90 % interval on a log scale (1 = no preference). A segment whose campaigns do not
    identify it (a NaN interval: core.optimize.offers) has its dot and no interval, and says so."""
    low, high = effects.low.astype(float), effects.high.astype(float)
    claimed = (low.notna() & high.notna()).to_numpy()
    frame = pd.DataFrame({
        "segment": effects.segment.map(segment_label), "ratio": effects.odds_ratio_percent.astype(float),
        "low": low, "high": high,
        "interval": [f"{a:.2f} – {b:.2f}" if ok else "none: too few campaigns of one reward type"
                     for a, b, ok in zip(low, high, claimed)]})
    ends = pd.concat([low, high, effects.odds_ratio_percent.astype(float), pd.Series([1.0])]).dropna()
    x = {"field": "ratio", "type": "quantitative",
         "title": ["Conversion odds ratio (90 % interval),", "percent-of-spend vs fixed cashback"],
         "scale": {"type": "log", "domain": [float(ends.min()) / 1.15, float(ends.max()) * 1.15], "nice": False}}
    tooltip = [{"field": "segment", "title": "Segment"}, {"field": "ratio", "title": "Odds ratio", "format": ".2f"},
               {"field": "interval", "title": "90 % interval"}]
    y = {"field": "segment", "type": "nominal", "title": None, "sort": frame.segment.tolist()}
    # The intervals where there is one; a dot for every segment (no row carries a missing value).
    rule, dot = interval_layers(vega.records(frame[claimed]), y, x, "low", "high", {"value": BLUE}, tooltip)
    dot["data"] = vega.records(frame[["segment", "ratio", "interval"]])
    return chart_spec("Reward type each segment prefers (odds ratio, percent vs fixed cashback)", 32 * len(effects),
                      title="Reward type each segment prefers", layer=[reference_rule("x", 1), rule, dot])


def qini_chart(variant: str, outcome: str, share: list[float], qini: list[float]) -> dict:
    """A Qini curve: incremental members against the share of held-out members targeted by
    predicted uplift, and the straight line of random targeting."""
    rows = [{"share": s * 100, "qini": q, "series": "By predicted uplift"} for s, q in zip(share, qini)
            if s is not None and q is not None and math.isfinite(s) and math.isfinite(q)]
    rows += [{"share": 0.0, "qini": 0.0, "series": "Random targeting"},
             {"share": 100.0, "qini": rows[-1]["qini"] if rows else 0.0, "series": "Random targeting"}]
    names = ["By predicted uplift", "Random targeting"]
    y_title = f"Incremental members {outcome}"
    return chart_spec(
        f"Qini curve: {variant} vs control, {outcome}", 180,
        title=f"{variant} vs control · {outcome}",
        layer=[{"data": {"values": rows}, "mark": {"type": "line", "point": {"size": 40, "opacity": 0}},
                "encoding": {
                    "x": {"field": "share", "type": "quantitative", "title": "Held-out members targeted (%)",
                          "scale": {"domain": [0, 100]}},
                    "y": {"field": "qini", "type": "quantitative", "title": y_title},
                    "color": {"field": "series", "type": "nominal", "title": "Targeting", "legend": LINE_LEGEND,
                              "scale": {"domain": names, "range": [BLUE, GREY]}},
                    "strokeDash": {"field": "series", "type": "nominal", "title": "Targeting", "legend": LINE_LEGEND,
                                   "scale": {"domain": names, "range": [[1, 0], DOTTED]}},
                    "tooltip": [{"field": "series", "title": "Targeting"},
                                {"field": "share", "title": "Held-out members targeted (%)", "format": ".1f"},
                                {"field": "qini", "title": y_title, "format": ",.1f"}]}}],
    )


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
    vega_chart(spec=best_offers_chart(scores), width="stretch", key="opt_best_offers")
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
            vega_chart(spec=reward_type_chart(effects), width="stretch", key="opt_reward_type")
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
        with cols[i % len(cols)]:
            vega_chart(spec=qini_chart(str(row.variant), str(row.outcome), share, q), width="stretch",
                               key=f"qini_{i}")
            st.caption(f"Qini coefficient {row.qini_coefficient:+.2f} (95 %: {row.qini_low:+.2f} to "
                       f"{row.qini_high:+.2f}; 0 = random targeting) on {count(row.held_out_members)} held-out members.")
