"""The A/B test tracker screen in Streamlit's AppTest: it renders for every role, managers get
the controls and executives do not, the method switch changes the analysis, a stop through the
screen writes the audit log, and alerts show on the tracker and the system screen."""
from __future__ import annotations


import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from core.demo import generator as demo
from core.platform import rollup
from core.access.auth import ROLES
from core.access.auth import User
from core.experiments import decisions, snapshots, tests_repo, verdicts
from tests.app.conftest import (chart_specs, app_database, clear_streamlit_caches, count, database_url_of, html_tables, new_app,
                                open_tab, screen_path)
from ui.format import escape_markdown

PAGE = screen_path("A/B tests")


def open_page(role: str, page: str = PAGE) -> AppTest:
    """The page run once as `role` on the database the caller pointed the app at."""
    app = new_app(role, page).run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def texts(app: AppTest) -> str:
    parts = [m.value for m in app.markdown] + [c.value for c in app.caption]
    for kind in ("success", "info", "warning", "error"):
        parts += [str(e.value) for e in getattr(app, kind)]
    return "\n".join(parts)


@pytest.fixture
def demo_copy(db, demo_data):
    """A fresh database with the demo loaded: these tests change it."""
    demo.load(db, demo_data)
    rollup.refresh_all(db)
    return db


def test_another_view_of_the_same_test_reads_its_daily_snapshots_once(app_env, monkeypatch):
    """A method, CUPED or lift switch re-estimates the test's course from the snapshots already
    read: they were 70–110 ms of each first switch on an ended test (issue 15). The estimate
    still follows the view: each method draws its own interval."""
    from core.experiments import results as tracker
    real, reads = tracker.history, []

    def counted(db, test_id, metric, now=None):
        reads.append((test_id, metric))
        return real(db, test_id, metric, now)

    monkeypatch.setattr(tracker, "history", counted)
    clear_streamlit_caches()
    app = open_page("analyst")
    read_on_open = list(reads)
    assert read_on_open                                                     # the course chart read them
    captions = set()
    for method in ("bayesian", "frequentist", "sequential"):
        app.segmented_control(key="active_method").set_value(method).run()
        assert not app.exception
        captions.add(next(m.value for m in app.markdown if "estimate and its" in m.value))
    app.toggle(key="active_cuped").set_value(not app.toggle(key="active_cuped").value).run()
    app.radio(key="active_difference").set_value("absolute").run()
    assert not app.exception
    assert reads == read_on_open
    assert len(captions) == 3                                               # each method's own interval


def test_the_other_methods_views_are_built_in_the_background_so_a_switch_analyses_nothing(app_env, monkeypatch):
    """Once the page has drawn a test, a server thread builds its views by the other methods, so
    that a switch of method is a cached redraw (issue 15: a view not seen yet took 350-510 ms
    to draw). AppTest has no server session: the test says the page is served."""
    from core.experiments import results as tracker
    from ui import ab_charts
    monkeypatch.setattr(ab_charts, "served", lambda: True)
    monkeypatch.setattr(ab_charts, "PREFETCH_AFTER_SECONDS", 0)
    real, analysed = tracker.analyze_inputs, []

    def counted(inputs, **options):
        analysed.append(options["method"])
        return real(inputs, **options)

    monkeypatch.setattr(tracker, "analyze_inputs", counted)
    clear_streamlit_caches()
    app = open_page("analyst")
    ab_charts._OTHER_METHODS.submit(lambda: None).result(timeout=120)  # after the builds queued before it
    built = list(analysed)
    assert set(built) == set(tracker.METHODS)  # the page's method, and the others in the background
    for method in ("bayesian", "frequentist", "sequential"):
        app.segmented_control(key="active_method").set_value(method).run()
        assert not app.exception
        assert app.segmented_control(key="active_method").value == method
    assert analysed == built  # every switch drew what was built


