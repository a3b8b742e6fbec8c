"""The demo's A/B tests: their rows, variants and assignments at load (`make_ab_tests`), drawn
from the planted experiments in core.demo.truth (AB_TESTS)."""
from __future__ import annotations

from datetime import datetime

import pandas as pd

from core.demo import truth
from core.experiments.assignment import assign_many


def make_ab_tests(campaigns: pd.DataFrame, members: pd.DataFrame, end: datetime):
    tests, variants, assignments = [], [], []
    for test_id, spec in enumerate(truth.AB_TESTS, start=1):
        campaign = campaigns.iloc[test_id - 1]
        tests.append({
            "test_id": test_id, "campaign_id": int(campaign.campaign_id), "name": spec["name"],
            "hypothesis": f"Planted truth: {spec['truth']}", "primary_metric": spec["metric"],
            "guardrail_metrics": ["unsubscribed"] if False else [], "minimum_detectable_effect": 0.05,
            "alpha": 0.05, "status": "running", "created_by": "demo",
            "started_at": campaign.starts_at, "created_at": campaign.starts_at,
        })
        weights = {name: w for name, (w, _) in spec["variants"].items()}
        for name, weight in weights.items():
            variants.append({"test_id": test_id, "variant": name, "weight": weight,
                             "is_control": name == "control", "description": f"click x{spec['variants'][name][1]}"})
        audience = members.loc[members.segment == campaign.segment, "member_id"].to_numpy()
        assignments.append(pd.DataFrame({
            "campaign_id": int(campaign.campaign_id), "test_id": test_id, "member_id": audience,
            "variant": assign_many(test_id, audience, weights), "assigned_at": campaign.starts_at,
        }))
    return pd.DataFrame(tests), pd.DataFrame(variants), pd.concat(assignments, ignore_index=True)
