"""A/B tests as records: create (with its sample-size plan and its pre-registered decision
rule), list, read, assign members, and the people's controls — start, pause, resume, stop,
declare a winner, change the decision rule.

Stopping a test or declaring a winner stores the rule's verdict, its statistics and the data of
that moment (ab_decisions); a winner declared against the rule's verdict needs a reason and is
flagged. Changing the rule after the start needs a reason too, and the test shows it.

Every control is one conditional UPDATE (WHERE status IN the statuses it may leave), written in
the same transaction as its audit entry: two managers pressing stop at the same moment produce
one stop and one audit entry; the second is told the test already moved. Role checks happen
here (core.access.auth.action), whatever the page shows.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np
import pandas as pd
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from core.access.audit import record
from core.access.auth import SYSTEM_ROLE, PermissionDenied, User, action
from core.platform.db import execute, fetch_df
from core.experiments import assignment
from core.experiments.stats import power
from core.experiments.outcomes import OUTCOMES, outcome

MAX_VARIANTS = 6
VARIANT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,39}$")
DEFAULT_POWER = 0.8
DECISION_METHODS = ("sequential", "frequentist", "bayesian")
DEFAULT_METHOD = "sequential"
CORRECTIONS = ("holm", "none")


class UnknownTest(LookupError):
    pass


class TransitionRefused(ValueError):
    """The test is not in a status the action can leave (e.g. somebody else stopped it first)."""


@dataclass(frozen=True)
class Transition:
    action: str              # as written in the audit log
    label: str               # as shown on the screen
    from_statuses: tuple[str, ...]
    to_status: str


TRANSITIONS = {t.action: t for t in [
    Transition("start_test", "Start", ("draft",), "running"),
    Transition("pause_test", "Pause", ("running",), "paused"),
    Transition("resume_test", "Resume", ("paused",), "running"),
    Transition("stop_test", "Stop", ("running", "paused"), "stopped"),
    Transition("declare_winner", "Declare a winner", ("running", "paused", "stopped"), "completed"),
]}
ACTIVE_STATUSES = ("draft", "running", "paused")
ENDED_STATUSES = ("stopped", "completed")


def available_actions(status: str) -> list[Transition]:
    return [t for t in TRANSITIONS.values() if status in t.from_statuses]


def rule_of(test: pd.Series) -> dict:
    """The test's pre-registered decision rule (tests stored before rules existed: the defaults)."""
    def given(column, default):
        value = test.get(column)
        if value is None or (not isinstance(value, (list, tuple, np.ndarray)) and pd.isna(value)):
            return default
        return value
    planned = given("planned_per_arm", None)
    return {"method": str(given("decision_method", DEFAULT_METHOD)), "cuped": bool(given("decision_cuped", True)),
            "correction": str(given("correction", "holm")), "primary_metric": str(test.primary_metric),
            "alpha": float(test.alpha), "mde": float(test.minimum_detectable_effect),
            "planned_per_arm": int(planned) if planned is not None else None,
            "guardrails": [str(g) for g in list(given("guardrail_metrics", []))]}


# ----------------------------------------------------------------------------- reading


def list_tests(db) -> pd.DataFrame:
    return fetch_df(db, "ab_tests_list")


def get_test(db, test_id: int) -> pd.Series:
    tests = list_tests(db)
    found = tests[tests.test_id == int(test_id)]
    if found.empty:
        raise UnknownTest(f"There is no A/B test {test_id}.")
    return found.iloc[0]


def variants_of(db, test_id: int) -> pd.DataFrame:
    """Variants in their declared order, with weights normalised to shares."""
    frame = fetch_df(db, "ab_test_variants", test_ids=[int(test_id)])
    if frame.empty:
        raise UnknownTest(f"A/B test {test_id} has no variants.")
    return frame.assign(share=frame.weight / frame.weight.sum())


# ----------------------------------------------------------------------------- planning


@dataclass
class Plan:
    """What a test needs before it starts: members per arm for the MDE, and how long that takes."""

    metric: str
    baseline: float
    sd: float | None
    needed_per_arm: int | None
    needed_total: int | None
    members_per_day: float | None
    expected_days: float | None
    problem: str | None = None


def campaign_baseline(db, campaign_id: int, recent_days: int = 14) -> pd.DataFrame:
    """Per outcome: n, mean, variance over the campaign's reached members, and new members per day."""
    return fetch_df(db, "ab_campaign_baseline", campaign_id=int(campaign_id), recent_days=int(recent_days))


