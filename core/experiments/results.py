"""A/B test results: per-variant summaries from PostgreSQL (now, and as of past UTC days), their
analysis by the statistics engine, and what the tracker says about them — the verdict, the
predicted winner with its probability, the sample-ratio and exposure checks, guardrails, sample
size reached against needed, the estimate over time, and the metrics export.

One function (analyze_test) serves the screen, the snapshot job and the tests, so what the job
alerts on is what the screen shows. Conventions:
- the primary metric decides; its p-values are Holm-adjusted across treatments (many
  variants); other metrics are shown for exploration (Holm within each metric), guardrails are
  one-sided checks that the metric did not get worse (core.experiments.stats.guardrail_check);
- sample-ratio mismatch is flagged when either the members reached per arm do not match the
  design weights (chi-square goodness of fit) or the share of assigned members who were reached
  differs between arms (chi-square test of homogeneity, more sensitive when assignments are
  recorded up front: losing some of one arm's members then shows even in small tests); both
  at the engine's alarm threshold p < 0.001;
- the sequential method's tuning N is the planned total sample size when the test has a plan,
  else the engine's default;
- the verdict comes from the test's pre-registered decision rule alone (its method, CUPED or
  not, correction, α, planned sample, guardrails: columns of ab_tests), in the words of
  core.experiments.verdicts; the method, CUPED and lift a person picks on the screen are other
  views of the same data and never change it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from core.platform.db import fetch_df
from core.experiments import stats, verdicts
from core.experiments.outcomes import OUTCOMES, PRE_PERIOD_DAYS, outcome
from core.experiments.stats.srm import SRM_P_VALUE_THRESHOLD
from core.experiments.tests_repo import DEFAULT_METHOD, get_test, rule_of, variants_of

METHODS = {"sequential": "Sequential", "frequentist": "Frequentist", "bayesian": "Bayesian"}
DEFAULT_SEQUENTIAL_TUNING = 5000
SUM_COLUMNS = ["n", "sum", "sum_squares", "pre_sum", "pre_sum_squares", "pre_sum_product"]
GROWTH_LOOKBACK_DAYS = 7  # traffic rate for the expected remaining days
BEST_ARM_DRAWS = 40_000
SRM_MIN_EXPECTED = 5  # the chi-square check judges the split once every arm expects this many members


# ----------------------------------------------------------------------------- summaries (SQL)


def _numeric(frame: pd.DataFrame) -> pd.DataFrame:
    for column in SUM_COLUMNS:
        frame[column] = pd.to_numeric(frame[column]).astype(float) if len(frame) else pd.Series(dtype=float)
    return frame


def current_summary(db, test_id: int, as_of: datetime | None = None) -> pd.DataFrame:
    """variant, metric, n, sums… of every outcome as of now (to the test's end), or as of a past
    moment (members reached and binary outcomes exact then; totals are as of now)."""
    return _numeric(fetch_df(db, "ab_summary", test_id=int(test_id), pre_days=PRE_PERIOD_DAYS, as_of=as_of))


def complete(summary: pd.DataFrame, variants: list[str], metrics: list[str]) -> pd.DataFrame:
    """Every variant × metric present (arms nobody reached yet get n = 0)."""
    grid = pd.MultiIndex.from_product([metrics, variants], names=["metric", "variant"]).to_frame(index=False)
    out = grid.merge(summary[["metric", "variant", *SUM_COLUMNS]], on=["metric", "variant"], how="left")
    return out.fillna({c: 0.0 for c in SUM_COLUMNS})


def utc_day_end(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=timezone.utc)


def days_of_test(test: pd.Series, now: datetime) -> list[date]:
    """UTC days from the test's start to today (or to its end)."""
    if test.started_at is None or pd.isna(test.started_at):
        return []
    last = pd.Timestamp(test.ended_at if pd.notna(test.ended_at) else now).tz_convert("UTC").date()
    first = pd.Timestamp(test.started_at).tz_convert("UTC").date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def daily_binary_summaries(db, test: pd.Series, first_day: date, last_day: date) -> pd.DataFrame:
    """Binary outcomes' summaries as of the end of each UTC day (exact, cumulative)."""
    frame = fetch_df(db, "ab_daily_summary", test_id=int(test.test_id), pre_days=PRE_PERIOD_DAYS,
                     first_day=first_day, last_day=last_day)
    frame["snapshot_date"] = pd.to_datetime(frame.snapshot_date).dt.date if len(frame) else []
    return _numeric(frame)


def daily_summaries(db, test: pd.Series, days: list[date], now: datetime) -> pd.DataFrame:
    """Summaries for these UTC days: past days as of their end (binary outcomes only — totals
    are not known for the past); the test's last day (today, or its end) as of now, with totals."""
    columns = ["snapshot_date", "as_of", "metric", "variant", *SUM_COLUMNS]
    if not days:
        return pd.DataFrame(columns=columns)
    last = days_of_test(test, now)[-1]
    parts = []
    past = [day for day in days if day < last]
    if past:
        daily = daily_binary_summaries(db, test, min(past), max(past))
        daily = daily[daily.snapshot_date.isin(past)]
        parts.append(daily.assign(as_of=daily.snapshot_date.map(utc_day_end)))
    if last in days:
        parts.append(current_summary(db, int(test.test_id)).assign(snapshot_date=last, as_of=now))
    return pd.concat(parts, ignore_index=True)[columns]


# ----------------------------------------------------------------------------- analysis


@dataclass
class TrackerResults:
    test: pd.Series
    variants: pd.DataFrame
    control: str
    method: str
    cuped: bool
    difference: str
    summary: pd.DataFrame                       # metric × variant sums, now
    ready: bool = False
    problem: str | None = None
    analysis: pd.DataFrame = field(default_factory=pd.DataFrame)     # metric × treatment
    guardrails: pd.DataFrame = field(default_factory=pd.DataFrame)
    srm_p_value: float | None = None
    exposure: pd.DataFrame = field(default_factory=pd.DataFrame)     # variant, assigned, reached
    exposure_p_value: float | None = None
    srm_detected: bool = False
    n_per_arm: pd.Series = field(default_factory=pd.Series)
    needed_per_arm: int | None = None
    members_per_day_smallest_arm: float | None = None
    expected_days_left: float | None = None
    best_probability: pd.Series = field(default_factory=pd.Series)  # variant -> P(best)
    decision: verdicts.Verdict = verdicts.Verdict(verdicts.KEEP_RUNNING, "keep running — not analysed yet")
    rule_analysis: pd.DataFrame = field(default_factory=pd.DataFrame)  # the rule's primary-metric rows
    current_needed_per_arm: int | None = None   # the plan recomputed at today's control baseline
    srm_judgeable: bool = False
    as_of: datetime | None = None               # the moment the data describe (None: now, live)

    @property
    def verdict(self) -> str:
        return self.decision.text

    @property
    def rule_method(self) -> str:
        return rule_of(self.test)["method"]

    @property
    def primary(self) -> str:
        return str(self.test.primary_metric)

    @property
    def primary_rows(self) -> pd.DataFrame:
        return self.analysis[self.analysis.metric == self.primary] if len(self.analysis) else self.analysis

    @property
    def predicted_winner(self) -> tuple[str, float] | tuple[None, None]:
        if self.best_probability.empty or self.srm_detected:  # a broken split predicts nothing
            return None, None
        return str(self.best_probability.idxmax()), float(self.best_probability.max())

    @property
    def smallest_arm(self) -> int:
        return int(self.n_per_arm.min()) if len(self.n_per_arm) else 0

    @property
    def verdict_kind(self) -> str:
        return verdicts.style(self.verdict)

    @property
    def ready_for_decision(self) -> bool:
        """The rule reached a conclusion: a winner, a loser, or no difference at full sample."""
        return self.decision.decided


def metrics_of(test: pd.Series) -> tuple[list[str], list[str], list[str]]:
    """(primary, guardrails, others) metric keys of a test."""
    primary = [str(test.primary_metric)]
    guardrails = [g for g in list(test.guardrail_metrics or []) if g in OUTCOMES and g not in primary]
    others = [m for m in OUTCOMES if m not in primary and m not in guardrails]
    return primary, guardrails, others


def sequential_tuning(test: pd.Series, arms: int) -> float:
    planned = test.get("planned_per_arm")
    return float(planned) * arms if planned is not None and pd.notna(planned) else DEFAULT_SEQUENTIAL_TUNING


def analyze_metrics(frame: pd.DataFrame, metrics: list[str], control: str, method: str, difference: str,
                    alpha: float, cuped: bool, tuning: float, correction: str = "holm") -> pd.DataFrame:
    """Analyse every metric of a completed summary (one engine call per statistical kind);
    p-values Holm-adjusted across treatments within each metric (unless correction is "none")."""
    adjust = method != "bayesian" and correction == "holm"
    parts = []
    for kind in ("binomial", "mean"):
        keys = [m for m in metrics if outcome(m).kind == kind]
        if not keys:
            continue
        rows = frame[frame.metric.isin(keys)].assign(comparison=lambda f: f.metric, family=lambda f: f.metric)
        result = stats.analyze(rows, metric=kind, control=control, method=method, difference=difference,
                               alpha=alpha, cuped=cuped, sequential_tuning=tuning,
                               correction="holm" if adjust else None,
                               correction_by="family" if adjust else None)
        parts.append(result.rename(columns={"comparison": "metric"}))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def exposure_check(exposure: pd.DataFrame) -> float | None:
    """p-value that the share of assigned members reached is the same in every arm."""
    if exposure.empty or len(exposure) < 2:
        return None
    table = np.column_stack([exposure.reached, exposure.assigned - exposure.reached]).astype(float)
    if (table.sum(axis=0) == 0).any() or (table.sum(axis=1) == 0).any():
        return None  # everyone (or nobody) reached: nothing to compare
    return float(scipy_stats.chi2_contingency(table, correction=False).pvalue)


def best_arm_probability(frame: pd.DataFrame, kind: str, higher_is_better: bool, seed: int = 0) -> pd.Series:
    """P(each arm has the best true mean) under independent normal posteriors of the arm means
    (flat prior, raw means). For two arms this is the chance to win."""
    n = frame.n.to_numpy(float)
    mean = frame["sum"].to_numpy(float) / n
    if kind == "binomial":
        smoothed = (frame["sum"].to_numpy(float) + 1) / (n + 2)
        degenerate = (mean == 0) | (mean == 1)
        variance = np.where(degenerate, smoothed * (1 - smoothed), mean * (1 - mean))
    else:
        variance = np.maximum((frame.sum_squares.to_numpy(float) - n * mean**2) / (n - 1), 0)
    draws = np.random.default_rng(seed).normal(mean, np.sqrt(variance / n), size=(BEST_ARM_DRAWS, len(n)))
    best = (draws if higher_is_better else -draws).argmax(axis=1)
    return pd.Series(np.bincount(best, minlength=len(n)) / BEST_ARM_DRAWS, index=frame.variant.to_numpy())


def planned_per_arm(test: pd.Series) -> int | None:
    """The sample per arm fixed at planning (stored with the test), if it has one."""
    return rule_of(test)["planned_per_arm"]


def estimated_per_arm(test: pd.Series, control_row: pd.Series, arms: int) -> int | None:
    """The plan for the test's MDE recomputed at the control's observed baseline (it moves with
    the data; shown beside the stored plan, used only by tests that have none)."""
    kind = outcome(str(test.primary_metric)).kind
    n = float(control_row.n)
    if n < 2:
        return None
    baseline = float(control_row["sum"]) / n
    sd = None
    if kind == "mean":
        sd = float(np.sqrt(max((control_row.sum_squares - n * baseline**2) / max(n - 1, 1), 0)))
    try:
        return int(stats.required_sample_size(baseline, float(test.minimum_detectable_effect), alpha=float(test.alpha),
                                              metric=kind, sd=sd, variants=arms))
    except ValueError:
        return None


def analyze_test(db, test_id: int, method: str | None = None, cuped: bool | None = None,
                 difference: str = "relative", now: datetime | None = None,
                 as_of: datetime | None = None) -> TrackerResults:
    """Everything the tracker says about one test, from the current per-member state, or as the
    data stood at `as_of` (a past moment: what the rule said then, e.g. when the system records
    a past decision). The verdict is the test's rule's; method and cuped (by default the rule's)
    choose the view."""
    return analyze_inputs(live_inputs(db, test_id, now=now, as_of=as_of), method, cuped, difference)


def view_of(rule: dict, method: str | None, cuped: bool | None) -> tuple[str, bool]:
    """The view's method and CUPED setting (the rule's where not given)."""
    method = rule["method"] if method is None else method
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}.")
    return method, rule["cuped"] if cuped is None else cuped