@pytest.mark.parametrize("role", ROLES)
def test_page_renders_for_every_role(app_env, role):
    app = open_page(role)
    assert app.title[0].value == "A/B tests"
    shown = texts(app)
    assert "Verdict:" in shown
    (overview,) = html_tables(app, "active-tests")
    running = tests_repo.list_tests(app_env).query("status == 'running'")
    assert len(overview) == len(running) >= 1 and set(overview.Status) == {"running"}
    controls = [r for r in app.radio if r.label == "Action"]
    downloads = app.get("download_button")
    assert bool(downloads) == (role != "exec")
    assert not any(b.label == "Create test" for b in app.button)   # only the open tab runs
    history = next(d.value for d in open_tab(app, "ab_tab", "History").dataframe
                   if "Verdict when decided" in d.value.columns)
    assert len(history) + len(overview) == 4                   # the demo's tests: ended ones in History
    for row in history.itertuples():                           # each with the verdict stored when it ended
        assert verdicts.kind_of(row[history.columns.get_loc("Verdict when decided") + 1]) in verdicts.VOCABULARY
    open_tab(app, "ab_tab", "Create a test")
    if role in ("manager", "admin"):
        assert controls and {"Pause", "Stop", "Declare a winner"} <= set(controls[0].options)
        assert any(b.label == "Create test" for b in app.button)
    else:
        assert not controls and not any(b.label == "Create test" for b in app.button)
        assert "Only marketing managers and admins create tests." in texts(app)


def charts(app: AppTest) -> dict[str, dict]:
    """The Vega-Lite specs on the page, by their description."""
    specs = chart_specs(app)
    return {spec.get("description"): spec for spec in specs}


def layer_of(spec: dict, mark: str) -> list[dict]:
    """The layers of a spec drawn with this mark."""
    return [layer for layer in spec["layer"] if (layer["mark"]["type"] if isinstance(layer["mark"], dict)
                                                 else layer["mark"]) == mark]


def test_sample_chart_keeps_the_needed_line_and_the_bars_inside_its_axis(app_env):
    """The needed sample is a dashed line: an axis fitted to the bars alone left it on the chart's
    right edge (or off it) with its label cut off when no arm had reached it."""
    app = open_page("manager")
    spec = charts(app)["Sample size reached against needed"]
    rules = [layer for layer in layer_of(spec, "rule") if layer["mark"].get("strokeDash")]
    assert len(rules) == 1
    needed = [row["needed"] for row in rules[0]["data"]["values"]]
    bars = layer_of(spec, "bar")
    assert len(bars) == 1 and len(needed) == 1
    members = {row["variant"]: row["members"] for row in bars[0]["data"]["values"]}
    (shown,) = html_tables(app, "variants")                      # the variant table beside the chart
    assert members == {v.removesuffix(" (control)"): count(n) for v, n in zip(shown.Variant, shown.Members)}
    metric = {m.label: m for m in app.metric}["Members in the smallest arm"]
    assert metric.value == f"{min(members.values()):,}" and metric.delta == f"of {needed[0]:,} needed"
    assert max(members.values()) < needed[0]                     # the demo's first test is short of its sample
    labels = [row["label"] for layer in layer_of(spec, "text") for row in layer["data"]["values"] if "label" in row]
    assert labels == [f"needed {needed[0]:,}"]
    axes = [layer["encoding"]["x"].get("scale", {}).get("domain") for layer in spec["layer"] if "x" in layer["encoding"]]
    assert axes and all(axis is not None for axis in axes), "the axis is fitted to the data, which ignores the line"
    assert all(axis[0] == 0 and axis[1] > needed[0] * 1.05 for axis in axes)   # room for the line and its label


