"""Test databases: every run gets its own databases and leaves nothing behind.

Database tests run against the embedded PostgreSQL (pgserver, in a temporary folder) and,
when DATABASE_URL names a server, against that server too. Each test gets a fresh database
cloned from a migrated template; app and browser tests share one database with demo data.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import create_engine, text

from core.demo import generator as demo
from core.demo.demo_tests import conclude
from core.experiments import snapshots
from core.platform import db as core_db
from core.platform import migrate, rollup

SERVER_URL = os.environ.get("DATABASE_URL")  # the admin URL, read before any test changes it
BACKENDS = ["embedded"] + (["server"] if SERVER_URL else [])
PRIMARY_BACKEND = "server" if SERVER_URL else "embedded"
RUN_ID = uuid.uuid4().hex[:8]


class Backend:
    """One PostgreSQL (embedded or server) and the databases this run made on it."""

    def __init__(self, name: str, admin_url: str):
        self.name = name
        self.admin_url = core_db.normalize_url(admin_url)
        self.admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT", pool_size=1)
        self.created: list[str] = []
        self.template = self.create_database(migrated=True)

    def url(self, database: str) -> str:
        return core_db.with_database(self.admin_url, database)

    def create_database(self, migrated: bool = False, template: str | None = None) -> str:
        name = f"swipesavvy_test_{RUN_ID}_{len(self.created)}"
        with self.admin.connect() as conn:
            clause = f' TEMPLATE "{template}"' if template else ""
            conn.execute(text(f'CREATE DATABASE "{name}"{clause}'))
        self.created.append(name)
        if migrated:
            engine = core_db.make_engine(self.url(name), pool_size=1)
            migrate.upgrade(engine)
            engine.dispose()
        return name

    def fresh_engine(self):
        """A new database with the schema at head (a copy of the migrated template)."""
        return core_db.make_engine(self.url(self.create_database(template=self.template)), pool_size=4)

    def drop_all(self) -> None:
        with self.admin.connect() as conn:
            for name in reversed(self.created):
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def backends():
    made: dict[str, Backend] = {}
    folder = None
    server = None
    try:
        if True:
            import pgserver

            folder = tempfile.mkdtemp(prefix="swipesavvy-pg-")
            server = pgserver.get_server(folder, cleanup_mode="stop")
            made["embedded"] = Backend("embedded", server.get_uri())
        if SERVER_URL:
            made["server"] = Backend("server", SERVER_URL)
        yield made
    finally:
        for backend in made.values():
            backend.drop_all()
        if server is not None:
            server.cleanup()
        if folder:
            shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(params=BACKENDS)
def db(request, backends):
    """A fresh, migrated, empty database on each backend in turn."""
    engine = backends[request.param].fresh_engine()
    engine.backend = request.param
    yield engine
    engine.dispose()


@pytest.fixture
def primary_db(backends):
    """A fresh, migrated, empty database on the primary backend only: for the heavy checks of the
    demo world's model, which do not depend on the backend."""
    engine = backends[PRIMARY_BACKEND].fresh_engine()
    engine.backend = PRIMARY_BACKEND
    yield engine
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def empty_db(request, backends):
    """A fresh database with no schema at all, on each backend in turn."""
    backend = backends[request.param]
    engine = core_db.make_engine(backend.url(backend.create_database()), pool_size=2)
    yield engine
    engine.dispose()


DEMO_END = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)


@pytest.fixture(scope="session")
def demo_data():
    return demo.generate(seed=11, members=3000, campaigns=12, days=60, end=DEMO_END)


@pytest.fixture(scope="session")
def demo_db(backends, demo_data):
    """The primary backend's database with the small demo data set, rolled up. Read-only."""
    backend = backends[PRIMARY_BACKEND]
    url = backend.url(backend.create_database(template=backend.template))
    engine = core_db.make_engine(url, pool_size=4)
    demo.load(engine, demo_data)
    rollup.refresh_all(engine)
    conclude(engine, demo_data.end)   # as `python -m core demo` does: the demo's ended tests
    snapshots.take_snapshots(engine)  # as `python -m core demo` does: the tracker's list reads them
    engine.url_for_app = url
    yield engine
    engine.dispose()