def lookback_start(test: pd.Series, end: pd.Timestamp) -> pd.Timestamp | None:
    """The start of the traffic-rate window (members reached per day) ending at `end`."""
    if pd.isna(test.started_at):
        return None
    return max(pd.Timestamp(test.started_at), end - pd.Timedelta(days=GROWTH_LOOKBACK_DAYS))


def current_exposure(db, test_id: int, end: pd.Timestamp, lookback_from: pd.Timestamp | None,
                     as_of: datetime | None = None) -> pd.DataFrame:
    """Members assigned and reached per variant, now (or as of `as_of`), and reached by the
    start of the traffic-rate window."""
    return fetch_df(db, "ab_assigned_counts", test_id=int(test_id), before=(lookback_from or end).to_pydatetime(),
                    as_of=as_of)


@dataclass
class AnalysisInputs:
    """What one test's analysis reads from the database, whatever the view: the test, its
    variants, the per-variant sums, the exposure, the data's end and traffic window, and when
    the snapshot job stored them (None: read live). A few rows whatever the number of members."""
    test: pd.Series
    variants: pd.DataFrame
    raw: pd.DataFrame
    exposure: pd.DataFrame
    end: pd.Timestamp
    lookback_from: pd.Timestamp | None
    as_of: datetime | None = None


