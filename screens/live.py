"""Screen 4 — Real-time performance: live KPIs against the same minutes yesterday, active members,
delivery-rate gauge, conversion-rate sparkline, activity map, devices and the live event stream.

Only the panel below the controls reruns (a fragment, every 2 seconds); its data comes from one
snapshot shared by every open tab (ui.live_data), so more viewers do not mean more queries, and
the charts and map are built once per snapshot for all of them. Every chart here is Vega-Lite
(the gauge, the map, the device breakdown and the cards' sparklines): one chart library for the
browser to load, and charts that update in place every 2 seconds (a Plotly chart whose numbers
change is mounted afresh and blinks; deck.gl's WebGL map kept a browser without a GPU busy).
"""
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import streamlit as st

from core.demo import geo
from core.access.auth import can
from core.live.tiles import LATEST_LOOKBACK, STALE_AFTER_SECONDS, LiveSnapshot
from core.live.windows import ACTIVE_MINUTES, MINUTE, WINDOW_CHOICES
from core.access.pii import mask_frame
from ui import live_data
from ui.format import BLUE, GREEN, GREY, RED, clock, count, duration, escape_markdown, metric_value, money, percent
from ui.html_table import cell_text, markup
from ui.session import current_user
from ui.vega import spec
from ui.widgets import TIME_ZONES, vega_chart

LAST_GOOD_KEY = "live_last_good_snapshot"
# The rollups are folded every few seconds; numbers further behind than this mean the roller
# is stopped or overwhelmed, and the screen says so.
BEHIND_WARNING_SECONDS = 30
DEVICE_COLORS = {"ios": BLUE, "android": "#16a34a", "web": "#f59e0b", "unknown": "#9ca3af"}

user = current_user()
tz = st.session_state.get("tz", TIME_ZONES[0])
st.title("Real-time performance")

