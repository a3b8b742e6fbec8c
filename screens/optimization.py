"""Screen 3 — Optimization recommendations: cards sorted by expected impact with their evidence
and ROI projection, one-click implementation, offers per campaign, send times, affinities,
behavioural segments and the history of every card."""
import json

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.access.auth import can
from core.optimize.apply import RecommendationError
from core.optimize.recommendations import DEFAULT_HOLDOUT_SHARE, EASE_RULE, KIND_LABELS
from core.access.pii import mask_frame
from ui import data
from ui import optimize_data as opt
from ui.session import current_user
from ui.widgets import csv_download, database_guard

PAGE_SIZE = 8
BLUE, GREY, GREEN, RED = "#2563eb", "#94a3b8", "#16a34a", "#dc2626"
WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]

user = current_user()
st.title("Recom\u00admendations")  # the soft hyphen lets the long word break on a phone


def money(value, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "–"
    return f"-${abs(value):,.{digits}f}" if value < 0 else f"${value:,.{digits}f}"


def as_dict(value) -> dict:
    if isinstance(value, dict):
        return value
    return json.loads(value) if isinstance(value, str) and value else {}


def layout(figure: go.Figure, height: int = 300, title: str | None = None) -> go.Figure:
    figure.update_layout(height=height, margin=dict(l=0, r=0, t=40 if title else 10, b=10), title=title,
                         legend=dict(orientation="h", yanchor="top", y=-0.32))
    return figure


def run_header(run: dict | None) -> None:
    if run is None:
        st.info("**No model results yet.** The worker retrains the models every 6 hours (`python -m core worker`); "
                "to train now run `python -m core train`" + (" or use *Train now*." if can(user, "run_jobs") else "."),
                icon=":material/model_training:")
        return
    st.caption(f"Models of run #{int(run['run_id'])}, trained {pd.Timestamp(run['finished_at']):%d %b %Y %H:%M} UTC "
               f"on events through {pd.Timestamp(run['data_through']):%d %b %Y %H:%M} UTC, in {run['seconds']:.0f} s · "
               "impacts are USD of profit per week (revenue − reward cost − send cost) with 90 % intervals · "
               "hours are each member's local time")


def train_button() -> None:
    if not can(user, "run_jobs"):
        return
    with st.popover("Train now", icon=":material/model_training:"):
        st.write("Retrain every model on the latest events and rebuild the recommendations. "
                 "Takes about a minute on the demo data; the screen keeps the previous results until it finishes.")
        if st.button("Start training", type="primary", key="train_start"):
            bar = st.progress(0.0, text="starting")
            with st.status("Training…", expanded=True) as status:
                outcome = opt.train_now(user, lambda fraction, message: bar.progress(min(max(fraction, 0.0), 1.0), text=message))
                status.update(label=f"Done: {outcome.detail}" if not outcome.skipped else f"Skipped: {outcome.detail}",
                              state="complete")
            st.rerun()


# --- cards ------------------------------------------------------------------------------------

def projection_chart(details: dict) -> tuple[go.Figure | None, str]:
    """The card's 8-week projection (cumulative profit, 90 % bands) and its ROI in words."""
    p = details.get("projection")
    if not p:
        return None, ""
    weeks = p["weeks"]
    figure = go.Figure()
    for key, name, colour, fill in (("current", "As is", GREY, "rgba(148,163,184,0.25)"),
                                     ("with_change", "With the change", BLUE, "rgba(37,99,235,0.18)")):
        figure.add_trace(go.Scatter(x=weeks + weeks[::-1], y=p[f"{key}_profit_high"] + p[f"{key}_profit_low"][::-1],
                                    fill="toself", fillcolor=fill, line=dict(width=0), hoverinfo="skip", mode="lines",
                                    name=f"{name}: 90 % band", showlegend=False))
        figure.add_trace(go.Scatter(x=weeks, y=p[f"{key}_profit"], mode="lines+markers", name=name,
                                    line=dict(color=colour, dash="dot" if key == "current" else "solid")))
    figure.update_xaxes(title="Weeks from now", dtick=1)
    figure.update_yaxes(title="Cumulative profit (USD)", tickprefix="$")
    roi_now, roi_new = p.get("current_roi"), p.get("with_change_roi")
    words = ""
    if roi_now is not None and roi_new is not None:
        words = (f"ROI {roi_now:+.0%} as is → {roi_new:+.0%} with the change "
                 f"(90 %: {p['with_change_roi_low']:+.0%} to {p['with_change_roi_high']:+.0%}); "
                 "cost changes included.")
    elif roi_now is not None:
        words = f"ROI {roi_now:+.0%} as is; with the change the campaign spends nothing (ROI undefined)."
    return layout(figure, 280, "ROI projection, next 8 weeks"), words


def evidence_table(evidence: dict) -> pd.DataFrame:
    rows = []

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix} › {key}" if prefix else str(key), inner)
        elif isinstance(value, list):
            rows.append((prefix, ", ".join(str(v) for v in value[:12]) + (" …" if len(value) > 12 else "")))
        elif isinstance(value, float):
            rows.append((prefix, f"{value:,.4g}"))
        else:
            rows.append((prefix, "–" if value is None else str(value)))

    walk("", evidence)
    return pd.DataFrame(rows, columns=["What", "Value"])