def stored_inputs(db, test_id: int) -> AnalysisInputs | None:
    """The inputs the snapshot job stored at its last run, or None when there are none to use:
    the job has not analysed the test yet, or the test ended after that run (its data then end
    at its end, not at the snapshot)."""
    stored = fetch_df(db, "ab_results_stored", test_id=int(test_id))
    if stored.empty:
        return None
    test = get_test(db, test_id)
    as_of = pd.Timestamp(stored.as_of.iloc[0])
    if pd.notna(test.ended_at) and pd.Timestamp(test.ended_at) > as_of:
        return None
    exposure = pd.DataFrame(stored.exposure.iloc[0], columns=["variant", "assigned", "reached", "reached_before"])
    lookback = stored.lookback_from.iloc[0]
    return AnalysisInputs(test, variants_of(db, test_id),
                          _numeric(stored.drop(columns=["as_of", "exposure", "lookback_from"])), exposure, as_of,
                          pd.Timestamp(lookback) if pd.notna(lookback) else None, as_of.to_pydatetime())


def live_inputs(db, test_id: int, now: datetime | None = None, as_of: datetime | None = None) -> AnalysisInputs:
    """The inputs as the data stand now (to the test's end), or as they stood at `as_of`."""
    now = as_of or now or datetime.now(timezone.utc)
    test = get_test(db, test_id)
    end = pd.Timestamp(test.ended_at if pd.notna(test.ended_at) else now)
    if as_of is not None:
        end = min(end, pd.Timestamp(as_of))
    lookback_from = lookback_start(test, end)
    return AnalysisInputs(test, variants_of(db, test_id), current_summary(db, test_id, as_of=as_of),
                          current_exposure(db, test_id, end, lookback_from, as_of=as_of), end, lookback_from)


