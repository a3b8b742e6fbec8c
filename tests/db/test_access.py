"""Every action is checked in core (issue 9, point 6).

The test walks every module of `core`, finds every public function that writes to the database
or exports (it runs a writing query from queries/, opens a transaction, COPYs, or is named like
an action), and requires each to be one of:
- a person's action, decorated with core.access.auth.action (or, for the two imports owned by
  core.platform/importer, checked in its body) — each is then called against a real database by
  nobody, by a forged identity and by every role without the right, and must refuse and leave
  the database exactly as it was, then succeed for a role with the right (so the refusals came
  from the check, not from bad arguments);
- system work (the worker, the command line, the demo, steps inside a checked transaction),
  which no screen or ui module may call;
- or not a write after all (a name that only sounds like one), with why.
A new writer that is none of these fails the test until someone decides which it is.
"""
from __future__ import annotations

import ast
import importlib
import inspect
import json
import pkgutil
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text

import core
from core.access.auth import PERMISSIONS, ROLES, SYSTEM, PermissionDenied, User, can
from core.platform.db import query, query_names
from core.platform.ingest import copy_frame
from tests.factories import seed_dimensions

ROOT = Path(__file__).resolve().parents[2]
PEOPLE = {role: User(f"{role}@swipesavvy.example", role.title(), role) for role in ROLES}
NOW = datetime.now(timezone.utc).replace(microsecond=0)

WRITING_SQL = re.compile(r"\b(INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|TRUNCATE|CREATE|DROP|ALTER)\b", re.I)
WRITING_CALLS = re.compile(r"\.begin\(|\.commit\(|AUTOCOMMIT|\bcopy_frame\(|\bwrite_events\(|\bcopy_records\(")
ACTION_NAME = re.compile(r"^(create|update|delete|grant|set|start|stop|pause|resume|declare|apply|dismiss|import|"
                         r"export|train|retrain|record|acknowledge|write|load|insert|upsert|store|take|assign|"
                         r"raise|refresh|maintain|mark|drop|purge|prune|run)(_|$)")