def test_lift_charts_show_the_tables_numbers(app_env):
    """The forest plot has a dot and an interval per treatment and metric, the primary metric (★)
    first, its tooltips reading the table's lift; the over-time chart draws each treatment's
    estimate inside its interval for every day, with no missing value shown."""
    app = open_page("analyst")
    specs = charts(app)
    forest = specs["Lift per metric, treatment vs control"]
    rows = layer_of(forest, "point")[0]["data"]["values"]
    assert layer_of(forest, "rule")[1]["data"]["values"] == rows   # the intervals: the same rows
    (table,) = html_tables(app, "variants")
    lift = next(c for c in table.columns if c.startswith("Lift, relative"))
    treatments = table[~table.Variant.str.endswith("(control)")]
    primary = [r for r in rows if r["metric"].endswith(" ★")]
    assert forest["layer"][1]["encoding"]["y"]["sort"][0] == primary[0]["metric"]
    assert {r["variant"]: r["lift"] for r in primary} == dict(zip(treatments.Variant, treatments[lift]))
    assert all(r["ci_low"] <= r["estimate"] <= r["ci_high"] for r in rows)
    over_time = specs["Estimate and interval over time"]
    days = layer_of(over_time, "line")[0]["data"]["values"]
    assert days and {r["variant"] for r in days} == set(treatments.Variant)
    assert all(r["ci_low"] <= r["estimate"] <= r["ci_high"] for r in days)
    assert all(r["day"].endswith("T00:00:00Z") for r in days)   # UTC days, drawn as they are
    values = [v for spec in (forest, over_time) for layer in spec["layer"] for row in layer["data"]["values"]
              for v in row.values()]
    assert values and not any(v is None or v in ("NaN", "None", "nan", "—") for v in values)


def test_method_switch_changes_the_variant_table(app_env):
    app = open_page("analyst")
    (table,) = html_tables(app, "variants")
    assert "p-value (Holm)" in table.columns
    app.segmented_control(key="active_method").set_value("bayesian").run()
    assert not app.exception
    (table,) = html_tables(app, "variants")
    assert "Chance to beat control" in table.columns and "p-value (Holm)" not in table.columns


def test_stop_through_the_screen_is_confirmed_and_audited(demo_copy):
    with app_database(database_url_of(demo_copy)):
        app = open_page("manager")
        test_id = app.selectbox(key="ab_active_test").value
        app.radio(key="active_action").set_value("stop_test").run()
        assert app.button(key="active_apply").disabled          # nothing happens before the confirmation
        app.checkbox(key="active_confirm").check().run()
        app.button(key="active_apply").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert "Stop: done" in texts(app)
    with demo_copy.connect() as conn:
        status = conn.execute(text("SELECT status FROM ab_tests WHERE test_id = :t"), {"t": test_id}).scalar()
        audit = conn.execute(text("SELECT actor, role, action FROM audit_log WHERE target = :t"),
                             {"t": f"ab_test:{test_id}"}).all()
    assert status == "stopped"
    assert audit == [("demo-manager@swipesavvy.example", "manager", "stop_test")]
    assert app.selectbox(key="ab_history_test").value == test_id   # History opens on the test just stopped
    with app_database(database_url_of(demo_copy)):
        open_tab(app, "ab_tab", "Active tests")
    assert len(html_tables(app, "active-tests")[0]) == 3     # three tests left active (nothing concluded here)


def test_alerts_show_on_the_tracker_and_the_system_screen(demo_copy):
    snapshots.take_snapshots(demo_copy)
    with app_database(database_url_of(demo_copy)):
        tracker = open_page("exec")
        system = open_page("admin", page="screens/system.py")
    raised = snapshots.open_alerts(demo_copy)           # the SRM test's, and any decision reached by now
    assert "Sample-ratio mismatch" in set(raised.kind_label)
    shown = f"{len(raised)} open alert" + ("s" if len(raised) > 1 else "")
    assert shown in "\n".join(e.label for e in tracker.expander)
    assert "Sample-ratio mismatch" in texts(tracker)
    assert any(h.value == "A/B alerts" for h in system.subheader)
    frames = [d.value for d in system.dataframe if "kind_label" in d.value.columns]
    assert frames and sorted(frames[0].kind_label) == sorted(raised.kind_label)