def screen_inputs(db, test_id: int) -> AnalysisInputs:
    """The results screen's inputs: the snapshot job's last stored ones (`as_of` says when) when
    it has some for the test as it stands, else the live ones."""
    return stored_inputs(db, test_id) or live_inputs(db, test_id)


def analyze_inputs(inputs: AnalysisInputs, method: str | None = None, cuped: bool | None = None,
                   difference: str = "relative") -> TrackerResults:
    """One view (method, CUPED, lift; the rule's where not given) of a test's inputs: the screen
    reads the inputs once and each view from them, so switching views reads nothing again."""
    method, cuped = view_of(rule_of(inputs.test), method, cuped)
    results = analyze_summary(inputs.test, inputs.variants, inputs.raw, inputs.exposure, method, cuped, difference,
                              inputs.end, inputs.lookback_from)
    results.as_of = inputs.as_of
    return results


def analyze_stored(db, test_id: int, method: str | None = None, cuped: bool | None = None,
                   difference: str = "relative") -> TrackerResults | None:
    """What analyze_test says, from the inputs the snapshot job stored at its last run
    (stored_inputs), or None when there are none to use. The job analyses exactly these
    inputs, so its verdict and alerts are what this shows."""
    inputs = stored_inputs(db, test_id)
    return None if inputs is None else analyze_inputs(inputs, method, cuped, difference)


