"""Screen 4 — Real-time performance: live KPIs against the same minutes yesterday, active members,
delivery-rate gauge, conversion-rate sparkline, activity map, devices and the live event stream.

Only the panel below the controls reruns (a fragment, every 2 seconds); its data comes from one
snapshot shared by every open tab (ui.live_data), so more viewers do not mean more queries, and
the charts and map are built once per snapshot for all of them. A Plotly chart whose numbers
change is mounted afresh (it blinks), so the delivery-rate gauge changes its spec only when its
rounded value does, and the device breakdown is a Vega-Lite chart, which updates in place.
"""
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pydeck as pdk
import streamlit as st

from core.demo import geo
from core.access.auth import can
from core.live.tiles import LATEST_LOOKBACK, STALE_AFTER_SECONDS, LiveSnapshot
from core.live.windows import ACTIVE_MINUTES, MINUTE, WINDOW_CHOICES, floor_minute
from core.access.pii import mask_frame
from ui import live_data
from ui.format import BLUE, clock, count, duration, escape_markdown, metric_value, money, percent
from ui.session import current_user
from ui.widgets import TIME_ZONES

LAST_GOOD_KEY = "live_last_good_snapshot"
DEVICE_COLORS = {"ios": BLUE, "android": "#16a34a", "web": "#f59e0b", "unknown": "#9ca3af"}

user = current_user()
tz = st.session_state.get("tz", TIME_ZONES[0])
st.title("Real-time performance")

left, right = st.columns([3, 2], vertical_alignment="bottom")
window = left.segmented_control("Window", WINDOW_CHOICES, default=15, required=True, key="live_window",
                                format_func=lambda minutes: f"Last {minutes} min",
                                help="Counts, revenue and rates cover this many minutes up to now, compared "
                                     "with the same minutes yesterday.") or 15
paused = right.toggle("Pause live updates", key="live_paused",
                      help="Freeze the screen to read it; switch off to carry on from the latest numbers.")
st.caption(f"Times in **{tz}** (change it in the sidebar) · refreshes every {live_data.REFRESH_SECONDS} s · "
           f"“yesterday” is the same minutes on yesterday's wall clock in {tz}.")


def status_line(snap: LiveSnapshot, shown: LiveSnapshot | None) -> None:
    if not snap.ok:
        st.error("**The database cannot be reached.** This panel keeps trying every "
                 f"{live_data.REFRESH_SECONDS} s and recovers by itself — no need to reload.",
                 icon=":material/cloud_off:")
        st.caption(f"Detail for the operator: {escape_markdown(snap.error)}")
        if shown is not None:
            st.caption(f"Below: the last numbers read, from **{clock(shown.taken_at, tz)}** ({tz}).")
        return
    age = snap.seconds_since_latest_event
    lookback = duration(LATEST_LOOKBACK.total_seconds())
    latest = f"no event in the last {lookback}" if age is None else f"latest event {duration(age)} ago"
    state = f"**Paused** at {clock(snap.taken_at, tz)}" if paused else f"Last updated **{clock(snap.taken_at, tz)}**"
    st.markdown(f"{state} ({tz}) · {latest}")
    if snap.is_stale:
        st.warning(f"**No new event for {'over ' + lookback if age is None else duration(age)}** — the numbers "
                   f"are not moving (warning after {STALE_AFTER_SECONDS} s without events). Check that events are "
                   "arriving (in the demo: `python -m core simulate`).", icon=":material/hourglass_empty:")


def change_parts(change: float | None, previous: float | None, key: str) -> dict:
    """st.metric delta arguments: the relative change and what it is against."""
    if change is not None and np.isfinite(change):
        return {"delta": percent(change, 0 if abs(change) >= 10 else 1, signed=True),
                "delta_description": f"vs {metric_value(key, previous)}"}
    return {"delta": "none yesterday" if previous == 0 else None, "delta_color": "off", "delta_arrow": "off"}


def kpi_cards(snap: LiveSnapshot) -> None:
    cards = [kpi for kpi in snap.kpis if kpi.unit != "%"]
    minutes = snap.per_minute.tail(window + 1)  # the window's minutes (the last one running)
    columns = st.columns(len(cards) + 1)
    columns[0].metric(
        "Active members", count(snap.active_members),
        help=f"Distinct members who opened, saw, clicked or converted in the last {ACTIVE_MINUTES} minutes. "
             "The line: how many acted in each of those minutes.",
        chart_data=snap.active_per_minute.members.astype(float).tolist() or None, chart_type="bar",
        border=True, height="stretch")
    for column, kpi in zip(columns[1:], cards):
        arguments = {"delta_color": "normal" if kpi.higher_is_better else "inverse",
                     **change_parts(kpi.change, kpi.previous, kpi.key)}
        column.metric(kpi.label, metric_value(kpi.key, kpi.value),
                      help=f"{kpi.help}; last {window} minutes against the same minutes yesterday ({tz}). "
                           "The line: per minute.",
                      chart_data=minutes[kpi.key].astype(float).tolist(), chart_type="area",
                      border=True, height="stretch", **arguments)


