"""The closed loop, end to end on a real PostgreSQL with a fixed demo end and a simulated clock:
cards are applied with a holdout, the simulator honours them (core.demo.world), and after two
simulated weeks the product measures each applied card's realised impact with an interval
(core.optimize.apply.measure_realised) — the check of its own projection."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

from core.access.auth import User
from core.demo import generator as demo
from core.demo import simulator
from core.optimize import apply, store
from core.optimize.recommendations import KIND_LABELS
from core.optimize.training import retrain
from core.platform import rollup
from core.platform.ingest import write_events

UTC = timezone.utc
END = datetime(2026, 11, 4, 6, tzinfo=UTC)  # a Wednesday, three weeks before Thanksgiving
MANAGER = User("manager@example.com", "Manager", "manager")
KINDS = tuple(KIND_LABELS)  # every kind of card the product proposes


@pytest.mark.slow
def test_applied_cards_show_realised_impact_after_the_simulator_has_run(primary_db):
    db = primary_db
    data = demo.generate(seed=7, members=15_000, campaigns=36, days=90, end=END)
    demo.load(db, data)
    rollup.refresh_all(db)
    retrain(db, as_of=END, trained_by="tests")
    cards = store.recommendations(db)
    assert set(KINDS) <= set(cards.kind), f"the demo proposed too few kinds of cards: {sorted(set(cards.kind))}"
    applied, used = {}, set()
    # the rarest kind first, each on a campaign of its own (two changes on one campaign would
    # measure each other)
    for kind in sorted(KINDS, key=lambda k: (cards.kind == k).sum()):
        for card in cards[cards.kind == kind].itertuples():
            if int(card.campaign_id) in used:
                continue
            apply.apply(db, MANAGER, int(card.recommendation_id), holdout_share=0.3, now=END)
            applied[kind], used = int(card.recommendation_id), used | {int(card.campaign_id)}
            break
    assert sorted(applied) == sorted(KINDS), f"no campaign of its own for {set(KINDS) - set(applied)}"
    with db.begin() as conn:  # applied at the simulated moment END (the screen stamps the wall clock)
        conn.execute(text("UPDATE recommendations SET applied_at = :at WHERE recommendation_id = ANY(:ids)"),
                     {"at": END, "ids": list(applied.values())})

    sim = simulator.Simulator(simulator.load_world(db, END), END)  # reads the applied settings
    now = pd.Timestamp(END)
    while now < pd.Timestamp(END + timedelta(days=14)):
        now += timedelta(hours=6)
        batch = sim.step(now.to_pydatetime())
        if len(batch):
            with db.begin() as conn:
                write_events(conn, batch)
    rollup.refresh_all(db)
    apply.measure_realised(db, now=END + timedelta(days=14))

    with db.connect() as conn:
        realised = pd.DataFrame(conn.execute(text(
            "SELECT recommendation_id, enough_data, impact_mean, impact_low, impact_high, treated_members, "
            "holdout_members FROM opt_realised_impact WHERE recommendation_id = ANY(:ids)"),
            {"ids": list(applied.values())}).mappings().all())
    assert len(realised) == len(applied)
    kind_of = {rid: kind for kind, rid in applied.items()}
    for row in realised.itertuples():
        card = cards.set_index("recommendation_id").loc[row.recommendation_id]
        said = (kind_of[row.recommendation_id], card.campaign_id, card.title, row)
        assert row.enough_data and row.treated_members > row.holdout_members > 0, said
        assert np.isfinite([row.impact_low, row.impact_mean, row.impact_high]).all(), said
        assert row.impact_low <= row.impact_mean <= row.impact_high, said
