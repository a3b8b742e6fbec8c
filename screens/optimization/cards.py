"""Tab "Recommendations": cards sorted by expected impact, each with its confidence, ease, impact
interval, why, evidence and 8-week ROI projection; apply (with a holdout) or dismiss."""
import numpy as np
import pandas as pd
import streamlit as st

from core.access.auth import User, can
from core.optimize.apply import RecommendationError
from core.optimize.recommendations import DEFAULT_HOLDOUT_SHARE, EASE_RULE, KIND_LABELS, MAX_CONFIDENCE
from screens.optimization.model_run import as_dict
from ui import kpi_cards, optimize_charts
from ui import optimize_data as opt
from ui.format import MISSING, count, escape_markdown, money, percent, probability, segment_label
from ui.html_table import written_markup
from ui.kpi_cards import Card
from ui.widgets import csv_download, vega_chart

# Cards a page, best expected impact first. Each card draws its projection chart; with 8 a page
# the screen opened at 0.99-1.09x the time of issue 15's reference page, with 6 at 0.91-0.92x
# (bench/bench_browser.py --screens recommendations, side by side, 2026-11-30).
PAGE_SIZE = 6


def confidence_text(value) -> str:
    """A card's confidence: "> 99 %" at the cap, never 100 %."""
    if value is not None and np.isfinite(value) and value >= MAX_CONFIDENCE:
        return "> 99 %"
    return probability(value)


def revenue_share_text(details: dict) -> str:
    """The expected impact as a share of the campaign's current weekly revenue."""
    share = details.get("share_of_weekly_revenue")
    revenue = details.get("evidence", {}).get("campaign_revenue_per_week")
    if share is None or revenue is None:
        return "Campaign's current weekly revenue: not known"
    words = f"{percent(share, 0)} of the campaign's current weekly revenue ({money(revenue)})"
    if details.get("above_revenue_plus_cost"):
        words += "; above its revenue plus cost (the reason is in the text below)"
    return words


def suppressed_text(selection: dict) -> str:
    """How many candidate changes were not shown, and why."""
    if not selection:
        return ""
    suppressed = selection.get("suppressed", {})
    reasons = [(suppressed.get("not_positive_enough", 0),
                f"confidence below {percent(selection.get('min_confidence', 0.8), 0)}"),
               (suppressed.get("false_discovery_control", 0),
                f"did not pass the false-discovery control (Benjamini–Hochberg at "
                f"{percent(selection.get('false_discovery_rate', 0.1), 0)} across all candidates)"),
               (suppressed.get("too_small", 0), f"expected impact below {money(selection.get('min_impact_per_week', 1))} a week")]
    parts = [f"{count(n)} {why}" for n, why in reasons if n]
    total = sum(n for n, _ in reasons)
    head = (f"The last training weighed {count(selection.get('candidates', 0))} candidate changes and shows "
            f"{count(selection.get('shown', 0))}")
    return head + (f"; {count(total)} suppressed: " + "; ".join(parts) + "." if total else "; none suppressed.")


def evidence_table(evidence: dict) -> pd.DataFrame:
    """The evidence as (what, value) rows: a table of text (ui.html_table escapes it)."""
    rows = []

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                name = str(key).replace("_", " ")  # "reward type", not the stored key "reward_type"
                walk(f"{prefix} › {name}" if prefix else name[:1].upper() + name[1:], inner)
        elif isinstance(value, list):
            rows.append((prefix, ", ".join(str(v) for v in value[:12]) + (" …" if len(value) > 12 else "")))
        elif isinstance(value, float):
            rows.append((prefix, f"{value:,.4g}"))
        else:
            rows.append((prefix, MISSING if value is None else str(value)))

    walk("", evidence)
    return pd.DataFrame(rows, columns=["What", "Value"])


@st.dialog("Apply recommendation")
def apply_dialog(user: User, row: dict) -> None:
    details = as_dict(row["details"])
    st.markdown(f"**{escape_markdown(row['title'])}**")
    st.caption(f"{escape_markdown(row['campaign'])} · {escape_markdown(segment_label(row['segment']))}")
    st.markdown(escape_markdown(details.get("why", "")))
    change = details.get("change", {})
    share = st.slider("Holdout: share of the affected members kept on the old setting", 0.0, 0.5,
                      float(row.get("holdout_share") or DEFAULT_HOLDOUT_SHARE), 0.05, format="%.2f",
                      help="They measure the real effect later; 10 % is the default.")
    st.caption(f"Changes: {escape_markdown(change.get('field'))} from {escape_markdown(change.get('before'))} "
               f"to {escape_markdown(change.get('after'))}. "
               "The change, the holdout and the audit-log entry are written together or not at all.")
    if row.get("kind") == "pause":
        st.caption("With a holdout the campaign stays live for the holdout only, so what pausing saves and loses "
                   "is measured; with no holdout its status becomes paused.")
    if st.button("Confirm and apply", type="primary", key=f"confirm_{row['recommendation_id']}"):
        try:
            result = opt.apply_recommendation(user, int(row["recommendation_id"]), share)
        except RecommendationError as error:
            st.error(escape_markdown(error))
            return
        st.session_state["opt_flash"] = (f"Applied #{row['recommendation_id']}: {count(result['affected_members'])} "
                                         f"members affected, {count(result['holdout_members'])} kept in the holdout.")
        st.rerun()


