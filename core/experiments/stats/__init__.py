"""A/B test statistics engine: pure, vectorised functions over per-variant summary statistics.

Owns: turning per-variant sums into effect estimates, intervals, p-values,
Bayesian chance-to-win and risk; multiple-comparison adjustment; one-sided
guardrail checks; the plain-words verdict shown in the UI; the sample-ratio
mismatch test; and sample-size planning.  No I/O, no database, no UI code.
Split by statistical family, as GrowthBook's gbstats; this package re-exports
the public API so that callers need a single import
(``from core.experiments import stats``; ``stats.analyze``, ``stats.verdict``, ...).

Modules
-------
* ``analysis`` - :func:`analyze` and :func:`guardrail_check`: the order of the
  work and the shape of the result frame;
* ``inputs`` - the option values (``METRICS``, ``METHODS``, ...) and their
  checks, the validated variant table, pairing every treatment with its control;
* ``effects`` - per-arm moments (binomial, mean, ratio) and the absolute or
  relative effect with its standard error and Welch degrees of freedom;
* ``variance_reduction`` - CUPED;
* ``frequentist`` - Welch t intervals and p-values, exact far into the tail;
* ``sequential`` - always-valid confidence sequences and p-values;
* ``bayesian`` - :class:`NormalPrior`, posterior, chance to win, risk;
* ``corrections`` - :func:`adjust_p_values` (Holm, Benjamini-Hochberg);
* ``decision`` - :func:`verdict`, the plain-words decision;
* ``srm`` - :func:`srm_check`, the sample-ratio mismatch test;
* ``power`` - :func:`required_sample_size`, :func:`achieved_power`,
  :func:`expected_days`.

Names with a leading underscore are shared between these modules only.

Input
-----
A DataFrame with one row per variant (and per comparison, see below)::

    variant, n, sum, sum_squares                 # every metric (sum_squares optional for binomial)
    den_sum, den_sum_squares, sum_product        # metric="ratio": denominator sums, sum(num * den)
    pre_sum, pre_sum_squares, pre_sum_product    # cuped=True: pre-period sums, sum(metric * pre)
    comparison                                   # optional: many comparisons in one call
    (any other column, e.g. a test id named by ``correction_by``)

Everything is computed on numpy arrays over all treatment rows at once; a
``comparison`` column (any hashable key, e.g. ``"test42/revenue"``) lets a
single call analyse thousands of experiments: the control is looked up inside
each comparison group.

Conventions (as GrowthBook's gbstats)
-------------------------------------
* binomial variance p(1 - p); mean metrics use the sample variance (n - 1);
* frequentist: Welch's t with Welch-Satterthwaite degrees of freedom;
* relative lift (mean_t - mean_c) / |mean_c| with the delta-method variance
  var_t/(n_t mean_c^2) + mean_t^2 var_c/(n_c mean_c^4) (dividing by |mean_c|
  keeps the sign of the lift equal to the sign of the difference when a metric
  such as profit has a negative control mean);
* ratio metrics: delta-method variance of sum/den_sum per arm;
* CUPED: theta = cov(metric, pre) / var(pre) from the pooled sums of both arms;
  each arm's mean is adjusted to mean - theta (pre_mean - pooled_pre_mean) and
  its variance to var + theta^2 var_pre - 2 theta cov, after which absolute and
  relative differences follow the same formulas as without CUPED;
* every p-value is computed with the same variance and distribution as its
  interval, so ``p_value < alpha`` exactly when the interval excludes 0 - for
  relative and absolute differences, two- and one-sided, and all methods.

Where this engine does better than the usual ones
-------------------------------------------------
* p-values come from log survival functions, so a huge effect reports a tiny
  positive p (floored at the smallest normal double, 2.2e-308) and
  ``p_value_log10`` keeps the exact order of magnitude beyond that;
* a binomial arm with 0 % or 100 % conversion has zero plug-in variance, which
  would give a zero-width interval.  For such an arm (and only for its
  variance) we use the Agresti-Coull-style pseudo-counts p~ = (sum + 1)/(n + 2),
  so the absolute difference still gets an honest, non-degenerate interval;
  the point estimate stays the raw rate;
* a relative lift with a zero control mean is NaN with an explanation in the
  ``reason`` column instead of a crash or an infinite lift;
* one-sided guardrail bounds are placed on the harmful side (see
  :func:`guardrail_check`);
* impossible input raises ``ValueError`` naming the variant, the problem and
  the fix.

Sequential testing
------------------
Asymptotic confidence sequences (Waudby-Smith et al. 2021; Howard et al. 2021,
normal mixture) in GrowthBook's parametrisation, with N = ``sequential_tuning``::

    rho(alpha)   = sqrt((-2 log alpha + log(-2 log alpha + 1)) / N)
    half_width   = se * sqrt(n) * sqrt(2 (n rho^2 + 1) / (n^2 rho^2) * log(sqrt(n rho^2 + 1) / alpha))
    n            = n_control + n_treatment

The half-width shrinks monotonically as alpha grows, so the sequences are
nested and the always-valid p-value - the smallest alpha whose sequence
excludes 0 - is found by a vectorised bisection on log(alpha).  It does not
depend on the ``alpha`` argument and ``p_value < alpha`` iff the reported
sequence excludes 0.  The mixture boundary is two-sided; one-sided sequential
bounds reuse the two-sided sequence at the same alpha (conservative).

Bayesian
--------
Gaussian model of the effect (estimate, se) with a flat prior by default, or a
normal prior on the **relative** lift: ``prior={"mean": 0.0, "variance": 0.3**2}``
(or a :class:`NormalPrior`).  For ``difference="absolute"`` the prior is scaled
by the control mean (mean * |mean_c|, variance * mean_c^2).  Reported:
``chance_to_win`` = P(effect > 0); ``risk_treatment`` = E[max(0, -effect)], the
expected loss of shipping the treatment; ``risk_control`` = E[max(0, effect)],
the expected loss of keeping the control; ``ci_low``/``ci_high`` the
equal-tailed credible interval.  Losses are in the units of ``difference``.

Multiple comparisons
--------------------
``analyze(correction="holm"|"bh")`` adjusts p-values within the family of all
treatment rows of the call (or within groups of the input column named by
``correction_by``).  Only ``adjusted_p_value`` and ``significant_adjusted``
change; intervals, ``p_value`` and ``significant`` stay unadjusted.  Leave
guardrail metrics out of the family (call :func:`guardrail_check` for them).
"""

from core.experiments.stats.analysis import analyze, guardrail_check
from core.experiments.stats.bayesian import NormalPrior
from core.experiments.stats.corrections import adjust_p_values
from core.experiments.stats.decision import verdict
from core.experiments.stats.frequentist import SMALLEST_REPORTED_P_VALUE
from core.experiments.stats.inputs import ALTERNATIVES, CORRECTIONS, DIFFERENCES, METHODS, METRICS
from core.experiments.stats.power import achieved_power, expected_days, required_sample_size
from core.experiments.stats.srm import SrmResult, srm_check

__all__ = [
    "NormalPrior",
    "analyze",
    "guardrail_check",
    "adjust_p_values",
    "verdict",
    "srm_check",
    "SrmResult",
    "required_sample_size",
    "achieved_power",
    "expected_days",
]
