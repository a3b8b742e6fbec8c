"""Tab "Create a test": campaign, name, hypothesis, metrics, variants and weights, and the
sample-size plan (members needed, expected duration) before anything is saved.

Creating is one script run when the form is as last drawn: the button's callback creates the test
from what that run computed (the plan included) and opens "Active tests", which the run after
the click draws. Drawing the form again first, then creating and running once more, took two runs
(issue 15). When a value changed since (typed, then the button clicked at once), the callback
leaves it to the run, which draws the form with that value and creates from it, as before."""
import copy

import numpy as np
import pandas as pd
import streamlit as st

from core.access.auth import PermissionDenied, User, can
from core.experiments import results as tracker
from core.experiments import tests_repo
from core.experiments.outcomes import OUTCOMES
from ui import ab_data, data
from ui.format import MISSING, count, decimal, escape_markdown, percent


DEFAULT_MDE = 0.05


def expected_duration(days: float | None) -> str:
    if days is None:
        return MISSING
    if not np.isfinite(days):
        return "never at 0 members/day"
    return f"{days / 365:,.1f} years" if days > 730 else f"{days:,.0f} days"


def free_campaigns(tests: pd.DataFrame) -> pd.DataFrame:
    """Campaigns that could run a test: not ended, and without an active test."""
    campaigns = data.campaigns()
    busy = set(tests.loc[tests.status.isin(tests_repo.ACTIVE_STATUSES), "campaign_id"])
    return campaigns[~campaigns.campaign_id.isin(busy) & campaigns.status.isin(["live", "scheduled", "draft", "paused"])]


def plan_section(campaign_id: int, primary: str, weights: dict[str, float]) -> tuple[tests_repo.Plan | None, float, float]:
    """MDE, α, baseline and traffic inputs and the plan they give; returns (plan, mde, alpha)."""
    baseline = ab_data.campaign_baseline(int(campaign_id)).set_index("metric")
    spec = OUTCOMES[primary]
    known = primary in baseline.index and baseline.loc[primary, "n"] >= 100
    c1, c2, c3, c4 = st.columns(4)
    alpha = c2.selectbox("α (false-positive rate)", [0.05, 0.01, 0.1], key="new_alpha")
    default_baseline = float(baseline.loc[primary, "mean"]) if known else (0.10 if spec.kind == "binomial" else 1.0)
    label = "Baseline rate (%)" if spec.kind == "binomial" else f"Baseline mean per member ({spec.unit})"
    shown_default = default_baseline * (100 if spec.kind == "binomial" else 1)
    base_value = c3.number_input(label, value=round(shown_default, 3), key=f"new_baseline_{primary}_{campaign_id}",
                                 help="Observed on this campaign's members so far" if known else "No history on this campaign; enter an estimate")
    base_value = base_value / 100 if spec.kind == "binomial" else base_value
    daily_default = float(baseline.new_members_per_day.max()) if len(baseline) else 0.0
    per_day = c4.number_input("New members per day", min_value=0.0, value=round(daily_default, 1),
                              key=f"new_daily_{campaign_id}", help="The campaign's new members per day over the last 14 days")
    sd = float(np.sqrt(baseline.loc[primary, "variance"])) if known and spec.kind == "mean" else None
    if spec.kind == "mean" and not sd:
        sd = st.number_input(f"Standard deviation per member ({spec.unit})", min_value=0.0001, value=max(base_value, 1.0),
                             key="new_sd")
    # Proposed: the smallest effect this campaign's traffic can detect within a quarter.
    reachable = tests_repo.reachable_mde(primary, base_value, weights, alpha=alpha, sd=sd, members_per_day=per_day) \
        if weights and len(weights) >= 2 and base_value > 0 else None
    proposed = max(reachable or DEFAULT_MDE, DEFAULT_MDE)
    mde = c1.number_input("MDE (relative, %)", 0.5, 200.0, round(proposed * 100, 1), 0.5,
                          key=f"new_mde_{campaign_id}_{primary}",
                          help="Minimum detectable effect: the smallest relative change worth detecting. Proposed: "
                               "the smallest the campaign's traffic reaches within a quarter (at least 5 %).") / 100
    if reachable is not None:
        st.caption(f"At {decimal(per_day, 1)} new members per day this campaign can detect a change of "
                   f"{percent(reachable, 1)} or more within a quarter ({tests_repo.QUARTER_DAYS} days).")
    elif per_day > 0:
        st.caption(f"At {decimal(per_day, 1)} new members per day no effect up to 200 % can be detected within a "
                   "quarter on this campaign.")
    plan = None
    try:
        plan = tests_repo.plan(primary, base_value, mde, weights, alpha=alpha, sd=sd, members_per_day=per_day)
    except ValueError as error:
        st.warning(escape_markdown(error))
    if plan and plan.problem:
        st.warning(f"No plan: {escape_markdown(plan.problem)}")
    elif plan:
        p1, p2, p3 = st.columns(3)
        p1.metric("Members needed per arm", count(plan.needed_per_arm), border=True,
                  help="80 % power to detect the MDE, two-sided; Bonferroni across treatments for 3+ variants.")
        p2.metric("Members needed in total", count(plan.needed_total), border=True)
        days = plan.expected_days
        p3.metric("Expected duration", expected_duration(days), border=True, help="At the new members per day above.")
        if days is not None and days > tests_repo.QUARTER_DAYS:
            larger = f" of at least {percent(reachable, 1)}" if reachable is not None else ""
            st.warning(f"This plan takes longer than a quarter ({expected_duration(days)}). Choose an MDE{larger}, a "
                       "metric with a higher baseline, or a campaign that reaches more members.",
                       icon=":material/schedule:")
    return plan, mde, alpha


