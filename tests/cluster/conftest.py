"""The Citus tier: the same app on a local Citus cluster (a coordinator and two workers, each
its own PostgreSQL 15 on a free loopback port, in a temporary folder), started once for the
session and removed at its end.

Every database made here is migrated and then distributed (core.platform.distribute) with a
few shards: the data is small and each shard of each day partition is a table on a worker.
Without PostgreSQL 15's server programs or without Citus in them, every test of this tier is
skipped with the reason (core.platform.cluster.missing_prerequisite names the fix), unless
SWIPESAVVY_REQUIRE_CITUS is set (.ci/run sets it after building Citus): then they fail.
"""
from __future__ import annotations

import os
import shutil
import tempfile

import pytest
from sqlalchemy import text

from core.demo import generator as demo
from core.optimize.training import retrain
from core.platform import cluster as local_cluster
from core.platform import db as core_db
from core.platform import distribute, migrate, rollup
from tests.conftest import DEMO_END, PRIMARY_BACKEND, RUN_ID

SHARD_COUNT = 4


@pytest.fixture(scope="session")
def citus():
    """The session's local Citus cluster (skips the tier when this machine cannot run one)."""
    reason = local_cluster.missing_prerequisite()
    if reason and os.environ.get("SWIPESAVVY_REQUIRE_CITUS"):  # .ci/run built Citus: a skip would hide a failure
        pytest.fail(f"the Citus tier must run here (SWIPESAVVY_REQUIRE_CITUS is set) but cannot: {reason}")
    if reason:
        pytest.skip(f"Citus tier skipped: {reason}")
    folder = tempfile.mkdtemp(prefix="swipesavvy-citus-")
    made = None
    try:
        made = local_cluster.up(folder, port=0, workers=2, database=f"swipesavvy_test_{RUN_ID}")
        yield made
    finally:
        local_cluster.down(folder, remove=True)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def cluster_database(citus):
    """make() -> an engine on a new database of the cluster, migrated and distributed."""
    engines = []

    def make():
        name = f"swipesavvy_test_{RUN_ID}_{len(engines) + 1}"
        engine = core_db.make_engine(local_cluster.create_database(citus, name), pool_size=4)
        engines.append(engine)
        migrate.upgrade(engine)
        distribute.distribute(engine, shard_count=SHARD_COUNT)
        return engine

    yield make
    for engine in engines:
        engine.dispose()


@pytest.fixture
def cluster_db(cluster_database):
    """A fresh, migrated, distributed, empty database on the cluster."""
    return cluster_database()


def load_everything(engine, data) -> None:
    """The same steps on either kind of database: the demo, the rollups, a retrain, fresh
    planner statistics (the System screen shows estimates)."""
    demo.load(engine, data)
    rollup.refresh_all(engine)
    retrain(engine, as_of=DEMO_END, trained_by="tests")
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))


@pytest.fixture(scope="session")
def twin_demo(backends, cluster_database, demo_data):
    """(one node, cluster): the session's small demo data set loaded, rolled up and trained on
    the primary single-node backend and on the cluster, the same way. Read-only."""
    backend = backends[PRIMARY_BACKEND]
    single = core_db.make_engine(backend.url(backend.create_database(template=backend.template)), pool_size=4)
    on_cluster = cluster_database()
    for engine in (single, on_cluster):
        load_everything(engine, demo_data)
    yield single, on_cluster
    single.dispose()