def plan(metric: str, baseline: float, mde: float, weights: dict[str, float], alpha: float = 0.05,
         sd: float | None = None, members_per_day: float | None = None, power_target: float = DEFAULT_POWER) -> Plan:
    """Sample size per arm (the smallest arm decides) and expected days at members_per_day.

    The fixed-horizon plan of core.experiments.power; the sequential analysis may stop earlier
    when the effect is larger than the MDE, and needs somewhat more when it is just at the MDE.
    """
    kind = outcome(metric).kind
    shares = np.array(list(weights.values()), dtype=float)
    shares = shares / shares.sum()
    try:
        per_arm = int(power.required_sample_size(baseline, mde, alpha=alpha, power=power_target, metric=kind,
                                                 relative=True, sd=sd, variants=len(weights)))
    except ValueError as error:
        return Plan(metric, baseline, sd, None, None, members_per_day, None, problem=str(error))
    total = int(math.ceil(per_arm / shares.min()))
    days = None
    if members_per_day is not None:
        days = float(power.expected_days(total, 0, max(float(members_per_day), 0.0)))
    return Plan(metric, baseline, sd, per_arm, total, members_per_day, days)


def plan_from_campaign(db, campaign_id: int, metric: str, mde: float, weights: dict[str, float],
                       alpha: float) -> int | None:
    """Members per arm planned from the campaign's reached members so far (at least 100)."""
    baseline = campaign_baseline(db, campaign_id).set_index("metric")
    if metric not in baseline.index or baseline.loc[metric, "n"] < 100:
        return None
    row = baseline.loc[metric]
    sd = float(np.sqrt(row.variance)) if outcome(metric).kind == "mean" else None
    made = plan(metric, float(row["mean"]), mde, weights, alpha=alpha, sd=sd)
    return made.needed_per_arm


def _check_rule(method: str, correction: str) -> None:
    if method not in DECISION_METHODS:
        raise ValueError(f"The decision method must be one of {', '.join(DECISION_METHODS)} (it is {method!r}).")
    if correction not in CORRECTIONS:
        raise ValueError(f"The correction must be one of {', '.join(CORRECTIONS)} (it is {correction!r}).")


QUARTER_DAYS = 91  # a plan longer than this is warned about before the test is created
MDE_STEPS = np.round(np.arange(1, 401) * 0.005, 3)  # 0.5 % to 200 %, in half-percent steps


def reachable_mde(metric: str, baseline: float, weights: dict[str, float], alpha: float = 0.05,
                  sd: float | None = None, members_per_day: float | None = None,
                  days: float = QUARTER_DAYS) -> float | None:
    """The smallest relative MDE (in half-percent steps) whose plan the campaign's traffic
    reaches within `days`; None without traffic, or when no MDE up to 200 % can be planned in
    time. Scanned, not bisected: a rate's plan stops existing when baseline × (1 + MDE) > 1."""
    if not members_per_day or members_per_day <= 0:
        return None
    for mde in MDE_STEPS:
        made = plan(metric, baseline, float(mde), weights, alpha=alpha, sd=sd, members_per_day=members_per_day)
        if made.problem is None and made.expected_days is not None and made.expected_days <= days:
            return float(mde)
    return None


# ----------------------------------------------------------------------------- creating


def _storable(text: str, what: str) -> str:
    """Text PostgreSQL can store: it refuses the NUL character in text, and the whole save with it."""
    if "\x00" in text:
        raise ValueError(f"The {what} contains a NUL character (an invisible \\x00, at character "
                         f"{text.index(chr(0)) + 1}), which cannot be saved; remove it and try again. Nothing was saved.")
    return text


def _clean_variants(variants: dict[str, float], control: str) -> dict[str, float]:
    cleaned: dict[str, float] = {}
    for name, weight in variants.items():
        name = str(name).strip()
        if not VARIANT_NAME.match(name):
            raise ValueError(f"Variant name {name!r} is not allowed: use 1–40 letters, digits, spaces, '-', '_' or '.'.")
        if name in cleaned:
            raise ValueError(f"Variant {name!r} appears twice; give every variant its own name.")
        try:
            weight = float(weight)
        except (TypeError, ValueError):
            raise ValueError(f"Weight of variant {name!r} is {weight!r}, not a number.") from None
        if not (weight > 0 and math.isfinite(weight)):
            raise ValueError(f"Weight of variant {name!r} must be a positive number (it is {weight}).")
        cleaned[name] = weight
    if not 2 <= len(cleaned) <= MAX_VARIANTS:
        raise ValueError(f"A test needs between 2 and {MAX_VARIANTS} variants; it has {len(cleaned)}.")
    if control not in cleaned:
        raise ValueError(f"The control {control!r} is not one of the variants ({', '.join(cleaned)}).")
    return cleaned


