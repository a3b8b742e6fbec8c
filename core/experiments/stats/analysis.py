"""The engine's entry points: :func:`analyze` and the one-sided :func:`guardrail_check`.

Owns the order of the work - check the options, validate and pair the rows,
per-arm moments, CUPED, the effect, then the chosen inference method and the
optional correction - and the shape of the result frame.  The formulas live in
the modules named in the package docstring (:mod:`core.experiments.stats`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from core.experiments.stats.bayesian import NormalPrior, _bayesian, _parse_prior
from core.experiments.stats.corrections import adjust_p_values
from core.experiments.stats.effects import _arm_moments, _as_counts, _effect
from core.experiments.stats.frequentist import _frequentist
from core.experiments.stats.inputs import _check_options, _pair_with_control, _VariantTable
from core.experiments.stats.sequential import _sequential
from core.experiments.stats.variance_reduction import _cuped_adjust


def analyze(
    variants: pd.DataFrame,
    metric: str = "binomial",
    control: object = "control",
    method: str = "frequentist",
    difference: str = "relative",
    alpha: float = 0.05,
    cuped: bool = False,
    sequential_tuning: float = 5000,
    prior: Mapping[str, float] | NormalPrior | None = None,
    correction: str | None = None,
    *,
    alternative: str = "two-sided",
    correction_by: str | None = None,
) -> pd.DataFrame:
    """Compare every treatment variant with its control; one result row per treatment.

    Parameters
    ----------
    variants:
        Summary statistics, one row per variant (see the module docstring).
    metric:
        ``"binomial"`` (0/1 conversions), ``"mean"`` (any per-unit value) or
        ``"ratio"`` (sum / den_sum, e.g. revenue per click).
    control:
        Value of the ``variant`` column that marks the control arm (within each
        ``comparison`` group when that column is present).
    method:
        ``"frequentist"`` (fixed horizon, Welch t), ``"sequential"`` (always-valid
        confidence sequences) or ``"bayesian"`` (Gaussian posterior).
    difference:
        ``"relative"`` lift or ``"absolute"`` difference, treatment minus control.
    alpha:
        Error rate; intervals have coverage 1 - alpha.
    cuped:
        Regression-adjust with the pre-period columns (binomial and mean metrics).
    sequential_tuning:
        N, the total sample size at which the confidence sequence is tightest.
    prior:
        Bayesian only: ``None`` (flat) or a normal prior on the relative lift,
        ``{"mean": m, "variance": v}`` or :class:`NormalPrior`.
    correction:
        ``None``, ``"holm"`` or ``"bh"`` (Benjamini-Hochberg); adds
        ``adjusted_p_value`` and ``significant_adjusted``.
    alternative:
        ``"two-sided"``, ``"greater"`` (H1: effect > 0, interval ``[ci_low, inf)``)
        or ``"less"`` (H1: effect < 0, interval ``(-inf, ci_high]``).
    correction_by:
        Optional input column whose values define separate correction families
        (e.g. a test id); default: all rows of the call form one family.

    Returns
    -------
    DataFrame with, per treatment row: ``[comparison,] variant, method,
    difference, n_control, n_treatment, control_mean, treatment_mean, estimate,
    se, ci_low, ci_high, significant, reason`` plus
    ``df, p_value, p_value_log10`` (frequentist), ``p_value, p_value_log10``
    (sequential), ``chance_to_win, risk_control, risk_treatment`` (bayesian),
    ``adjusted_p_value, significant_adjusted`` (with a correction) and
    ``cuped_theta`` (with CUPED).  ``reason`` is missing (NaN) when the row
    could be analysed and otherwise says why its numbers are NaN.
    ``control_mean``/``treatment_mean`` are CUPED-adjusted when ``cuped``.

    Raises
    ------
    ValueError
        For unknown options, missing columns, a comparison without a control
        row, and impossible statistics (n <= 0, sum > n for a binomial,
        negative variance, ...).  The message names the variant and the fix.
    """
    _check_options(metric, method, difference, alpha, cuped, sequential_tuning, correction, alternative)
    prior = _parse_prior(prior, method)
    table = _VariantTable.from_frame(variants, metric, cuped, correction_by)
    control_rows, treatment_rows = _pair_with_control(table, control)

    arms = _arm_moments(table, metric)
    control_arm = arms.take(control_rows)
    treatment_arm = arms.take(treatment_rows)
    theta = None
    if cuped:
        control_arm, treatment_arm, theta = _cuped_adjust(table, control_arm, treatment_arm, control_rows, treatment_rows)

    effect = _effect(control_arm, treatment_arm, difference)

    result: dict[str, object] = {}
    if table.comparison is not None:
        result["comparison"] = table.comparison[treatment_rows]
    result.update(
        variant=table.variant[treatment_rows],
        method=method,
        difference=difference,
        n_control=_as_counts(control_arm.n),
        n_treatment=_as_counts(treatment_arm.n),
        control_mean=control_arm.mean,
        treatment_mean=treatment_arm.mean,
    )
    if method == "frequentist":
        result.update(_frequentist(effect, alpha, alternative))
    elif method == "sequential":
        result.update(_sequential(effect, control_arm.n + treatment_arm.n, alpha, sequential_tuning, alternative))
    else:
        result.update(_bayesian(effect, alpha, alternative, prior))

    if correction is not None:
        family = None if correction_by is None else table.extra[correction_by][treatment_rows]
        adjusted = adjust_p_values(result["p_value"], method=correction, groups=family)
        result["adjusted_p_value"] = adjusted
        result["significant_adjusted"] = adjusted < alpha
    if theta is not None:
        result["cuped_theta"] = theta
    result["reason"] = pd.array(effect.reason, dtype="str")  # NaN where the row is fine
    return pd.DataFrame(result)


def guardrail_check(
    variants: pd.DataFrame,
    metric: str = "binomial",
    control: object = "control",
    margin: float = 0.0,
    higher_is_better: bool = True,
    method: str = "frequentist",
    difference: str = "relative",
    alpha: float = 0.05,
    **analyze_options,
) -> pd.DataFrame:
    """One-sided guardrail test: "the metric must not get worse by more than ``margin``".

    ``margin`` (>= 0) is in the units of ``difference`` (0.02 = a 2 % relative
    drop).  "Worse" is a drop when ``higher_is_better`` and a rise otherwise.
    Two one-sided (1 - alpha) bounds are reported:

    * ``harm_bound`` - the bound on the harmful side (lower bound of the change
      when higher is better, upper bound otherwise): the worst change still
      compatible with the data;
    * ``best_case_bound`` - the bound on the other side: the mildest change
      still compatible with the data.

    ``guardrail_status`` is ``"safe"`` when even the worst case is within the
    margin (non-inferiority shown), ``"breached"`` when even the best case is
    worse than the margin (harm beyond the margin shown), otherwise
    ``"inconclusive"``.  ``breached`` / ``non_inferior`` are the booleans.
    Extra keyword arguments (``cuped``, ``prior``, ``sequential_tuning``) are
    passed to :func:`analyze`.
    """
    if not margin >= 0:
        raise ValueError(
            f"guardrail margin must be >= 0 (the tolerated worsening, in units of the {difference} "
            f"difference), got {margin}."
        )
    if "alternative" in analyze_options or "correction" in analyze_options:
        raise ValueError("guardrail_check sets the one-sided alternative itself and does not correct p-values.")
    common = dict(metric=metric, control=control, method=method, difference=difference, alpha=alpha, **analyze_options)
    upper_open = analyze(variants, alternative="greater", **common)  # [ci_low, inf)
    lower_open = analyze(variants, alternative="less", **common)  # (-inf, ci_high]

    result = upper_open.drop(columns=["ci_low", "ci_high", "p_value", "p_value_log10", "df", "significant"], errors="ignore")
    lower_bound = upper_open["ci_low"].to_numpy()
    upper_bound = lower_open["ci_high"].to_numpy()
    if higher_is_better:
        harm_bound, best_case_bound = lower_bound, upper_bound
        non_inferior = harm_bound > -margin
        breached = best_case_bound < -margin
    else:
        harm_bound, best_case_bound = upper_bound, lower_bound
        non_inferior = harm_bound < margin
        breached = best_case_bound > margin
    result["harm_bound"] = harm_bound
    result["best_case_bound"] = best_case_bound
    result["margin"] = margin
    result["higher_is_better"] = higher_is_better
    result["guardrail_status"] = np.select(
        [np.isnan(harm_bound), breached, non_inferior], ["inconclusive", "breached", "safe"], "inconclusive"
    )
    result["breached"] = breached
    result["non_inferior"] = non_inferior
    return result
