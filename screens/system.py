"""System: database reachable, data freshness, rollup lag, row counts, jobs, audit log, roles."""
import streamlit as st

from core.access import auth
from core.access.auth import ROLE_LABELS, ROLES, can
from ui import ab_data, data
from ui.format import count, date_time, details, duration, escape_markdown
from ui.session import current_user
from ui.errors import database_guard

user = current_user()
st.title("System")


def utc_time(label: str):
    return st.column_config.DatetimeColumn(f"{label} (UTC)", format="YYYY-MM-DD HH:mm:ss", timezone="UTC")


JOB_RUN_COLUMNS = {
    "run_id": st.column_config.NumberColumn("Run", format="%d"), "job": "Job", "status": "Status",
    "attempt": st.column_config.NumberColumn("Attempt", format="%d"), "started_at": utc_time("Started"),
    "duration_ms": st.column_config.NumberColumn("Duration (ms)", format="%,.0f"),
    "rows_processed": st.column_config.NumberColumn("Rows", format="%,d"), "detail": "Detail", "worker": "Worker",
}
AUDIT_COLUMNS = {"at": utc_time("At"), "actor": "Who", "role": "Role", "action": "Action", "target": "Target",
                 "details": "Details"}
ROLE_COLUMNS = {"email": "E-mail", "role": "Role", "granted_by": "Granted by", "granted_at": utc_time("Granted")}


@st.fragment(run_every=5)
def status_panel() -> None:
    report = data.health_report()
    if not report.reachable:
        st.error(f"**Database unreachable.** {escape_markdown(report.error)}", icon=":material/cloud_off:")
        st.caption("This panel checks again every 5 seconds.")
        return
    badge = {"ok": ":green[● healthy]", "degraded": ":orange[● degraded]"}[report.status]
    st.markdown(f"Status: {badge} · database answered in {report.latency_ms:.0f} ms · checked every 5 s")
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Database", "reachable", border=True)
    c2.metric("Latest event", f"{duration(report.event_age_seconds)} ago",
              help=(f"Newest event in the rollups: {date_time(report.latest_event_at, 'UTC', seconds=True)}" if report.latest_event_at
                    else "no events rolled up yet"), border=True)
    c3.metric("Rollup lag", duration(report.rollup_lag_seconds),
              help="How long new events have waited since the rollups last advanced (0 when none wait).", border=True)
    c4.metric("Events waiting", count(report.pending_events), border=True)
    left, right = st.columns(2)
    with left:
        st.subheader("Row counts")
        st.dataframe(report.row_counts, hide_index=True, width="stretch",
                     column_config={"table": "Table", "rows": st.column_config.NumberColumn("Rows", format="%,d")})
    with right:
        st.subheader("Jobs")
        if report.jobs.empty:
            st.info("No job has run yet. Start the worker: `python -m core worker`.")
        else:
            jobs = report.jobs[["job", "status", "started_at", "duration_ms", "rows_processed", "failures_last_day", "detail"]]
            st.dataframe(jobs, hide_index=True, width="stretch", column_config={
                "job": "Job", "status": "Status", "detail": "Detail",
                "started_at": utc_time("Last started"),
                "duration_ms": st.column_config.NumberColumn("Duration (ms)", format="%,.0f"),
                "rows_processed": st.column_config.NumberColumn("Rows", format="%,d"),
                "failures_last_day": st.column_config.NumberColumn("Failures (24 h)", format="%d"),
            })


def ab_alerts_section() -> None:
    """Open A/B test alerts (sample-ratio mismatch, guardrail breached, decision reached)."""
    alerts = ab_data.open_alerts()
    st.subheader("A/B alerts")
    if alerts.empty:
        st.caption("No open A/B test alert. The worker's ab_snapshots job raises them every 5 minutes.")
        return
    st.dataframe(alerts[["raised_at", "kind_label", "test", "message"]], hide_index=True, width="stretch",
                 column_config={"raised_at": st.column_config.DatetimeColumn("Raised (UTC)", format="YYYY-MM-DD HH:mm"),
                                "kind_label": "Alert", "test": "Test", "message": "Message"})
    st.caption("Acknowledge them on the A/B tests screen.")


with database_guard():
    status_panel()
    ab_alerts_section()
    with st.expander("Recent job runs"):
        st.dataframe(data.recent_job_runs(), hide_index=True, width="stretch", column_config=JOB_RUN_COLUMNS)
    with st.expander("Audit log (latest 100 actions)"):
        audit = data.recent_audit()  # details as words: a JSON object is no table cell (nor Arrow's)
        st.dataframe(audit.assign(details=audit.details.map(details)), hide_index=True, width="stretch",
                     column_config=AUDIT_COLUMNS)

    st.subheader("People and roles")
    st.caption("People signed in through the identity provider get the role an admin gave them here; "
               "anyone not listed is an executive (read-only).")
    st.dataframe(data.role_mapping(), hide_index=True, width="stretch", column_config=ROLE_COLUMNS)
    if can(user, "manage_roles"):
        with st.form("grant_role", clear_on_submit=True):
            c1, c2 = st.columns([2, 1])
            email = c1.text_input("E-mail")
            role = c2.selectbox("Role", ROLES, format_func=ROLE_LABELS.get)
            if st.form_submit_button("Save role"):
                try:
                    auth.grant_role(data.engine(), user, email, role)
                except ValueError as error:
                    st.error(escape_markdown(error))
                else:
                    data.role_mapping.clear()
                    data.role_for.clear()
                    st.success(f"{escape_markdown(email.strip().lower())} is now {ROLE_LABELS[role]}.")  # as stored
    else:
        st.caption("Only admins can change roles.")


# Events the roller could not fold (core.platform.rollup moves them aside, the rest proceed).
QUARANTINE_COLUMNS = {
    "event_id": st.column_config.NumberColumn("Event", format="%d"), "event_time": utc_time("Event time"),
    "campaign_id": st.column_config.NumberColumn("Campaign", format="%d"),
    "member_id": st.column_config.NumberColumn("Member", format="%d"), "event_type": "Type",
    "variant": "Variant (first 40)", "device": "Device (first 40)", "region_code": "Region (first 40)",
    "text_bytes": st.column_config.NumberColumn("Text bytes", format="%,d"), "revenue": "Revenue",
    "reward_cost": "Reward cost", "reason": "Why it could not be rolled up", "quarantined_at": utc_time("Moved"),
}


def quarantine_section() -> None:
    report = data.quarantined_events()
    st.subheader("Quarantined events")
    if report.total == 0:
        st.caption("None: every event so far was rolled up.")
        return
    st.warning(f"{report.total:,} events could not be rolled up and were moved to the table rollup_quarantine with "
               "the database's reason; every other event was rolled up. Correct and import them again, or delete "
               "them there.", icon=":material/report:")
    st.dataframe(report.latest, hide_index=True, width="stretch", column_config=QUARANTINE_COLUMNS)


with database_guard():
    quarantine_section()