@st.dialog("Apply recommendation")
def apply_dialog(row: dict) -> None:
    details = as_dict(row["details"])
    st.markdown(f"**{row['title']}**")
    st.caption(f"{row['campaign']} · {row['segment']}")
    st.write(details.get("why", ""))
    change = details.get("change", {})
    if row["kind"] == "budget":
        st.caption("A budget shift is a campaign-level change: no members can be held out, so its real effect is "
                   "not measured against a holdout.")
        share = 0.0
    else:
        share = st.slider("Holdout: share of the affected members kept on the old setting", 0.0, 0.5,
                          float(row.get("holdout_share") or DEFAULT_HOLDOUT_SHARE), 0.05, format="%.2f",
                          help="They measure the real effect later; 10 % is the default.")
    st.caption(f"Changes: {change.get('field')} from {change.get('before')} to {change.get('after')}. "
               "The change, the holdout and the audit-log entry are written together or not at all.")
    if st.button("Confirm and apply", type="primary", key=f"confirm_{row['recommendation_id']}"):
        try:
            result = opt.apply_recommendation(user, int(row["recommendation_id"]), share)
        except RecommendationError as error:
            st.error(str(error))
            return
        st.session_state["opt_flash"] = (f"Applied #{row['recommendation_id']}: {result['affected_members']:,} members "
                                         f"affected, {result['holdout_members']:,} kept in the holdout.")
        st.rerun()


def recommendation_card(row: dict) -> None:
    details = as_dict(row["details"])
    with st.container(border=True):
        top, actions = st.columns([5, 2])
        with top:
            st.markdown(f"#### {row['title']}")
            st.caption(f"{KIND_LABELS.get(row['kind'], row['kind'])} · campaign **{row['campaign']}** · "
                       f"segment **{str(row['segment']).replace('_', ' ')}** · card #{row['recommendation_id']}")
        with actions:
            if can(user, "apply_recommendation"):
                a, b = st.columns(2)
                if a.button("Apply", key=f"apply_{row['recommendation_id']}", type="primary", icon=":material/check:"):
                    apply_dialog(row)
                if b.button("Dismiss", key=f"dismiss_{row['recommendation_id']}", icon=":material/close:"):
                    try:
                        opt.dismiss_recommendation(user, int(row["recommendation_id"]), "dismissed on the screen")
                    except RecommendationError as error:
                        st.error(str(error))
                    else:
                        st.session_state["opt_flash"] = f"Dismissed #{row['recommendation_id']}."
                        st.rerun()
            else:
                st.caption("Only marketing managers can apply or dismiss recommendations.")
        c1, c2, c3 = st.columns(3)
        c1.metric("Expected impact / week", money(row["impact_mean"]),
                  help=f"90 % interval {money(row['impact_low'])} to {money(row['impact_high'])}; "
                       "USD of profit per week", border=True)
        c1.caption(f"90 %: {money(row['impact_low'])} to {money(row['impact_high'])}")
        c2.metric("Confidence", f"{row['confidence']:.0%}", help="Probability that the impact is positive", border=True)
        c3.metric("Implementation", str(row["ease"]).capitalize(), help=EASE_RULE, border=True)
        st.write(details.get("why", ""))
        chart, roi_words = projection_chart(details)
        left, right = st.columns([3, 2])
        with left:
            if chart is not None:
                st.plotly_chart(chart, width="stretch", key=f"proj_{row['recommendation_id']}")
                st.caption(roi_words)
        with right:
            with st.expander("Evidence (the numbers behind it)"):
                st.dataframe(evidence_table(details.get("evidence", {})), hide_index=True, width="stretch")