def analyze_for_screen(db, test_id: int, method: str | None = None, cuped: bool | None = None,
                       difference: str = "relative") -> TrackerResults:
    """The results screen's analysis (screen_inputs, then the view)."""
    return analyze_inputs(screen_inputs(db, test_id), method, cuped, difference)


def analyze_summary(test: pd.Series, variants: pd.DataFrame, raw: pd.DataFrame, exposure: pd.DataFrame,
                    method: str, cuped: bool, difference: str, end: pd.Timestamp,
                    lookback_from: pd.Timestamp | None = None) -> TrackerResults:
    """The analysis of a current summary (see analyze_test); `end` is now, or the test's end."""
    names = variants.variant.tolist()
    control = str(variants.loc[variants.is_control, "variant"].iloc[0]) if variants.is_control.any() else names[0]
    rule = rule_of(test)
    ended = str(test.status) in ("stopped", "completed")
    primary, guardrails, others = metrics_of(test)
    # Secondary outcomes nobody in any arm has (e.g. revenue of a data set without money) are noise.
    active = set(raw.loc[raw["sum"] != 0, "metric"]) if len(raw) else set()
    others = [m for m in others if m in active]
    metrics = primary + guardrails + others
    current = complete(raw, names, metrics)
    results = TrackerResults(test=test, variants=variants, control=control, method=method, cuped=cuped,
                          difference=difference, summary=current)
    primary_frame = current[current.metric == primary[0]].set_index("variant").loc[names].reset_index()
    results.n_per_arm = pd.Series(primary_frame.n.to_numpy(int), index=names)
    control_row = primary_frame.set_index("variant").loc[control]
    results.current_needed_per_arm = estimated_per_arm(test, control_row, len(names))
    results.needed_per_arm = rule["planned_per_arm"] or results.current_needed_per_arm

    exposure = exposure.set_index("variant").reindex(names).fillna(0).reset_index() if len(exposure) else exposure
    results.exposure = exposure
    results.exposure_p_value = exposure_check(exposure)
    shares = variants.weight.to_numpy(float) / variants.weight.sum()
    results.srm_judgeable = bool(results.n_per_arm.sum() * shares.min() >= SRM_MIN_EXPECTED)
    if results.n_per_arm.sum() > 0:
        results.srm_p_value = float(stats.srm_check(results.n_per_arm.to_numpy(float), variants.weight.to_numpy(float)).p_value)
    results.srm_detected = any(p is not None and p < SRM_P_VALUE_THRESHOLD
                               for p in (results.srm_p_value, results.exposure_p_value))

    if results.n_per_arm.min() < 2:
        waiting = ", ".join(f"{v} ({n})" for v, n in results.n_per_arm.items() if n < 2)
        results.problem = f"Waiting for members: every arm needs at least 2 reached members; so far {waiting}."
        results.decision = verdicts.waiting(ended, results.srm_detected)
        return results

    tuning = sequential_tuning(test, len(names))
    alpha = float(test.alpha)
    results.analysis = analyze_metrics(current, metrics, control, method, difference, alpha, cuped, tuning)
    results.analysis["role"] = np.where(results.analysis.metric == primary[0], "primary",
                                        np.where(results.analysis.metric.isin(guardrails), "guardrail", "secondary"))
    # The rule's own analysis of the primary metric (the view's when they coincide).
    if (method, cuped, difference, rule["correction"]) == (rule["method"], rule["cuped"], "relative", "holm"):
        results.rule_analysis = results.primary_rows
    else:
        results.rule_analysis = analyze_metrics(current, primary, control, rule["method"], "relative", alpha,
                                                rule["cuped"], tuning, rule["correction"])
    checks = []
    for guardrail in guardrails:
        spec = outcome(guardrail)
        rows = current[current.metric == guardrail]
        checked = stats.guardrail_check(rows, metric=spec.kind, control=control, margin=0.0,
                                        higher_is_better=spec.higher_is_better, method=rule["method"],
                                        difference="absolute", alpha=alpha, cuped=rule["cuped"],
                                        sequential_tuning=tuning)
        checks.append(checked.assign(metric=guardrail))
    results.guardrails = pd.concat(checks, ignore_index=True) if checks else pd.DataFrame()
    breached = sorted(set(results.guardrails.loc[results.guardrails.breached, "metric"])) if checks else []

    spec = outcome(primary[0])
    results.best_probability = best_arm_probability(primary_frame, spec.kind, spec.higher_is_better)

    smallest = results.n_per_arm.idxmin()
    if lookback_from is not None and len(exposure):
        before = float(exposure.set_index("variant").reached_before.get(smallest, 0))
        window = (end - lookback_from).total_seconds() / 86400
        if window >= 0.5:
            results.members_per_day_smallest_arm = max(float(results.n_per_arm[smallest]) - before, 0.0) / window
    if results.needed_per_arm is not None and results.members_per_day_smallest_arm is not None:
        results.expected_days_left = float(stats.expected_days(results.needed_per_arm, results.smallest_arm,
                                                               results.members_per_day_smallest_arm))
    results.decision = verdicts.from_engine(stats.verdict(
        results.rule_analysis, srm_detected=results.srm_detected, guardrails_breached=breached,
        needed_per_arm=results.needed_per_arm, higher_is_better=spec.higher_is_better), ended=ended)
    return results