def delivery_gauge(snap: LiveSnapshot) -> go.Figure | None:
    rate, before = (round(float(value) * 100, 1) / 100 for value in (snap.totals.delivery_rate, snap.yesterday.delivery_rate))
    if not np.isfinite(rate):
        return None
    figure = go.Figure(go.Indicator(
        mode="gauge+number+delta" if np.isfinite(before) else "gauge+number",
        value=rate * 100, number={"suffix": " %", "valueformat": ".1f"},
        delta={"reference": before * 100, "valueformat": ".1f", "suffix": " pts"} if np.isfinite(before) else None,
        gauge={"axis": {"range": [0, 100], "ticksuffix": "%"}, "bar": {"color": BLUE},
               "steps": [{"range": [0, 90], "color": "#fee2e2"}, {"range": [90, 95], "color": "#fef3c7"},
                         {"range": [95, 100], "color": "#dcfce7"}],
               "threshold": {"line": {"color": "#111827", "width": 3}, "value": before * 100}
               if np.isfinite(before) else None},
        title={"text": "Delivery rate<br><sup>delivered / sends; marker: yesterday</sup>"}))
    figure.update_layout(height=230, margin=dict(l=45, r=45, t=60, b=0))
    return figure


def conversion_card(snap: LiveSnapshot) -> None:
    """The conversion rate of the window, with the per-minute rate of the last hour as a sparkline."""
    kpi = next(k for k in snap.kpis if k.key == "conversion_rate")
    per_minute = snap.per_minute.conversion_rate.astype(float) * 100
    st.metric("Conversion rate", metric_value(kpi.key, kpi.value),
              help=f"{kpi.help}. The number: since {clock(snap.window.start_at, tz)[:5]} against the same minutes "
                   f"yesterday. The line: each minute of the last hour ({tz}, % of clicks converted; minutes "
                   "without clicks are left out).",
              chart_data=[round(v, 1) if np.isfinite(v) else float("nan") for v in per_minute], chart_type="line",
              border=True, **change_parts(kpi.change, kpi.previous, kpi.key))
    st.caption(f"Line: conversions / clicks in each minute of the last hour ({tz}).")


def device_chart(snap: LiveSnapshot) -> tuple[pd.DataFrame, dict]:
    """Events by device as (data, Vega-Lite spec): a Vega-Lite chart updates in place, where a
    Plotly chart with new numbers is mounted afresh (it would blink every 2 seconds)."""
    data = snap.devices.assign(percent=(snap.devices.share * 100).round(1))
    spec = {
        "title": f"Events by device · last {ACTIVE_MINUTES} min",
        "mark": {"type": "bar", "cornerRadiusEnd": 3},
        "encoding": {
            "y": {"field": "device", "type": "nominal", "sort": data.device.tolist(), "title": None,
                  "axis": {"labelOverlap": False}},
            "x": {"field": "percent", "type": "quantitative", "title": "% of events", "scale": {"domain": [0, 100]}},
            "color": {"field": "device", "type": "nominal", "legend": None,
                      "scale": {"domain": list(DEVICE_COLORS), "range": list(DEVICE_COLORS.values())}},
            "tooltip": [{"field": "device", "title": "Device"}, {"field": "events", "title": "Events", "format": ","},
                        {"field": "percent", "title": "% of events", "format": ".1f"}],
        },
    }
    return data, spec


class SharedDeck(pdk.Deck):
    """A deck shown by every session that shows one snapshot: st.pydeck_chart serializes the deck
    on each call, so the JSON is made once and kept (the deck is not changed after it is built)."""

    def to_json(self) -> str:
        if not hasattr(self, "_json"):
            self._json = super().to_json()
        return self._json


def activity_map(snap: LiveSnapshot) -> pdk.Deck:
    """Where events happen, on a map drawn from shipped outlines (no tile service): a circle per
    region, its size and its shade growing with the region's events. Circles, not deck.gl's
    HeatmapLayer: that layer aggregates on the GPU at every redraw, and without a GPU (a remote
    desktop, a headless browser) redrawing it every 2 seconds kept the browser's main thread busy
    for most of the screen's time (issue 15: the screen took 4.8 times the reference page at
    1,500 campaigns, 3.2 times without it)."""
    outlines = geo.region_outlines()
    regions = snap.regions.dropna(subset=["latitude", "longitude"])
    top = float(regions.events.max()) if len(regions) and regions.events.max() > 0 else 1.0
    share = np.sqrt(regions.events / top)
    points = regions.assign(radius=15_000 + 110_000 * share,
                            fill=[[220, 38, 38, int(40 + 170 * s)] for s in share],
                            label=[f"{n} {e:,}" for n, e in zip(regions.region_name, regions.events)])
    layers = [
        pdk.Layer("PolygonLayer", [{"polygon": geo.country_outline()}], get_polygon="polygon",
                  filled=True, stroked=True, get_fill_color=[241, 245, 249], get_line_color=[100, 116, 139],
                  line_width_min_pixels=1),
        pdk.Layer("PolygonLayer", outlines, get_polygon="polygon", filled=False, stroked=True,
                  get_line_color=[148, 163, 184], line_width_min_pixels=1),
        pdk.Layer("ScatterplotLayer", points, get_position=["longitude", "latitude"], get_radius="radius",
                  get_fill_color="fill", get_line_color=[185, 28, 28], stroked=True,
                  line_width_min_pixels=1, pickable=True),
        pdk.Layer("TextLayer", points, get_position=["longitude", "latitude"], get_text="label",
                  get_size=11, get_color=[17, 24, 39], get_pixel_offset=[0, -18]),
    ]
    return SharedDeck(map_provider=None, layers=layers, tooltip={"text": "{region_name}: {events} events"},
                    initial_view_state=pdk.ViewState(latitude=38.5, longitude=-96.5, zoom=2.0))