# Writers that act for no person. None of them is reachable from screens/ or ui/ (checked below).
SYSTEM_WORK = {
    "core.access.audit.record": "writes the audit entry inside the checked action's own transaction",
    "core.demo.generator.load": "python -m core demo",
    "core.demo.simulator.load_campaigns": "python -m core simulate (reads the live campaigns)",
    "core.demo.simulator.write_batch": "python -m core simulate",
    "core.demo.simulator.run": "python -m core simulate",
    "core.demo.simulator.assign_running_tests": "python -m core simulate: the sending system's assignments of running tests",
    "core.demo.simulator.load_world": "python -m core simulate (reads the settings, records new tests' assignments)",
    "core.__main__.cmd_evaluate": "python -m core evaluate (operator: a demo in a database of its own, retrained)",
    "core.experiments.snapshots.store_snapshots": "the worker's ab_snapshots job",
    "core.experiments.snapshots.analyze_snapshot": "the worker's ab_snapshots job (stores the summary it analysed)",
    "core.experiments.snapshots.raise_alert": "the worker's ab_snapshots job",
    "core.experiments.snapshots.close_alerts": "the worker's ab_snapshots job",
    "core.experiments.snapshots.store_pre_period": "the worker's ab_snapshots job",
    "core.experiments.snapshots.take_snapshots": "the worker's ab_snapshots job",
    "core.experiments.snapshots.store_summary": "the worker's ab_snapshots job (and python -m core demo)",
    "core.experiments.tests_repo.assign": "records the sending system's assignment (snapshot job)",
    "core.experiments.tests_repo.assign_members": "records the sending system's assignments (snapshot job)",
    "core.experiments.tests_repo.assign_reached_members": "the snapshot job",
    "core.live.brin.summarize_recent": "the worker's BRIN job",
    "core.optimize.apply.measure_realised": "after every retrain (train_now)",
    "core.optimize.store.write_run": "inside retrain's transaction",
    "core.optimize.training.retrain": "the retrain itself; people and the worker go through train_now",
    "core.optimize.training.retrain_job": "the worker's schedule: train_now as SYSTEM",
    "core.platform.ingest.copy_frame": "a step of imports, the demo and the simulator",
    "core.platform.ingest.write_events": "a step of imports, the demo and the simulator",
    "core.platform.ingest.after_bulk_load": "a step of imports and the demo",
    "core.platform.cluster.create_database": "python -m core cluster (a local Citus cluster for development)",
    "core.platform.cluster.drop_database": "python -m core cluster (a local Citus cluster for development)",
    "core.platform.distribute.distribute": "python -m core distribute (operator, on a Citus coordinator)",
    "core.platform.jobs.run_job": "the worker records its job runs",
    "core.platform.jobs.abandon_expired": "the worker marks runs whose lease ran out (at start and per run)",
    "core.platform.jobs.exclusive_session": "the lock of a worker job that spans short transactions (retrain)",
    "core.platform.distribute.fold_events": "a step of the roller (rollup.refresh), inside its transaction",
    "core.worker.retrain_job": "the worker's schedule: the retrain in a child process at lower priority",
    "core.worker.run_in_child_process": "the worker runs a job in a child process",
    "core.platform.maintenance.maintain": "the worker's maintenance job",
    "core.platform.maintenance.refresh_planner_statistics": "the worker's maintenance job and python -m core demo (ANALYZE)",
    "core.platform.migrate.upgrade": "python -m core migrate, the worker's start",
    "core.platform.migrate.downgrade": "python -m core migrate down",
    "core.platform.rollup.refresh": "the worker's rollup job",
    "core.platform.rollup.refresh_all": "python -m core rollup, the demo",
    "core.worker.run_once": "python -m core worker --once",
    "core.worker.run_forever": "python -m core worker",
}
# Named like an action, but writes nothing.
NOT_WRITES = {
    "core.experiments.assignment.assign": "hashes a member to a variant",
    "core.experiments.assignment.assign_many": "hashes members to variants",
    "core.experiments.results.export_frame": "builds the tracker's table; exporting it is core.access.exports",
    "core.optimize.inputs.load": "reads a retrain's inputs",
    "core.demo.simulator.load_members": "reads the members the simulator may reach",
    "core.demo.simulator.resume_point": "reads where the data end",
    "core.optimize.recommendations.pause_cards": "builds recommendation cards in memory",
}
# People's actions that check the user in their body (core.platform may not import core.access,
# and the experiment importer is owned elsewhere): who may not, and who may.
CHECKED_INSIDE = {
    "core.platform.ingest.import_events": (["exec", "analyst"], "admin"),
    "core.experiments.importer.import_experiment": (["exec", "analyst"], "manager"),
}


def core_functions() -> dict[str, object]:
    """Every public function defined in a module of core, by its qualified name."""
    found = {}
    for module_info in pkgutil.walk_packages(core.__path__, "core."):
        if ".migrations" in module_info.name:
            continue
        module = importlib.import_module(module_info.name)
        for name, function in vars(module).items():
            if not name.startswith("_") and inspect.isfunction(function) and function.__module__ == module.__name__:
                found[f"{module.__name__}.{name}"] = function
    return found


def writing_queries() -> set[str]:
    return {name for name in query_names() if WRITING_SQL.search(query(name).text)}


def writes(name: str, function, queries: set[str]) -> bool:
    source = inspect.getsource(inspect.unwrap(function))
    named = set(re.findall(r"""["']([a-z0-9_]+)["']""", source))
    return bool(named & queries) or bool(WRITING_CALLS.search(source)) or bool(ACTION_NAME.match(name.rsplit(".", 1)[1]))


FUNCTIONS = core_functions()
ACTIONS = {name: f for name, f in FUNCTIONS.items() if hasattr(f, "permission")}


