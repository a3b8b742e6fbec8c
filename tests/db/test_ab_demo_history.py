"""The demo's A/B history (core.demo.demo_tests.conclude): on a fresh demo with a fixed end, the
tests the demo ends are ended on the first day their pre-registered rule decided, through the
tracker's own controls at that past moment, so History lists them with stored verdicts and
statistics that are the rule's on the data of that moment; the three-variant test keeps
running and its rule decides in the demo's last days; a past moment is the system's alone."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest

from core.access.auth import SYSTEM, PermissionDenied, User
from core.demo import generator as demo
from core.demo import truth
from core.demo.demo_tests import conclude
from core.experiments import decisions, results, tests_repo, verdicts
from core.platform import db as core_db
from core.platform import rollup
from tests.conftest import PRIMARY_BACKEND

END = datetime(2026, 11, 20, 15, tzinfo=timezone.utc)   # fixed: the history never depends on today
SPECS = {spec["name"]: spec for spec in truth.AB_TESTS}
MANAGER = User("manager@example.com", "Manager", "manager")


@pytest.fixture(scope="module")
def history_db(backends):
    """A demo at the size where the planted effects show within the tests' six weeks."""
    backend = backends[PRIMARY_BACKEND]
    engine = core_db.make_engine(backend.url(backend.create_database(template=backend.template)), pool_size=2)
    demo.load(engine, demo.generate(seed=7, members=15_000, campaigns=6, days=60, end=END))
    rollup.refresh_all(engine)
    engine.concluded = conclude(engine, END)
    yield engine
    engine.dispose()


def ended_demo_tests(db) -> pd.DataFrame:
    tests = tests_repo.list_tests(db)
    return tests[(tests.created_by == "demo") & tests.status.isin(tests_repo.ENDED_STATUSES)]


def test_history_lists_the_ended_demo_tests_with_their_stored_verdicts(history_db):
    ended = ended_demo_tests(history_db)
    assert set(ended.name) == {name for name, spec in SPECS.items() if spec["conclude"]}
    assert len(ended) >= 3
    for test in ended.itertuples():
        stored = decisions.decisions(history_db, test.test_id)
        assert len(stored) == 1, test.name
        decision = stored.iloc[0]
        # recorded at the moment it was taken, which is when the test ended, before the demo's end
        assert pd.Timestamp(decision.decided_at) == pd.Timestamp(test.ended_at) < pd.Timestamp(END)
        assert not decision.against_rule and decision.decided_by == SYSTEM.email
        assert decision.reason and "truth" not in decision.reason.lower()
        kind = verdicts.kind_of(decision.verdict)
        assert kind in verdicts.DECIDED or decision.verdict == verdicts.SRM_TEXT, (test.name, decision.verdict)


def test_each_test_ended_on_the_first_day_its_rule_decided(history_db):
    """Against the rule's verdict day by day (the exact daily summaries), and the stored
    statistics against a fresh analysis of the data as they stood at the decision."""
    for test in ended_demo_tests(history_db).itertuples():
        decision = decisions.decisions(history_db, test.test_id).iloc[0]
        by_day = results.rule_by_day(history_db, test.test_id, END)
        decided = by_day.srm_detected | by_day.kind.isin(verdicts.DECIDED)
        first = by_day[decided].iloc[0]
        assert pd.Timestamp(first.as_of) == pd.Timestamp(decision.decided_at), test.name
        assert not decided[by_day.as_of < first.as_of].any()
        assert decision.verdict == first.verdict
        then = results.analyze_test(history_db, test.test_id)       # cut at the test's end
        assert then.verdict == decision.verdict
        assert {k: int(v) for k, v in then.n_per_arm.items()} == decision.statistics["n_per_arm"]
        if decision.action == "declare_winner":
            assert decision.winner == (first.winner or then.control)


def test_the_planted_stories(history_db):
    by_name = {c.name: c for c in history_db.concluded}
    srm = by_name["New deep link"]
    assert srm.action == "stop_test" and srm.verdict == verdicts.SRM_TEXT
    winner = by_name["Urgent subject line"]
    assert (winner.action, winner.verdict) == ("declare_winner", "win — treatment beats control")
    assert by_name["Blue vs green button"].verdict != "win — treatment beats control"   # the null never wins
    running = tests_repo.list_tests(history_db).set_index("name").loc["Three reward framings"]
    assert running.status == "running"
    # ... and its rule reaches its decision in the demo's last days: a decision waits for the analyst
    said = pd.DataFrame(results.rule_days(history_db, int(running.test_id), END))
    first_win = said[said.kind == verdicts.WIN].as_of.min()
    assert END - timedelta(days=7) <= first_win < END, said[["as_of", "verdict"]].tail(10)
    assert said.iloc[-1].verdict == "win — b beats control"


def test_screens_show_a_marketers_words_not_the_planted_truth(history_db):
    tests = tests_repo.list_tests(history_db)
    for test in tests[tests.created_by == "demo"].itertuples():
        assert test.hypothesis and "truth" not in test.hypothesis.lower() and "planted" not in test.hypothesis.lower()
        descriptions = tests_repo.variants_of(history_db, test.test_id).description
        assert not descriptions.str.contains(r"click x|\btruth\b", regex=True).any()


def test_concluding_again_changes_nothing(history_db):
    before = tests_repo.list_tests(history_db)
    again = conclude(history_db, END)
    assert [c.action for c in again] == [None] * len(again)        # only tests still running are looked at
    pd.testing.assert_frame_equal(tests_repo.list_tests(history_db), before)


def test_a_past_moment_is_the_systems_alone(history_db):
    """Refused before anything is written (the running test stays running)."""
    tests = tests_repo.list_tests(history_db)
    test_id = int(tests[tests.status == "running"].test_id.iloc[0])
    started = pd.Timestamp(tests_repo.get_test(history_db, test_id).started_at).to_pydatetime()
    with pytest.raises(PermissionDenied):
        tests_repo.control(history_db, MANAGER, test_id, "stop_test", at=started + timedelta(days=1))
    with pytest.raises(ValueError, match="future"):
        tests_repo.control(history_db, SYSTEM, test_id, "stop_test", at=datetime.now(timezone.utc) + timedelta(days=1))
    with pytest.raises(ValueError, match="started"):
        tests_repo.control(history_db, SYSTEM, test_id, "stop_test", at=started - timedelta(days=1))
    assert tests_repo.get_test(history_db, test_id).status == "running"
