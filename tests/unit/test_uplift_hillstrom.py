"""The uplift model on a real randomised e-mail campaign: Kevin Hillstrom's MineThatData
challenge (64,000 customers randomised to Mens E-Mail, Womens E-Mail or No E-Mail; see
shared/datasets/hillstrom/SOURCE.md).

Targeting customers in order of predicted uplift (T- and X-learner, core.optimize.uplift) is
compared with random targeting on held-out customers, by the Qini curve and AUUC, for visits
and for spend. Womens E-Mail against No E-Mail is the comparison with heterogeneous effects
(the standard uplift benchmark); Mens E-Mail has a larger but flatter effect. The Qini
mechanics are checked first on simulated data with a known answer.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.optimize import uplift
from core.optimize.evaluation import qini, qini_curve

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "hillstrom" / "hillstrom.csv.gz"
HELD_OUT_SHARE = 0.4
SPLIT_SALT = 3


def test_qini_curve_by_hand():
    # Four units ranked by uplift: treated responder, control non-responder, treated non-responder, control responder.
    x, q = qini_curve([4, 3, 2, 1], [1, 0, 1, 0], [1, 0, 0, 1])
    np.testing.assert_allclose(x, [0, 0.25, 0.5, 0.75, 1.0])
    # Q(k) = Y_T(k) − Y_C(k)·N_T(k)/N_C(k): k=1: 1−0; k=2: 1−0·1/1; k=3: 1−0·2/1; k=4: 1−1·2/2
    np.testing.assert_allclose(q, [0, 1, 1, 1, 0])


def test_qini_finds_a_planted_effect_and_not_a_random_ranking():
    rng = np.random.default_rng(0)
    n = 20_000
    x = rng.normal(size=(n, 3))
    t = rng.integers(0, 2, n)
    effect = np.where(x[:, 0] > 0, 0.15, 0.0)          # only half the units respond to treatment
    y = (rng.random(n) < 0.1 + t * effect).astype(float)
    held_out = uplift.held_out_mask(np.arange(n), 0.5)
    for learner in uplift.LEARNERS:
        result = uplift.evaluate(x, t, y, held_out, learner, bootstrap=50)
        assert result.qini.low > 0.2, learner
    noise = qini(rng.random(held_out.sum()), t[held_out], y[held_out], bootstrap=50)
    assert noise.low < 0 < noise.high


@pytest.fixture(scope="module")
def hillstrom() -> pd.DataFrame:
    if not DATA.exists():
        pytest.skip(f"{DATA} is missing; see shared/datasets/hillstrom/SOURCE.md")
    frame = pd.read_csv(DATA)
    assert len(frame) == 64_000
    return frame


def features(frame: pd.DataFrame) -> np.ndarray:
    x = pd.get_dummies(frame[["recency", "history", "mens", "womens", "newbie", "zip_code", "channel"]],
                       columns=["zip_code", "channel"], drop_first=True).astype(float)
    x["log_history"] = np.log1p(x.history)
    return x.to_numpy()


def womens_vs_none(frame: pd.DataFrame):
    arm = frame[frame.segment.isin(["Womens E-Mail", "No E-Mail"])].reset_index(drop=True)
    treatment = (arm.segment == "Womens E-Mail").to_numpy(int)
    held_out = uplift.held_out_mask(np.arange(len(arm)), HELD_OUT_SHARE, salt=SPLIT_SALT)
    return arm, features(arm), treatment, held_out


def test_the_experiment_is_randomised_and_the_email_works(hillstrom):
    shares = hillstrom.segment.value_counts(normalize=True)
    assert shares.between(0.33, 0.34).all()
    means = hillstrom.groupby("segment")[["visit", "spend"]].mean()
    assert means.loc["Womens E-Mail", "visit"] > means.loc["No E-Mail", "visit"] + 0.03


@pytest.mark.parametrize("learner", uplift.LEARNERS)
def test_targeting_by_uplift_beats_random_for_visits(hillstrom, learner):
    arm, x, t, held_out = womens_vs_none(hillstrom)
    result = uplift.evaluate(x, t, arm.visit.to_numpy(float), held_out, learner, "visit", bootstrap=200)
    q = result.qini
    assert result.held_out_units > 15_000
    # Measured: Qini coefficient 0.16 (T) / 0.14 (X), 95 % bootstrap interval above zero.
    assert q.auuc > q.auuc_random
    assert q.low > 0.0
    assert q.qini_coefficient > 0.08


def test_targeting_by_uplift_beats_random_for_spend(hillstrom):
    arm, x, t, held_out = womens_vs_none(hillstrom)
    result = uplift.evaluate(x, t, arm.spend.to_numpy(float), held_out, "t", "spend", bootstrap=200)
    q = result.qini
    # Spend is rare (under 1 % convert) and heavy-tailed: the model beats random (coefficient
    # about 0.16, AUUC 2,950 against 2,250 USD) but the 95 % interval still includes zero.
    assert q.auuc > q.auuc_random
    assert q.qini_coefficient > 0.05
    assert q.low < q.qini_coefficient < q.high


def test_qini_on_scikit_uplifts_scale_by_hand():
    """scikit-uplift's normalisation (qini_auc_score): (model area − random area) / (perfect
    area − random area), ties drawn as straight lines. Four units: a treated responder, a
    treated non-responder, a control non-responder, a control responder."""
    from core.optimize.evaluation import qini_coefficient_sklift

    t = np.array([1, 1, 0, 0])
    y = np.array([1, 0, 0, 1])
    # Perfect order (treated responder first, control responder last): Q = 0, 1, 1, 1, 0 at
    # n = 0..4 (the two zero-score units tie: one straight segment from n=1 to n=3).
    assert qini_coefficient_sklift(np.array([3, 2, 1, 0]), t, y) == pytest.approx(1.0)
    # Perfect area 0.5 + 2 + 0.5 = 3 (random: 0). The reverse order: Q = 0, 0, 0, −0.5, 0 (the
    # control responder first counts nothing until a treated unit arrives), area −0.5: −1/6.
    assert qini_coefficient_sklift(np.array([0, 1, 2, 3]), t, y) == pytest.approx(-1 / 6)


def test_qini_on_both_scales_over_splits_with_training_variance(hillstrom):
    """Womens E-Mail vs none, visits, T-learner: 3 held-out splits × 4 bootstrap refits. Measured
    (docs/optimization.md): our coefficient about 0.15 and about 0.06 on scikit-uplift's scale, every
    split and refit above random; the sklift figure is smaller because it divides by the perfect
    curve's excess area rather than by the total increment."""
    arm = hillstrom[hillstrom.segment.isin(["Womens E-Mail", "No E-Mail"])].reset_index(drop=True)
    t = (arm.segment == "Womens E-Mail").to_numpy(int)
    result = uplift.evaluate_over_splits(features(arm), t, arm.visit.to_numpy(float), "t", splits=3, refits=4)
    summary = result.summary()
    print(summary)
    assert (result.coefficients > 0).all() and (result.sklift > 0).all()
    assert 0.08 < summary["qini"]["median"] < 0.3
    assert 0.02 < summary["qini_sklift"]["median"] < summary["qini"]["median"]
