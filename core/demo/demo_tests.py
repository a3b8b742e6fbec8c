"""The demo's A/B tests: their rows, variants and assignments at load (`make_ab_tests`), drawn
from the planted experiments in core.demo.truth (AB_TESTS), and their history after the load
(`conclude`): the tests the demo ends are ended the way a manager would have, on the first day
their pre-registered rule decided — through the tracker's own controls, so History shows the
verdict, statistics and data of that moment, as for any test a person ends on the screen."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from core.access.auth import SYSTEM
from core.demo import truth
from core.experiments import results, snapshots, tests_repo, verdicts
from core.experiments.assignment import assign_many

DEMO_CREATOR = "demo"


def make_ab_tests(campaigns: pd.DataFrame, members: pd.DataFrame, end: datetime):
    tests, variants, assignments = [], [], []
    for test_id, spec in enumerate(truth.AB_TESTS, start=1):
        campaign = campaigns.iloc[test_id - 1]
        tests.append({
            "test_id": test_id, "campaign_id": int(campaign.campaign_id), "name": spec["name"],
            "hypothesis": spec["hypothesis"], "primary_metric": spec["metric"],
            "guardrail_metrics": [], "minimum_detectable_effect": spec["mde"],
            "alpha": 0.05, "status": "running", "created_by": DEMO_CREATOR,
            "started_at": campaign.starts_at, "created_at": campaign.starts_at,
        })
        weights = {name: w for name, (w, _) in spec["variants"].items()}
        for name, weight in weights.items():
            variants.append({"test_id": test_id, "variant": name, "weight": weight,
                             "is_control": name == "control", "description": spec["descriptions"][name]})
        audience = members.loc[members.segment == campaign.segment, "member_id"].to_numpy()
        assignments.append(pd.DataFrame({
            "campaign_id": int(campaign.campaign_id), "test_id": test_id, "member_id": audience,
            "variant": assign_many(test_id, audience, weights), "assigned_at": campaign.starts_at,
        }))
    return pd.DataFrame(tests), pd.DataFrame(variants), pd.concat(assignments, ignore_index=True)


@dataclass
class Concluded:
    test_id: int
    name: str
    action: str | None          # stop_test / declare_winner, None when the rule never decided
    at: datetime | None
    verdict: str


def conclude(db, end: datetime, progress=None) -> list[Concluded]:
    """End the demo's tests that AB_TESTS marks `conclude`, each at the end of the first UTC day
    on which its rule decided (a winner: declared; the treatment worse: control declared; no
    detectable difference: stopped for futility) or found a sample ratio mismatch (stopped) —
    as the system, at that past moment, judged on the data as they stood then. A test whose rule
    never decided before `end` keeps running. Run once after the load and the rollup."""
    say = progress or (lambda message: None)
    planned = {spec["name"]: spec for spec in truth.AB_TESTS if spec["conclude"]}
    tests = tests_repo.list_tests(db)
    done = []
    for test in tests[(tests.created_by == DEMO_CREATOR) & (tests.status == "running")].itertuples(index=False):
        if test.name not in planned:
            continue
        test = pd.Series(test._asdict())
        snapshots.store_pre_period(db, test)  # the covariates are kept once, as the snapshot job does
        first = last = None
        for said in results.rule_days(db, int(test.test_id), end):
            last = said
            if said["srm_detected"] or said["kind"] in verdicts.DECIDED:
                first = said
                break
        if first is None:
            verdict = last["verdict"] if last else "no data yet"
            say(f"“{test['name']}” keeps running: its rule has not decided ({verdict})")
            done.append(Concluded(int(test.test_id), test["name"], None, None, verdict))
            continue
        action, winner, note = _ending(first, control=_control_of(db, int(test.test_id)))
        tests_repo.control(db, SYSTEM, int(test.test_id), action, winner=winner, note=note, at=first["as_of"])
        say(f"“{test['name']}”: {action.replace('_', ' ')} on {first['as_of']:%Y-%m-%d} — {first['verdict']}")
        done.append(Concluded(int(test.test_id), test["name"], action, first["as_of"], first["verdict"]))
    return done


def _control_of(db, test_id: int) -> str:
    found = tests_repo.variants_of(db, test_id)
    return str(found.loc[found.is_control, "variant"].iloc[0])


def _ending(said: dict, control: str) -> tuple[str, str | None, str]:
    """(action, winner, note) a manager takes on the day the rule said `said`."""
    if said["srm_detected"]:
        return ("stop_test", None, "Stopped at the daily review: the split between the arms is off (sample ratio "
                                   "mismatch), so no result can be trusted. Checking how each arm is sent and tracked.")
    if said["kind"] == verdicts.WIN:
        return ("declare_winner", said["winner"], f"The pre-registered rule called it: {said['winner']} beats {control}. "
                                                "Rolling it out to the whole audience.")
    if said["kind"] == verdicts.LOSE:
        return ("declare_winner", control, "The pre-registered rule found the treatment worse; keeping the control.")
    return ("stop_test", None, "Stopped for futility: the planned sample showed no detectable difference, "
                               "so the test will not tell us more.")