def test_create_form_shows_the_plan_and_creates_the_test(demo_copy):
    with app_database(database_url_of(demo_copy)):
        app = open_tab(open_page("manager"), "ab_tab", "Create a test")
        metrics = {m.label: m.value for m in app.metric}
        needed = int(metrics["Members needed per arm"].replace(",", ""))
        assert "Expected duration" in metrics and needed > 0
        if "can detect a change of" in texts(app):   # the proposed plan fits in a quarter
            assert "years" not in metrics["Expected duration"]
            assert "longer than a quarter" not in texts(app)
        app.text_input(key="new_name").input("Shorter subject line").run()
        app.button(key="new_create").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert "created" in texts(app)
    with demo_copy.connect() as conn:
        created = conn.execute(text("SELECT name, status, planned_per_arm, created_by FROM ab_tests "
                                    "ORDER BY test_id DESC LIMIT 1")).one()
    assert created == ("Shorter subject line", "running", needed, "demo-manager@swipesavvy.example")
    with demo_copy.connect() as conn:
        new_id = conn.execute(text("SELECT max(test_id) FROM ab_tests")).scalar()
    assert app.selectbox(key="ab_active_test").value == new_id        # the new test is the one shown
    shown = texts(app)
    assert f"{needed:,} members per arm" in shown                       # its card shows the stored plan
    assert {m.label: m.value for m in app.metric}["Sample ratio"] == "too early"
    assert any(b.label == "Pause" for b in app.button) or "pause_test" in app.radio(key="active_action").options


def test_creating_a_test_is_one_run_and_a_value_typed_just_before_the_click_is_the_one_saved(demo_copy, monkeypatch):
    """The button's callback creates from what the last run drew, so the click's run draws
    "Active tests" without drawing the form again; a value changed in the same moment as the
    click is not in what was drawn, so that run draws the form with it and creates from it."""
    from screens.ab_tests import create

    plans = []
    drawn = create.plan_section
    monkeypatch.setattr(create, "plan_section", lambda *args: plans.append(1) or drawn(*args))
    with app_database(database_url_of(demo_copy)):
        app = open_tab(open_page("manager"), "ab_tab", "Create a test")
        app.text_input(key="new_name").input("Drawn before the click").run()
        plans.clear()
        app.button(key="new_create").click().run()
        assert not app.exception, [e.value for e in app.exception]
        assert plans == []                                                # the form was not drawn again
        assert "created" in texts(app) and app.segmented_control(key="ab_tab").value == "Active tests"
        open_tab(app, "ab_tab", "Create a test")
        app.text_input(key="new_name").input("Typed as the button was clicked")
        app.button(key="new_create").click().run()                        # one message: the value and the click
        assert not app.exception, [e.value for e in app.exception]
    with demo_copy.connect() as conn:
        names = conn.execute(text("SELECT name FROM ab_tests ORDER BY test_id DESC LIMIT 2")).scalars().all()
    assert names == ["Typed as the button was clicked", "Drawn before the click"]


def verdict_of(app: AppTest) -> str:
    """The one verdict box of the section shown (only the open section runs)."""
    boxes = [str(e.value) for kind in ("success", "info", "warning", "error") for e in getattr(app, kind)
             if str(e.value).startswith(("**Verdict:", "**Verdict when decided:"))]
    assert len(boxes) == 1, boxes
    return boxes[0]


def test_every_demo_test_has_one_verdict_in_every_view(app_env):
    """The method, CUPED and lift a person picks are other views of the same data: the verdict
    of every demo test is the same in all of them, and it is the stored summary's."""
    app = open_page("analyst")
    stored = snapshots.summaries(app_env).set_index("test_id")
    for test_id in stored.index:
        app.selectbox(key="ab_active_test").set_value(test_id).run()
        seen = set()
        for method in ("sequential", "frequentist", "bayesian"):
            for cuped in (True, False):
                app.segmented_control(key="active_method").set_value(method)
                app.toggle(key="active_cuped").set_value(cuped).run()
                assert not app.exception, [e.value for e in app.exception]
                seen.add(verdict_of(app))
        assert len(seen) == 1, (test_id, seen)
        verdict = seen.pop()
        assert verdict == f"**Verdict: {escape_markdown(stored.loc[int(test_id)].verdict)}**"
        assert verdicts.kind_of(stored.loc[int(test_id)].verdict) in verdicts.VOCABULARY
        if stored.loc[int(test_id)].sample_ratio_mismatch:
            assert "No winner can be read from these data" in texts(app)
            assert {m.label: m.value for m in app.metric}["Predicted winner"].startswith("none")
        assert "None" not in texts(app) and "nan" not in texts(app).split()
    # The demo's ended tests: History shows the verdict stored when each ended, in every view.
    open_tab(app, "ab_tab", "History")
    ended = tests_repo.list_tests(app_env).query("status in ('stopped', 'completed')")
    assert len(ended) >= 1
    for test_id in ended.test_id:
        stored = decisions.decisions(app_env, int(test_id)).iloc[0]
        app.selectbox(key="ab_history_test").set_value(int(test_id)).run()
        seen = set()
        for method in ("sequential", "frequentist", "bayesian"):
            for cuped in (True, False):
                app.segmented_control(key="history_method").set_value(method)
                app.toggle(key="history_cuped").set_value(cuped).run()
                assert not app.exception, [e.value for e in app.exception]
                seen.add(verdict_of(app))
        assert seen == {f"**Verdict when decided: {escape_markdown(stored.verdict)}**"}, (test_id, seen)
        assert "None" not in texts(app) and "nan" not in texts(app).split()


