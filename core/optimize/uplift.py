"""Uplift: who responds *because of* a treatment (a message, or an experiment's variant), from
a randomised experiment — T- and X-learners on scikit-learn base models, evaluated with the
Qini curve and AUUC on held-out units against random targeting.

T-learner: one model of the outcome for treated units, one for controls; uplift = difference.
X-learner (Künzel et al. 2019): impute each unit's effect with the other arm's model, regress
the imputed effects on the features per arm, and blend the two by the treated share.
Binary outcomes use logistic regression, amounts (spend) ridge regression — both standardised,
deliberately simple: uplift signals are small and flexible models chase noise.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from core.optimize.evaluation import QiniResult, qini

LEARNERS = ("t", "x")
HELD_OUT_SHARE = 0.3


def _outcome_model(binary: bool):
    if binary:
        return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000))
    return make_pipeline(StandardScaler(), Ridge(alpha=10.0))


def _predict(model, x: np.ndarray, binary: bool) -> np.ndarray:
    return model.predict_proba(x)[:, 1] if binary else model.predict(x)


def _fit_arm(x, y, binary):
    if binary and len(np.unique(y)) < 2:  # an arm with no (or only) responders: a constant model
        constant = float(np.mean(y)) if len(y) else 0.0
        return _Constant(constant)
    return _outcome_model(binary).fit(x, y)


class _Constant:
    def __init__(self, value: float):
        self.value = value

    def predict_proba(self, x):
        return np.column_stack([np.full(len(x), 1 - self.value), np.full(len(x), self.value)])

    def predict(self, x):
        return np.full(len(x), self.value)


@dataclass
class UpliftModel:
    learner: str
    binary: bool
    control: object
    treated: object
    tau_control: object = None   # X-learner second stage
    tau_treated: object = None
    treated_share: float = 0.5

    def predict(self, x: np.ndarray) -> np.ndarray:
        if self.learner == "t":
            return _predict(self.treated, x, self.binary) - _predict(self.control, x, self.binary)
        g = self.treated_share
        return g * self.tau_control.predict(x) + (1 - g) * self.tau_treated.predict(x)


def fit(x: np.ndarray, treatment: np.ndarray, outcome: np.ndarray, learner: str = "t",
        binary: bool | None = None) -> UpliftModel:
    if learner not in LEARNERS:
        raise ValueError(f"Unknown learner {learner!r}; choose one of {', '.join(LEARNERS)}.")
    x = np.asarray(x, float)
    t = np.asarray(treatment, int)
    y = np.asarray(outcome, float)
    if t.min(initial=1) == t.max(initial=0):
        raise ValueError("Uplift needs treated and control units; only one arm was given.")
    if binary is None:
        binary = bool(np.isin(y, (0, 1)).all())
    control = _fit_arm(x[t == 0], y[t == 0], binary)
    treated = _fit_arm(x[t == 1], y[t == 1], binary)
    model = UpliftModel(learner, binary, control, treated, treated_share=float(t.mean()))
    if learner == "x":
        effect_treated = y[t == 1] - _predict(control, x[t == 1], binary)
        effect_control = _predict(treated, x[t == 0], binary) - y[t == 0]
        model.tau_treated = make_pipeline(StandardScaler(), Ridge(alpha=10.0)).fit(x[t == 1], effect_treated)
        model.tau_control = make_pipeline(StandardScaler(), Ridge(alpha=10.0)).fit(x[t == 0], effect_control)
    return model


def held_out_mask(keys: np.ndarray, share: float = HELD_OUT_SHARE, salt: int = 0) -> np.ndarray:
    """A deterministic split by unit key (e.g. member id): True for held-out units."""
    keys = np.asarray(keys).astype(np.uint64)
    mixed = (keys * np.uint64(0x9E3779B97F4A7C15) + np.uint64(salt)) & np.uint64(0xFFFFFFFFFFFFFFFF)
    mixed ^= mixed >> np.uint64(29)
    return (mixed % np.uint64(10_000)).astype(float) / 10_000 < share


@dataclass
class UpliftEvaluation:
    learner: str
    outcome: str
    train_units: int
    held_out_units: int
    average_effect: float        # difference in means on the held-out units (treated − control)
    qini: QiniResult

    def as_dict(self) -> dict:
        q = self.qini
        return {"learner": self.learner, "outcome": self.outcome, "train_units": self.train_units,
                "held_out_units": self.held_out_units, "average_effect": self.average_effect,
                "qini_coefficient": q.qini_coefficient, "qini_low": q.low, "qini_high": q.high,
                "qini_sklift": q.sklift_coefficient,
                "auuc": q.auuc, "auuc_random": q.auuc_random, "total_increment": q.total_increment}


def evaluate(x: np.ndarray, treatment: np.ndarray, outcome: np.ndarray, held_out: np.ndarray,
             learner: str = "t", outcome_name: str = "outcome", bootstrap: int = 200) -> UpliftEvaluation:
    """Fit on the training units, rank the held-out units by predicted uplift, and compare the
    Qini curve with random targeting (Qini coefficient 0)."""
    x, t, y = np.asarray(x, float), np.asarray(treatment, int), np.asarray(outcome, float)
    held_out = np.asarray(held_out, bool)
    model = fit(x[~held_out], t[~held_out], y[~held_out], learner)
    predicted = model.predict(x[held_out])
    result = qini(predicted, t[held_out], y[held_out], bootstrap=bootstrap)
    th, yh = t[held_out], y[held_out]
    effect = float(yh[th == 1].mean() - yh[th == 0].mean()) if (th == 1).any() and (th == 0).any() else float("nan")
    return UpliftEvaluation(learner, outcome_name, int((~held_out).sum()), int(held_out.sum()), effect, result)


@dataclass(frozen=True)
class SplitEvaluation:
    """Qini coefficients (both scales) over several held-out splits, each model refitted on
    bootstrap resamples of its training units: the spread includes which units were held out and
    the training variance, not only the held-out units' sampling (a fixed model's bootstrap)."""
    coefficients: np.ndarray     # splits × refits, our scale
    sklift: np.ndarray           # the same on scikit-uplift's scale

    def summary(self) -> dict:
        def describe(values):
            low, high = np.percentile(values, [5, 95])
            return {"median": float(np.median(values)), "low": float(low), "high": float(high)}
        return {"splits": int(self.coefficients.shape[0]), "refits": int(self.coefficients.shape[1]),
                "qini": describe(self.coefficients), "qini_sklift": describe(self.sklift), "interval": 0.9}


def evaluate_over_splits(x: np.ndarray, treatment: np.ndarray, outcome: np.ndarray, learner: str = "t",
                         splits: int = 5, refits: int = 8, share: float = HELD_OUT_SHARE, seed: int = 0) -> SplitEvaluation:
    """For each of `splits` held-out splits (salts 0..splits-1), `refits` models fitted on bootstrap
    resamples of the training units (the unit, e.g. a member, is the resampled cluster), each
    scored on the held-out units."""
    from core.optimize.evaluation import _areas, qini_coefficient_sklift, qini_curve

    x, t, y = np.asarray(x, float), np.asarray(treatment, int), np.asarray(outcome, float)
    rng = np.random.default_rng(seed)
    ours, theirs = np.empty((splits, refits)), np.empty((splits, refits))
    for s in range(splits):
        held_out = held_out_mask(np.arange(len(y)), share, salt=1_000 + 7_919 * s)
        train = np.flatnonzero(~held_out)
        for r in range(refits):
            pick = rng.choice(train, len(train))
            model = fit(x[pick], t[pick], y[pick], learner)
            predicted = model.predict(x[held_out])
            ours[s, r] = _areas(*qini_curve(predicted, t[held_out], y[held_out]))[2]
            theirs[s, r] = qini_coefficient_sklift(predicted, t[held_out], y[held_out])
    return SplitEvaluation(ours, theirs)


# --- the demo's experiments -------------------------------------------------------------------

FEATURES = ["log_other_sends", "other_open_rate", "other_click_rate", "other_conversion_rate",
            "tenure_days", "device_ios", "device_web"]


def member_features(outcomes: pd.DataFrame, members: pd.DataFrame, campaign_id: int, as_of) -> pd.DataFrame:
    """Pre-treatment features of members for one campaign's experiment: their behaviour in the
    *other* campaigns (never this one's outcomes), device and tenure."""
    other = outcomes[outcomes.campaign_id != campaign_id].groupby("member_id")[
        ["sends", "opens", "clicks", "conversions"]].sum()
    frame = members.set_index("member_id")[["device", "signup_at"]].join(other, how="left").fillna(
        {"sends": 0, "opens": 0, "clicks": 0, "conversions": 0})
    out = pd.DataFrame(index=frame.index)
    out["log_other_sends"] = np.log1p(frame.sends.astype(float))
    out["other_open_rate"] = (frame.opens + 0.5) / (frame.sends + 2.0)
    out["other_click_rate"] = (frame.clicks + 0.1) / (frame.opens + 1.0)
    out["other_conversion_rate"] = (frame.conversions + 0.05) / (frame.clicks + 1.0)
    out["tenure_days"] = (pd.Timestamp(as_of) - pd.to_datetime(frame.signup_at, utc=True)).dt.total_seconds() / 86400
    out["device_ios"] = (frame.device == "ios").astype(float)
    out["device_web"] = (frame.device == "web").astype(float)
    return out[FEATURES]


def experiment_uplift(units: pd.DataFrame, outcomes: pd.DataFrame, members: pd.DataFrame, as_of,
                      learner: str = "t", bootstrap: int = 100) -> list[dict]:
    """For every treatment variant of every experiment: uplift on clicking and on converting
    against the control, evaluated on held-out members. One dict per (test, variant, outcome)."""
    results = []
    sent = units[units.sends > 0]
    for (campaign_id, test_id), test in sent.groupby(["campaign_id", "test_id"]):
        controls = test[test.is_control]
        if controls.empty:
            continue
        features = member_features(outcomes, members, int(campaign_id), as_of)
        for variant in sorted(set(test.variant) - set(controls.variant)):
            arm = pd.concat([controls, test[test.variant == variant]])
            x = features.reindex(arm.member_id).to_numpy(float)
            t = (arm.variant == variant).to_numpy(int)
            held_out = held_out_mask(arm.member_id.to_numpy(), salt=int(test_id))
            for outcome_name, y in (("clicked", (arm.clicks > 0).to_numpy(float)),
                                    ("converted", (arm.conversions > 0).to_numpy(float))):
                if y[held_out].sum() < 5 or (t[held_out] == 1).sum() < 20 or (t[held_out] == 0).sum() < 20:
                    continue
                evaluation = evaluate(x, t, y, held_out, learner, outcome_name, bootstrap)
                q = evaluation.qini
                results.append({
                    "campaign_id": int(campaign_id), "test_id": int(test_id), "variant": str(variant),
                    "outcome": outcome_name, "learner": learner, "train_members": evaluation.train_units,
                    "held_out_members": evaluation.held_out_units, "qini_coefficient": q.qini_coefficient,
                    "qini_low": q.low, "qini_high": q.high, "auuc": q.auuc, "auuc_random": q.auuc_random,
                    "curve": {"share": np.round(q.curve_x, 4).tolist(), "qini": np.round(q.curve_q, 3).tolist(),
                              "average_effect": evaluation.average_effect, "qini_sklift": q.sklift_coefficient},
                })
    return results
