"""Real A/B test data sets imported as tests and analysed through the database: the tracker's
answers equal independent computations on the raw rows and the published numbers. The import
is all or nothing and says clearly what is wrong with a file."""
from __future__ import annotations

import gzip
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sqlalchemy import text

from core.access.auth import PermissionDenied, User
from core.analytics import campaigns as analytics
from core.platform import db as core_db
from core.__main__ import main as cli
from core.experiments import importer, results, tests_repo
from core.platform.ingest import ImportRejected
from core.analytics.periods import Period
from tests.conftest import BACKENDS

DATASETS = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"
FILES = {"cookie_cats": DATASETS / "cookie_cats" / "cookie_cats.csv.gz",
         "ab_data": DATASETS / "ab_data" / "ab_data.csv.gz",
         "hillstrom": DATASETS / "hillstrom" / "hillstrom.csv.gz"}
if not all(path.exists() for path in FILES.values()):
    pytest.skip(f"shared data sets not found under {DATASETS}", allow_module_level=True)

MANAGER = User("manager@example.com", "Manager", "manager")
COUNTED_TABLES = ["members", "campaigns", "campaign_members", "ab_tests", "ab_variants", "ab_assignments",
                  "merchants", "offers", "audit_log"]


@pytest.fixture(scope="module", params=BACKENDS)
def imported(request, backends):
    """One database per backend with the three data sets imported as tests."""
    backend = backends[request.param]
    engine = core_db.make_engine(backend.url(backend.create_database(template=backend.template)), pool_size=2)
    done = {name: importer.import_experiment(engine, path, importer.spec_from_options(path), user=MANAGER) for name, path in FILES.items()}
    yield engine, done
    engine.dispose()


def raw(name: str) -> pd.DataFrame:
    return pd.read_csv(FILES[name])


def welch(frame: pd.DataFrame, by: str, value: str, treatment, control):
    treated = frame.loc[frame[by] == treatment, value].astype(float)
    controls = frame.loc[frame[by] == control, value].astype(float)
    return stats.ttest_ind(treated, controls, equal_var=False), treated.mean() - controls.mean()


def counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in COUNTED_TABLES}


def test_cookie_cats_through_the_database(imported):
    engine, done = imported
    test_id = done["cookie_cats"].test_id
    assert tests_repo.get_test(engine, test_id).status == "stopped"
    outcome = results.analyze_test(engine, test_id, method="frequentist", cuped=False, difference="absolute")
    assert outcome.n_per_arm.to_dict() == {"gate_30": 44_700, "gate_40": 45_489}
    cats = raw("cookie_cats")
    row = outcome.primary_rows.iloc[0]                      # converted = 7-day retention
    reference, difference = welch(cats, "version", "retention_7", "gate_40", "gate_30")
    assert row.control_mean == pytest.approx(0.190, abs=0.001) and row.treatment_mean == pytest.approx(0.182, abs=0.001)
    assert row.estimate == pytest.approx(difference) and row.p_value == pytest.approx(reference.pvalue, rel=1e-3)
    assert row.significant and row.ci_high < 0
    opened = outcome.analysis.set_index("metric").loc["opened"]          # 1-day retention: no difference
    assert not opened.significant
    # 44,700 vs 45,489: suspicious (p ~ 0.009) but under the 0.001 alarm; nothing was lost in reach.
    assert outcome.srm_p_value == pytest.approx(stats.chisquare([44_700, 45_489]).pvalue)
    assert not outcome.srm_detected and outcome.exposure_p_value is None
    # The data set is the whole experiment, so its plan is the sample it has and the rule decides;
    # every method's view gives the same verdict.
    for method in ("sequential", "frequentist", "bayesian"):
        assert results.analyze_test(engine, test_id, method=method).verdict == "lose — the treatment is worse than control"


def test_imported_experiment_reach_on_the_campaign_screen(imported):
    """Members reached and converting of an imported campaign (KPI "reach conversion") are the
    file's units and its 7-day retainers, up to the campaign's end and not before its start."""
    engine, done = imported
    campaign_id = done["cookie_cats"].campaign_id
    cats = raw("cookie_cats")
    with engine.connect() as conn:
        started, ended = conn.execute(text("SELECT starts_at, ends_at FROM campaigns WHERE campaign_id = :c"),
                                      {"c": campaign_id}).one()
    whole = Period(started.date() - timedelta(days=1), ended.date() + timedelta(days=1), "UTC")
    summary = analytics.period_summary(engine, whole, (campaign_id,))
    assert summary.delivered_members == len(cats)
    assert summary.converting_members == int(cats.retention_7.sum())
    assert summary.reach_conversion == pytest.approx(cats.retention_7.mean())
    before = Period(started.date() - timedelta(days=3), started.date() - timedelta(days=2), "UTC")
    assert analytics.period_summary(engine, before, (campaign_id,)).delivered_members == 0
    every = tuple(analytics.list_campaigns(engine).campaign_id.astype(int))
    for period in (whole, before):  # "All campaigns" (its own rollup) counts the imported members too
        together, each = analytics.period_summary(engine, period, None), analytics.period_summary(engine, period, every)
        assert together.delivered_members == each.delivered_members >= (len(cats) if period == whole else 0)
        assert together.converting_members == each.converting_members