def test_every_writer_in_core_is_an_action_or_system_work():
    queries = writing_queries()
    assert {"ab_test_insert", "audit_insert", "user_role_upsert", "opt_recommendation_decide"} <= queries
    writers = {name for name, f in FUNCTIONS.items() if writes(name, f, queries)}
    unclassified = sorted(writers - set(ACTIONS) - set(SYSTEM_WORK) - set(NOT_WRITES) - set(CHECKED_INSIDE))
    assert not unclassified, (
        f"{unclassified}: these public core functions write or export but are neither a checked action "
        "(decorate with core.access.auth.action and add a scenario to SCENARIOS) nor listed in "
        "SYSTEM_WORK (no person acts; say who runs it) or NOT_WRITES (say why) in tests/db/test_access.py")
    stale = sorted((set(SYSTEM_WORK) | set(NOT_WRITES) | set(CHECKED_INSIDE)) - set(FUNCTIONS))
    assert not stale, f"{stale} no longer exist in core; remove them from the lists in tests/db/test_access.py"
    assert not set(ACTIONS) & (set(SYSTEM_WORK) | set(NOT_WRITES)), "a checked action is listed as system work"


def test_the_actions_are_the_ones_the_readme_names_with_its_roles():
    permissions = {name: f.permission for name, f in ACTIONS.items()}
    expected = {
        "core.access.auth.grant_role": "manage_roles",
        "core.access.exports.export_frame": "export",
        "core.access.exports.export_overview": "export_overview",
        "core.experiments.tests_repo.create_test": "create_test",
        "core.experiments.tests_repo.control": "control_test",
        "core.experiments.tests_repo.change_rule": "control_test",
        "core.experiments.snapshots.acknowledge_alert": "control_test",
        "core.optimize.apply.apply": "apply_recommendation",
        "core.optimize.apply.dismiss": "dismiss_recommendation",
        "core.optimize.training.train_now": "run_jobs",
    }
    assert {name: permissions.get(name) for name in expected} == expected
    assert set(ACTIONS) <= set(SCENARIOS), f"{sorted(set(ACTIONS) - set(SCENARIOS))}: add a scenario"


def _names_used(path: Path) -> set[str]:
    """Qualified core names a file imports or reaches as module.attribute."""
    tree = ast.parse(path.read_text())
    modules: dict[str, str] = {}
    used = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                modules[alias.asname or alias.name] = alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("core"):
            for alias in node.names:
                qualified = f"{node.module}.{alias.name}"
                modules[alias.asname or alias.name] = qualified
                used.add(qualified)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules:
            used.add(f"{modules[node.value.id]}.{node.attr}")
    return used


def test_no_screen_or_ui_module_runs_system_work_or_acts_as_the_system():
    files = [ROOT / "app.py", *sorted((ROOT / "screens").rglob("*.py")), *sorted((ROOT / "ui").rglob("*.py"))]
    reached = {str(path.relative_to(ROOT)): _names_used(path) & (set(SYSTEM_WORK) | {"core.access.auth.SYSTEM"})
               for path in files}
    assert {path: names for path, names in reached.items() if names} == {}


def table_state(db) -> dict[str, str]:
    """Every table's rows (count and digest): equal before and after means nothing changed."""
    with db.connect() as conn:
        tables = conn.execute(text(
            "SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1")).scalars().all()
        return {table: conn.execute(text(
            f"SELECT count(*) || ':' || md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {table} t")).scalar()
            for table in tables}


# --------------------------------------------------------------------------- scenarios
# Each prepares the database for one action and returns call(user), which performs it.


def _grant_role(db, tmp_path):
    from core.access.auth import grant_role

    return lambda user: grant_role(db, user, "new.person@swipesavvy.example", "analyst")


PERSONAL = pd.DataFrame({"member_id": [1], "full_name": ["Ava Garcia"], "email": ["ava@example.com"],
                         "phone": ["+1-555-123-4567"], "revenue": [12.5]})


def _export(db, tmp_path):
    from core.access.exports import export_frame

    return lambda user: export_frame(db, user, PERSONAL, "members_test")


def _export_overview(db, tmp_path):
    from core.access.exports import export_overview

    return lambda user: export_overview(db, user, PERSONAL, "overview_test")


def _new_test(db, user=PEOPLE["manager"]) -> int:
    from core.experiments.tests_repo import create_test

    return create_test(db, user, campaign_id=1, name="Access check", primary_metric="clicked",
                       variants={"control": 1, "treatment": 1})


def _create_test(db, tmp_path):
    seed_dimensions(db)
    return lambda user: _new_test(db, user)


