"""The engine on public A/B test data sets, checked against scipy on the unit-level rows.

Data: gzip CSVs under ``shared/datasets`` beside the repository (see each
folder's SOURCE.md).  Each test summarises the rows per variant in pandas
(n, sum, sum_squares), runs the engine, and compares with an independent
scipy computation on the raw rows plus the published headline numbers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from core.experiments.stats import adjust_p_values, analyze, srm_check

DATASETS = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"

if not DATASETS.is_dir():
    pytest.skip(f"shared data sets not found at {DATASETS}; real-data checks need them", allow_module_level=True)


def read_dataset(folder: str, file_name: str) -> pd.DataFrame:
    path = DATASETS / folder / file_name
    if not path.exists():
        pytest.skip(f"{path} is missing; see {folder}/SOURCE.md for where it comes from")
    return pd.read_csv(path)


def summarize(units: pd.DataFrame, by: str, value: str) -> pd.DataFrame:
    """One row per variant: n, sum and sum of squares of ``value``."""
    values = units[value].astype(float)
    return (
        pd.DataFrame({"variant": units[by], "value": values, "square": values**2})
        .groupby("variant", as_index=False)
        .agg(n=("value", "size"), sum=("value", "sum"), sum_squares=("square", "sum"))
    )


def welch_on_rows(units: pd.DataFrame, by: str, value: str, treatment, control):
    treated = units.loc[units[by] == treatment, value].astype(float)
    controls = units.loc[units[by] == control, value].astype(float)
    return stats.ttest_ind(treated, controls, equal_var=False), treated.mean() - controls.mean()


def holm_by_hand(p_values: np.ndarray) -> np.ndarray:
    order = np.argsort(p_values)
    m = len(p_values)
    adjusted_sorted = np.maximum.accumulate([min(1.0, (m - i) * p_values[k]) for i, k in enumerate(order)])
    adjusted = np.empty(m)
    adjusted[order] = adjusted_sorted
    return adjusted


# ----------------------------------------------------------------------------- Cookie Cats


@pytest.fixture(scope="module")
def cookie_cats() -> pd.DataFrame:
    return read_dataset("cookie_cats", "cookie_cats.csv.gz")


def test_cookie_cats_seven_day_retention_is_higher_at_gate_30(cookie_cats):
    summary = summarize(cookie_cats, "version", "retention_7")
    result = analyze(summary, control="gate_30", difference="absolute").iloc[0]
    reference, difference = welch_on_rows(cookie_cats, "version", "retention_7", "gate_40", "gate_30")

    assert result["variant"] == "gate_40"
    assert result["control_mean"] == pytest.approx(0.190, abs=0.001)  # published ~19.0 %
    assert result["treatment_mean"] == pytest.approx(0.182, abs=0.001)  # published ~18.2 %
    assert result["estimate"] == pytest.approx(difference)
    assert result["p_value"] == pytest.approx(reference.pvalue, rel=1e-3)
    assert result["significant"] and result["ci_high"] < 0  # gate_40 retains fewer players

    relative = analyze(summary, control="gate_30", difference="relative").iloc[0]
    assert relative["significant"] and relative["estimate"] == pytest.approx(0.182 / 0.190 - 1, abs=0.005)


def test_cookie_cats_one_day_retention_difference_is_not_significant(cookie_cats):
    summary = summarize(cookie_cats, "version", "retention_1")
    result = analyze(summary, control="gate_30", difference="absolute").iloc[0]
    reference, difference = welch_on_rows(cookie_cats, "version", "retention_1", "gate_40", "gate_30")

    assert result["control_mean"] == pytest.approx(0.448, abs=0.001)  # published 44.8 %
    assert result["treatment_mean"] == pytest.approx(0.442, abs=0.001)  # published 44.2 %
    assert result["estimate"] == pytest.approx(difference)
    assert result["p_value"] == pytest.approx(reference.pvalue, rel=1e-3)
    assert not result["significant"] and result["ci_low"] < 0 < result["ci_high"]


def test_cookie_cats_split_is_not_a_sample_ratio_mismatch(cookie_cats):
    counts = cookie_cats["version"].value_counts()
    check = srm_check([counts["gate_30"], counts["gate_40"]], [0.5, 0.5])
    assert check.p_value == pytest.approx(stats.chisquare(counts[["gate_30", "gate_40"]].to_numpy()).pvalue)
    # 44,700 vs 45,489 is a 0.9 % imbalance: p ~ 0.009, suspicious but under the 0.001 alarm.
    assert not check.srm_detected


def test_cookie_cats_game_rounds_as_mean_metric(cookie_cats):
    summary = summarize(cookie_cats, "version", "sum_gamerounds")
    result = analyze(summary, metric="mean", control="gate_30", difference="absolute").iloc[0]
    reference, difference = welch_on_rows(cookie_cats, "version", "sum_gamerounds", "gate_40", "gate_30")
    assert result["estimate"] == pytest.approx(difference)
    assert result["p_value"] == pytest.approx(reference.pvalue, rel=1e-8)


# ----------------------------------------------------------------------------- Udacity ab_data


@pytest.fixture(scope="module")
def ab_data_clean() -> pd.DataFrame:
    raw = read_dataset("ab_data", "ab_data.csv.gz")
    # Keep rows where the assigned group saw its own page, then one row per user.
    aligned = (raw["group"] == "treatment") == (raw["landing_page"] == "new_page")
    return raw[aligned].drop_duplicates("user_id", keep="first")


def test_ab_data_conversion_difference_is_not_significant(ab_data_clean):
    assert len(ab_data_clean) == 290_584  # published size after cleaning
    summary = summarize(ab_data_clean, "group", "converted")
    result = analyze(summary, difference="absolute").iloc[0]
    reference, difference = welch_on_rows(ab_data_clean, "group", "converted", "treatment", "control")

    assert result["control_mean"] == pytest.approx(0.1204, abs=0.0001)
    assert result["treatment_mean"] == pytest.approx(0.1188, abs=0.0001)
    assert result["estimate"] == pytest.approx(difference)
    assert result["p_value"] == pytest.approx(reference.pvalue, rel=1e-3)
    assert result["p_value"] == pytest.approx(0.19, abs=0.01)  # published two-sided p
    assert not result["significant"]

    # The other methods agree that there is nothing to see.
    assert not analyze(summary, method="sequential")["significant"].iloc[0]
    bayesian = analyze(summary, method="bayesian").iloc[0]
    assert 0.05 < bayesian["chance_to_win"] < 0.5 and not bayesian["significant"]


# ----------------------------------------------------------------------------- Hillstrom e-mail campaign


HILLSTROM_ARMS = ("Mens E-Mail", "Womens E-Mail")
HILLSTROM_CONTROL = "No E-Mail"


@pytest.fixture(scope="module")
def hillstrom() -> pd.DataFrame:
    return read_dataset("hillstrom", "hillstrom.csv.gz")


@pytest.fixture(scope="module")
def hillstrom_results(hillstrom) -> pd.DataFrame:
    """visit and conversion in one binomial call (comparison = metric), spend as a mean metric."""
    binomial = pd.concat(
        [summarize(hillstrom, "segment", metric).assign(comparison=metric) for metric in ("visit", "conversion")]
    )
    spend = summarize(hillstrom, "segment", "spend").assign(comparison="spend")
    results = pd.concat(
        [
            analyze(binomial, metric="binomial", control=HILLSTROM_CONTROL, difference="absolute"),
            analyze(spend, metric="mean", control=HILLSTROM_CONTROL, difference="absolute"),
        ],
        ignore_index=True,
    )
    # One family: 2 arms x 3 metrics, Holm.
    results["adjusted_p_value"] = adjust_p_values(results["p_value"], "holm")
    return results.set_index(["comparison", "variant"])


def test_hillstrom_matches_scipy_with_holm_across_arms_and_metrics(hillstrom, hillstrom_results):
    keys, reference_p = [], []
    for metric in ("visit", "conversion", "spend"):
        for arm in HILLSTROM_ARMS:
            reference, difference = welch_on_rows(hillstrom, "segment", metric, arm, HILLSTROM_CONTROL)
            row = hillstrom_results.loc[(metric, arm)]
            assert row["estimate"] == pytest.approx(difference)
            # Binomial p(1-p) vs sample variance differ by n/(n-1): tiny on ~21k users per arm.
            assert row["p_value_log10"] == pytest.approx(np.log10(reference.pvalue), rel=1e-3)
            keys.append((metric, arm))
            reference_p.append(reference.pvalue)
    expected_adjusted = holm_by_hand(np.array(reference_p))
    engine_adjusted = hillstrom_results.loc[keys, "adjusted_p_value"].to_numpy()
    # Compared on the log scale: the visit p-values are ~1e-112, where n/(n-1) moves p by ~1 %.
    np.testing.assert_allclose(np.log10(engine_adjusted), np.log10(expected_adjusted), rtol=1e-3)


def test_hillstrom_published_effects(hillstrom_results):
    visit_rate = hillstrom_results.xs("visit", level="comparison")
    assert visit_rate.loc["Mens E-Mail", "treatment_mean"] == pytest.approx(0.183, abs=0.001)
    assert visit_rate.loc["Womens E-Mail", "treatment_mean"] == pytest.approx(0.151, abs=0.001)
    assert visit_rate.loc["Mens E-Mail", "control_mean"] == pytest.approx(0.106, abs=0.001)
    spend = hillstrom_results.xs("spend", level="comparison")
    assert spend.loc["Mens E-Mail", "treatment_mean"] == pytest.approx(1.42, abs=0.01)
    assert spend.loc["Mens E-Mail", "control_mean"] == pytest.approx(0.65, abs=0.01)

    adjusted = hillstrom_results["adjusted_p_value"]
    assert adjusted[("visit", "Mens E-Mail")] < 0.05 and adjusted[("visit", "Womens E-Mail")] < 0.05
    assert adjusted[("spend", "Mens E-Mail")] < 0.05
    assert (hillstrom_results.loc[[("visit", a) for a in HILLSTROM_ARMS], "estimate"] > 0).all()


def test_hillstrom_correction_inside_analyze_matches_separate_adjustment(hillstrom):
    summary = summarize(hillstrom, "segment", "visit")
    result = analyze(summary, control=HILLSTROM_CONTROL, correction="holm")
    np.testing.assert_allclose(result["adjusted_p_value"], adjust_p_values(result["p_value"], "holm"))
    assert result["significant_adjusted"].all()


def test_hillstrom_cuped_on_spend_with_past_year_history(hillstrom):
    """CUPED with last year's spend (history) as the pre-period covariate, checked on the rows."""
    units = hillstrom[hillstrom["segment"].isin(["Mens E-Mail", HILLSTROM_CONTROL])]
    summary = summarize(units, "segment", "spend")
    pre = units.assign(pre_square=units["history"] ** 2, product=units["spend"] * units["history"])
    pre_sums = pre.groupby("segment").agg(
        pre_sum=("history", "sum"), pre_sum_squares=("pre_square", "sum"), pre_sum_product=("product", "sum")
    )
    summary = summary.join(pre_sums, on="variant")
    result = analyze(summary, metric="mean", control=HILLSTROM_CONTROL, difference="absolute", cuped=True).iloc[0]

    # Independent: pooled slope, adjusted unit values, Welch on them.
    theta = np.cov(units["spend"], units["history"], ddof=1)[0, 1] / units["history"].var(ddof=1)
    adjusted = units["spend"] - theta * (units["history"] - units["history"].mean())
    treated = adjusted[units["segment"] == "Mens E-Mail"]
    controls = adjusted[units["segment"] == HILLSTROM_CONTROL]
    reference = stats.ttest_ind(treated, controls, equal_var=False)
    assert result["cuped_theta"] == pytest.approx(theta)
    assert result["estimate"] == pytest.approx(treated.mean() - controls.mean())
    assert result["p_value"] == pytest.approx(reference.pvalue, rel=1e-6)
    plain = analyze(summary, metric="mean", control=HILLSTROM_CONTROL, difference="absolute").iloc[0]
    assert result["se"] <= plain["se"]
