"""Tab "Send time": each member's best local send hour, open probability by hour and weekday
per segment, and the held-out check of the send-time model."""
import pandas as pd
import streamlit as st

from screens.optimization.model_run import as_dict
from ui import optimize_data as opt
from ui.format import BLUE, GREY, count, percent, segment_label
from ui.optimize_charts import LINE_LEGEND, chart_spec, legend_columns, reference_rule
from ui.widgets import vega_chart

WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


HOUR_KINDS = ((True, "Personal estimate", BLUE), (False, "Segment's hour (too little history)", GREY))


def best_hours_chart(part: pd.DataFrame) -> dict:
    """Members by their best local send hour, stacked: a personal estimate (blue, at the bottom)
    or their segment's hour for too little history (grey)."""
    counts = part.groupby(["best_hour", "personal"]).members.sum().unstack(fill_value=0).reindex(range(24), fill_value=0)
    kinds = [(personal, name, colour) for personal, name, colour in HOUR_KINDS if personal in counts]
    rows = [{"hour": hour, "label": f"{hour:02d}:00", "kind": name, "order": order, "members": int(counts.at[hour, personal])}
            for order, (personal, name, _) in enumerate(kinds) for hour in range(24)]
    total = int(part.members.sum())
    personal_total = int(part[part.personal].members.sum())
    return chart_spec(
        "Best send hours of members (personal estimate or their segment's hour)", 220,
        title={"text": f"Best hours of {count(total)} members",
               "subtitle": f"{percent(personal_total / max(total, 1), 0)} with a personal estimate"},
        layer=[{"data": {"values": rows}, "mark": {"type": "bar"},
                "encoding": {
                    "x": {"field": "hour", "type": "ordinal", "title": "Best send hour (member's local time)",
                          "axis": {"values": list(range(0, 24, 2)), "labelAngle": 0}},
                    "y": {"field": "members", "type": "quantitative", "title": "Members", "stack": "zero",
                          "axis": {"format": ",d"}},
                    "color": {"field": "kind", "type": "nominal", "title": "Best hour",
                              "legend": {"title": None, "labelLimit": 320, "columns": legend_columns(260)},
                              "scale": {"domain": [k[1] for k in kinds], "range": [k[2] for k in kinds]}},
                    "order": {"field": "order", "type": "quantitative"},
                    "tooltip": [{"field": "label", "title": "Best send hour (local)"}, {"field": "kind", "title": "From"},
                                {"field": "members", "title": "Members", "format": ","}]}}],
    )


def segment_colours(rows: pd.DataFrame) -> list[str]:
    """The segments' names in the order every chart of the tab colours them."""
    return [segment_label(s) for s in rows.segment]


def open_by_hour_chart(rows: pd.DataFrame) -> dict:
    """Each segment's open probability per send by local hour (a line per segment)."""
    names = segment_colours(rows)
    values = [{"segment": name, "series": f"{name} (best {int(row.best_hour):02d}:00)", "hour": hour,
               "label": f"{hour:02d}:00", "open": float(v) * 100}
              for name, row in zip(names, rows.itertuples()) for hour, v in enumerate(row.open_by_hour)]
    series = [f"{name} (best {int(row.best_hour):02d}:00)" for name, row in zip(names, rows.itertuples())]
    return chart_spec(
        "Open probability by local hour, per segment", 190,
        title="Open probability by local hour",
        layer=[{"data": {"values": values}, "mark": {"type": "line", "point": {"size": 30, "opacity": 0}},
                "encoding": {
                    "x": {"field": "hour", "type": "quantitative", "title": "Send hour (member's local time)",
                          "scale": {"domain": [0, 23], "nice": False}, "axis": {"values": list(range(0, 24, 3))}},
                    "y": {"field": "open", "type": "quantitative", "title": "Open probability per send (%)",
                          "scale": {"zero": False}},
                    "color": {"field": "series", "type": "nominal", "title": "Segment",
                              "legend": {**LINE_LEGEND, "columns": legend_columns(210)},
                              "scale": {"domain": series}},
                    "tooltip": [{"field": "segment", "title": "Segment"}, {"field": "label", "title": "Local hour"},
                                {"field": "open", "title": "Open probability per send (%)", "format": ".1f"}]}}],
    )


def weekday_chart(rows: pd.DataFrame) -> dict:
    """Each segment's open multiplier per local weekday (bars side by side; 1 = average day)."""
    names = segment_colours(rows)
    values = [{"segment": name, "weekday": day, "factor": float(f)}
              for name, row in zip(names, rows.itertuples()) for day, f in zip(WEEKDAYS, row.weekday_factor)]
    segment = {"field": "segment", "type": "nominal", "title": "Segment", "legend": {"title": None, "columns": legend_columns(110)},
               "scale": {"domain": names}}
    return chart_spec(
        "Weekday effect on opens, per segment", 190,
        title="Weekday effect (member's local weekday)",
        layer=[{"data": {"values": values}, "mark": {"type": "bar"},
                "encoding": {
                    "x": {"field": "weekday", "type": "nominal", "title": "Local weekday", "sort": WEEKDAYS,
                          "axis": {"labelAngle": 0}},
                    "xOffset": {"field": "segment", "type": "nominal", "sort": names},
                    "y": {"field": "factor", "type": "quantitative", "title": "Open multiplier (1 = average day)"},
                    "color": segment,
                    "tooltip": [{"field": "segment", "title": "Segment"}, {"field": "weekday", "title": "Weekday"},
                                {"field": "factor", "title": "Open multiplier", "format": ".2f"}]}},
               reference_rule("y", 1)],
    )


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
    vega_chart(spec=best_hours_chart(part), width="stretch", key="opt_best_hours")
    rows = by_segment if chosen is None else by_segment[by_segment.segment == chosen]
    left, right = st.columns(2)
    with left:
        vega_chart(spec=open_by_hour_chart(rows), width="stretch", key="opt_open_by_hour")
        st.caption("Hours at which a segment was never sent show the model's baseline: no data, so no peak.")
    with right:
        vega_chart(spec=weekday_chart(rows), width="stretch", key="opt_weekday")
    held_out_check(as_dict(run["metrics"]).get("send_time", {}))
