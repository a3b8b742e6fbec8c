"""Single-campaign queries are router queries on the cluster: Citus sends each to the one shard
that holds the campaign (every "Task Count" of its plan is 1), so a campaign's screen costs
the same whatever the number of campaigns and workers. A portfolio query (every campaign)
fans out to every shard instead, and that is checked too, so this test can tell them apart.

A query is single-campaign when its parameters name one campaign (campaign_id, or a one-element
campaign_ids). Each is explained with its parameters written into the statement, as PostgreSQL
plans a statement whose values it knows.
"""
from __future__ import annotations

import re

import pytest
from psycopg import ClientCursor
from sqlalchemy.exc import InvalidRequestError, StatementError

from core.platform.db import query, query_names
from core.platform.distribute import statement
from tests.cluster.answers import shifted_params
from tests.cluster.conftest import SHARD_COUNT
from tests.conftest import DEMO_END
from tests.db.test_queries import PARAMS

pytestmark = pytest.mark.cluster


def one_campaign(name: str) -> dict | None:
    """The query's parameters narrowed to campaign 1, or None when it does not take a campaign."""
    if name not in PARAMS:
        return None
    params = shifted_params(name, DEMO_END)
    if "campaign_ids" in params:
        return {**params, "campaign_ids": [1]}
    if params.get("campaign_id") is not None:
        return {**params, "campaign_id": 1}
    return None


SINGLE_CAMPAIGN = [name for name in query_names() if one_campaign(name) is not None]


@pytest.fixture(scope="module")
def plans_db(cluster_database):
    """A distributed database of its own: which shards a statement reads does not depend on
    the rows, and explaining an INSERT takes its id from the sequence (Citus fills defaults
    while planning), which would shift the ids the twin databases hand out."""
    return cluster_database()


def explain(engine, name: str, params: dict) -> str:
    """The statement's plan on this database (its Citus variant when it has one)."""
    with engine.connect() as conn:
        transaction = conn.begin()
        try:
            sql = query(statement(conn, name)).compile(dialect=engine.dialect)
            raw = conn.connection.driver_connection
            literal = ClientCursor(raw).mogrify(str(sql), sql.construct_params(params))
            with raw.cursor() as cursor:
                cursor.execute("EXPLAIN " + literal)
                return "\n".join(row[0] for row in cursor.fetchall())
        finally:
            transaction.rollback()


def task_counts(plan: str) -> list[int]:
    """The Task Count of every distributed step of a plan."""
    return [int(count) for count in re.findall(r"Task Count: (\d+)", plan)]


def test_these_queries_take_one_campaign():
    assert {"campaign_totals", "campaign_series", "campaign_breakdown", "ab_campaign_baseline",
            "opt_offer_scores_read"} <= set(SINGLE_CAMPAIGN)


@pytest.mark.parametrize("name", SINGLE_CAMPAIGN)
def test_a_single_campaign_query_reads_one_shard(plans_db, name):
    try:
        plan = explain(plans_db, name, one_campaign(name))
    except (StatementError, InvalidRequestError) as error:  # tests/db/test_queries.py fails for it too
        pytest.skip(f"{name} cannot run with the parameters of tests/db/test_queries.py: {error}")
    counts = task_counts(plan)
    if not counts and "INSERT/SELECT method: pull to coordinator" in plan:
        return  # rows made from the parameters alone, sent by COPY to the shard of their campaign
    assert counts, f"{name}: no distributed step in its plan:\n{plan}"
    assert set(counts) == {1}, f"{name}: Task Counts {counts}, expected 1 for each step (one shard):\n{plan}"


def test_the_portfolio_fans_out_to_every_shard(plans_db):
    params = {**shifted_params("campaign_totals", DEMO_END), "campaign_ids": list(range(1, 13))}
    counts = task_counts(explain(plans_db, "campaign_totals", params))
    assert max(counts) > 1 and max(counts) <= SHARD_COUNT, f"Task Counts {counts} for every campaign"