@st.cache_resource(ttl=30, max_entries=32, show_spinner=False)
def shared_visuals(window_minutes: int, zone: str, taken_at: str, _snap: LiveSnapshot) -> dict:
    """The charts and the map of one snapshot, built once for every session showing it
    (the snapshot is identified by window, zone and time; it is not hashed)."""
    return {"gauge": delivery_gauge(_snap), "devices": None if _snap.devices.empty else device_chart(_snap),
            "map": activity_map(_snap)}


@st.cache_resource(ttl=30, max_entries=32, show_spinner=False)
def shared_event_stream(window_minutes: int, zone: str, taken_at: str, personal: bool, _snap: LiveSnapshot) -> pd.DataFrame:
    """The event stream of one snapshot as shown to people who may (personal=True) or may not
    see personal data, built once for every session showing it. Treat it as read-only."""
    return event_stream(_snap)


def event_stream(snap: LiveSnapshot) -> pd.DataFrame:
    """The latest events as shown: local times (the zone's abbreviation in the header), member
    names masked for everyone but admins. st.table renders its cells as Markdown, so every cell
    that comes from data is escaped."""
    shown = mask_frame(snap.latest, user)
    return pd.DataFrame({
        f"Time ({datetime.now(ZoneInfo(tz)).tzname()})": shown.local_time.dt.strftime("%H:%M:%S"),
        "Event": shown.event.map(escape_markdown),
        "Member": [escape_markdown(f"#{m} {n}" if isinstance(n, str) else f"#{m}")
                   for m, n in zip(shown.member_id, shown.full_name)],
        "Revenue (USD)": [money(r, 2) if np.isfinite(r) else "" for r in shown.revenue],
        "Region": shown.region_code.map(escape_markdown), "Campaign": shown.campaign.map(escape_markdown),
    })


@st.fragment(run_every=None if paused else live_data.REFRESH_SECONDS)
def live_panel() -> None:
    with live_data.timed_refresh(window):
        snap = live_data.live_snapshot(window, tz)
        if snap.ok:
            st.session_state[LAST_GOOD_KEY] = snap
        last_good = st.session_state.get(LAST_GOOD_KEY)
        shown = snap if snap.ok else last_good
        if shown is not None and (shown.window_minutes, shown.tz) != (window, tz):
            shown = None
        status_line(snap, shown)
        if shown is None:
            return
        st.markdown(f"**Since {clock(shown.window.start_at, tz)[:5]}** (the last {window} whole minutes and the running "
                    f"one) against the same minutes yesterday · active members, map and devices: since "
                    f"{clock(floor_minute(shown.taken_at) - ACTIVE_MINUTES * MINUTE, tz)[:5]} (the last "
                    f"{ACTIVE_MINUTES} whole minutes and the running one)")
        kpi_cards(shown)
        visuals = shared_visuals(window, tz, shown.taken_at.isoformat(), shown)
        gauge_col, rate_col, device_col = st.columns(3)
        with gauge_col:
            if visuals["gauge"] is None:
                st.info(f"No sends since {clock(shown.window.start_at, tz)[:5]}, so no delivery rate.")
            else:
                st.plotly_chart(visuals["gauge"], config={"displayModeBar": False}, key="live_gauge")
                st.caption(f"Since {clock(shown.window.start_at, tz)[:5]} ({tz}), against the same minutes yesterday.")
        with rate_col:
            conversion_card(shown)
        if visuals["devices"] is None:
            device_col.info(f"No events in the last {ACTIVE_MINUTES} minutes.")
        else:
            device_col.vega_lite_chart(*visuals["devices"], height=190)
        map_col, stream_col = st.columns([1, 1])
        with map_col:
            st.markdown(f"**Where events happen · last {ACTIVE_MINUTES} min**")
            st.pydeck_chart(visuals["map"], height=380, key="live_map")
            st.caption("Circle size and shade: events per region. Outlines are coarse and drawn from data "
                       "shipped with the app (no map service).")
        with stream_col:
            st.markdown(f"**Live event stream · latest {len(shown.latest)} events**")
            with st.container(height=420, border=False):  # a plain table scrolls smoothly as it updates
                stream = shared_event_stream(window, tz, shown.taken_at.isoformat(),
                                             can(user, "see_personal_data"), shown)
                st.table(stream.set_index(stream.columns[0]))


live_panel()