def _control(db, tmp_path):
    from core.experiments.tests_repo import control

    seed_dimensions(db)
    test_id = _new_test(db)
    return lambda user: control(db, user, test_id, "pause_test", note="checked")


def _change_rule(db, tmp_path):
    from core.experiments.tests_repo import change_rule

    seed_dimensions(db)
    test_id = _new_test(db)
    return lambda user: change_rule(db, user, test_id, decision_method="frequentist", reason="checked")


def _acknowledge(db, tmp_path):
    from core.experiments import snapshots

    seed_dimensions(db)
    test_id = _new_test(db)
    assert snapshots.raise_alert(db, pd.Series({"test_id": test_id}), "srm", "split looks off", {})
    alert_id = int(snapshots.open_alerts(db).alert_id.iloc[0])
    return lambda user: snapshots.acknowledge_alert(db, user, alert_id)


def _card(db) -> int:
    seed_dimensions(db)
    with db.begin() as conn:
        copy_frame(conn, "offers", pd.DataFrame({"offer_id": [2], "merchant_id": [1], "name": ["$3 back"],
                                                 "reward_type": ["fixed"], "reward_value": [3]}))
        conn.execute(query("opt_recommendation_insert"), {
            "campaign_id": 1, "kind": "offer", "segment": "active", "title": "swap the offer",
            "details": json.dumps({"why": "test", "change": {"field": "offer_id", "before": 1, "after": 2}}),
            "confidence": 0.9, "ease": "easy", "impact_mean": 10.0, "impact_low": 1.0, "impact_high": 20.0,
            "run_id": None, "expires_at": NOW + timedelta(days=1), "holdout_share": 0.1})
        return int(conn.execute(text("SELECT max(recommendation_id) FROM recommendations")).scalar())


def _apply(db, tmp_path):
    from core.optimize.apply import apply

    card = _card(db)
    return lambda user: apply(db, user, card)


def _dismiss(db, tmp_path):
    from core.optimize.apply import dismiss

    card = _card(db)
    return lambda user: dismiss(db, user, card, reason="not now")


def _train_now(db, tmp_path):
    from core.optimize.training import train_now

    return lambda user: train_now(db, user)  # no events: the retrain skips quickly, the person is audited