def rule_days(db, test_id: int, until: datetime):
    """What the test's rule said as of the end of every UTC day from its start to `until`, day
    by day (a dict per day: as_of, verdict, kind, winner, srm_detected, members), from the exact
    daily summaries — so only for tests whose primary metric and guardrails are binary outcomes
    (their past is known exactly). Each day is read as if the test were still running then."""
    test = get_test(db, test_id)
    rule = rule_of(test)
    metrics = [rule["primary_metric"], *rule["guardrails"]]
    if any(outcome(m).kind != "binomial" for m in metrics):
        raise ValueError(f"Test {test_id}'s rule reads totals, whose past is not kept; only binary outcomes "
                         "can be judged as of a past day.")
    variants = variants_of(db, test_id)
    days = [day for day in days_of_test(test, until) if utc_day_end(day) <= pd.Timestamp(until)]
    if not days:
        return
    daily = daily_binary_summaries(db, test, days[0], days[-1])
    daily = daily[daily.metric.isin(metrics)]  # the rule reads nothing else
    assigned = fetch_df(db, "ab_assigned_counts", test_id=int(test_id), before=until, as_of=until)[["variant", "assigned"]]
    for day in days:
        at = pd.Timestamp(utc_day_end(day))
        raw = daily[daily.snapshot_date == day]
        reached = raw[raw.metric == rule["primary_metric"]].set_index("variant").n.rename("reached")
        exposure = assigned.set_index("variant").join(reached).fillna({"reached": 0}).reset_index()
        exposure["reached_before"] = 0.0  # the traffic rate is not needed for the verdict
        then = test.copy()
        if pd.isna(test.ended_at) or at < pd.Timestamp(test.ended_at):
            then["status"], then["ended_at"] = "running", pd.NaT
        said = analyze_summary(then, variants, raw, exposure, rule["method"], rule["cuped"], "relative", at)
        yield {"as_of": at.to_pydatetime(), "verdict": said.verdict, "kind": said.decision.kind,
               "winner": said.decision.winner, "srm_detected": bool(said.srm_detected),
               "members": int(said.n_per_arm.sum())}


def rule_by_day(db, test_id: int, until: datetime) -> pd.DataFrame:
    """rule_days as a table, one row per day."""
    return pd.DataFrame(list(rule_days(db, test_id, until)),
                        columns=["as_of", "verdict", "kind", "winner", "srm_detected", "members"])


# ----------------------------------------------------------------------------- tables


def metrics_table(results: TrackerResults) -> pd.DataFrame:
    """One row per metric and variant (control included): the variant table and the CSV export."""
    rows = []
    analysis = results.analysis.set_index(["metric", "variant"]) if len(results.analysis) else None
    roles = {results.primary: "primary", **{g: "guardrail" for g in metrics_of(results.test)[1]}}
    for metric, group in results.summary.groupby("metric", sort=False):
        spec = outcome(metric)
        for record in group.itertuples():
            row = {"metric": metric, "metric_label": spec.label, "role": roles.get(metric, "secondary"),
                   "unit": spec.unit, "variant": record.variant, "is_control": record.variant == results.control,
                   "n": int(record.n), "mean": record.sum / record.n if record.n else np.nan,
                   "method": results.method, "difference": results.difference}
            if analysis is not None and (metric, record.variant) in analysis.index:
                found = analysis.loc[(metric, record.variant)]
                for column in ("estimate", "ci_low", "ci_high", "p_value", "adjusted_p_value", "chance_to_win",
                               "risk_control", "risk_treatment", "significant"):
                    if column in found.index:
                        row[column] = found[column]
            rows.append(row)
    order = {"primary": 0, "guardrail": 1, "secondary": 2}
    table = pd.DataFrame(rows)
    return table.sort_values(["role", "metric"], key=lambda c: c.map(order) if c.name == "role" else c,
                             kind="stable").reset_index(drop=True)


