"""One retrain: read a consistent snapshot, evaluate every model on held-out data, fit it on all
data, build the recommendation cards, and publish — atomically.

The retrain holds the "retrain" advisory lock on its own session for the whole run, so a second
worker skips instead of training twice. It uses three steps on that session, and never keeps a
transaction open while it computes: a transaction holds its table locks (ACCESS SHARE on events,
its partitions and the rollups) until it ends, and a lock request queued behind a long holder —
a new partition for events, say — makes the roller and the event writers queue behind it too.
1. Inputs: one REPEATABLE READ, read-only transaction, so every model sees one snapshot of the
   events; it ends as soon as the reads are done.
2. Models and cards: no transaction at all (minutes of CPU).
3. Publish: the new run's outputs, the expiry of the old proposals, the new cards and the
   pointer flip in one short transaction. A failure rolls all of it back: the app keeps reading
   the previous run.
Progress is reported as (fraction done, message).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
from sqlalchemy import Engine, text

from core.access import audit
from core.access.auth import SYSTEM, User, action
from core.platform.jobs import JobOutput, exclusive_session, worker_name
from core.optimize import affinity, economics, inputs, offers, recommendations, segments, send_time, store, uplift

LOCK_NAME = "retrain"
MIN_MEMBERS_WITH_SENDS = 50  # below this there is nothing to learn from; the retrain skips
CARD_LIFETIME = timedelta(days=1)
Z90 = 1.6448536269514722


@dataclass
class TrainingOutcome:
    run_id: int | None
    skipped: bool
    seconds: float
    detail: str
    metrics: dict = field(default_factory=dict)
    recommendations: int = 0
    realised_measured: int | None = None  # applied cards re-measured after the run (train_now)


def _stage(progress, start: float, end: float):
    """A progress callback for one stage, mapped onto [start, end] of the whole retrain."""
    def report(fraction: float, message: str) -> None:
        progress(start + (end - start) * max(0.0, min(1.0, fraction)), message)
    return report


def retrain(db: Engine, as_of: datetime | None = None, progress=None, trained_by: str | None = None,
            lookback_days: int = inputs.DEFAULT_LOOKBACK_DAYS, holdout_days: int = inputs.DEFAULT_HOLDOUT_DAYS,
            seed: int = 0) -> TrainingOutcome:
    say = progress or (lambda fraction, message: None)
    started = time.monotonic()
    started_at = datetime.now(timezone.utc)
    with exclusive_session(db, LOCK_NAME) as conn:
        if conn is None:
            return TrainingOutcome(None, True, time.monotonic() - started, "another worker is retraining")
        with conn.execution_options(isolation_level="REPEATABLE READ").begin():
            conn.execute(text("SET TRANSACTION READ ONLY"))
            latest = inputs.latest_event_time(conn)
            if latest is None:
                return TrainingOutcome(None, True, time.monotonic() - started, "no events yet: nothing to train on")
            end = as_of or (pd.Timestamp(latest).ceil("min") + pd.Timedelta(minutes=1)).to_pydatetime()
            window = inputs.Window.ending(end, lookback_days, holdout_days)
            data = inputs.load(conn, window, progress=lambda m: say(0.02, m))
            previous_segments = store.segments(conn)
        reached = data.send_cells.member_id.nunique()
        if reached < MIN_MEMBERS_WITH_SENDS:
            return TrainingOutcome(None, True, time.monotonic() - started,
                                   f"only {reached} members were sent anything in the last "
                                   f"{lookback_days} days; at least {MIN_MEMBERS_WITH_SENDS} are needed to train")
        results = build(data, previous_segments, _stage(say, 0.1, 0.95), seed=seed)
        results.started_at = started_at
        results.seconds = time.monotonic() - started
        results.trained_by = trained_by or worker_name()
        say(0.96, f"writing {len(results.recommendations)} recommendations and the model outputs")
        with conn.execution_options(isolation_level="READ COMMITTED").begin():
            run_id = store.write_run(conn, results)
    seconds = time.monotonic() - started
    say(1.0, f"run {run_id} published in {seconds:.1f}s")
    return TrainingOutcome(run_id, False, seconds, f"run {run_id}: {len(results.recommendations)} recommendations",
                           results.metrics, len(results.recommendations))


def build(data: inputs.TrainingInputs, previous_segments: pd.DataFrame | None, progress, seed: int = 0) -> store.RunResults:
    """Every model's evaluation, fit and output, and the cards — no database access."""
    rng = np.random.default_rng(seed)
    timings: dict[str, float] = {}
    metrics: dict = {"window": {"since": data.window.since, "as_of": data.window.as_of,
                                "holdout_from": data.window.holdout_from, "half_life_days": data.window.half_life_days}}
    categories = sorted(data.offers.category.unique())
    members = data.members

    clock = time.monotonic()
    cells = data.send_cells
    train_cells = cells[~cells.held_out]
    progress(0.0, "send time: fitting on the weeks before the held-out split")
    held_out_fit = send_time.fit(train_cells, members, _stage(progress, 0.0, 0.15))
    check = send_time.evaluate_held_out(held_out_fit, cells[cells.held_out])
    progress(0.16, "send time: fitting on all weeks")
    timing = send_time.fit(cells, members, _stage(progress, 0.16, 0.26), start=held_out_fit)
    progress(0.26, "send time: member-clustered bootstrap refits (the cards' model uncertainty)")
    timing_refits = send_time.bootstrap_fits(cells, members, timing, seed=seed, progress=_stage(progress, 0.26, 0.3))
    metrics["send_time"] = {"held_out": check.as_dict(), "kernel": timing.kernel.round(4).tolist(),
                            "iterations": timing.iterations, "personal_share": float(timing.personal.mean()),
                            "members": int(len(timing.member_ids)), "responsiveness_strength": timing.gamma_strength}
    timings["send_time"] = time.monotonic() - clock

    clock = time.monotonic()
    progress(0.31, "affinity: hit rate at 3 on the held-out weeks")
    affinity_check = affinity.evaluate_held_out(data.category_engagement, members, categories)
    fitted_affinity = affinity.fit(data.category_engagement, members, categories)
    metrics["affinity"] = {"held_out": affinity_check.as_dict(), "click_strength": fitted_affinity.click_strength,
                           "conversion_strength": fitted_affinity.conversion_strength,
                           "half_life_days": data.window.half_life_days}
    timings["affinity"] = time.monotonic() - clock

    clock = time.monotonic()
    progress(0.36, "offers: fitting the conversion model with a campaign bootstrap")
    feature_values = (members.segment.unique(), data.campaigns.channel.unique(), categories, members.device.unique())
    offer_cells = offers.training_cells(data.outcomes, members, data.campaigns, data.offers)
    offer_model = offers.fit(offer_cells, data.conversion_values, *feature_values, seed=seed,
                             progress=_stage(progress, 0.36, 0.5))
    offer_check = offers.evaluate_held_out_campaigns(offer_cells, *feature_values)
    effects = offer_model.reward_type_effect()
    metrics["offers"] = {"held_out_campaigns": offer_check.as_dict(), "reward_type_effect": effects.to_dict("records"),
                         "bootstrap": len(offer_model.boot_click)}
    scores, profit_draws, scores_by_campaign = [], {}, {}
    for campaign in data.campaigns.itertuples():
        audience = _campaign_audience(data, campaign, members)
        if audience.empty:
            continue
        frame, profit = offers.score_offers(offer_model, campaign, data.offers, offers.audience_groups(audience))
        scores.append(frame)
        scores_by_campaign[int(campaign.campaign_id)] = frame
        profit_draws[int(campaign.campaign_id)] = (frame.offer_id.to_numpy(), profit)
    offer_scores = pd.concat(scores, ignore_index=True) if scores else pd.DataFrame()
    # Cross-fitting for the cards: one half of the members chooses (which offer, which segment to
    # add), the other half, with its campaign bootstrap, estimates the chosen change's effect.
    progress(0.5, "offers: the selection and estimation halves for the cards")
    half = offers.member_half(data.outcomes.member_id)
    select_model = offers.fit(offers.training_cells(data.outcomes[half == 0], members, data.campaigns, data.offers),
                              data.conversion_values, *feature_values, bootstrap=0, seed=seed)
    estimate_model = offers.fit(offers.training_cells(data.outcomes[half == 1], members, data.campaigns, data.offers),
                                data.conversion_values, *feature_values, seed=seed + 1,
                                progress=_stage(progress, 0.5, 0.54))
    offer_select, offer_estimate = {}, {}
    for campaign in data.campaigns.itertuples():
        audience = _campaign_audience(data, campaign, members)
        if audience.empty:
            continue
        groups = offers.audience_groups(audience)
        chosen, chosen_profit = offers.score_offers(select_model, campaign, data.offers, groups)
        offer_select[int(campaign.campaign_id)] = (chosen.offer_id.to_numpy(), chosen_profit[0])
        measured, measured_profit = offers.score_offers(estimate_model, campaign, data.offers, groups)
        offer_estimate[int(campaign.campaign_id)] = (measured.offer_id.to_numpy(), measured_profit)
    timings["offers"] = time.monotonic() - clock

    clock = time.monotonic()
    progress(0.55, "uplift: T-learner on each experiment, Qini on held-out members")
    uplift_rows = uplift.experiment_uplift(data.experiment_units, data.outcomes, members, data.window.as_of)
    uplift_frame = pd.DataFrame(uplift_rows)
    metrics["uplift"] = [{**{k: r[k] for k in ("campaign_id", "test_id", "variant", "outcome", "held_out_members",
                                               "qini_coefficient", "qini_low", "qini_high")},
                          "qini_sklift": r["curve"].get("qini_sklift")} for r in uplift_rows]
    timings["uplift"] = time.monotonic() - clock

    clock = time.monotonic()
    progress(0.62, "segments: choosing the number of clusters")
    # Cross-fitting: segments from behaviour before the split, judged (ROI, drop cards) on the
    # outcomes after it, so no segment is defined by the outcomes it is judged on.
    split_at = data.split_at if data.outcomes_split is not None else None
    if split_at is not None and split_at > data.window.since:
        features = segments.member_features(data.earlier_activity(), members.member_id.to_numpy(), split_at,
                                            (split_at - data.window.since).days)
        judged_outcomes = data.later_outcomes()
    else:
        features = segments.member_features(data.activity, members.member_id.to_numpy(), data.window.as_of,
                                            (data.window.as_of - data.window.since).days)
        judged_outcomes = data.outcomes
    fitted_segments = segments.fit(features, previous_segments, seed=seed, progress=_stage(progress, 0.62, 0.75))
    metrics["segments"] = {"k": fitted_segments.k, "silhouette": fitted_segments.silhouette,
                           "kept_from_previous_run": fitted_segments.matched, "criterion": "silhouette (sample of 3,000)",
                           "features_before": split_at, "judged_from": split_at}
    timings["segments"] = time.monotonic() - clock

    clock = time.monotonic()
    progress(0.78, "economics: ROI per campaign and segment")
    campaign_money = economics.campaign_economics(data.outcomes, data.campaigns, data.recent, data.recent_days)
    campaign_money = campaign_money.merge(economics.open_value(data.recent_devices, inputs.CHANGE_DAYS / data.recent_days),
                                          on="campaign_id", how="left")
    history_margin = campaign_money.set_index("campaign_id").eval("(revenue - reward_cost) / conversions")
    segment_money = economics.campaign_economics(judged_outcomes, data.campaigns, data.recent, data.recent_days,
                                                 by="segment_key", labels=fitted_segments.labels,
                                                 margin_per_conversion=history_margin.where(np.isfinite(history_margin)))
    progress(0.82, "recommendations: building the cards")
    context = recommendations.Context(
        data.campaigns, data.offers, members, data.outcomes, campaign_money, segment_money, timing, offer_model,
        profit_draws, scores_by_campaign, fitted_segments.labels, dict(zip(fitted_segments.profiles.segment_key, fitted_segments.profiles.name)),
        {"send_time": metrics["send_time"]["held_out"], "offers": metrics["offers"]["held_out_campaigns"]}, rng,
        offer_select=offer_select, offer_estimate=offer_estimate, segment_model=estimate_model,
        segment_select_model=select_model, segment_split=split_at, send_time_refits=timing_refits,
        judged_days=(data.window.as_of - split_at).days if split_at is not None else data.recent_days)
    cards, selection = recommendations.generate(context)
    metrics["recommendations"] = selection
    expires = datetime.now(timezone.utc) + CARD_LIFETIME
    for item in cards:
        item["expires_at"] = expires
    timings["recommendations"] = time.monotonic() - clock
    metrics["timings_seconds"] = timings
    metrics["counts"] = {"members": int(len(members)), "send_cells": int(len(cells)),
                         "campaigns": int(len(data.campaigns)), "recommendations": len(cards)}

    segment_roi = segment_money.assign(
        targeted=True, roi_low=segment_money.roi - Z90 * segment_money.roi_se,
        roi_high=segment_money.roi + Z90 * segment_money.roi_se)[
        ["campaign_id", "segment_key", "targeted", "members", "sends", "profit_per_week", "roi", "roi_low", "roi_high"]]
    segment_roi = segment_roi.astype({"segment_key": int, "members": int, "sends": "int64"})
    return store.RunResults(
        started_at=datetime.now(timezone.utc), data_through=data.window.as_of, holdout_from=data.window.holdout_from,
        seconds=0.0, trained_by="", metrics=metrics,
        member_send_time=timing.member_frame().drop(columns=[]),
        segment_send_time=timing.segment_frame(),
        member_affinity=fitted_affinity.scores[["member_id", "category", "rank", "score", "expected_engagement",
                                                "impressions", "clicks", "conversions"]],
        segment_affinity=fitted_affinity.segment_frame(members),
        offer_scores=offer_scores,
        uplift=uplift_frame,
        segments=fitted_segments.profiles[["segment_key", "name", "members", "profile", "centroid"]],
        member_segments=fitted_segments.labels.rename("segment_key").reset_index(),
        campaign_segment_roi=segment_roi,
        recommendations=cards,
    )