def _import_events(db, tmp_path):
    from core.platform.ingest import import_events

    seed_dimensions(db)
    path = tmp_path / "events.csv"
    when = (NOW - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    path.write_text(f"event_time,campaign_id,member_id,event_type\n{when},1,1,send\n{when},1,2,send\n")
    return lambda user: import_events(db, path, user=user)


def _import_experiment(db, tmp_path):
    from core.experiments import importer

    path = tmp_path / "access_check.csv"
    path.write_text("id,arm,bought\n1,a,1\n2,b,0\n3,a,0\n4,b,1\n")
    spec = importer.spec_from_options(path, unit_column="id", variant_column="arm", control="a",
                                      outcomes={"bought": "conversions"}, primary_metric="converted")
    return lambda user: importer.import_experiment(db, path, spec, user=user)


def _add_note(db, tmp_path):
    from datetime import date

    from core.analytics.annotations import add_note

    seed_dimensions(db)
    return lambda user: add_note(db, user, date(2026, 11, 26), "Thanksgiving: fewer sends", campaign_id=1)


SCENARIOS = {
    "core.access.auth.grant_role": _grant_role,
    "core.access.exports.export_frame": _export,
    "core.access.exports.export_overview": _export_overview,
    "core.experiments.tests_repo.create_test": _create_test,
    "core.experiments.tests_repo.control": _control,
    "core.experiments.tests_repo.change_rule": _change_rule,
    "core.experiments.snapshots.acknowledge_alert": _acknowledge,
    "core.optimize.apply.apply": _apply,
    "core.optimize.apply.dismiss": _dismiss,
    "core.optimize.training.train_now": _train_now,
    "core.platform.ingest.import_events": _import_events,
    "core.experiments.importer.import_experiment": _import_experiment,
    "core.analytics.annotations.add_note": _add_note,
}


def refused_and_allowed(name: str) -> tuple[list, User]:
    """Who must be refused (nobody, a forged identity, every role without the right, and the
    system where it has no right) and one person who may."""
    function = FUNCTIONS[name]
    if hasattr(function, "permission"):
        permission = function.permission
        lacking = [role for role in ROLES if role not in PERMISSIONS[permission]]
        allowed = next(role for role in ROLES if role in PERMISSIONS[permission])
        system = [] if can(SYSTEM, permission) else [SYSTEM]
    elif name in CHECKED_INSIDE:
        lacking, allowed = CHECKED_INSIDE[name]
        system = []
    else:
        pytest.fail(f"{name} is no longer a checked action (its @action decorator is gone)")
    forged = {"email": "admin@swipesavvy.example", "role": "admin"}  # not a User: an identity nobody checked
    return [None, forged, *system, *(PEOPLE[role] for role in lacking)], PEOPLE[allowed]


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_action_refuses_whoever_lacks_the_right_and_changes_nothing(db, tmp_path, name):
    call = SCENARIOS[name](db, tmp_path)
    refused, allowed = refused_and_allowed(name)
    before = table_state(db)
    for user in refused:
        with pytest.raises(PermissionDenied):
            call(user)
        assert table_state(db) == before, f"{name} changed the database for {user!r} before refusing"
    call(allowed)
    assert table_state(db) != before, f"{name} did nothing for {allowed.role}: the scenario does not exercise it"


# --------------------------------------------------------------------------- what the checks do


def test_an_export_masks_personal_data_for_non_admins_and_is_audited(db):
    from core.access.audit import recent
    from core.access.exports import export_frame

    for role in ("analyst", "manager", "admin"):
        text_out = export_frame(db, PEOPLE[role], PERSONAL, f"members_{role}").to_csv(index=False)
        assert ("ava@example.com" in text_out and "Ava Garcia" in text_out) == (role == "admin")
        assert "123-4567" not in text_out or role == "admin"
        assert "12.5" in text_out
    log = recent(db)
    assert log.action.tolist() == ["export"] * 3
    assert log.target.tolist() == ["export:members_admin", "export:members_manager", "export:members_analyst"]
    details = log.details.iloc[-1]
    details = details if isinstance(details, dict) else json.loads(details)
    assert details["rows"] == 1 and details["masked"] is True and "email" in details["personal_columns"]
    assert PERSONAL.email.iloc[0] == "ava@example.com"  # the caller's frame is untouched


def test_the_ui_export_runs_the_core_check_when_clicked(db, monkeypatch):
    from core.access.audit import recent
    from ui import exports as ui_exports
    from ui import session

    for role, expected in (("analyst", "a•••@example.com"), ("exec", None)):
        monkeypatch.setattr(session, "current_user", lambda role=role: PEOPLE[role])
        monkeypatch.setattr(ui_exports.data, "engine", lambda: db)
        make_file = ui_exports.checked_export(PERSONAL, "members", lambda frame: frame.to_csv(index=False).encode())
        if expected is None:
            with pytest.raises(PermissionDenied):
                make_file()
        else:
            assert expected in make_file().decode()
    assert recent(db).actor.tolist() == [PEOPLE["analyst"].email]


def test_train_now_on_the_screen_relies_on_core(db, monkeypatch):
    from core.platform import db as core_db
    from ui import optimize_data

    monkeypatch.setattr(core_db, "database_url", lambda: db.url.render_as_string(hide_password=False))
    before = table_state(db)
    for user in (None, PEOPLE["exec"], PEOPLE["analyst"], PEOPLE["manager"]):
        with pytest.raises(PermissionDenied):
            optimize_data.train_now(user, lambda fraction, message: None)
    assert table_state(db) == before
    assert optimize_data.train_now(PEOPLE["admin"], lambda fraction, message: None).skipped  # no events yet


def test_the_worker_retrains_as_the_system_and_audits_no_person(db):
    from core.access.audit import recent
    from core.optimize.training import retrain_job, train_now

    assert retrain_job(db).skipped  # no events yet: it ran, as SYSTEM
    assert recent(db).empty
    train_now(db, PEOPLE["admin"])
    assert recent(db).actor.tolist() == [PEOPLE["admin"].email]