left, right = st.columns([3, 2], vertical_alignment="bottom")
window = left.segmented_control("Window", WINDOW_CHOICES, default=15, required=True, key="live_window",
                                format_func=lambda minutes: f"Last {minutes} min",
                                help="Counts, revenue and rates cover this many minutes up to the latest events "
                                     "rolled up (normally now), compared with the same minutes yesterday.") or 15
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
    behind = snap.seconds_behind or 0.0
    reach = "every event counted" if behind < 1 else f"events counted up to {clock(snap.held_until, tz)}"
    st.markdown(f"{state} ({tz}) · {reach} · {latest}")
    if behind > BEHIND_WARNING_SECONDS:
        st.warning(f"**The numbers stop at {clock(snap.held_until, tz)}, {duration(behind)} ago:** newer events "
                   "are written but not yet rolled up. Check that the worker is running (`python -m core worker`); "
                   "the numbers catch up by themselves when it is.", icon=":material/hourglass_empty:")
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
    chart = {
        "description": f"Events by device, last {ACTIVE_MINUTES} minutes",
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
    return data, chart


def _clockwise(ring: list[list[float]]) -> list[list[float]]:
    """The ring wound clockwise (in longitude, latitude), as d3-geo (Vega's projections) takes an
    outer ring: wound the other way it would mean the whole globe but that shape."""
    points = np.asarray(ring, dtype=float)
    twice_area = float(np.sum(points[:-1, 0] * points[1:, 1] - points[1:, 0] * points[:-1, 1]))
    return ring[::-1] if twice_area > 0 else ring


def activity_map(snap: LiveSnapshot) -> dict:
    """Where events happen, as a Vega-Lite spec (data inline): the contiguous US drawn from the
    outline shipped with the app (no tile service), a circle per region sized and shaded by its
    events, and its count. Vega-Lite, like the device chart and the cards' sparklines, so the
    screen loads one chart library, and it updates in place every 2 seconds. deck.gl drew the
    same on a WebGL canvas: without a GPU (a remote desktop, a headless browser) its chunk and
    its redraws kept the browser busy (issue 15)."""
    regions = snap.regions.dropna(subset=["latitude", "longitude"])
    points = [{"region": str(name), "longitude": float(lon), "latitude": float(lat), "events": int(events),
               "label": f"{name} {int(events):,}"}
              for name, lon, lat, events in zip(regions.region_name, regions.longitude, regions.latitude,
                                                regions.events)]
    country = {"type": "Feature", "properties": {},
               "geometry": {"type": "Polygon", "coordinates": [_clockwise(geo.country_outline())]}}
    top = max([p["events"] for p in points] + [1])
    return spec(
        f"Where events happen, last {ACTIVE_MINUTES} minutes: events per region",
        projection={"type": "albersUsa"},
        layer=[
            {"data": {"values": [country]}, "mark": {"type": "geoshape", "fill": "#f1f5f9", "stroke": "#64748b",
                                                   "strokeWidth": 1}},
            {"data": {"values": points},
             "mark": {"type": "circle", "stroke": "#b91c1c", "strokeWidth": 1, "opacity": 0.85},
             "encoding": {
                 "longitude": {"field": "longitude", "type": "quantitative"},
                 "latitude": {"field": "latitude", "type": "quantitative"},
                 "size": {"field": "events", "type": "quantitative", "title": "Events",
                          "scale": {"domain": [0, top], "range": [40, 1800], "zero": True}, "legend": None},
                 "color": {"field": "events", "type": "quantitative", "title": "Events",
                           "scale": {"domain": [0, top], "range": ["#fee2e2", "#b91c1c"]}, "legend": None},
                 "tooltip": [{"field": "region", "title": "Region"},
                             {"field": "events", "title": "Events", "format": ","}]}},
            {"data": {"values": points},
             "mark": {"type": "text", "dy": -16, "fontSize": 11, "color": "#111827"},
             "encoding": {"longitude": {"field": "longitude", "type": "quantitative"},
                          "latitude": {"field": "latitude", "type": "quantitative"},
                          "text": {"field": "label"}}},
        ],
    )


GAUGE_BANDS = [(0, 90, "#fee2e2"), (90, 95, "#fef3c7"), (95, 100, "#dcfce7")]


def delivery_gauge(snap: LiveSnapshot) -> dict | None:
    """The window's delivery rate on a half-circle gauge (Vega-Lite, as every chart of this
    screen): red below 90 %, amber to 95 %, green above; the black marker is the same minutes
    yesterday, and the change against it is written under the number."""
    rate, before = (round(float(value) * 100, 1) for value in (snap.totals.delivery_rate, snap.yesterday.delivery_rate))
    if not np.isfinite(rate):
        return None
    half_turn = {"domain": [0, 100], "range": [-np.pi / 2, np.pi / 2]}

    def arc(values: list[dict], inner: int, outer: int, **mark) -> dict:
        return {"data": {"values": values},
                "mark": {"type": "arc", "innerRadius": inner, "outerRadius": outer, "y": {"expr": "height - 22"},
                         "tooltip": None, **mark},
                "encoding": {"theta": {"field": "from", "type": "quantitative", "scale": half_turn, "stack": None},
                             "theta2": {"field": "to"}}}

    def words(text: str, down: int, **mark) -> dict:
        return {"data": {"values": [{}]}, "mark": {"type": "text", "text": text, "x": {"expr": "width / 2"},
                         "y": {"expr": f"height - {down}"}, **mark}}

    bands = arc([{"from": low, "to": high, "color": color} for low, high, color in GAUGE_BANDS], 56, 92)
    bands["encoding"]["color"] = {"field": "color", "type": "nominal", "scale": None}
    layers = [bands, arc([{"from": 0, "to": min(max(rate, 0), 100)}], 64, 84, fill=BLUE),
              words(f"{rate:.1f} %", 40, fontSize=26, fontWeight="bold", color="#111827")]
    if np.isfinite(before):
        change = rate - before
        at = min(max(before, 0.4), 99.6)  # the marker stays on the dial (sends and their deliveries can
        # fall on either side of the window's start, so a rate over 100 % can happen)
        layers += [arc([{"from": at - 0.4, "to": at + 0.4}], 50, 98, fill="#111827"),
                   words(f"{'▲' if change > 0 else '▼' if change < 0 else '='} {abs(change):.1f} pts vs {before:.1f} % "
                         "yesterday", 2, fontSize=12, color=GREEN if change > 0 else RED if change < 0 else GREY)]
    return spec("Delivery rate of the window against the same minutes yesterday", layer=layers)


@st.cache_resource(ttl=30, max_entries=32, show_spinner=False)
def shared_visuals(window_minutes: int, zone: str, taken_at: str, _snap: LiveSnapshot) -> dict:
    """The charts and the map of one snapshot, built once for every session showing it
    (the snapshot is identified by window, zone and time; it is not hashed)."""
    return {"gauge": delivery_gauge(_snap), "devices": None if _snap.devices.empty else device_chart(_snap),
            "map": activity_map(_snap)}


@st.cache_resource(ttl=30, max_entries=32, show_spinner=False)
def shared_event_stream(window_minutes: int, zone: str, taken_at: str, personal: bool, _snap: LiveSnapshot) -> str:
    """The event stream of one snapshot as shown to people who may (personal=True) or may not
    see personal data, built once for every session showing it."""
    return event_stream(_snap)


def event_stream(snap: LiveSnapshot) -> str:
    """The latest events as one HTML table (ui.html_table: every cell escaped, nothing from data
    is markup): local times (the zone's abbreviation in the header), member names masked for
    everyone but admins. Not st.table: it draws each of its 300 cells as Markdown, on every
    refresh (about 0.3 s of the browser's main thread per draw)."""
    shown = mask_frame(snap.latest, user)
    header = [f"Time ({datetime.now(ZoneInfo(tz)).tzname()})", "Event", "Member", "Revenue (USD)", "Region", "Campaign"]
    rows = zip(shown.local_time.dt.strftime("%H:%M:%S"), shown.event,
               [f"#{m} {n}" if isinstance(n, str) else f"#{m}" for m, n in zip(shown.member_id, shown.full_name)],
               [money(r, 2) if np.isfinite(r) else None for r in shown.revenue], shown.region_code, shown.campaign)
    return markup(header, ([cell_text(v) for v in row] for row in rows),  # a missing value as "—", as elsewhere
                  [False, False, False, True, False, False], css_class="live-stream")


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
                    f"{clock(shown.window.running_minute - ACTIVE_MINUTES * MINUTE, tz)[:5]} (the last "
                    f"{ACTIVE_MINUTES} whole minutes and the running one)")
        kpi_cards(shown)
        visuals = shared_visuals(window, tz, shown.taken_at.isoformat(), shown)
        gauge_col, rate_col, device_col = st.columns(3)
        with gauge_col:
            if visuals["gauge"] is None:
                st.info(f"No sends since {clock(shown.window.start_at, tz)[:5]}, so no delivery rate.")
            else:
                st.markdown("**Delivery rate** · delivered / sends; the black marker: yesterday")
                vega_chart(spec=visuals["gauge"], height=170, key="live_gauge")
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
            with st.container(key="live_map_frame"):  # its class names the map for the browser tests
                vega_chart(spec=visuals["map"], height=380, key="live_map")
            st.caption("Circle size and shade: events per region. Outlines are coarse and drawn from data "
                       "shipped with the app (no map service).")
        with stream_col:
            st.markdown(f"**Live event stream · latest {len(shown.latest)} events**")
            with st.container(height=420, border=False):  # a plain table scrolls smoothly as it updates
                st.html(shared_event_stream(window, tz, shown.taken_at.isoformat(),
                                            can(user, "see_personal_data"), shown))


live_panel()