@action("create_test")
def create_test(db: Engine, user: User, *, campaign_id: int, name: str, primary_metric: str,
                variants: dict[str, float], control: str = "control", hypothesis: str = "",
                guardrail_metrics: list[str] | tuple[str, ...] = (), minimum_detectable_effect: float = 0.05,
                alpha: float = 0.05, planned_per_arm: int | None = None, start: bool = True,
                decision_method: str = DEFAULT_METHOD, decision_cuped: bool = True, correction: str = "holm") -> int:
    """Create a test (running at once, or a draft when start=False) with its decision rule;
    returns its id. Audited. Without a planned sample the plan is made here, once, from the
    campaign's members so far (None when the campaign has too few to plan from)."""
    name = _storable((name or "").strip(), "test name")
    if not name:
        raise ValueError("Give the test a name, e.g. “Urgent subject line”.")
    hypothesis = _storable(hypothesis or "", "hypothesis")
    outcome(primary_metric)
    guardrails = [g for g in dict.fromkeys(guardrail_metrics)]
    for guardrail in guardrails:
        outcome(guardrail)
    if primary_metric in guardrails:
        raise ValueError(f"{OUTCOMES[primary_metric].label} is the primary metric; it cannot also be a guardrail.")
    if not 0 < float(minimum_detectable_effect) < 10:
        raise ValueError("The minimum detectable effect is a relative change such as 0.05 (= 5 %); it must be above 0.")
    if not 0 < float(alpha) < 0.5:
        raise ValueError("alpha (the error rate) must be between 0 and 0.5, e.g. 0.05.")
    cleaned = _clean_variants(variants, control.strip())
    _check_rule(decision_method, correction)
    if planned_per_arm is None:
        planned_per_arm = plan_from_campaign(db, campaign_id, primary_metric, float(minimum_detectable_effect),
                                             cleaned, float(alpha))
    status = "running" if start else "draft"
    try:
        with db.begin() as conn:
            created = execute(conn, "ab_test_insert", campaign_id=int(campaign_id), test_name=name,
                              hypothesis=hypothesis.strip(), primary_metric=primary_metric,
                              guardrail_metrics=guardrails, minimum_detectable_effect=float(minimum_detectable_effect),
                              alpha=float(alpha), status=status, created_by=user.email, started_at=None,
                              ended_at=None, decision=None, planned_per_arm=int(planned_per_arm) if planned_per_arm else None).one()
            execute(conn, "ab_variants_insert", test_id=created.test_id, variants=list(cleaned),
                    weights=list(cleaned.values()), control=control.strip())
            execute(conn, "ab_test_rule_update", test_id=created.test_id, decision_method=decision_method,
                    decision_cuped=bool(decision_cuped), correction=correction, alpha=float(alpha),
                    minimum_detectable_effect=float(minimum_detectable_effect),
                    planned_per_arm=int(planned_per_arm) if planned_per_arm else None,
                    guardrail_metrics=guardrails, changed_by=None, reason=None)
            record(conn, user, "create_test", f"ab_test:{created.test_id}",
                   {"campaign_id": int(campaign_id), "name": name, "status": status, "primary_metric": primary_metric,
                    "guardrails": guardrails, "variants": cleaned, "mde": minimum_detectable_effect,
                    "planned_per_arm": planned_per_arm, "decision_method": decision_method,
                    "decision_cuped": bool(decision_cuped), "correction": correction})
    except IntegrityError as error:
        text = str(error.orig)
        if "ab_tests_one_active_per_campaign" in text:
            raise ValueError(f"Campaign {campaign_id} already has an active test; stop it before starting another.") from None
        if "ab_tests_campaign_id_fkey" in text:
            raise ValueError(f"There is no campaign {campaign_id}.") from None
        raise
    return int(created.test_id)


# ----------------------------------------------------------------------------- controlling