_REQUEST = "_new_test_request"   # (the form's values, create_test's arguments) as the last run drew them
_ERROR = "_new_test_error"       # a refusal, said under the button (set in the callback: it tried)


def form_values() -> dict:
    """The form's widget values now (every key of the form starts with "new_")."""
    return {key: copy.deepcopy(value) for key, value in st.session_state.items()
            if isinstance(key, str) and key.startswith("new_") and key != "new_create"}


def create(user: User, request: dict) -> bool:
    """Create the test; on success open "Active tests" on it. False (the reason noted) when refused."""
    try:
        test_id = tests_repo.create_test(data.engine(), user, **request)
    except (PermissionDenied, ValueError) as error:
        st.session_state[_ERROR] = str(error)
        return False
    ab_data.clear()
    st.session_state["ab_pick_next"] = test_id   # the new test is the one shown next
    st.session_state["ab_open_tab"] = "Active tests"
    st.session_state["ab_flash"] = f"Test #{test_id} “{escape_markdown(request['name'])}” created."
    return True


def create_on_click(user: User) -> None:
    """The button's callback: create now when the form is as the last run drew it."""
    st.session_state.pop(_ERROR, None)  # from a click whose run did not get as far as saying it
    drawn, request = st.session_state.pop(_REQUEST, (None, None))
    # Created, the run after opens "Active tests" and never reaches this form's button; refused,
    # the reason is noted, and the run draws the form again with it and does not try a second time.
    if request is not None and drawn == form_values():
        create(user, request)


def create_tab(user: User, tests: pd.DataFrame) -> None:
    if not can(user, "create_test"):
        st.info("Only marketing managers and admins create tests.", icon=":material/lock:")
        return
    if data.campaigns().empty:
        st.info("There is no campaign yet; a test runs on a campaign's members.")
        return
    free = free_campaigns(tests)
    if free.empty:
        st.info("Every live or scheduled campaign already has an active test.")
        return
    names = dict(zip(free.campaign_id, free.name))
    campaign_id = st.selectbox("Campaign", free.campaign_id.tolist(), format_func=names.get, key="new_campaign")
    c1, c2 = st.columns(2)
    name = c1.text_input("Test name", key="new_name", placeholder="e.g. Urgent subject line")
    primary = c2.selectbox("Primary metric", list(OUTCOMES), format_func=lambda m: OUTCOMES[m].label, key="new_primary")
    hypothesis = st.text_area("Hypothesis", key="new_hypothesis", height=68,
                              placeholder="What change, which effect, and why")
    guardrails = st.multiselect("Guardrail metrics (must not get worse)", [m for m in OUTCOMES if m != primary],
                                format_func=lambda m: OUTCOMES[m].label, key="new_guardrails")
    st.markdown("**Variants and weights** — the first row is the control")
    variants = st.data_editor(pd.DataFrame({"variant": ["control", "treatment"], "weight": [50.0, 50.0]}),
                              num_rows="dynamic", hide_index=True, key="new_variants", width="stretch")
    variants = variants.dropna()
    weights = dict(zip(variants.variant.astype(str), variants.weight.astype(float)))
    plan, mde, alpha = plan_section(int(campaign_id), primary, weights)
    c1, c2, c3 = st.columns(3)
    method = c1.selectbox("Method that decides (pre-registered)", list(tracker.METHODS), format_func=tracker.METHODS.get,
                          key="new_method", help="Fixed now: the verdict on every screen, alert and export comes from "
                                                 "this rule. Changing it after the start is audited and shown.")
    cuped = c2.toggle("CUPED in the decision", value=True, key="new_cuped")
    correction = c3.selectbox("Correction for several treatments", ["holm", "none"], key="new_correction",
                              format_func={"holm": "Holm", "none": "None (one treatment)"}.get)
    start = st.checkbox("Start now (otherwise save as a draft)", value=True, key="new_start")
    request = dict(campaign_id=int(campaign_id), name=name, primary_metric=primary, variants=weights,
                   control=str(variants.variant.iloc[0]) if len(variants) else "", hypothesis=hypothesis,
                   guardrail_metrics=guardrails, minimum_detectable_effect=mde, alpha=alpha,
                   planned_per_arm=plan.needed_per_arm if plan and not plan.problem else None, start=start,
                   decision_method=method, decision_cuped=cuped, correction=correction)
    st.session_state[_REQUEST] = (form_values(), request)
    clicked = st.button("Create test", type="primary", key="new_create", on_click=create_on_click, args=(user,))
    if clicked and _ERROR not in st.session_state and create(user, request):
        st.rerun()  # the form changed just before the click: created from what this run drew
    if _ERROR in st.session_state:
        st.error(escape_markdown(st.session_state.pop(_ERROR)), icon=":material/block:")