def cards_section(run: dict, campaigns: pd.DataFrame) -> None:
    if "opt_flash" in st.session_state:
        st.success(st.session_state.pop("opt_flash"), icon=":material/check_circle:")
    everything = opt.recommendations(None, None, None)
    names = dict(zip(campaigns.campaign_id, campaigns.name))
    c1, c2, c3 = st.columns(3)
    campaign_options = [None] + sorted(everything.campaign_id.dropna().astype(int).unique().tolist())
    chosen_campaign = c1.selectbox("Campaign", campaign_options, key="opt_campaign",
                                   format_func=lambda i: "All campaigns" if i is None else names.get(i, f"#{i}"))
    segment_options = [None] + sorted(everything.segment.dropna().unique().tolist())
    chosen_segment = c2.selectbox("Segment", segment_options, key="opt_segment",
                                  format_func=lambda s: "All segments" if s is None else s.replace("_", " "))
    kind_options = [None] + [k for k in KIND_LABELS if k in set(everything.kind)]
    chosen_kind = c3.selectbox("Type", kind_options, key="opt_kind",
                               format_func=lambda k: "All types" if k is None else KIND_LABELS[k])
    shown = opt.recommendations(chosen_campaign, chosen_kind, chosen_segment)
    if shown.empty:
        st.info("No open recommendation matches these filters. The models found nothing worth changing with at "
                "least 80 % confidence, or every card has been applied or dismissed.")
        return
    m1, m2, m3 = st.columns(3)
    m1.metric("Open recommendations", f"{len(shown):,}", border=True)
    m2.metric("Total expected impact / week", money(shown.impact_mean.sum()),
              help="Sum of the cards' expected impacts; cards on the same campaign can overlap.", border=True)
    m3.metric("Easy to implement", f"{(shown.ease == 'easy').sum():,}", help=EASE_RULE, border=True)
    pages = max(1, int(np.ceil(len(shown) / PAGE_SIZE)))
    page = st.number_input(f"Page (of {pages}, {PAGE_SIZE} cards each, best expected impact first)", 1, pages, 1,
                           key="opt_page") if pages > 1 else 1
    for row in shown.iloc[(page - 1) * PAGE_SIZE: page * PAGE_SIZE].to_dict("records"):
        recommendation_card(row)
    if can(user, "export"):
        export = shown[["recommendation_id", "campaign", "kind", "segment", "title", "confidence", "ease",
                        "impact_mean", "impact_low", "impact_high"]]
        csv_download(export.rename(columns={"impact_mean": "impact_usd_per_week", "impact_low": "impact_low_usd_per_week",
                                            "impact_high": "impact_high_usd_per_week"}),
                     "Download these recommendations (CSV)", "recommendations", "dl_recommendations")


# --- offers -----------------------------------------------------------------------------------

