"""Quarantined events are visible on the System screen (AppTest of the real app on a real
database): an event the roller could not fold is listed with the database's reason, its long
text cut, and nothing of it is rendered as Markdown."""
from __future__ import annotations

from datetime import datetime, timezone

import numpy as np

from core.platform import rollup
from tests.app.conftest import app_database, clear_streamlit_caches, database_url_of, new_app, screen_path
from tests.factories import insert_events, random_events, seed_dimensions


def test_the_system_screen_lists_quarantined_events(db):
    seed_dimensions(db)
    rng = np.random.default_rng(5)
    events = random_events(rng, 200, datetime(2026, 10, 1, tzinfo=timezone.utc))
    unfoldable = "".join(rng.choice(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), 30_000))  # too big for an index row
    events.at[17, "region_code"] = "![px](http://127.0.0.1:9/t.png) " + unfoldable
    insert_events(db, events)
    with app_database(database_url_of(db)):
        at = new_app("exec", screen_path("System")).run()
        assert not at.exception, [e.value for e in at.exception]
        assert "None: every event so far was rolled up." in [c.value for c in at.caption]
        assert rollup.refresh_all(db) == 199
        clear_streamlit_caches()  # the screen's numbers are cached for seconds
        at = new_app("exec", screen_path("System")).run()
        assert not at.exception, [e.value for e in at.exception]
    assert "Quarantined events" in [s.value for s in at.subheader]
    assert any(w.value.startswith("1 events could not be rolled up") for w in at.warning)
    table = next(d.value for d in at.dataframe if "reason" in d.value.columns)
    assert len(table) == 1 and "index row" in table.reason.iloc[0]
    assert table.region_code.iloc[0] == ("![px](http://127.0.0.1:9/t.png) " + unfoldable)[:40]
    assert table.text_bytes.iloc[0] > 30_000
    assert not any("127.0.0.1:9" in m.value for m in at.markdown)
