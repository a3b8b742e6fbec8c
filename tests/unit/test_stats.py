"""Unit tests of the A/B statistics engine against independent computations.

Every expected number here comes from scipy, numpy on unit-level data, a closed
form written out by hand, or a simulation with known truth - never from the
engine itself.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from core.experiments.stats import power as power_module
from core.experiments.stats import (
    NormalPrior,
    adjust_p_values,
    analyze,
    guardrail_check,
    required_sample_size,
    achieved_power,
    expected_days,
    srm_check,
    verdict,
)


# ----------------------------------------------------------------------------- helpers


def summarize(values_by_variant: dict[str, np.ndarray], **pre_by_variant) -> pd.DataFrame:
    """Per-variant summary rows (n, sum, sum_squares) from unit-level arrays."""
    rows = []
    for variant, values in values_by_variant.items():
        values = np.asarray(values, dtype=float)
        row = dict(variant=variant, n=values.size, sum=values.sum(), sum_squares=(values**2).sum())
        if variant in pre_by_variant:
            pre = np.asarray(pre_by_variant[variant], dtype=float)
            row.update(pre_sum=pre.sum(), pre_sum_squares=(pre**2).sum(), pre_sum_product=(values * pre).sum())
        rows.append(row)
    return pd.DataFrame(rows)


def binomial_frame(n_control, conversions_control, n_treatment, conversions_treatment, comparison=None):
    """Control/treatment summary rows for conversion counts (arrays give many comparisons)."""
    n_control, conversions_control, n_treatment, conversions_treatment = np.broadcast_arrays(
        *map(np.atleast_1d, (n_control, conversions_control, n_treatment, conversions_treatment))
    )
    count = n_control.size
    comparison = np.arange(count) if comparison is None else comparison
    frame = pd.DataFrame(
        {
            "comparison": np.concatenate([comparison, comparison]),
            "variant": ["control"] * count + ["treatment"] * count,
            "n": np.concatenate([n_control, n_treatment]),
            "sum": np.concatenate([conversions_control, conversions_treatment]),
        }
    )
    return frame


def mean_frame_from_sums(n, sums, squares, comparison):
    """Rows for many comparisons from arrays shaped (comparisons, 2) with control in column 0."""
    count = n.shape[0]
    return pd.DataFrame(
        {
            "comparison": np.tile(comparison, 2),
            "variant": ["control"] * count + ["treatment"] * count,
            "n": np.concatenate([n[:, 0], n[:, 1]]),
            "sum": np.concatenate([sums[:, 0], sums[:, 1]]),
            "sum_squares": np.concatenate([squares[:, 0], squares[:, 1]]),
        }
    )


def interval_excludes_zero(result: pd.DataFrame) -> np.ndarray:
    return ((result["ci_low"] > 0) | (result["ci_high"] < 0)).to_numpy()


# ----------------------------------------------------------------------------- frequentist against scipy and closed forms


def test_mean_absolute_matches_scipy_welch():
    rng = np.random.default_rng(11)
    for _ in range(20):
        n_c, n_t = rng.integers(5, 400, size=2)
        control = rng.normal(10, rng.uniform(0.5, 5), n_c)
        treatment = rng.normal(10 + rng.normal(0, 1), rng.uniform(0.5, 5), n_t)
        result = analyze(summarize({"control": control, "B": treatment}), metric="mean", difference="absolute").iloc[0]

        welch = stats.ttest_ind_from_stats(
            treatment.mean(), treatment.std(ddof=1), n_t, control.mean(), control.std(ddof=1), n_c, equal_var=False
        )
        raw = stats.ttest_ind(treatment, control, equal_var=False)
        low, high = raw.confidence_interval(0.95)
        assert result["p_value"] == pytest.approx(welch.pvalue, rel=1e-8)
        assert result["estimate"] == pytest.approx(treatment.mean() - control.mean(), rel=1e-10)
        assert result["df"] == pytest.approx(raw.df, rel=1e-8)
        assert result["ci_low"] == pytest.approx(low, rel=1e-8, abs=1e-12)
        assert result["ci_high"] == pytest.approx(high, rel=1e-8, abs=1e-12)


@pytest.mark.parametrize("alternative", ["greater", "less"])
def test_one_sided_mean_matches_scipy(alternative):
    rng = np.random.default_rng(5)
    control, treatment = rng.normal(0, 1, 80), rng.normal(0.2, 1.5, 60)
    result = analyze(
        summarize({"control": control, "B": treatment}), metric="mean", difference="absolute", alternative=alternative
    ).iloc[0]
    raw = stats.ttest_ind(treatment, control, equal_var=False, alternative=alternative)
    low, high = raw.confidence_interval(0.95)
    assert result["p_value"] == pytest.approx(raw.pvalue, rel=1e-8)
    assert result["ci_low"] == pytest.approx(low)
    assert result["ci_high"] == pytest.approx(high)


def test_binomial_absolute_matches_two_proportion_z_test():
    n_c, x_c, n_t, x_t = 40_000, 4_000, 41_000, 4_300
    p_c, p_t = x_c / n_c, x_t / n_t
    se = np.sqrt(p_c * (1 - p_c) / n_c + p_t * (1 - p_t) / n_t)  # unpooled z-test
    z = (p_t - p_c) / se
    result = analyze(binomial_frame(n_c, x_c, n_t, x_t), difference="absolute").iloc[0]
    assert result["estimate"] == pytest.approx(p_t - p_c)
    assert result["se"] == pytest.approx(se, rel=1e-12)
    # Welch t with ~80k degrees of freedom is the z-test to 4 significant digits.
    assert result["p_value"] == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-3)
    assert result["ci_low"] == pytest.approx(p_t - p_c - stats.norm.isf(0.025) * se, rel=1e-4)


def test_relative_lift_uses_delta_method_with_control_uncertainty():
    rng = np.random.default_rng(3)
    control, treatment = rng.exponential(2.0, 300), rng.exponential(2.3, 350)
    result = analyze(summarize({"control": control, "B": treatment}), metric="mean", difference="relative").iloc[0]

    m_c, m_t = control.mean(), treatment.mean()
    v_c, v_t = control.var(ddof=1), treatment.var(ddof=1)
    lift = (m_t - m_c) / m_c
    se = np.sqrt(v_t / (len(treatment) * m_c**2) + m_t**2 * v_c / (len(control) * m_c**4))
    a, b = v_t / len(treatment), v_c / len(control)
    dof = (a + b) ** 2 / (a**2 / (len(treatment) - 1) + b**2 / (len(control) - 1))
    assert result["estimate"] == pytest.approx(lift)
    assert result["se"] == pytest.approx(se)
    assert result["p_value"] == pytest.approx(2 * stats.t.sf(abs(lift / se), dof))
    assert result["ci_high"] == pytest.approx(lift + stats.t.isf(0.025, dof) * se)


def test_relative_lift_keeps_sign_for_negative_control_mean():
    control = np.array([-5.0, -4.0, -6.0, -5.5, -4.5])
    treatment = control + 1.0  # treatment is higher (less negative)
    result = analyze(summarize({"control": control, "B": treatment}), metric="mean").iloc[0]
    assert result["estimate"] == pytest.approx(1.0 / 5.0)


# ----------------------------------------------------------------------------- p-value / interval agreement


@pytest.mark.parametrize("method", ["frequentist", "sequential", "bayesian"])
@pytest.mark.parametrize("difference", ["relative", "absolute"])
@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
def test_significance_agrees_with_interval_on_random_inputs(method, difference, alternative):
    rng = np.random.default_rng(2024)
    count = 3000
    n = rng.integers(20, 20_000, size=(count, 2))
    rate = rng.uniform(0.01, 0.6, size=count)
    lift = rng.normal(0, 0.15, size=count)
    conversions = np.stack(
        [rng.binomial(n[:, 0], rate), rng.binomial(n[:, 1], np.clip(rate * (1 + lift), 0, 1))], axis=1
    )
    frame = binomial_frame(n[:, 0], conversions[:, 0], n[:, 1], conversions[:, 1])
    alpha = float(rng.choice([0.01, 0.05, 0.1]))
    result = analyze(frame, method=method, difference=difference, alpha=alpha, alternative=alternative)
    excludes = interval_excludes_zero(result)
    assert np.array_equal(result["significant"].to_numpy(), excludes)
    if method != "bayesian":
        assert np.array_equal((result["p_value"] < alpha).to_numpy(), excludes)
        assert 0.05 < excludes.mean() < 0.95  # the check is not vacuous


@pytest.mark.parametrize("method", ["frequentist", "sequential"])
@pytest.mark.parametrize("difference", ["relative", "absolute"])
def test_p_value_is_the_alpha_at_which_the_interval_touches_zero(method, difference):
    frame = binomial_frame([5_000, 8_000, 3_000], [500, 820, 330], [5_000, 8_100, 3_000], [590, 900, 380])
    p_values = analyze(frame, method=method, difference=difference)["p_value"].to_numpy()
    for row, p in enumerate(p_values):
        assert 1e-6 < p < 1
        above = analyze(frame, method=method, difference=difference, alpha=p * (1 + 1e-6))
        below = analyze(frame, method=method, difference=difference, alpha=p * (1 - 1e-6))
        assert above["significant"].iloc[row]
        assert not below["significant"].iloc[row]


# ----------------------------------------------------------------------------- coverage with known truth


@pytest.mark.parametrize("difference", ["absolute", "relative"])
def test_binomial_interval_coverage_is_nominal(difference):
    rng = np.random.default_rng(7)
    simulations, n, rate_c, rate_t = 4000, 3000, 0.10, 0.115
    conversions_c = rng.binomial(n, rate_c, simulations)
    conversions_t = rng.binomial(n, rate_t, simulations)
    result = analyze(binomial_frame(n, conversions_c, n, conversions_t), difference=difference)
    truth = rate_t - rate_c if difference == "absolute" else rate_t / rate_c - 1
    covered = ((result["ci_low"] <= truth) & (truth <= result["ci_high"])).mean()
    assert 0.935 <= covered <= 0.965, covered


@pytest.mark.parametrize("difference", ["absolute", "relative"])
def test_mean_interval_coverage_is_nominal_for_skewed_data(difference):
    rng = np.random.default_rng(8)
    simulations, n = 3000, 400
    scale_c, scale_t = 2.0, 2.2  # exponential: mean = scale
    values = np.stack([rng.exponential(scale_c, (simulations, n)), rng.exponential(scale_t, (simulations, n))], axis=1)
    frame = mean_frame_from_sums(
        np.full((simulations, 2), n), values.sum(axis=2), (values**2).sum(axis=2), np.arange(simulations)
    )
    result = analyze(frame, metric="mean", difference=difference)
    truth = scale_t - scale_c if difference == "absolute" else scale_t / scale_c - 1
    covered = ((result["ci_low"] <= truth) & (truth <= result["ci_high"])).mean()
    assert 0.935 <= covered <= 0.965, covered


# ----------------------------------------------------------------------------- ratio metrics


def ratio_frame(units: dict[str, tuple[np.ndarray, np.ndarray]]) -> pd.DataFrame:
    rows = []
    for variant, (numerator, denominator) in units.items():
        rows.append(
            dict(
                variant=variant, n=numerator.size, sum=numerator.sum(), sum_squares=(numerator**2).sum(),
                den_sum=denominator.sum(), den_sum_squares=(denominator**2).sum(),
                sum_product=(numerator * denominator).sum(),
            )
        )
    return pd.DataFrame(rows)


def test_ratio_metric_matches_unit_level_delta_method():
    rng = np.random.default_rng(21)
    units = {}
    for variant, spend_per_click in (("control", 1.0), ("B", 1.15)):
        clicks = rng.poisson(3, 2000).astype(float)
        revenue = clicks * spend_per_click * rng.gamma(2.0, 0.5, 2000)
        units[variant] = (revenue, clicks)
    result = analyze(ratio_frame(units), metric="ratio", difference="absolute").iloc[0]

    def ratio_and_variance_of_ratio(numerator, denominator):
        m, d = numerator.mean(), denominator.mean()
        cov = np.cov(numerator, denominator, ddof=1)
        r = m / d
        # Gradient of m/d is (1/d, -m/d^2); variance of the ratio of the two means.
        gradient = np.array([1 / d, -m / d**2])
        return r, gradient @ cov @ gradient / numerator.size

    r_c, var_c = ratio_and_variance_of_ratio(*units["control"])
    r_t, var_t = ratio_and_variance_of_ratio(*units["B"])
    assert result["control_mean"] == pytest.approx(r_c)
    assert result["estimate"] == pytest.approx(r_t - r_c)
    assert result["se"] == pytest.approx(np.sqrt(var_c + var_t))


def test_ratio_with_unit_denominator_equals_mean_metric():
    rng = np.random.default_rng(4)
    values = {"control": rng.normal(5, 2, 300), "B": rng.normal(5.3, 2, 280)}
    as_ratio = analyze(ratio_frame({k: (v, np.ones_like(v)) for k, v in values.items()}), metric="ratio").iloc[0]
    as_mean = analyze(summarize(values), metric="mean").iloc[0]
    for column in ("estimate", "se", "p_value", "ci_low", "ci_high"):
        assert as_ratio[column] == pytest.approx(as_mean[column])


# ----------------------------------------------------------------------------- CUPED


def cuped_population(rng, simulations, n, effect, correlation=0.7):
    """Pre- and post-period values with a known correlation, shaped (simulations, arm, unit)."""
    pre = rng.normal(10, 3, (simulations, 2, n))
    noise = rng.normal(0, 3, (simulations, 2, n))
    post = 10 + correlation * (pre - 10) + np.sqrt(1 - correlation**2) * noise
    post[:, 1, :] += effect
    return pre, post


def cuped_frame(pre, post):
    simulations = pre.shape[0]
    frame = mean_frame_from_sums(
        np.full((simulations, 2), pre.shape[2]), post.sum(axis=2), (post**2).sum(axis=2), np.arange(simulations)
    )
    frame["pre_sum"] = np.concatenate([pre[:, 0].sum(axis=1), pre[:, 1].sum(axis=1)])
    frame["pre_sum_squares"] = np.concatenate([(pre[:, 0] ** 2).sum(axis=1), (pre[:, 1] ** 2).sum(axis=1)])
    frame["pre_sum_product"] = np.concatenate(
        [(pre[:, 0] * post[:, 0]).sum(axis=1), (pre[:, 1] * post[:, 1]).sum(axis=1)]
    )
    return frame


def test_cuped_matches_hand_computation_with_pooled_theta():
    rng = np.random.default_rng(31)
    pre, post = cuped_population(rng, 1, 2000, effect=0.3)
    result = analyze(cuped_frame(pre, post), metric="mean", difference="absolute", cuped=True).iloc[0]

    pooled_pre, pooled_post = pre[0].ravel(), post[0].ravel()
    theta = np.cov(pooled_post, pooled_pre, ddof=1)[0, 1] / pooled_pre.var(ddof=1)
    adjusted = [post[0, arm] - theta * (pre[0, arm] - pooled_pre.mean()) for arm in (0, 1)]
    assert result["cuped_theta"] == pytest.approx(theta)
    assert result["estimate"] == pytest.approx(adjusted[1].mean() - adjusted[0].mean())
    assert result["se"] == pytest.approx(np.sqrt(sum(a.var(ddof=1) / a.size for a in adjusted)))

    plain = analyze(cuped_frame(pre, post), metric="mean", difference="absolute").iloc[0]
    assert result["se"] < 0.8 * plain["se"]  # correlation 0.7 removes about half the variance


def test_cuped_for_conversions_with_a_binary_pre_period_flag():
    rng = np.random.default_rng(33)
    n = 5000
    was_active = rng.random((2, n)) < 0.3  # pre-period: active last month
    converted = rng.random((2, n)) < np.where(was_active, 0.25, 0.05) + np.array([[0.0], [0.02]])
    frame = pd.DataFrame(
        {
            "variant": ["control", "B"], "n": [n, n], "sum": converted.sum(axis=1),
            "pre_sum": was_active.sum(axis=1), "pre_sum_squares": was_active.sum(axis=1),
            "pre_sum_product": (converted & was_active).sum(axis=1),
        }
    )
    result = analyze(frame, metric="binomial", difference="absolute", cuped=True).iloc[0]
    post, pre = converted.astype(float), was_active.astype(float)
    theta = np.cov(post.ravel(), pre.ravel(), ddof=1)[0, 1] / pre.ravel().var(ddof=1)
    adjusted = post - theta * (pre - pre.mean())
    reference = stats.ttest_ind(adjusted[1], adjusted[0], equal_var=False)
    assert result["estimate"] == pytest.approx(adjusted[1].mean() - adjusted[0].mean())
    # The engine's post-period variance is p(1 - p), the sample variance's n/(n-1) aside.
    assert result["p_value"] == pytest.approx(reference.pvalue, rel=1e-3)
    assert result["se"] < analyze(frame, difference="absolute").iloc[0]["se"]


@pytest.mark.parametrize("difference", ["absolute", "relative"])
def test_cuped_interval_coverage_is_nominal(difference):
    rng = np.random.default_rng(32)
    effect = 0.5
    pre, post = cuped_population(rng, 2000, 300, effect=effect)
    result = analyze(cuped_frame(pre, post), metric="mean", difference=difference, cuped=True)
    truth = effect if difference == "absolute" else effect / 10
    covered = ((result["ci_low"] <= truth) & (truth <= result["ci_high"])).mean()
    assert 0.93 <= covered <= 0.97, covered


# ----------------------------------------------------------------------------- many comparisons in one call


def test_one_vectorised_call_equals_one_call_per_comparison():
    rng = np.random.default_rng(9)
    rows = []
    for test_id in range(30):
        for variant in rng.permutation(["control", "B", "C"]):  # control is not always first
            n = int(rng.integers(100, 5000))
            rows.append(dict(comparison=f"test{test_id}", variant=variant, n=n, sum=int(rng.binomial(n, 0.2))))
    frame = pd.DataFrame(rows)
    together = analyze(frame, method="sequential").set_index(["comparison", "variant"]).sort_index()
    one_by_one = (
        pd.concat([analyze(group, method="sequential") for _, group in frame.groupby("comparison")])
        .set_index(["comparison", "variant"])
        .sort_index()
    )
    assert len(together) == 60
    numeric = ["estimate", "se", "ci_low", "ci_high", "p_value", "n_control", "control_mean"]
    np.testing.assert_allclose(together[numeric].to_numpy(float), one_by_one[numeric].to_numpy(float))


# ----------------------------------------------------------------------------- multiple comparisons


def test_holm_and_bh_against_hand_computation():
    p = [0.01, 0.04, 0.03, 0.005]
    # Holm: sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04 -> running max.
    np.testing.assert_allclose(adjust_p_values(p, "holm"), [0.03, 0.06, 0.06, 0.02])
    # BH: sorted times 4/1, 4/2, 4/3, 4/4 = 0.02, 0.02, 0.04, 0.04 -> running min from the top.
    np.testing.assert_allclose(adjust_p_values(p, "bh"), [0.02, 0.04, 0.04, 0.02])
    # Capped at 1, NaN kept out of the family.
    np.testing.assert_allclose(adjust_p_values([0.6, np.nan, 0.3], "holm"), [0.6, np.nan, 0.6])
    # 0.8 * 2 caps at 1, and the running max carries 1 to the larger p.
    np.testing.assert_allclose(adjust_p_values([0.9, 0.8], "holm"), [1.0, 1.0])


def test_grouped_adjustment_equals_separate_families():
    rng = np.random.default_rng(1)
    first, second = rng.uniform(0, 0.2, 7), rng.uniform(0, 0.2, 5)
    for method in ("holm", "bh"):
        together = adjust_p_values(np.concatenate([first, second]), method, groups=["a"] * 7 + ["b"] * 5)
        np.testing.assert_allclose(together, np.concatenate([adjust_p_values(first, method), adjust_p_values(second, method)]))


def test_analyze_correction_adjusts_only_p_values():
    frame = pd.DataFrame(
        {"variant": ["control", "B", "C", "D"], "n": [5000] * 4, "sum": [500, 560, 540, 505]}
    )
    plain = analyze(frame)
    corrected = analyze(frame, correction="holm")
    np.testing.assert_allclose(corrected["adjusted_p_value"], adjust_p_values(plain["p_value"], "holm"))
    np.testing.assert_allclose(corrected["ci_low"], plain["ci_low"])
    assert (corrected["significant_adjusted"] == (corrected["adjusted_p_value"] < 0.05)).all()


def test_correction_by_column_forms_separate_families():
    frame = pd.DataFrame(
        {
            "comparison": ["t1/a"] * 3 + ["t1/b"] * 3 + ["t2/a"] * 3,
            "test": ["t1"] * 6 + ["t2"] * 3,
            "variant": ["control", "B", "C"] * 3,
            "n": [4000] * 9,
            "sum": [400, 450, 420, 900, 950, 905, 100, 140, 120],
        }
    )
    result = analyze(frame, correction="bh", correction_by="test")
    expected = adjust_p_values(result["p_value"], "bh", groups=["t1"] * 4 + ["t2"] * 2)
    np.testing.assert_allclose(result["adjusted_p_value"], expected)


# ----------------------------------------------------------------------------- SRM


def test_srm_matches_scipy_chisquare():
    observed = [50_450, 49_550]
    result = srm_check(observed, [0.5, 0.5])
    reference = stats.chisquare(observed, f_exp=[50_000, 50_000])
    assert result.p_value == pytest.approx(reference.pvalue)
    assert result.chi2 == pytest.approx(reference.statistic)
    assert result.srm_detected == (reference.pvalue < 0.001)

    uneven = srm_check({"control": 20_000, "B": 10_400, "C": 9_600}, {"control": 2, "B": 1, "C": 1})
    reference = stats.chisquare([20_000, 10_400, 9_600], f_exp=[20_000, 10_000, 10_000])
    assert uneven.p_value == pytest.approx(reference.pvalue)
    assert uneven.srm_detected


def test_srm_flag_threshold_and_many_experiments():
    counts = np.array([[1000, 1000], [1000, 1100], [5000, 5400]])
    result = srm_check(counts, [1, 1])
    np.testing.assert_allclose(result.p_value, [stats.chisquare(row).pvalue for row in counts])
    np.testing.assert_array_equal(result.srm_detected, result.p_value < 0.001)
    assert result.srm_detected.tolist() == [False, False, True]


def test_srm_rejects_bad_input():
    with pytest.raises(ValueError, match="non-negative"):
        srm_check([100, -1])
    with pytest.raises(ValueError, match="one design weight per arm"):
        srm_check([100, 100], [1, 1, 1])
    with pytest.raises(ValueError, match="no units"):
        srm_check([0, 0])
    with pytest.raises(ValueError, match="positive"):
        srm_check([10, 10], [1, 0])


# ----------------------------------------------------------------------------- power


def test_required_sample_size_matches_closed_form():
    z = stats.norm.isf(0.025) + stats.norm.ppf(0.8)
    # Binomial: 10 % baseline, +10 % relative -> 11 %.
    by_hand = np.ceil(z**2 * (0.1 * 0.9 + 0.11 * 0.89) / 0.01**2)
    assert required_sample_size(0.10, 0.10) == by_hand
    assert required_sample_size(0.10, 0.01, relative=False) == by_hand
    # Mean metric: sd 5, absolute MDE 0.5.
    assert required_sample_size(20.0, 0.5, metric="mean", relative=False, sd=5.0) == np.ceil(z**2 * 2 * 25 / 0.25)
    # Three arms: Bonferroni over two comparisons.
    z3 = stats.norm.isf(0.0125) + stats.norm.ppf(0.8)
    assert required_sample_size(0.10, 0.10, variants=3) == np.ceil(z3**2 * (0.09 + 0.0979) / 0.01**2)
    # Vectorised over baselines.
    sizes = required_sample_size(np.array([0.05, 0.10, 0.20]), 0.10)
    assert sizes.shape == (3,) and np.all(np.diff(sizes) < 0)


def test_achieved_power_inverts_required_sample_size():
    n = required_sample_size(0.2, 0.05)
    assert achieved_power(n, 0.2, 0.05) == pytest.approx(0.8, abs=1e-3)
    assert achieved_power(n - 500, 0.2, 0.05) < 0.8 < achieved_power(n + 500, 0.2, 0.05)


@pytest.mark.parametrize("difference", ["absolute", "relative"])
def test_simulated_power_at_required_sample_size_is_about_80_percent(difference):
    rng = np.random.default_rng(12)
    baseline, mde = 0.2, 0.1
    n = required_sample_size(baseline, mde)
    simulations = 3000
    conversions_c = rng.binomial(n, baseline, simulations)
    conversions_t = rng.binomial(n, baseline * (1 + mde), simulations)
    detected = analyze(binomial_frame(n, conversions_c, n, conversions_t), difference=difference)["significant"].mean()
    assert 0.77 <= detected <= 0.83, detected


def test_expected_days():
    assert expected_days(10_000, 4_000, 1_000) == 6
    assert expected_days(10_000, 4_001, 1_000) == 6
    assert expected_days(10_000, 12_000, 1_000) == 0
    assert expected_days(10_000, 4_000, 0) == np.inf
    np.testing.assert_array_equal(expected_days(np.array([100, 250]), 50, 25), [2, 8])


def test_power_rejects_impossible_designs():
    with pytest.raises(ValueError, match="outside"):
        required_sample_size(0.95, 0.10)
    with pytest.raises(ValueError, match="sd"):
        required_sample_size(10.0, 0.1, metric="mean")
    with pytest.raises(ValueError, match="variants"):
        required_sample_size(0.1, 0.1, variants=1)
    assert power_module.POWER_METRICS == ("binomial", "mean")


# ----------------------------------------------------------------------------- Bayesian


def test_chance_to_win_and_risk_match_monte_carlo_beta_posteriors():
    rng = np.random.default_rng(13)
    n_c, x_c, n_t, x_t = 20_000, 2_000, 20_000, 2_080
    draws = 400_000
    rate_c = rng.beta(1 + x_c, 1 + n_c - x_c, draws)
    rate_t = rng.beta(1 + x_t, 1 + n_t - x_t, draws)
    delta = rate_t - rate_c
    result = analyze(binomial_frame(n_c, x_c, n_t, x_t), method="bayesian", difference="absolute").iloc[0]
    assert result["chance_to_win"] == pytest.approx((delta > 0).mean(), abs=0.005)
    assert result["risk_treatment"] == pytest.approx(np.maximum(-delta, 0).mean(), rel=0.05)
    assert result["risk_control"] == pytest.approx(np.maximum(delta, 0).mean(), rel=0.02)
    low, high = np.quantile(delta, [0.025, 0.975])
    assert result["ci_low"] == pytest.approx(low, rel=0.02)
    assert result["ci_high"] == pytest.approx(high, rel=0.02)

    relative = analyze(binomial_frame(n_c, x_c, n_t, x_t), method="bayesian").iloc[0]
    assert relative["chance_to_win"] == pytest.approx((rate_t / rate_c > 1).mean(), abs=0.005)
    # The Gaussian (delta-method) model ignores the right skew of a ratio of rates, so its
    # loss tail is slightly heavier than the exact posterior's: allow 15 %.
    assert relative["risk_treatment"] == pytest.approx(np.maximum(1 - rate_t / rate_c, 0).mean(), rel=0.15)


def test_normal_prior_shrinks_towards_prior_mean():
    frame = binomial_frame(2_000, 200, 2_000, 240)
    flat = analyze(frame, method="bayesian").iloc[0]
    sceptical = analyze(frame, method="bayesian", prior={"mean": 0.0, "variance": 0.05**2}).iloc[0]
    # Conjugate normal update written out by hand.
    precision = 1 / flat["se"] ** 2 + 1 / 0.05**2
    assert sceptical["estimate"] == pytest.approx(flat["estimate"] / flat["se"] ** 2 / precision)
    assert sceptical["se"] == pytest.approx(np.sqrt(1 / precision))
    assert sceptical["chance_to_win"] < flat["chance_to_win"]
    dogmatic = analyze(frame, method="bayesian", prior=NormalPrior(mean=-0.1, variance=1e-10)).iloc[0]
    assert dogmatic["estimate"] == pytest.approx(-0.1, abs=1e-4)
    # For an absolute difference the relative prior is rescaled by the control rate (0.1).
    flat_absolute = analyze(frame, method="bayesian", difference="absolute").iloc[0]
    absolute = analyze(frame, method="bayesian", difference="absolute", prior=NormalPrior(0.0, 0.05**2)).iloc[0]
    prior_variance = 0.05**2 * 0.1**2
    precision = 1 / flat_absolute["se"] ** 2 + 1 / prior_variance
    assert absolute["estimate"] == pytest.approx(flat_absolute["estimate"] / flat_absolute["se"] ** 2 / precision)
    assert absolute["chance_to_win"] == pytest.approx(stats.norm.cdf(absolute["estimate"] * np.sqrt(precision)))


# ----------------------------------------------------------------------------- edge cases where common engines fail


@pytest.mark.parametrize("method", ["frequentist", "sequential"])
@pytest.mark.parametrize("difference", ["relative", "absolute"])
def test_huge_effects_give_tiny_but_positive_p_values(method, difference):
    frame = binomial_frame([10**6, 10**6, 10**6], [100_000, 100_000, 100_000], [10**6] * 3, [105_000, 120_000, 200_000])
    result = analyze(frame, method=method, difference=difference)
    assert (result["p_value"] > 0).all()
    log10_p = result["p_value_log10"].to_numpy()
    assert np.all(np.isfinite(log10_p))
    assert np.all(np.diff(log10_p) < 0)  # bigger effect, smaller p, even beyond double precision
    assert log10_p[-1] < -1000


def test_tail_expansion_matches_scipy_where_scipy_is_still_exact():
    from core.experiments.stats.frequentist import _log_t_sf_tail

    for x, df in ((30.0, 1e3), (30.0, 1e5), (38.0, 1e3), (25.0, 1e7), (20.0, 1e4)):
        assert _log_t_sf_tail(np.array([x]), np.array([df]))[0] == pytest.approx(stats.t.logsf(x, df), rel=1e-6)


def test_log_p_is_smooth_across_the_switch_to_the_tail_expansion():
    # Treatment rates from 11.6 % to 12.6 % against 10 % with a million users per arm: log10(p)
    # runs from about -280 (scipy exact) to about -340 (tail expansion) with no jump.
    treated = np.arange(116_000, 126_000, 250)
    frame = binomial_frame(10**6, 100_000, 10**6, treated)
    log10_p = analyze(frame, difference="absolute")["p_value_log10"].to_numpy()
    assert log10_p[0] > -300 > log10_p[-1]
    steps = np.diff(log10_p)
    assert np.all(steps < 0)
    # The curve bends smoothly (second differences ~0.12); a jump would show in the third.
    assert np.max(np.abs(np.diff(steps, 2))) < 1e-3


def test_zero_conversion_control_gives_honest_absolute_answer():
    result = analyze(binomial_frame(1000, 0, 1000, 10), difference="absolute").iloc[0]
    assert result["estimate"] == pytest.approx(0.01)
    assert 0 < result["se"] and result["ci_low"] < result["ci_high"]
    # Pseudo-count variance for the empty arm: (0 + 1) / (1000 + 2).
    smoothed = 1 / 1002
    expected_se = np.sqrt(smoothed * (1 - smoothed) / 1000 + 0.01 * 0.99 / 1000)
    assert result["se"] == pytest.approx(expected_se)

    both_empty = analyze(binomial_frame(1000, 0, 1000, 0), difference="absolute").iloc[0]
    assert both_empty["p_value"] == 1.0 and both_empty["ci_low"] < 0 < both_empty["ci_high"]

    all_convert = analyze(binomial_frame(500, 500, 500, 480), difference="relative").iloc[0]
    assert np.isfinite(all_convert["ci_low"]) and all_convert["significant"]


def test_relative_lift_with_zero_control_mean_is_nan_with_reason():
    for method in ("frequentist", "sequential", "bayesian"):
        result = analyze(binomial_frame(1000, 0, 1000, 10), method=method, difference="relative").iloc[0]
        assert np.isnan(result["estimate"]) and np.isnan(result["ci_low"])
        assert not result["significant"]
        assert "control mean is zero" in result["reason"]


def test_no_variation_in_mean_metric_is_explained_not_crashing():
    frame = pd.DataFrame({"variant": ["control", "B"], "n": [10, 10], "sum": [50.0, 50.0], "sum_squares": [250.0, 250.0]})
    result = analyze(frame, metric="mean", difference="absolute").iloc[0]
    assert np.isnan(result["p_value"]) and "no variation" in result["reason"]


# ----------------------------------------------------------------------------- guardrails


def test_guardrail_bounds_point_to_the_harmful_side():
    # Conversion dropped from 10 % to 9 %: clearly worse.
    dropped = binomial_frame(20_000, 2_000, 20_000, 1_800)
    check = guardrail_check(dropped, margin=0.02, higher_is_better=True).iloc[0]
    assert check["harm_bound"] < check["estimate"] < check["best_case_bound"]
    # One-sided 95 % bounds are the two-sided 90 % interval's ends.
    ninety = analyze(dropped, alpha=0.10).iloc[0]
    assert check["harm_bound"] == pytest.approx(ninety["ci_low"])
    assert check["best_case_bound"] == pytest.approx(ninety["ci_high"])
    assert check["guardrail_status"] == "breached" and check["breached"]

    # A cost metric (lower is better) that rose: the harmful side is the upper bound.
    cost = pd.DataFrame(
        {"variant": ["control", "B"], "n": [5000, 5000], "sum": [50_000.0, 53_000.0],
         "sum_squares": [50_000.0 * 10 + 5000 * 4.0, 53_000.0 * 10.6 + 5000 * 4.0]}
    )
    rose = guardrail_check(cost, metric="mean", margin=0.01, higher_is_better=False).iloc[0]
    assert rose["best_case_bound"] < rose["estimate"] < rose["harm_bound"]
    assert rose["guardrail_status"] == "breached"


def test_guardrail_safe_and_inconclusive():
    flat_big = binomial_frame(200_000, 20_000, 200_000, 20_050)
    assert guardrail_check(flat_big, margin=0.03).iloc[0]["guardrail_status"] == "safe"
    flat_small = binomial_frame(500, 50, 500, 49)
    small = guardrail_check(flat_small, margin=0.03).iloc[0]
    assert small["guardrail_status"] == "inconclusive"
    assert not small["breached"] and not small["non_inferior"]
    for method in ("sequential", "bayesian"):
        status = guardrail_check(flat_big, margin=0.03, method=method).iloc[0]["guardrail_status"]
        assert status in ("safe", "inconclusive")


# ----------------------------------------------------------------------------- verdict


def test_verdict_phrases():
    winner = analyze(binomial_frame(20_000, 2_000, 20_000, 2_300))
    flat = analyze(binomial_frame(20_000, 2_000, 20_000, 2_010))
    loser = analyze(binomial_frame(20_000, 2_000, 20_000, 1_700))
    assert verdict(winner, srm_detected=True) == "sample ratio mismatch — do not trust the results"
    assert verdict(winner, guardrails_breached=["latency"]) == "guardrail breached: latency"
    assert verdict(winner, guardrails_breached=True) == "guardrail breached"
    assert verdict(winner, needed_per_arm=25_000) == "keep running — 5,000 more members per arm needed"
    assert verdict(winner, needed_per_arm=15_000) == "treatment treatment wins"
    assert verdict(winner.iloc[0]) == "treatment treatment wins"
    assert verdict(flat, needed_per_arm=15_000) == "no detectable difference"
    assert verdict(loser) == "control wins — treatment is worse"
    assert verdict(loser, higher_is_better=False) == "treatment treatment wins"
    # A sequential result may stop early once significant.
    sequential_winner = analyze(binomial_frame(20_000, 2_000, 20_000, 2_400), method="sequential")
    assert sequential_winner["significant"].iloc[0]
    assert verdict(sequential_winner, needed_per_arm=50_000) == "treatment treatment wins"


def test_verdict_picks_best_of_several_arms():
    frame = pd.DataFrame({"variant": ["control", "B", "C"], "n": [20_000] * 3, "sum": [2_000, 2_250, 2_400]})
    assert verdict(analyze(frame, correction="holm")) == "treatment C wins"


# ----------------------------------------------------------------------------- bad input


def good_frame(**changes) -> pd.DataFrame:
    frame = pd.DataFrame({"variant": ["control", "B"], "n": [100, 100], "sum": [10, 12], "sum_squares": [10, 12]})
    for column, values in changes.items():
        frame[column] = values
    return frame


@pytest.mark.parametrize(
    ("frame", "options", "message"),
    [
        (good_frame(n=[100, 0]), {}, r"n must be positive — variant 'B': n=0"),
        (good_frame(n=[100, -5]), {}, r"variant 'B'"),
        (good_frame(sum=[10, 120], sum_squares=[10, 120]), {}, r"between 0 and n — variant 'B': sum=120, n=100"),
        (good_frame(sum_squares=[10, 50]), {}, r"sum_squares must equal sum .* variant 'B'"),
        (good_frame(sum=[50.0, 60.0], sum_squares=[20.0, 40.0]), {"metric": "mean"}, r"negative variance — variant 'control'"),
        (good_frame(sum=[10, np.nan]), {}, r"sum is missing or not finite — variant 'B'"),
        (good_frame(variant=["A", "B"]), {}, r"no control row: expected a variant named 'control', found \['A', 'B'\]"),
        (good_frame(variant=["control", "control"]), {}, r"once per comparison"),
        (good_frame().drop(columns="sum"), {}, r"missing column\(s\) \['sum'\]"),
        (good_frame(), {"metric": "mean", "cuped": True}, r"pre_sum"),
        (good_frame(), {"method": "bayes"}, r"method must be one of"),
        (good_frame(), {"alpha": 1.5}, r"alpha"),
        (good_frame(), {"prior": {"mean": 0, "variance": 0.1}}, r"only used by method='bayesian'"),
        (good_frame(), {"method": "bayesian", "prior": {"mean": 0, "variance": -1}}, r"positive variance"),
        (good_frame(), {"method": "bayesian", "correction": "holm"}, r"has none"),
        (good_frame(variant=["control", "control"]).iloc[:1], {}, r"need at least one treatment"),
    ],
)
def test_impossible_input_raises_clear_value_error(frame, options, message):
    with pytest.raises(ValueError, match=message):
        analyze(frame, **options)


def test_missing_control_names_the_comparison():
    frame = pd.concat([good_frame().assign(comparison="t1"), good_frame(variant=["ctl", "B"]).assign(comparison="t2")])
    with pytest.raises(ValueError, match=r"no control row in comparison 't2'"):
        analyze(frame)


def test_inconsistent_ratio_cross_products_are_rejected():
    frame = pd.DataFrame(
        {
            "variant": ["control", "B"], "n": [100, 100], "sum": [100.0, 110.0], "sum_squares": [200.0, 230.0],
            "den_sum": [50.0, 50.0], "den_sum_squares": [60.0, 60.0], "sum_product": [500.0, 110.0],
        }
    )
    with pytest.raises(ValueError, match=r"sum_product is inconsistent .* variant 'control'"):
        analyze(frame, metric="ratio")