def offers_section(run: dict, campaigns: pd.DataFrame) -> None:
    names = dict(zip(campaigns.campaign_id, campaigns.name))
    chosen = st.selectbox("Campaign", campaigns.campaign_id.tolist(), key="opt_offer_campaign",
                          format_func=lambda i: names.get(i, f"#{i}"))
    scores = opt.offer_scores(int(chosen))
    if scores.empty:
        st.info("No offer scores for this campaign in the current run (it has no audience yet).")
        return
    campaign = campaigns.set_index("campaign_id").loc[chosen]
    current = scores[scores.is_current]
    st.caption(f"Every candidate offer for **{str(campaign.segment).replace('_', ' ')}** members over "
               f"**{campaign.channel.replace('_', '-')}**: predicted conversions per send and profit per send "
               "(revenue − reward cost − send cost) with 90 % intervals from a bootstrap over campaigns.")
    top = pd.concat([scores.head(15), current]).drop_duplicates("offer_id").sort_values("profit_per_send")
    colours = [RED if c else BLUE for c in top.is_current]
    figure = go.Figure(go.Bar(
        x=top.profit_per_send, y=top.offer, orientation="h", marker_color=colours,
        error_x=dict(type="data", symmetric=False, array=top.profit_high - top.profit_per_send,
                     arrayminus=top.profit_per_send - top.profit_low, color="#334155"),
        hovertemplate="%{y}<br>profit per send $%{x:.3f}<extra></extra>"))
    figure.update_xaxes(title="Expected profit per send (USD)", tickprefix="$")
    st.plotly_chart(layout(figure, 420, "Best offers by profit per send"), width="stretch")
    st.caption("Expected profit per send with its 90 % interval; the campaign's current offer in red.")
    table = scores.assign(p_conversion=scores.p_conversion * 100, p_low=scores.p_low * 100, p_high=scores.p_high * 100,
                          prob_better=scores.prob_better * 100)
    st.dataframe(table[["offer", "category", "reward_type", "reward_value", "is_current", "p_conversion", "p_low",
                        "p_high", "profit_per_send", "profit_low", "profit_high", "prob_better"]],
                 hide_index=True, width="stretch", height=320, column_config={
                     "offer": "Offer", "category": "Category", "reward_type": "Reward", "is_current": "Current",
                     "reward_value": st.column_config.NumberColumn("Value (% or USD)", format="%.2f"),
                     "p_conversion": st.column_config.NumberColumn("Conversions per send (%)", format="%.2f%%"),
                     "p_low": st.column_config.NumberColumn("low (%)", format="%.2f%%"),
                     "p_high": st.column_config.NumberColumn("high (%)", format="%.2f%%"),
                     "profit_per_send": st.column_config.NumberColumn("Profit per send (USD)", format="$%.3f"),
                     "profit_low": st.column_config.NumberColumn("low (USD)", format="$%.3f"),
                     "profit_high": st.column_config.NumberColumn("high (USD)", format="$%.3f"),
                     "prob_better": st.column_config.NumberColumn("P(beats current) (%)", format="%.0f%%"),
                 })
    metrics = as_dict(run["metrics"])
    effects = pd.DataFrame(metrics.get("offers", {}).get("reward_type_effect", []))
    check = metrics.get("offers", {}).get("held_out_campaigns", {})
    left, right = st.columns(2)
    with left:
        if not effects.empty:
            figure = go.Figure(go.Scatter(
                x=effects.odds_ratio_percent, y=effects.segment.str.replace("_", " "), mode="markers",
                marker=dict(size=11, color=BLUE),
                error_x=dict(type="data", symmetric=False, array=effects.high - effects.odds_ratio_percent,
                             arrayminus=effects.odds_ratio_percent - effects.low)))
            figure.add_vline(x=1, line_dash="dot", line_color=GREY)
            figure.update_xaxes(title="Conversion odds ratio, percent vs fixed cashback (90 %)", type="log")
            st.plotly_chart(layout(figure, 260, "Reward type each segment prefers"), width="stretch")
    with right:
        if check:
            st.markdown("**Held-out check (campaigns the model never saw)**")
            st.write(f"Error of conversions per send: model **{check['model_error']:.3%}** vs segment-average baseline "
                     f"**{check['baseline_error']:.3%}**; log-loss {check['model_log_loss']:.4f} vs "
                     f"{check['baseline_log_loss']:.4f} ({check['folds']}-fold, by campaign).")
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
            st.plotly_chart(layout(figure, 280, f"{row.variant} vs control · {row.outcome}"), width="stretch",
                            key=f"qini_{i}")
            st.caption(f"Qini coefficient {row.qini_coefficient:+.2f} (95 %: {row.qini_low:+.2f} to "
                       f"{row.qini_high:+.2f}; 0 = random targeting) on {row.held_out_members:,} held-out members.")


