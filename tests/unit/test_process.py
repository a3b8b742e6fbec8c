"""ui.process: what a screen's first run leaves alive is frozen once per screen and process."""
from __future__ import annotations

import gc

from ui import process


def test_each_screen_freezes_once_per_process(monkeypatch):
    freezes = []
    monkeypatch.setattr(process, "_frozen", set())
    monkeypatch.setattr(gc, "freeze", lambda: freezes.append(1))
    for screen in ["Overview", "Overview", "A/B tests", "Overview", "A/B tests"]:
        process.freeze_after_first_run(screen)
    assert len(freezes) == 2


def test_a_frozen_object_is_out_of_the_collectors_walk():
    before = gc.get_freeze_count()
    kept = [[] for _ in range(1000)]  # containers the collector tracks
    process._frozen.discard("a screen of this test")
    process.freeze_after_first_run("a screen of this test")
    assert gc.get_freeze_count() >= before + len(kept)
    assert not any(gc.is_tracked(item) and any(item is other for other in gc.get_objects(2)) for item in kept[:3])
