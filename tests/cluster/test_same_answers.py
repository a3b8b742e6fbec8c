"""Every query file answers the same on a Citus cluster as on one node, for the same data.

The twin databases hold the same demo, rolled up and trained the same way (tests/cluster/
conftest.py). Each query file runs on both with the parameters of tests/db/test_queries.py
(moved into the demo's weeks, and a few chosen from the data so the answer is not empty), its
Citus variant on the cluster when it has one, inside a transaction that is rolled back. The
answers must be equal: the same columns, the same rows (in the same order when the statement
orders them), the same values and types; doubles to 1e-9 relative and reals to 3e-7 (a sum of
doubles added shard by shard rounds differently in the last bits), numerics to the last digit
and scale.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import text
from sqlalchemy.exc import InvalidRequestError, StatementError

from core.platform.db import query, query_names
from core.platform.distribute import CITUS_VARIANTS
from tests.cluster.answers import differences, run, shifted_params
from tests.conftest import DEMO_END
from tests.db.test_queries import PARAMS

pytestmark = pytest.mark.cluster

# Columns that hold the moment the statement ran (now(), clock_timestamp()) or how long
# something took: they differ between any two runs, on one node too.
MOMENT_COLUMNS = {
    "ab_test_insert": {"created_at"},
    "ab_decision_insert": {"decided_at"},
    "annotation_insert": {"created_at"},
    "health_freshness": {"rollups_advanced_at"},
    "live_rollup_state": {"updated_at"},
    "opt_current_run": {"started_at", "finished_at", "seconds", "trained_by", "metrics", "switched_at"},
    "ab_snapshots_read": {"taken_at", "as_of"},
    "opt_recommendations_list": {"created_at", "expires_at"},
    "opt_recommendation_lock": {"expires_at"},
    "opt_recommendations_history": {"created_at", "expires_at"},
}


def _ordered(name: str) -> bool:
    """Does the statement order its rows (an ORDER BY after its last closing parenthesis)?"""
    sql = re.sub(r"--[^\n]*", "", query(name).text)
    return "ORDER BY" in sql[sql.rfind(")") + 1:].upper()


def _data_params(single) -> dict[str, dict]:
    """Parameters chosen from the data, where test_queries' would find nothing here."""
    with single.connect() as conn:
        touches = conn.execute(text(
            "SELECT member_id, last_engaged_at + interval '1 hour' AS at FROM campaign_members "
            "WHERE last_engaged_at IS NOT NULL ORDER BY campaign_id, member_id LIMIT 3")).all()
        free_campaign = conn.execute(text(
            "SELECT min(campaign_id) FROM campaigns WHERE campaign_id NOT IN "
            "(SELECT campaign_id FROM ab_tests WHERE status IN ('draft', 'running', 'paused'))")).scalar()
        run_id = conn.execute(text("SELECT run_id FROM opt_current")).scalar()
        card = conn.execute(text("SELECT recommendation_id, campaign_id FROM recommendations "
                                 "ORDER BY recommendation_id LIMIT 1")).one()
    return {
        "attribute_conversions": {"member_ids": [t.member_id for t in touches] + [touches[0].member_id],
                                  "event_times": [t.at for t in touches] + [DEMO_END.replace(year=2000)],
                                  "window_days": 7},
        "ab_test_insert": {"campaign_id": free_campaign},
        "opt_segment_members": {"run_id": run_id, "campaign_id": 1},
        "opt_member_send_hours_apply": {"run_id": run_id},
        "opt_recommendation_decide": {"recommendation_id": card.recommendation_id},
        "opt_recommendation_lock": {"recommendation_id": card.recommendation_id},
        "opt_recommendations_list": {"campaign_id": None, "kind": None, "segment": None},
    }


@pytest.fixture(scope="module")
def chosen(twin_demo):
    return _data_params(twin_demo[0])


def params_for(name: str, chosen: dict[str, dict]) -> dict:
    params = shifted_params(name, DEMO_END)
    params.update(chosen.get(name, {}))
    return params


@pytest.mark.parametrize("name", query_names())
def test_the_cluster_answers_as_one_node(twin_demo, chosen, name):
    if name not in PARAMS:
        pytest.skip(f"{name} has no parameters in tests/db/test_queries.py PARAMS (test_queries fails for it)")
    single, on_cluster = twin_demo
    params = params_for(name, chosen)
    try:
        expected = run(single, name, params)
    except (StatementError, InvalidRequestError) as error:  # tests/db/test_queries.py fails for it too
        pytest.skip(f"{name} does not run on one node with the parameters of tests/db/test_queries.py: {error.orig}")
    answer = run(on_cluster, name, params)
    found = differences(expected, answer, ignore=MOMENT_COLUMNS.get(name, set()), ordered=_ordered(name))
    assert not found, f"{name} answers differently on the cluster:\n" + "\n".join(found)


def test_every_citus_variant_replaces_a_query_file():
    stray = sorted(CITUS_VARIANTS - set(query_names()))
    assert not stray, f"queries/citus/{stray[0]}.sql has no queries/{stray[0]}.sql to replace"