# --- send time --------------------------------------------------------------------------------

def send_time_section(run: dict) -> None:
    distribution = opt.send_time_distribution()
    if distribution.empty:
        st.info("No send-time estimates in this run.")
        return
    by_segment = opt.segment_send_time()
    segment_options = [None] + sorted(distribution.segment.unique().tolist())
    chosen = st.selectbox("Segment", segment_options, key="opt_time_segment",
                          format_func=lambda s: "All segments" if s is None else s.replace("_", " "))
    part = distribution if chosen is None else distribution[distribution.segment == chosen]
    counts = part.groupby(["best_hour", "personal"]).members.sum().unstack(fill_value=0).reindex(range(24), fill_value=0)
    figure = go.Figure()
    for personal, name, colour in ((True, "Personal estimate", BLUE), (False, "Segment's hour (too little history)", GREY)):
        if personal in counts:
            figure.add_trace(go.Bar(x=counts.index, y=counts[personal], name=name, marker_color=colour))
    figure.update_layout(barmode="stack")
    figure.update_xaxes(title="Best send hour (member's local time)", dtick=2)
    figure.update_yaxes(title="Members")
    total = int(part.members.sum())
    personal_total = int(part[part.personal].members.sum())
    st.plotly_chart(layout(figure, 330, f"Best hours of {total:,} members · {personal_total / max(total, 1):.0%} with a "
                                        "personal estimate"), width="stretch")
    metrics = as_dict(run["metrics"]).get("send_time", {})
    check = metrics.get("held_out", {})
    left, right = st.columns(2)
    with left:
        rows = by_segment if chosen is None else by_segment[by_segment.segment == chosen]
        figure = go.Figure()
        for row in rows.itertuples():
            figure.add_trace(go.Scatter(x=list(range(24)), y=[v * 100 for v in row.open_by_hour], mode="lines",
                                        name=f"{row.segment.replace('_', ' ')} (best {row.best_hour:02d}:00)"))
        figure.update_xaxes(title="Send hour (member's local time)", dtick=3)
        figure.update_yaxes(title="Open probability per send (%)")
        st.plotly_chart(layout(figure, 300, "Open probability by local hour"), width="stretch")
        st.caption("Hours at which a segment was never sent show the model's baseline: no data, so no peak.")
    with right:
        figure = go.Figure()
        for row in rows.itertuples():
            figure.add_trace(go.Bar(x=WEEKDAYS, y=row.weekday_factor, name=row.segment.replace("_", " ")))
        figure.add_hline(y=1, line_dash="dot", line_color=GREY)
        figure.update_yaxes(title="Open multiplier (1 = average day)")
        st.plotly_chart(layout(figure, 300, "Weekday effect (member's local weekday)"), width="stretch")
    if check:
        ratio = check["rate_ratio"]
        st.markdown(
            f"**Held-out weeks:** sends that went out at the member's recommended hour were opened "
            f"**{check['open_rate_at_best']['estimate']:.1%}** of the time against "
            f"**{check['open_rate_other']['estimate']:.1%}** for the rest; within campaigns that is "
            f"**×{ratio['estimate']:.2f}** (95 %: ×{ratio['low']:.2f} to ×{ratio['high']:.2f}), "
            f"over {check['sends_at_best'] + check['sends_other']:,} held-out sends.")
        kernel = metrics.get("kernel", [])
        if kernel:
            st.caption(f"Learned open multipliers at a member's peak hour ×{kernel[0]:.2f}, one hour off ×{kernel[1]:.2f}, "
                       f"two hours off ×{kernel[2]:.2f}, farther ×1.")


# --- affinity ---------------------------------------------------------------------------------

