"""The screens' engine (ui.data.engine): how its sessions are set up."""
from __future__ import annotations

from sqlalchemy import text

from core.platform.db import make_engine
from tests.app.conftest import database_url_of
from ui import data


def test_screen_sessions_never_compile_statements_but_other_sessions_keep_the_servers_setting(db, monkeypatch):
    """The screens' statements take milliseconds and JIT compiling one took 100 ms (issue 15);
    the worker's and the command line's sessions keep the server's setting for their long scans."""
    monkeypatch.setenv("DATABASE_URL", database_url_of(db))
    data.engine.clear()
    other = make_engine(database_url_of(db), pool_size=1)
    try:
        with data.engine().connect() as conn:
            assert conn.execute(text("SHOW jit")).scalar() == "off"
        with other.connect() as conn:
            server_default = conn.execute(text("SELECT reset_val FROM pg_settings WHERE name = 'jit'")).scalar()
            assert conn.execute(text("SHOW jit")).scalar() == server_default
    finally:
        data.engine().dispose()
        data.engine.clear()
        other.dispose()