def test_ab_data_cleaned_as_published_and_not_significant(imported):
    engine, done = imported
    result = done["ab_data"]
    assert result.units == 290_584 and result.dropped_rows == 294_478 - 290_584
    test_id = result.test_id
    frequentist = results.analyze_test(engine, test_id, method="frequentist", cuped=False, difference="absolute")
    row = frequentist.primary_rows.iloc[0]
    assert row.control_mean == pytest.approx(0.1204, abs=1e-4) and row.treatment_mean == pytest.approx(0.1188, abs=1e-4)
    assert row.p_value == pytest.approx(0.19, abs=0.01) and not row.significant
    assert not results.analyze_test(engine, test_id, cuped=False).primary_rows.significant.any()   # sequential
    bayesian = results.analyze_test(engine, test_id, method="bayesian", cuped=False).primary_rows.iloc[0]
    assert 0.05 < bayesian.chance_to_win < 0.5
    assert results.analyze_test(engine, test_id).verdict == "no detectable difference"
    # The file's timestamps make a real history: January 2017, one point per UTC day.
    test = tests_repo.get_test(engine, test_id)
    daily = results.history(engine, test_id, "converted")
    days = sorted(set(daily.snapshot_date))
    assert str(days[0]) == "2017-01-02" and str(days[-1]) == "2017-01-24"
    last = daily[daily.snapshot_date == days[-1]].set_index("variant")
    summary = results.current_summary(engine, test_id).query("metric == 'converted'").set_index("variant")
    assert last.n.to_dict() == summary.n.to_dict() and last["sum"].to_dict() == summary["sum"].to_dict()
    series = results.estimate_over_time(test, tests_repo.variants_of(engine, test_id), daily, "converted")
    assert len(series) == len(days) and series.iloc[-1].ci_low < 0 < series.iloc[-1].ci_high


def test_hillstrom_three_arms_holm_and_cuped_with_past_spend(imported):
    engine, done = imported
    test_id = done["hillstrom"].test_id
    hill = raw("hillstrom")
    outcome = results.analyze_test(engine, test_id, method="frequentist", cuped=False, difference="absolute")
    visits = outcome.primary_rows.set_index("variant")              # clicked = visit
    for arm in ("Mens E-Mail", "Womens E-Mail"):
        reference, difference = welch(hill, "segment", "visit", arm, "No E-Mail")
        assert visits.loc[arm, "estimate"] == pytest.approx(difference)
        assert visits.loc[arm, "p_value_log10"] == pytest.approx(np.log10(reference.pvalue), rel=1e-3)
        assert visits.loc[arm, "adjusted_p_value"] < 0.05
    assert visits.loc["Mens E-Mail", "treatment_mean"] == pytest.approx(0.183, abs=0.001)
    assert outcome.predicted_winner[0] == "Mens E-Mail"
    assert results.analyze_test(engine, test_id).verdict == "win — Mens E-Mail beats control"

    # CUPED on spend with last year's spend (history), independently on the rows.
    cuped = results.analyze_test(engine, test_id, method="frequentist", cuped=True, difference="absolute")
    spend = cuped.analysis.set_index(["metric", "variant"]).loc[("revenue", "Mens E-Mail")]
    pair = hill[hill.segment.isin(["Mens E-Mail", "No E-Mail"])]
    theta = np.cov(pair.spend, pair.history, ddof=1)[0, 1] / pair.history.var(ddof=1)
    adjusted = pair.spend - theta * (pair.history - pair.history.mean())
    reference = stats.ttest_ind(adjusted[pair.segment == "Mens E-Mail"], adjusted[pair.segment == "No E-Mail"],
                                equal_var=False)
    assert spend.cuped_theta == pytest.approx(theta, rel=1e-6)
    assert spend.p_value == pytest.approx(reference.pvalue, rel=1e-5)
    plain = outcome.analysis.set_index(["metric", "variant"]).loc[("revenue", "Mens E-Mail")]
    assert spend.se < plain.se


