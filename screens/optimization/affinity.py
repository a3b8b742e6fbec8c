"""Tab "Affinity": engagement per category for each segment against all members, the model's
held-out hit rate, and one member's category affinities and best send hour (personal data
masked for everyone but admins)."""
import pandas as pd
import streamlit as st

from core.access.auth import User, can
from core.access.pii import mask_frame
from screens.optimization.model_run import as_dict
from ui import optimize_data as opt
from ui import vega
from ui.format import BLUE, GREEN, GREY, count, escape_markdown, percent, segment_label
from ui.optimize_charts import chart_spec, reference_rule
from ui.widgets import vega_chart


def affinity_heatmap(by_segment: pd.DataFrame) -> dict:
    """Segment × category engagement per impression relative to all members, on a red–blue scale
    centred on 1 (red: less than everyone, blue: more), each cell's value written in it."""
    frame = pd.DataFrame({"segment": by_segment.segment.map(segment_label), "category": by_segment.category,
                          "score": by_segment.mean_score.astype(float), "top3": by_segment.top3_share.astype(float),
                          "members": by_segment.members.astype(int)}).dropna(subset=["score"])
    data = vega.records(frame)
    x = {"field": "category", "type": "nominal", "title": "Category", "sort": sorted(frame.category.unique()),
         "axis": {"labelAngle": -45, "labelOverlap": False}}
    y = {"field": "segment", "type": "nominal", "title": None, "sort": sorted(frame.segment.unique())}
    tooltip = [{"field": "segment", "title": "Segment"}, {"field": "category", "title": "Category"},
               {"field": "score", "title": "Engagement vs everyone", "format": ".2f"},
               {"field": "top3", "title": "Members with it in their top 3", "format": ".1%"},
               {"field": "members", "title": "Members", "format": ","}]
    spread = max(float((frame.score - 1).abs().max()), 0.05) if not frame.empty else 1.0
    return chart_spec(
        "Segment affinity: engagement per impression relative to all members", 200,
        title={"text": "Segment affinity", "subtitle": "engagement per impression relative to all members (1 = same)"},
        layer=[
            {"data": data, "mark": {"type": "rect"},
             "encoding": {"x": x, "y": y,
                          "color": {"field": "score", "type": "quantitative", "title": "vs everyone",
                                    "scale": {"scheme": "redblue", "domain": [1 - spread, 1 + spread], "domainMid": 1},
                                    "legend": {"orient": "right", "gradientLength": 160}},
                          "tooltip": tooltip}},
            {"data": data, "mark": {"type": "text", "fontSize": 11},
             "encoding": {"x": x, "y": y, "text": {"field": "score", "type": "quantitative", "format": ".2f"},
                          "tooltip": tooltip,
                          "color": {"condition": {"test": f"abs(datum.score - 1) > {spread * 0.6:.4f}", "value": "white"},
                                    "value": "#111827"}}},
        ],
    )


def member_affinity_chart(scores: pd.DataFrame) -> dict:
    """One member's affinity per category, best first (the top 3 in blue), 1 = like the member's segment."""
    frame = scores[["category", "rank", "score", "impressions", "clicks", "conversions"]].astype(
        {"rank": int, "score": float, "impressions": int, "clicks": int, "conversions": int})
    data = vega.records(frame.assign(top3=frame["rank"] <= 3))
    y = {"field": "category", "type": "nominal", "title": None, "sort": frame.sort_values("rank").category.tolist()}
    return chart_spec(
        "One member's category affinity (top 3 in blue)", 200,
        title="Category affinity (top 3 in blue)",
        layer=[{"data": data, "mark": {"type": "bar", "cornerRadiusEnd": 2},
                "encoding": {"y": y,
                             "x": {"field": "score", "type": "quantitative", "title": "Affinity (1 = like the member's segment)"},
                             "color": {"condition": {"test": "datum.top3", "value": BLUE}, "value": GREY},
                             "tooltip": [{"field": "category", "title": "Category"},
                                         {"field": "score", "title": "Affinity", "format": ".2f"},
                                         {"field": "impressions", "title": "Impressions", "format": ","},
                                         {"field": "clicks", "title": "Clicks", "format": ","},
                                         {"field": "conversions", "title": "Conversions", "format": ","}]}},
               reference_rule("x", 1)],
    )