def card_actions(user: User, row: dict) -> None:
    if not can(user, "apply_recommendation"):
        st.caption("Only marketing managers can apply or dismiss recommendations.")
        return
    buttons = st.container(horizontal=True)  # one block, not three (two columns)
    if buttons.button("Apply", key=f"apply_{row['recommendation_id']}", type="primary", icon=":material/check:"):
        apply_dialog(user, row)
    if buttons.button("Dismiss", key=f"dismiss_{row['recommendation_id']}", icon=":material/close:"):
        try:
            opt.dismiss_recommendation(user, int(row["recommendation_id"]), "dismissed on the screen")
        except RecommendationError as error:
            st.error(escape_markdown(error))
        else:
            st.session_state["opt_flash"] = f"Dismissed #{row['recommendation_id']}."
            st.rerun()


def recommendation_card(user: User, row: dict) -> None:
    details = as_dict(row["details"])
    with st.container(border=True):
        top, actions = st.columns([5, 2])
        with top:
            st.markdown(f"#### {escape_markdown(row['title'])}")
            st.caption(f"{KIND_LABELS.get(row['kind'], escape_markdown(row['kind']))} · campaign "
                       f"**{escape_markdown(row['campaign'])}** · segment "
                       f"**{escape_markdown(segment_label(row['segment']))}** · card #{row['recommendation_id']}")
        with actions:
            card_actions(user, row)
        interval = f"{money(row['impact_low'])} to {money(row['impact_high'])}"
        kpi_cards.draw([[  # one block, not three metrics and two captions in columns (issue 15)
            Card("Expected impact / week", money(row["impact_mean"]), note=f"90 %: {interval}",
                 help=f"90 % interval {interval}; USD of profit per week"),
            Card("Confidence", confidence_text(row["confidence"]), note=revenue_share_text(details),
                 help="Probability that the impact is positive (never shown above 99 %: the evidence cannot "
                      "support more)"),
            Card("Implementation", str(row["ease"]).capitalize(), help=EASE_RULE)]])
        st.markdown(escape_markdown(details.get("why", "")))
        chart, roi_words = optimize_charts.projection_chart(int(row["recommendation_id"]))
        left, right = st.columns([3, 2])
        with left:
            if chart is not None:
                vega_chart(spec=chart, width="stretch", key=f"proj_{row['recommendation_id']}")
                st.caption(roi_words)
        with right:
            with st.expander("Evidence (the numbers behind it)"):
                # values left-aligned: many are words that must wrap in this narrow column
                st.html(written_markup(evidence_table(details.get("evidence", {})), css_class="evidence"))


def filters(campaigns: pd.DataFrame) -> tuple[int | None, str | None, str | None]:
    """Campaign, type and segment to show (select boxes: options are plain text)."""
    everything = opt.recommendations(None, None, None)
    names = dict(zip(campaigns.campaign_id, campaigns.name))
    c1, c2, c3 = st.columns(3)
    campaign_options = [None] + sorted(everything.campaign_id.dropna().astype(int).unique().tolist())
    chosen_campaign = c1.selectbox("Campaign", campaign_options, key="opt_campaign",
                                   format_func=lambda i: "All campaigns" if i is None else names.get(i, f"#{i}"))
    segment_options = [None] + sorted(everything.segment.dropna().unique().tolist())
    chosen_segment = c2.selectbox("Segment", segment_options, key="opt_segment",
                                  format_func=lambda s: "All segments" if s is None else segment_label(s))
    kind_options = [None] + [k for k in KIND_LABELS if k in set(everything.kind)]
    chosen_kind = c3.selectbox("Type", kind_options, key="opt_kind",
                               format_func=lambda k: "All types" if k is None else KIND_LABELS[k])
    return chosen_campaign, chosen_kind, chosen_segment


def cards_section(user: User, campaigns: pd.DataFrame, run: dict | None = None) -> None:
    if "opt_flash" in st.session_state:
        st.success(st.session_state.pop("opt_flash"), icon=":material/check_circle:")
    selection = as_dict((run or {}).get("metrics")).get("recommendations", {})
    if selection:
        st.caption(escape_markdown(suppressed_text(selection)))
    shown = opt.recommendations(*filters(campaigns))
    if shown.empty:
        st.info("No open recommendation matches these filters. The models found nothing worth changing with at "
                "least 80 % confidence that also passed the false-discovery control, or every card has been "
                "applied or dismissed.")
        return
    kpi_cards.draw([[Card("Open recommendations", count(len(shown))),
                     Card("Total expected impact / week", money(shown.impact_mean.sum()),
                          help="Sum of the cards' expected impacts; cards on the same campaign can overlap."),
                     Card("Easy to implement", count((shown.ease == "easy").sum()), help=EASE_RULE)]])
    pages = max(1, int(np.ceil(len(shown) / PAGE_SIZE)))
    page = st.number_input(f"Page (of {pages}, {PAGE_SIZE} cards each, best expected impact first)", 1, pages, 1,
                           key="opt_page") if pages > 1 else 1
    for row in shown.iloc[(page - 1) * PAGE_SIZE: page * PAGE_SIZE].to_dict("records"):
        recommendation_card(user, row)
    if can(user, "export"):
        export = shown[["recommendation_id", "campaign", "kind", "segment", "title", "confidence", "ease",
                        "impact_mean", "impact_low", "impact_high"]]
        csv_download(export.rename(columns={"impact_mean": "impact_usd_per_week", "impact_low": "impact_low_usd_per_week",
                                            "impact_high": "impact_high_usd_per_week"}),
                     "Download these recommendations (CSV)", "recommendations", "dl_recommendations")