def test_a_bad_file_is_rejected_whole_with_line_numbers(db, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("id,arm,bought,spent\n1,a,1,2.5\n2,b,x,1\n2,b,0,1\n3,,1,1\n4,a,1,-3\n5,b,2.5,0\n")
    spec = importer.spec_from_options(path, unit_column="id", variant_column="arm", control="a",
                                      outcomes={"bought": "conversions", "spent": "revenue"}, primary_metric="converted")
    before = counts(db)
    with pytest.raises(ImportRejected) as rejected:
        importer.import_experiment(db, path, spec, user=MANAGER)
    message = str(rejected.value)
    for expected in ["nothing was written", "line 3, column bought: 'x' is not a number",
                     "line 4, column id: '2' appears more than once", "line 5, column arm: ''",
                     "line 6, column spent: '-3' is negative", "line 7, column bought: '2.5' is not a whole number"]:
        assert expected in message
    assert counts(db) == before
    for bad_spec, expected in [({"control": "z"}, "control 'z' is not a value of column arm"),
                               ({"variant_column": "colour"}, "missing column(s) colour"),
                               ({"primary_metric": "happiness"}, "metric 'happiness' is not one of")]:
        with pytest.raises(ImportRejected, match=expected.replace("(", r"\(").replace(")", r"\)")):
            importer.import_experiment(db, path, importer.spec_from_options(path, **{**spec.__dict__, **bad_spec}),
                                        user=MANAGER)
    assert counts(db) == before


def test_a_failure_while_writing_leaves_nothing(db, tmp_path, monkeypatch):
    path = tmp_path / "good.csv"
    path.write_text("id,arm,bought\n1,a,1\n2,b,0\n3,a,0\n4,b,1\n")
    spec = importer.spec_from_options(path, unit_column="id", variant_column="arm", control="a",
                                      outcomes={"bought": "conversions"}, primary_metric="converted")
    before = counts(db)
    real_copy = importer.copy_frame

    def failing_copy(conn, table, frame, *args, **kwargs):
        if table == "ab_assignments":
            raise RuntimeError("disk full")
        return real_copy(conn, table, frame, *args, **kwargs)

    monkeypatch.setattr(importer, "copy_frame", failing_copy)
    with pytest.raises(RuntimeError, match="disk full"):
        importer.import_experiment(db, path, spec, user=MANAGER)
    assert counts(db) == before
    monkeypatch.setattr(importer, "copy_frame", real_copy)
    done = importer.import_experiment(db, path, spec, user=MANAGER)
    assert done.units == 4 and done.per_variant == {"a": 2, "b": 2}
    with pytest.raises(ImportRejected, match="exists already"):
        importer.import_experiment(db, path, spec, user=MANAGER)
    assert counts(db)["ab_tests"] == before["ab_tests"] + 1


def test_command_line_import(db, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", db.url.render_as_string(hide_password=False))
    path = tmp_path / "shop_test.csv"
    path.write_text("user,group,bought\n" + "".join(f"{i},{'new' if i % 2 else 'old'},{i % 3 == 0:d}\n"
                                                  for i in range(1, 201)))
    args = ["import", "experiment", str(path), "--unit-column", "user", "--variant-column", "group",
            "--control", "old", "--outcome", "bought=conversions", "--primary-metric", "converted"]
    assert cli(args) == 0
    assert "200 units" in capsys.readouterr().out
    assert cli(args) == 1                                   # same name again: refused, nothing written
    assert "exists already" in capsys.readouterr().err
    assert cli(["import", "experiment", str(path)]) == 1     # no preset matches and no columns given
    assert "--variant-column" in capsys.readouterr().err
    tests = tests_repo.list_tests(db)
    assert tests.name.tolist() == ["shop_test"] and tests.primary_metric.iloc[0] == "converted"


def test_an_unreadable_file_is_named_with_what_is_wrong(db, tmp_path):
    """Empty, header only, not UTF-8, a NUL byte: each message names the file, line and column;
    a gzip file is read as its content whatever its name; nothing is written."""
    spec = importer.spec_from_options("x.csv", unit_column="id", variant_column="arm", control="a",
                                      outcomes={"bought": "conversions"}, primary_metric="converted")
    good = "id,arm,bought\n1,a,1\n2,b,0\n3,a,0\n4,b,1\n"
    before = counts(db)
    for name, content, expected in [
            ("empty.csv", b"", "empty.csv: line 1, column 1: the file is empty"),
            ("blank.csv", b"\n \n", "blank.csv: line 1, column 1: the file is empty"),
            ("header.csv", b"id,arm,bought\n", "header.csv: line 2, column 1: the file has a header but no rows"),
            ("latin.csv", good.replace("b,0", "\u00e9,0", 1).encode("latin-1"), "latin.csv: line 3, column 3: byte 0xe9"),
            ("nul.csv", good.replace("a,0", "a\x00,0").encode(), "nul.csv: line 4, column 4: byte 0x00"),
            ("broken.csv.gz", gzip.compress(good.encode())[:20], "broken.csv.gz is gzip-compressed but cannot be unpacked")]:
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(ImportRejected) as rejected:
            importer.import_experiment(db, path, spec, user=MANAGER)
        assert expected in str(rejected.value)
    assert counts(db) == before
    packed = tmp_path / "packed.csv"  # gzip under a .csv name
    packed.write_bytes(gzip.compress(good.encode()))
    assert importer.import_experiment(db, packed, spec, user=MANAGER).units == 4


def test_an_import_without_a_user_is_refused(db, tmp_path):
    path = tmp_path / "good.csv"
    path.write_text("id,arm,bought\n1,a,1\n2,b,0\n3,a,0\n4,b,1\n")
    spec = importer.spec_from_options(path, unit_column="id", variant_column="arm", control="a",
                                      outcomes={"bought": "conversions"}, primary_metric="converted")
    before = counts(db)
    for user in (None, User("analyst@example.com", "Analyst", "analyst")):
        with pytest.raises(PermissionDenied):
            importer.import_experiment(db, path, spec, user=user)
    assert counts(db) == before