def export_frame(results: TrackerResults) -> pd.DataFrame:
    """The metrics table as CSV columns with their units in the names."""
    table = metrics_table(results)
    columns = [c for c in ["metric", "role", "unit", "variant", "is_control", "n", "mean", "estimate", "ci_low",
                           "ci_high", "p_value", "adjusted_p_value", "chance_to_win", "risk_control",
                           "risk_treatment", "method", "difference"] if c in table]
    out = table[columns].copy()
    out.insert(0, "test_id", int(results.test.test_id))
    out.insert(1, "test", str(results.test["name"]))
    out.insert(2, "verdict", results.verdict)           # the rule's, whatever view is exported
    out.insert(3, "decision_method", results.rule_method)
    # The exports' one convention: rates as fractions (0.123, not 12.3), the unit of every value named.
    out["unit"] = out["unit"].replace({"%": "fraction"})
    lift = "lift_relative" if results.difference == "relative" else "lift_absolute"
    if "estimate" in out:
        out.insert(out.columns.get_loc("estimate"), "lift_unit",
                   "fraction of control's mean" if results.difference == "relative" else out["unit"])
    return out.rename(columns={"unit": "mean_unit", "mean": "mean_per_member", "estimate": lift,
                               "ci_low": f"{lift}_ci_low", "ci_high": f"{lift}_ci_high"})


# ----------------------------------------------------------------------------- over time


def snapshot_history(db, test_id: int) -> pd.DataFrame:
    return _numeric(fetch_df(db, "ab_snapshots_read", test_id=int(test_id)))


def history(db, test_id: int, metric: str, now: datetime | None = None) -> pd.DataFrame:
    """Daily summaries of one metric: the stored snapshots, and — for binary outcomes, which are
    exact as of any past day — the days the snapshot job has not stored (yet), computed now."""
    now = now or datetime.now(timezone.utc)
    test = get_test(db, test_id)
    stored = snapshot_history(db, test_id)
    stored = stored[stored.metric == metric]
    days = days_of_test(test, now)
    missing = sorted(set(days) - set(stored.snapshot_date))
    if missing and outcome(metric).kind == "binomial":
        live = daily_binary_summaries(db, test, missing[0], missing[-1])
        live = live[(live.metric == metric) & live.snapshot_date.isin(missing)]
        stored = pd.concat([stored, live], ignore_index=True)
    return stored.sort_values(["snapshot_date", "variant"]).reset_index(drop=True)


def estimate_over_time(test: pd.Series, variants: pd.DataFrame, daily: pd.DataFrame, metric: str,
                       method: str = DEFAULT_METHOD, cuped: bool = True,
                       difference: str = "relative") -> pd.DataFrame:
    """The estimate and interval of every treatment on every day where all arms have members."""
    if daily.empty:
        return pd.DataFrame()
    names = variants.variant.tolist()
    control = str(variants.loc[variants.is_control, "variant"].iloc[0])
    frame = daily[daily.variant.isin(names)].copy()
    arms = frame.groupby("snapshot_date").agg(arms=("variant", "nunique"), smallest=("n", "min"))
    usable = arms.index[(arms.arms == len(names)) & (arms.smallest >= 2)]
    frame = frame[frame.snapshot_date.isin(usable)]
    if frame.empty:
        return pd.DataFrame()
    frame["comparison"] = frame.snapshot_date
    result = stats.analyze(frame, metric=outcome(metric).kind, control=control, method=method,
                           difference=difference, alpha=float(test.alpha), cuped=cuped,
                           sequential_tuning=sequential_tuning(test, len(names)))
    totals = frame.groupby("snapshot_date").n.sum()
    result = result.rename(columns={"comparison": "snapshot_date"})
    result["members"] = result.snapshot_date.map(totals).astype(int)
    return result