def affinity_section(run: dict) -> None:
    by_segment = opt.segment_affinity()
    if by_segment.empty:
        st.info("No affinity scores in this run.")
        return
    grid = by_segment.pivot(index="segment", columns="category", values="mean_score")
    figure = go.Figure(go.Heatmap(z=grid.to_numpy(), x=grid.columns, y=grid.index.str.replace("_", " "),
                                  colorscale="RdBu", zmid=1, text=np.round(grid.to_numpy(), 2), texttemplate="%{text}",
                                  colorbar=dict(title="vs everyone")))
    st.plotly_chart(layout(figure, 300, "Segment affinity: engagement per impression relative to all members (1 = same)"),
                    width="stretch")
    check = as_dict(run["metrics"]).get("affinity", {}).get("held_out", {})
    if check:
        st.caption(f"Held-out last two weeks, {check['members']:,} members who engaged: hit rate at 3 "
                   f"**{check['model']['estimate']:.1%}** (95 %: {check['model']['low']:.1%}–{check['model']['high']:.1%}) "
                   f"against **{check['popularity']['estimate']:.1%}** for the 3 most popular categories.")
    st.subheader("One member")
    candidates = opt.members_with_estimates()
    if candidates.empty:
        return
    member_id = st.selectbox("Member (most history first)", candidates.member_id.tolist(), key="opt_member",
                             format_func=lambda m: f"#{m}")
    profile = opt.member_profile(int(member_id))
    if profile.empty:
        st.info("This member is not in the data any more.")
        return
    shown = mask_frame(profile, user).iloc[0]
    st.markdown(f"**{shown.full_name}** · {shown.email} · segment {str(shown.segment).replace('_', ' ')} · "
                f"{shown.device} · time zone {shown.timezone}")
    if not can(user, "see_personal_data"):
        st.caption("Personal data is masked; only admins see it in full.")
    left, right = st.columns(2)
    with left:
        scores = opt.member_affinity(int(member_id))
        figure = go.Figure(go.Bar(x=scores.score, y=scores.category, orientation="h",
                                  marker_color=[BLUE if r <= 3 else GREY for r in scores["rank"]],
                                  customdata=np.column_stack([scores.impressions, scores.clicks, scores.conversions]),
                                  hovertemplate="%{y}: %{x:.2f}<br>%{customdata[0]} impressions, %{customdata[1]} clicks, "
                                                "%{customdata[2]} conversions<extra></extra>"))
        figure.add_vline(x=1, line_dash="dot", line_color=GREY)
        figure.update_yaxes(autorange="reversed")
        figure.update_xaxes(title="Affinity (1 = like the member's segment)")
        st.plotly_chart(layout(figure, 300, "Category affinity (top 3 in blue)"), width="stretch")
    with right:
        if pd.notna(shown.best_hour):
            figure = go.Figure(go.Scatter(x=list(range(24)), y=[v * 100 for v in shown.open_by_hour], mode="lines+markers",
                                          line=dict(color=BLUE)))
            figure.add_vline(x=int(shown.best_hour), line_dash="dot", line_color=GREEN)
            figure.update_xaxes(title=f"Send hour ({shown.timezone})", dtick=3)
            figure.update_yaxes(title="Open probability per send (%)")
            kind = "personal estimate" if shown.personal else "segment's hour (too little history)"
            st.plotly_chart(layout(figure, 300, f"Best hour {int(shown.best_hour):02d}:00 · {kind} · "
                                                f"confidence {shown.confidence:.0%}"), width="stretch")


# --- segments ---------------------------------------------------------------------------------