def member_hours_chart(shown: pd.Series) -> dict:
    """One member's open probability per send by local hour, the best hour marked in green."""
    best = int(shown.best_hour)
    values = [{"hour": hour, "label": f"{hour:02d}:00", "open": float(v) * 100} for hour, v in enumerate(shown.open_by_hour)]
    kind = "personal estimate" if shown.personal else "segment's hour (too little history)"
    return chart_spec(
        "One member's open probability by local hour and best send hour", 190,
        title={"text": f"Best hour {best:02d}:00", "subtitle": f"{kind} · confidence {percent(shown.confidence, 0)}"},
        layer=[{"data": {"values": values}, "mark": {"type": "line", "color": BLUE, "point": {"color": BLUE, "size": 30}},
                "encoding": {"x": {"field": "hour", "type": "quantitative", "title": f"Send hour ({shown.timezone})",
                                   "scale": {"domain": [0, 23], "nice": False}, "axis": {"values": list(range(0, 24, 3))}},
                             "y": {"field": "open", "type": "quantitative", "title": "Open probability per send (%)",
                                   "scale": {"zero": False}},
                             "tooltip": [{"field": "label", "title": "Local hour"},
                                         {"field": "open", "title": "Open probability per send (%)", "format": ".1f"}]}},
               reference_rule("x", best, GREEN)],
    )


def segment_heatmap(run: dict) -> bool:
    """The segment × category affinity grid and its held-out check; False when there is none."""
    by_segment = opt.segment_affinity()
    if by_segment.empty:
        st.info("No affinity scores in this run.")
        return False
    vega_chart(spec=affinity_heatmap(by_segment), width="stretch", key="opt_affinity_heatmap")
    check = as_dict(run["metrics"]).get("affinity", {}).get("held_out", {})
    if check:
        model = check["model"]
        words = (f"Held-out last two weeks, {count(check['members'])} members who engaged: hit rate at 3 "
                 f"**{percent(model['estimate'])}** (95 %: {percent(model['low'])}–{percent(model['high'])}) "
                 f"against **{percent(check['popularity']['estimate'])}** for the 3 most popular categories and "
                 f"**{percent(check['exposure_only']['estimate'])}** for the categories each member was shown most.")
        lift = check.get("lift_over_better_baseline")
        if lift is not None:
            words += f" Lift over the better baseline: ×{lift:.2f}"
            words += (" — what members engage with follows what they are shown." if lift < 1.02 else ".")
        per = check.get("per_impression")
        if per and per.get("lift_over_better_baseline") is not None:
            words += (f" Per impression (what members prefer among what they are shown): "
                      f"**{percent(per['model']['estimate'])}** of held-out impressions in their top 3 categories "
                      f"were clicked against {percent(per['popularity']['estimate'])} by their segment's favourites "
                      f"and {percent(per['exposure_only']['estimate'])} by exposure: ×"
                      f"{per['lift_over_better_baseline']:.2f} over the better baseline.")
        st.caption(words)
    return True


def member_charts(member_id: int, shown: pd.Series) -> None:
    left, right = st.columns(2)
    with left:
        scores = opt.member_affinity(member_id)
        if not scores.empty:
            vega_chart(spec=member_affinity_chart(scores), width="stretch",
                               key="opt_member_affinity")
    with right:
        if pd.notna(shown.best_hour):
            vega_chart(spec=member_hours_chart(shown), width="stretch", key="opt_member_hours")


def affinity_section(user: User, run: dict) -> None:
    if not segment_heatmap(run):
        return
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
    st.markdown(f"**{escape_markdown(shown.full_name)}** · {escape_markdown(shown.email)} · segment "
                f"{escape_markdown(segment_label(shown.segment))} · {escape_markdown(shown.device)} · time zone "
                f"{escape_markdown(shown.timezone)}")
    if not can(user, "see_personal_data"):
        st.caption("Personal data is masked; only admins see it in full.")
    member_charts(int(member_id), shown)
