"""Tab "Send time": each member's best local send hour, open probability by hour and weekday
per segment, and the held-out check of the send-time model."""
import plotly.graph_objects as go
import streamlit as st

from screens.optimization.model_run import as_dict
from ui import optimize_data as opt
from ui.format import BLUE, GREY, chart_layout, count, percent, segment_label

WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def best_hours_chart(part) -> go.Figure:
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
    return chart_layout(figure, 330, f"Best hours of {count(total)} members · {percent(personal_total / max(total, 1), 0)} "
                                     "with a personal estimate")


def held_out_check(metrics: dict) -> None:
    check = metrics.get("held_out", {})
    if not check:
        return
    ratio = check["rate_ratio"]
    st.markdown(
        f"**Held-out weeks:** sends that went out at the member's recommended hour were opened "
        f"**{percent(check['open_rate_at_best']['estimate'])}** of the time against "
        f"**{percent(check['open_rate_other']['estimate'])}** for the rest; within campaigns that is "
        f"**×{ratio['estimate']:.2f}** (95 %: ×{ratio['low']:.2f} to ×{ratio['high']:.2f}), "
        f"over {count(check['sends_at_best'] + check['sends_other'])} held-out sends.")
    kernel = metrics.get("kernel", [])
    if kernel:
        st.caption(f"Learned open multipliers at a member's peak hour ×{kernel[0]:.2f}, one hour off ×{kernel[1]:.2f}, "
                   f"two hours off ×{kernel[2]:.2f}, farther ×1.")


def send_time_section(run: dict) -> None:
    distribution = opt.send_time_distribution()
    if distribution.empty:
        st.info("No send-time estimates in this run.")
        return
    by_segment = opt.segment_send_time()
    segment_options = [None] + sorted(distribution.segment.unique().tolist())
    chosen = st.selectbox("Segment", segment_options, key="opt_time_segment",
                          format_func=lambda s: "All segments" if s is None else segment_label(s))
    part = distribution if chosen is None else distribution[distribution.segment == chosen]
    st.plotly_chart(best_hours_chart(part), width="stretch")
    rows = by_segment if chosen is None else by_segment[by_segment.segment == chosen]
    left, right = st.columns(2)
    with left:
        figure = go.Figure()
        for row in rows.itertuples():
            figure.add_trace(go.Scatter(x=list(range(24)), y=[v * 100 for v in row.open_by_hour], mode="lines",
                                        name=f"{segment_label(row.segment)} (best {row.best_hour:02d}:00)"))
        figure.update_xaxes(title="Send hour (member's local time)", dtick=3)
        figure.update_yaxes(title="Open probability per send (%)")
        st.plotly_chart(chart_layout(figure, 300, "Open probability by local hour"), width="stretch")
        st.caption("Hours at which a segment was never sent show the model's baseline: no data, so no peak.")
    with right:
        figure = go.Figure()
        for row in rows.itertuples():
            figure.add_trace(go.Bar(x=WEEKDAYS, y=row.weekday_factor, name=segment_label(row.segment)))
        figure.add_hline(y=1, line_dash="dot", line_color=GREY)
        figure.update_yaxes(title="Open multiplier (1 = average day)")
        st.plotly_chart(chart_layout(figure, 300, "Weekday effect (member's local weekday)"), width="stretch")
    held_out_check(as_dict(run["metrics"]).get("send_time", {}))