def segments_section(run: dict, campaigns: pd.DataFrame) -> None:
    profiles = opt.segments()
    if profiles.empty:
        st.info("No behavioural segments in this run.")
        return
    meta = as_dict(run["metrics"]).get("segments", {})
    rows = []
    for row in profiles.itertuples():
        p = as_dict(row.profile)
        rows.append({"segment_key": row.segment_key, "name": row.name, "members": row.members,
                     "recency_days": p["recency_days"], "engagements": p["frequency"], "revenue": p["monetary"],
                     "open_rate": p["open_rate"] * 100,
                     "top_channel": max(p["channels"], key=p["channels"].get) if p["channels"] else "",
                     "top_category": max(p["category_lift"], key=p["category_lift"].get) if p["category_lift"] else ""})
    table = pd.DataFrame(rows)
    st.caption(f"k-means on recency, frequency, monetary value, open rate and channel and category mix; "
               f"{meta.get('k', len(table))} segments chosen by the best silhouette score "
               f"({', '.join(f'k={k}: {v:.3f}' for k, v in meta.get('silhouette', {}).items())}); "
               f"{meta.get('kept_from_previous_run', 0)} kept their name from the previous run.")
    figure = go.Figure(go.Scatter(x=table.open_rate, y=table.revenue, mode="markers+text",
                                  text=[f"#{k}" for k in table.segment_key], textposition="middle center",
                                  hovertext=table.name, marker=dict(size=np.sqrt(table.members) / 1.5 + 14,
                                                                    color=BLUE, opacity=0.55)))
    figure.update_xaxes(title="Open rate of the segment's members (%)")
    figure.update_yaxes(title="Revenue per member (USD)", tickprefix="$")
    st.plotly_chart(layout(figure, 340, "Segment profiles (bubble size: members; keys as in the table)"), width="stretch")
    st.dataframe(table, hide_index=True, width="stretch", column_config={
        "segment_key": "Key", "name": "Segment", "members": st.column_config.NumberColumn("Members", format="%d"),
        "recency_days": st.column_config.NumberColumn("Days since engaged (mean)", format="%.1f"),
        "engagements": st.column_config.NumberColumn("Clicks + conversions (mean)", format="%.1f"),
        "revenue": st.column_config.NumberColumn("Revenue per member (USD)", format="$%.2f"),
        "open_rate": st.column_config.NumberColumn("Open rate (%)", format="%.1f%%"),
        "top_channel": "Most used channel", "top_category": "Stand-out category"})
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
    st.plotly_chart(layout(figure, 80 + 45 * len(roi), "Segment ROI in this campaign (red: below zero with 95 % confidence)"),
                    width="stretch")


# --- history ----------------------------------------------------------------------------------

def history_section(campaigns: pd.DataFrame) -> None:
    frame = opt.history(None)
    if frame.empty:
        st.info("No recommendation has been made yet.")
        return
    counts = frame.status.value_counts()
    cols = st.columns(4)
    for col, status in zip(cols, ["proposed", "applied", "dismissed", "expired"]):
        col.metric(status.capitalize(), f"{int(counts.get(status, 0)):,}", border=True)
    applied = frame[frame.status == "applied"]
    if not applied.empty:
        st.markdown("**Applied: projected against realised impact** (USD profit per week, 90 % intervals)")
        labels = [f"#{r.recommendation_id} {r.title[:40]}" for r in applied.itertuples()]
        figure = go.Figure()
        figure.add_trace(go.Scatter(x=applied.impact_mean, y=labels, mode="markers", name="Projected",
                                    marker=dict(color=GREY, size=10),
                                    error_x=dict(type="data", symmetric=False, array=applied.impact_high - applied.impact_mean,
                                                 arrayminus=applied.impact_mean - applied.impact_low)))
        measured = applied[applied.enough_data.fillna(False).astype(bool)]
        if not measured.empty:
            figure.add_trace(go.Scatter(x=measured.realised_mean, y=[labels[i] for i, ok in enumerate(applied.enough_data.fillna(False)) if ok],
                                        mode="markers", name="Realised (treated vs holdout)", marker=dict(color=BLUE, size=10, symbol="diamond"),
                                        error_x=dict(type="data", symmetric=False, array=measured.realised_high - measured.realised_mean,
                                                     arrayminus=measured.realised_mean - measured.realised_low)))
        figure.add_vline(x=0, line_dash="dot", line_color=GREY)
        figure.update_xaxes(title="USD profit per week", tickprefix="$")
        st.plotly_chart(layout(figure, 100 + 40 * len(applied)), width="stretch")
        waiting = applied[~applied.enough_data.fillna(False).astype(bool)]
        if not waiting.empty:
            st.caption(f"{len(waiting)} applied card(s) are still collecting data: realised impact is shown once the "
                       "holdout has at least 30 members and 7 days of events.")
    shown = frame.assign(realised=frame.apply(
        lambda r: (f"{money(r.realised_mean)} ({money(r.realised_low)} to {money(r.realised_high)})"
                   if bool(r.enough_data) and pd.notna(r.realised_mean) else
                   ("collecting data" if r.status == "applied" and r.holdout_share else "")), axis=1))
    st.dataframe(shown[["recommendation_id", "status", "campaign", "kind", "title", "impact_mean", "impact_low",
                        "impact_high", "confidence", "created_at", "decided_at", "decided_by", "realised"]],
                 hide_index=True, width="stretch", height=360, column_config={
                     "recommendation_id": "Card", "status": "Status", "campaign": "Campaign", "kind": "Type",
                     "title": "What", "impact_mean": st.column_config.NumberColumn("Projected / week (USD)", format="$%.0f"),
                     "impact_low": st.column_config.NumberColumn("low", format="$%.0f"),
                     "impact_high": st.column_config.NumberColumn("high", format="$%.0f"),
                     "confidence": st.column_config.NumberColumn("Confidence", format="%.2f"),
                     "created_at": st.column_config.DatetimeColumn("Proposed (UTC)", format="YYYY-MM-DD HH:mm"),
                     "decided_at": st.column_config.DatetimeColumn("Decided (UTC)", format="YYYY-MM-DD HH:mm"),
                     "decided_by": "By", "realised": "Realised / week (90 %)"})