@action("control_test")
def control(db: Engine, user: User, test_id: int, action: str, winner: str | None = None,
            note: str = "", at: datetime | None = None) -> pd.Series:
    """Apply one control action; raises TransitionRefused when the test is no longer in a status
    the action may leave (for example because another manager stopped it a moment earlier).

    Stop and declare store the rule's verdict, statistics and data of this moment with the
    decision and close the test's alerts; declaring a winner the rule's verdict does not name
    needs a reason (the note) and is flagged.

    `at` records the action at a past moment, judged on the data as they stood then (the
    demo's history of ended tests). Only the system may: a person acts now."""
    if action not in TRANSITIONS:
        raise ValueError(f"Unknown action {action!r}; actions are {', '.join(TRANSITIONS)}.")
    transition = TRANSITIONS[action]
    note = _storable(note or "", "note").strip()
    if at is not None:
        _check_past_moment(db, user, test_id, at)
    decision = stored = None
    if action == "declare_winner":
        names = variants_of(db, test_id).variant.tolist()
        if winner not in names:
            raise ValueError(f"Pick the winner among the variants ({', '.join(names)}).")
        decision = f"{winner} declared the winner" + (f": {note}" if note else "")
    elif action == "stop_test":
        decision = "stopped without a winner" + (f": {note}" if note else "")
    if action in ("stop_test", "declare_winner"):
        # decisions analyses the test, and the analysis reads tests through this module
        from core.experiments.decisions import decision_record
        stored = decision_record(db, test_id, action, winner, note, as_of=at)
    with db.begin() as conn:
        moved = execute(conn, "ab_test_transition", test_id=int(test_id), to_status=transition.to_status,
                        from_statuses=list(transition.from_statuses), winner=winner, decision=decision,
                        at=at).one_or_none()
        if moved is None:
            current = list_tests(conn)
            row = current[current.test_id == int(test_id)]
            if row.empty:
                raise UnknownTest(f"There is no A/B test {test_id}.")
            status = row.status.iloc[0]
            raise TransitionRefused(f"“{transition.label}” does nothing: test {test_id} is {status} now "
                                    f"(it can be done only while {' or '.join(transition.from_statuses)}).")
        details = {"to": transition.to_status, "winner": winner, "note": note or None}
        if stored is not None:
            execute(conn, "ab_decision_insert", test_id=int(test_id), decided_by=user.email, at=at, **stored)
            execute(conn, "ab_alerts_close", test_id=int(test_id), kinds=["srm", "guardrail", "decision"],
                    reason=f"the test was {transition.to_status}", at=at)
            details |= {"verdict": stored["verdict"], "against_rule": stored["against_rule"]}
        if at is not None:
            details["as_of"] = at.isoformat()
        record(conn, user, action, f"ab_test:{int(test_id)}", details)
    return pd.Series(moved._asdict())


def _check_past_moment(db, user: User, test_id: int, at: datetime) -> None:
    """A past moment for `control`: the system's only, after the test's start, not in the future."""
    if user.role != SYSTEM_ROLE:
        raise PermissionDenied(f"{user.email} acts now: only the system records an action at a past moment.")
    if at.tzinfo is None:
        raise ValueError(f"The moment {at} has no time zone; give it in UTC.")
    if at > datetime.now(timezone.utc):
        raise ValueError(f"The moment {at:%Y-%m-%d %H:%M} UTC is in the future.")
    started = get_test(db, test_id).started_at
    if started is not None and pd.notna(started) and pd.Timestamp(at) < pd.Timestamp(started):
        raise ValueError(f"Test {test_id} started at {pd.Timestamp(started):%Y-%m-%d %H:%M} UTC, after {at:%Y-%m-%d %H:%M}.")