def test_a_test_with_no_members_can_be_paused_resumed_and_stopped_on_screen(demo_copy):
    manager = User("demo-manager@swipesavvy.example", "Manager", "manager")
    test_id = tests_repo.create_test(demo_copy, manager, campaign_id=6, name="Nobody yet", primary_metric="clicked",
                                     variants={"control": 1, "treatment": 1})
    with app_database(database_url_of(demo_copy)):
        app = open_page("manager")
        app.selectbox(key="ab_active_test").set_value(test_id).run()
        assert "Waiting for members" in texts(app)
        for action, status in [("pause_test", "paused"), ("resume_test", "running"), ("stop_test", "stopped")]:
            app.radio(key="active_action").set_value(action).run()
            app.checkbox(key="active_confirm").check().run()
            app.button(key="active_apply").click().run()
            assert not app.exception, [e.value for e in app.exception]
            assert tests_repo.get_test(demo_copy, test_id).status == status, action
            if status != "stopped":
                app.selectbox(key="ab_active_test").set_value(test_id).run()
    assert decisions.decisions(demo_copy, test_id).verdict.tolist() == [
        "inconclusive — ended before every arm had members"]


def test_history_shows_the_stored_decision_unchanged_after_more_data(demo_copy):
    with app_database(database_url_of(demo_copy)):
        app = open_page("manager")
        test_id = app.selectbox(key="ab_active_test").value           # the newest: three reward framings
        app.radio(key="active_action").set_value("declare_winner").run()
        app.selectbox(key="active_winner").set_value("b").run()
        app.text_input(key="active_note").input("b reads best").run()
        app.checkbox(key="active_confirm").check().run()
        app.button(key="active_apply").click().run()
        assert not app.exception, [e.value for e in app.exception]
        decision = decisions.decisions(demo_copy, test_id).iloc[0]
        app.selectbox(key="ab_history_test").set_value(test_id).run()
        first = verdict_of(app)
        assert first == f"**Verdict when decided: {escape_markdown(decision.verdict)}**"
        table = next(d.value for d in app.dataframe if "Lift, relative (interval)" in d.value.columns)
        assert "The data changed since" not in texts(app)
        with demo_copy.begin() as conn:                                 # more data arrive
            conn.execute(text("UPDATE campaign_members cm SET clicks = cm.clicks + 2 FROM ab_assignments a "
                              "WHERE a.test_id = :t AND a.member_id = cm.member_id AND a.campaign_id = cm.campaign_id"),
                         {"t": test_id})
        clear_streamlit_caches()
        app.run()
        assert verdict_of(app) == first
        again = next(d.value for d in app.dataframe if "Lift, relative (interval)" in d.value.columns)
        assert again.equals(table)
        assert "The data changed since the decision" in texts(app)
    history = next(d.value for d in app.dataframe if "Decision" in d.value.columns)
    assert {"Test", "Campaign", "Status", "Winner", "Primary metric"} <= set(history.columns)
    assert "None" not in history.astype(str).to_numpy().ravel().tolist()
