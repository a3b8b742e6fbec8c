"""CUPED variance reduction: regression adjustment of both arms with a pre-period covariate.

theta = cov(metric, pre) / var(pre) is pooled over the two arms of each pair;
see the package docstring (:mod:`core.experiments.stats`) for the formulas.
"""

from __future__ import annotations

import numpy as np

from core.experiments.stats.effects import _Arms, _sample_covariance, _sample_variance


def _cuped_adjust(table, control_arm, treatment_arm, control_rows, treatment_rows):
    """Regression-adjust both arms of every pair with theta pooled over the pair."""
    columns = table.columns

    def pooled(values: np.ndarray) -> np.ndarray:
        return values[control_rows] + values[treatment_rows]

    n_pair = pooled(columns["n"])
    pre_variance = _sample_variance(n_pair, pooled(columns["pre_sum"]), pooled(columns["pre_sum_squares"]))
    covariance = _sample_covariance(n_pair, pooled(columns["sum"]), pooled(columns["pre_sum"]), pooled(columns["pre_sum_product"]))
    with np.errstate(divide="ignore", invalid="ignore"):
        theta = np.where(pre_variance > 0, covariance / pre_variance, 0.0)
    pooled_pre_mean = pooled(columns["pre_sum"]) / n_pair

    def adjust(arm: _Arms, rows: np.ndarray) -> _Arms:
        n = columns["n"][rows]
        pre_mean = columns["pre_sum"][rows] / n
        arm_pre_variance = _sample_variance(n, columns["pre_sum"][rows], columns["pre_sum_squares"][rows])
        arm_covariance = _sample_covariance(n, columns["sum"][rows], columns["pre_sum"][rows], columns["pre_sum_product"][rows])
        variance = arm.variance + theta**2 * arm_pre_variance - 2 * theta * arm_covariance
        mean = arm.mean - theta * (pre_mean - pooled_pre_mean)
        return _Arms(arm.n, mean, np.maximum(variance, 0.0), arm.reason)

    return adjust(control_arm, control_rows), adjust(treatment_arm, treatment_rows), theta