@action("control_test")
def change_rule(db: Engine, user: User, test_id: int, *, reason: str = "", decision_method: str | None = None,
                decision_cuped: bool | None = None, correction: str | None = None, alpha: float | None = None,
                minimum_detectable_effect: float | None = None, planned_per_arm: int | None = None,
                guardrail_metrics: list[str] | None = None) -> dict:
    """Change a test's decision rule (only what is given). A draft's rule is still being
    registered; once the test started, a change needs a reason and the test says who changed it,
    when and why. Audited with the rule before and after; ended tests keep theirs."""
    test = get_test(db, test_id)
    before = rule_of(test)
    after = dict(before)
    for key, value in (("method", decision_method), ("cuped", decision_cuped), ("correction", correction),
                       ("alpha", alpha), ("mde", minimum_detectable_effect), ("planned_per_arm", planned_per_arm),
                       ("guardrails", guardrail_metrics)):
        if value is not None:
            after[key] = value
    _check_rule(after["method"], after["correction"])
    if not 0 < float(after["alpha"]) < 0.5:
        raise ValueError("alpha (the error rate) must be between 0 and 0.5, e.g. 0.05.")
    if not 0 < float(after["mde"]) < 10:
        raise ValueError("The minimum detectable effect is a relative change such as 0.05 (= 5 %); it must be above 0.")
    if after["planned_per_arm"] is not None and int(after["planned_per_arm"]) < 1:
        raise ValueError("The planned sample per arm must be at least 1 member.")
    after["guardrails"] = list(dict.fromkeys(after["guardrails"]))
    for guardrail in after["guardrails"]:
        outcome(guardrail)
    if before["primary_metric"] in after["guardrails"]:
        raise ValueError("The primary metric cannot also be a guardrail.")
    reason = _storable(reason or "", "reason").strip()
    started = str(test.status) != "draft"
    if started and not reason:
        raise ValueError(f"Test {test_id} has started ({test.status}): changing its decision rule now needs a reason, "
                         "which the test will show. Nothing was changed.")
    with db.begin() as conn:
        changed = execute(conn, "ab_test_rule_update", test_id=int(test_id), decision_method=after["method"],
                          decision_cuped=bool(after["cuped"]), correction=after["correction"],
                          alpha=float(after["alpha"]), minimum_detectable_effect=float(after["mde"]),
                          planned_per_arm=int(after["planned_per_arm"]) if after["planned_per_arm"] else None,
                          guardrail_metrics=after["guardrails"], changed_by=user.email if started else None,
                          reason=reason if started else None).one_or_none()
        if changed is None:
            raise TransitionRefused(f"Test {test_id} has ended; its decision rule is kept as it was.")
        record(conn, user, "change_rule", f"ab_test:{int(test_id)}",
               {"before": before, "after": after, "reason": reason or None, "after_start": started})
    return after


def audit_trail(db, test_id: int, limit: int = 50) -> pd.DataFrame:
    return fetch_df(db, "ab_audit_for_test", target=f"ab_test:{int(test_id)}", limit=int(limit))


# ----------------------------------------------------------------------------- assigning


def weights_of(db, test_id: int) -> dict[str, float]:
    frame = variants_of(db, test_id)
    return dict(zip(frame.variant, frame.weight.astype(float)))


def assign(db, test_id: int, member_id: int) -> str:
    """The variant of one member (recorded); see assign_members."""
    return assign_members(db, test_id, [member_id]).variant.iloc[0]


def assign_members(db: Engine, test_id: int, member_ids) -> pd.DataFrame:
    """Assign members to the test's variants by the deterministic hash and record it, once.

    A member assigned before keeps the recorded variant even if the weights have changed since.
    Only a running test takes new members. Returns member_id, variant, new (first assignment).
    """
    test = get_test(db, test_id)
    ids = pd.unique(np.asarray(list(member_ids), dtype=np.int64))
    if test.status != "running":
        raise ValueError(f"Test {test_id} is {test.status}; only a running test assigns members.")
    if len(ids) == 0:
        return pd.DataFrame({"member_id": [], "variant": [], "new": []})
    proposed = assignment.assign_many(int(test_id), ids, weights_of(db, test_id))
    with db.begin() as conn:
        return fetch_df(conn, "ab_assignments_record", campaign_id=int(test.campaign_id), test_id=int(test_id),
                        member_ids=ids.tolist(), variants=proposed.tolist())


def assign_reached_members(db: Engine, test_id: int) -> int:
    """Record assignments of members the campaign reached since the test started and who have
    none yet (the hash gives the same variant the sending system used). Returns how many."""
    missing = fetch_df(db, "ab_unassigned_members", test_id=int(test_id))
    if missing.empty:
        return 0
    return int(assign_members(db, test_id, missing.member_id).new.sum())


def started_days(test: pd.Series, now: datetime) -> float:
    """Days the test has been running (to its end when it ended)."""
    if test.started_at is None or pd.isna(test.started_at):
        return 0.0
    end = test.ended_at if test.ended_at is not None and pd.notna(test.ended_at) else now
    return max((pd.Timestamp(end) - pd.Timestamp(test.started_at)).total_seconds() / 86400, 0.0)