def _campaign_audience(data: inputs.TrainingInputs, campaign, members: pd.DataFrame) -> pd.DataFrame:
    """Who the campaign reaches: the members it sent to, else (not started yet) its segment."""
    sent = data.outcomes.loc[data.outcomes.campaign_id == campaign.campaign_id, "member_id"]
    audience = members[members.member_id.isin(sent)] if len(sent) else members[members.segment == campaign.segment]
    return audience[["member_id", "segment", "device"]]


@action("run_jobs")
def train_now(db: Engine, user: User, progress=None, trained_by: str | None = None) -> TrainingOutcome:
    """Retrain now and re-measure the realised impact of applied cards, as `user`: a person with
    the right (audited), or SYSTEM for the worker's schedule and the command line (`trained_by`
    names which; a person is named by their e-mail). `retrain` itself is the system's work."""
    from core.optimize.apply import measure_realised

    outcome = retrain(db, progress=progress, trained_by=trained_by if user is SYSTEM else user.email)
    outcome.realised_measured = measure_realised(db)
    if user is not SYSTEM:
        with db.begin() as conn:
            audit.record(conn, user, "train_now", f"optimization_run:{outcome.run_id}",
                         {"skipped": outcome.skipped, "detail": outcome.detail, "seconds": round(outcome.seconds, 1)})
    return outcome


def retrain_job(db: Engine) -> JobOutput:
    """The worker's scheduled job: retrain, then re-measure the realised impact of applied cards."""
    outcome = train_now(db, SYSTEM)
    measured = outcome.realised_measured
    if outcome.skipped:
        return JobOutput(skipped=True, detail=f"{outcome.detail}; realised impact measured for {measured} cards")
    return JobOutput(rows=outcome.recommendations, detail=f"{outcome.detail}; realised impact measured for {measured} cards")