def model_quality(run: dict) -> None:
    metrics = as_dict(run["metrics"])
    with st.expander("How good are the models? (held-out evaluations of this run)"):
        send = metrics.get("send_time", {}).get("held_out", {})
        aff = metrics.get("affinity", {}).get("held_out", {})
        off = metrics.get("offers", {}).get("held_out_campaigns", {})
        rows = []
        if send:
            rows.append(("Send time", "open rate at the recommended hour vs other sends, held-out weeks (×, within campaigns)",
                         f"×{send['rate_ratio']['estimate']:.2f} ({send['rate_ratio']['low']:.2f}–{send['rate_ratio']['high']:.2f})", "×1.00"))
        if aff:
            rows.append(("Affinity", "hit rate at 3, last two weeks held out",
                         f"{aff['model']['estimate']:.1%} ({aff['model']['low']:.1%}–{aff['model']['high']:.1%})",
                         f"popularity {aff['popularity']['estimate']:.1%}"))
        if off:
            rows.append(("Offers", "error of conversions per send on unseen campaigns",
                         f"{off['model_error']:.3%}", f"segment average {off['baseline_error']:.3%}"))
        for item in metrics.get("uplift", []):
            rows.append((f"Uplift (test {item['test_id']}, {item['variant']})", f"Qini coefficient, {item['outcome']}, held-out members",
                         f"{item['qini_coefficient']:+.2f} ({item['qini_low']:+.2f} to {item['qini_high']:+.2f})", "random 0"))
        st.dataframe(pd.DataFrame(rows, columns=["Model", "Metric", "Model's value (95 %)", "Baseline"]),
                     hide_index=True, width="stretch")
        st.caption("Method and tolerances: docs/optimization.md.")


with database_guard():
    run = opt.current_run()
    top_left, top_right = st.columns([5, 1])
    with top_left:
        run_header(run)
    with top_right:
        train_button()
    if run is not None:
        campaigns = data.campaigns()
        tabs = st.tabs(["Recommendations", "Offers", "Send time", "Affinity", "Segments", "History"])
        with tabs[0]:
            cards_section(run, campaigns)
        with tabs[1]:
            offers_section(run, campaigns)
        with tabs[2]:
            send_time_section(run)
        with tabs[3]:
            affinity_section(run)
        with tabs[4]:
            segments_section(run, campaigns)
        with tabs[5]:
            history_section(campaigns)
        model_quality(run)
