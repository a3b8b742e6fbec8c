"""Tab "Affinity": engagement per category for each segment against all members, the model's
held-out hit rate, and one member's category affinities and best send hour (personal data
masked for everyone but admins)."""
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.access.auth import User, can
from core.access.pii import mask_frame
from screens.optimization.model_run import as_dict
from ui import optimize_data as opt
from ui.format import BLUE, GREEN, GREY, chart_layout, count, escape_markdown, percent, segment_label


def segment_heatmap(run: dict) -> bool:
    """The segment × category affinity grid and its held-out check; False when there is none."""
    by_segment = opt.segment_affinity()
    if by_segment.empty:
        st.info("No affinity scores in this run.")
        return False
    grid = by_segment.pivot(index="segment", columns="category", values="mean_score")
    figure = go.Figure(go.Heatmap(z=grid.to_numpy(), x=grid.columns, y=grid.index.map(segment_label),
                                  colorscale="RdBu", zmid=1, text=np.round(grid.to_numpy(), 2), texttemplate="%{text}",
                                  colorbar=dict(title="vs everyone")))
    st.plotly_chart(chart_layout(figure, 300, "Segment affinity: engagement per impression relative to all members (1 = same)"),
                    width="stretch")
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
        figure = go.Figure(go.Bar(x=scores.score, y=scores.category, orientation="h",
                                  marker_color=[BLUE if r <= 3 else GREY for r in scores["rank"]],
                                  customdata=np.column_stack([scores.impressions, scores.clicks, scores.conversions]),
                                  hovertemplate="%{y}: %{x:.2f}<br>%{customdata[0]} impressions, %{customdata[1]} clicks, "
                                                "%{customdata[2]} conversions<extra></extra>"))
        figure.add_vline(x=1, line_dash="dot", line_color=GREY)
        figure.update_yaxes(autorange="reversed")
        figure.update_xaxes(title="Affinity (1 = like the member's segment)")
        st.plotly_chart(chart_layout(figure, 300, "Category affinity (top 3 in blue)"), width="stretch")
    with right:
        if pd.notna(shown.best_hour):
            figure = go.Figure(go.Scatter(x=list(range(24)), y=[v * 100 for v in shown.open_by_hour], mode="lines+markers",
                                          line=dict(color=BLUE)))
            figure.add_vline(x=int(shown.best_hour), line_dash="dot", line_color=GREEN)
            figure.update_xaxes(title=f"Send hour ({shown.timezone})", dtick=3)
            figure.update_yaxes(title="Open probability per send (%)")
            kind = "personal estimate" if shown.personal else "segment's hour (too little history)"
            st.plotly_chart(chart_layout(figure, 300, f"Best hour {int(shown.best_hour):02d}:00 · {kind} · "
                                                      f"confidence {percent(shown.confidence, 0)}"), width="stretch")


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
