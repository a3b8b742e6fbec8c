"""System: database reachable, data freshness, rollup lag, row counts, jobs, audit log, roles."""
import pandas as pd
import streamlit as st

from core import auth
from core.auth import ROLE_LABELS, ROLES, can
from ui import data
from ui.session import current_user
from ui.widgets import database_guard

user = current_user()
st.title("System")


def seconds_text(seconds) -> str:
    if seconds is None or pd.isna(seconds):
        return "–"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


@st.fragment(run_every=5)
def status_panel() -> None:
    report = data.health_report()
    if not report.reachable:
        st.error(f"**Database unreachable.** {report.error}", icon=":material/cloud_off:")
        st.caption("This panel checks again every 5 seconds.")
        return
    badge = {"ok": ":green[● healthy]", "degraded": ":orange[● degraded]"}[report.status]
    st.markdown(f"Status: {badge} · database answered in {report.latency_ms:.0f} ms · checked every 5 s")
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Database", "reachable", border=True)
    c2.metric("Latest event", f"{seconds_text(report.event_age_seconds)} ago",
              help=f"{report.latest_event_at} (UTC)" if report.latest_event_at else "no events yet", border=True)
    c3.metric("Rollup lag", seconds_text(report.rollup_lag_seconds),
              help="How long new events have waited since the rollups last advanced (0 when none wait).", border=True)
    c4.metric("Events waiting", f"{report.pending_events:,}", border=True)
    left, right = st.columns(2)
    with left:
        st.subheader("Row counts")
        st.dataframe(report.row_counts, hide_index=True, use_container_width=True,
                     column_config={"rows": st.column_config.NumberColumn("Rows", format="%d")})
    with right:
        st.subheader("Jobs")
        if report.jobs.empty:
            st.info("No job has run yet. Start the worker: `python -m core worker`.")
        else:
            jobs = report.jobs[["job", "status", "started_at", "duration_ms", "rows_processed", "failures_last_day", "detail"]]
            st.dataframe(jobs, hide_index=True, use_container_width=True, column_config={
                "started_at": st.column_config.DatetimeColumn("Last started (UTC)", format="YYYY-MM-DD HH:mm:ss"),
                "duration_ms": st.column_config.NumberColumn("Duration (ms)", format="%.0f"),
                "rows_processed": st.column_config.NumberColumn("Rows", format="%d"),
                "failures_last_day": st.column_config.NumberColumn("Failures (24 h)", format="%d"),
            })


with database_guard():
    status_panel()
    with st.expander("Recent job runs"):
        st.dataframe(data.recent_job_runs(), hide_index=True, use_container_width=True)
    with st.expander("Audit log (latest 100 actions)"):
        st.dataframe(data.recent_audit(), hide_index=True, use_container_width=True)

    st.subheader("People and roles")
    st.caption("People signed in through the identity provider get the role an admin gave them here; "
               "anyone not listed is an executive (read-only).")
    st.dataframe(data.role_mapping(), hide_index=True, use_container_width=True)
    if can(user, "manage_roles"):
        with st.form("grant_role", clear_on_submit=True):
            c1, c2 = st.columns([2, 1])
            email = c1.text_input("E-mail")
            role = c2.selectbox("Role", ROLES, format_func=ROLE_LABELS.get)
            if st.form_submit_button("Save role"):
                try:
                    auth.grant_role(data.engine(), user, email, role)
                except ValueError as error:
                    st.error(str(error))
                else:
                    data.role_mapping.clear()
                    data.role_for.clear()
                    st.success(f"{email} is now {ROLE_LABELS[role]}.")
    else:
        st.caption("Only admins can change roles.")
