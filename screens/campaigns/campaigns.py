"""Screen 1 — Campaign analytics: the portfolio with its changes, and one campaign's (or every
campaign's) KPI cards, time series with annotations, "why did this change" and breakdowns.

The view lives in the URL (bind="query-params"): the sidebar's time zone, period and comparison,
and here the tab, the campaign, the grain and the breakdown's tab — a link opens the same view,
with the reader's own role."""
from datetime import datetime, timezone

import streamlit as st

from screens.campaigns.detail import detail_section
from screens.campaigns.portfolio import portfolio_section
from ui import data
from ui.format import channel_label, escape_markdown, segment_label
from ui.session import current_user
from ui.errors import database_guard
from ui.widgets import current_comparison, current_period, lazy_tabs

# A link to this screen says so (app.py opens it for readers whose landing page is another).
st.query_params["view"] = "campaigns"
user = current_user()
period = current_period()
comparison = current_comparison(period)
st.title("Campaign analytics")
st.caption(f"{period.label()} · every time and day on this screen is in **{period.tz}** · "
           + (f"compared with {comparison.first:%d %b %Y} – {comparison.last:%d %b %Y}" if comparison
              else "no comparison"))


def campaign_picker():
    campaigns = data.campaigns()
    options = [None] + campaigns.campaign_id.astype(int).tolist()
    names = dict(zip(campaigns.campaign_id.astype(int), campaigns.name))
    chosen = st.selectbox("Campaign", options, format_func=lambda i: "All campaigns" if i is None else names[i],
                          key="campaign_id", bind="query-params")
    row = None
    if chosen is not None:
        row = campaigns.set_index("campaign_id").loc[chosen]
        st.caption(f"{escape_markdown(channel_label(row.channel))} · segment {escape_markdown(segment_label(row.segment))} · "
                   f"offer {escape_markdown(row.offer)} · status **{escape_markdown(row.status)}** · "
                   f"sends at {row.send_hour:02d}:00 member-local · "
                   f"{row.starts_at:%d %b %Y} – {row.ends_at:%d %b %Y}")
    live = (chosen is None and (campaigns.status == "live").any()) or (row is not None and row.status == "live")
    return (None if chosen is None else (int(chosen),)), live


def detail() -> None:
    """The picker and the detail, in their own guard: as a fragment they also run alone,
    outside the page's guard, and a database error there is a message, not a traceback."""
    with database_guard():
        campaign_ids, live = campaign_picker()
        if live and period.is_incomplete(datetime.now(timezone.utc)):
            st.caption(":green[●] Live — this section refreshes every 30 seconds.")
        detail_section(user, period, comparison, campaign_ids)


def detail_tab() -> None:
    """The campaign picker and the detail as one fragment: choosing another campaign, KPI or
    breakdown reruns this tab alone, not the sidebar and the page around it (issue 15: half
    the elements a change redrew). While the period is still running and some campaign is
    live, it also reruns every 30 s, so a live campaign's numbers move (a finished one's
    rerun is served from the caches)."""
    campaigns = data.campaigns()
    running = (campaigns.status == "live").any() and period.is_incomplete(datetime.now(timezone.utc))
    st.fragment(run_every=30 if running else None)(detail)()


with database_guard():
    sections = {
        "Portfolio": lambda: portfolio_section(user, period, comparison),
        "Campaign detail": detail_tab,
    }
    lazy_tabs(sections, key="tab")  # a closed tab's bound widgets (the campaign, the grain) keep their values
