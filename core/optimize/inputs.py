"""Everything a retrain reads from PostgreSQL, in one place and one snapshot: the heavy
aggregation (sends matched to the opens that followed them, decayed engagement per category,
per-member campaign outcomes) runs in SQL; the models get compact frames."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pandas as pd
from sqlalchemy.engine import Connection

from core.platform.db import fetch_df, fetch_scalar

DEFAULT_LOOKBACK_DAYS = 120
DEFAULT_HOLDOUT_DAYS = 14
DEFAULT_HALF_LIFE_DAYS = 45.0
RECENT_DAYS = 28  # campaign economics per week are measured over this many whole UTC days
CHANGE_DAYS = 7   # ... of which the last ones are checked for a change in what an open earns


@dataclass(frozen=True)
class Window:
    """The data a retrain uses: [since, as_of), evaluation split at holdout_from."""
    since: datetime
    as_of: datetime
    holdout_from: datetime
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS

    @classmethod
    def ending(cls, as_of: datetime, lookback_days: int = DEFAULT_LOOKBACK_DAYS,
               holdout_days: int = DEFAULT_HOLDOUT_DAYS, half_life_days: float = DEFAULT_HALF_LIFE_DAYS) -> "Window":
        if as_of.tzinfo is None:
            raise ValueError("as_of must be time-zone aware (UTC).")
        if holdout_days <= 0 or lookback_days <= holdout_days:
            raise ValueError(f"The look-back ({lookback_days} days) must be longer than the held-out weeks "
                             f"({holdout_days} days), and both positive.")
        return cls(as_of - timedelta(days=lookback_days), as_of, as_of - timedelta(days=holdout_days), half_life_days)


@dataclass
class TrainingInputs:
    window: Window
    members: pd.DataFrame          # member_id, segment, timezone, device, region_code, signup_at
    campaigns: pd.DataFrame        # opt_campaigns
    offers: pd.DataFrame           # opt_offers
    send_cells: pd.DataFrame       # member_id, campaign_id, local_hour, local_weekday, held_out, sends, opens, clicks
    category_engagement: pd.DataFrame
    outcomes: pd.DataFrame         # per (campaign, member) from campaign_members, with the offer_id received
    conversion_values: pd.DataFrame  # category, revenue
    experiment_units: pd.DataFrame
    recent: pd.DataFrame           # per campaign over the last RECENT_DAYS whole UTC days (+ weeks_observed)
    recent_devices: pd.DataFrame   # per campaign, device and last_days (the last CHANGE_DAYS of them or not)
    activity: pd.DataFrame         # per member, channel, category
    outcomes_split: pd.DataFrame | None = None  # per (campaign, member, later): before / from split_at
    split_at: datetime | None = None  # behavioural segments: features before it, judged from it on
    recent_days: int = RECENT_DAYS

    def earlier_activity(self) -> pd.DataFrame:
        """Per member, channel and category before split_at (opt_member_activity's shape): what
        behavioural segments are fitted on, so they never see the outcomes they are judged on."""
        frame = self.outcomes_split[~self.outcomes_split.later]
        frame = frame.merge(self.campaigns[["campaign_id", "channel", "category"]], on="campaign_id")
        return frame.groupby(["member_id", "channel", "category"], as_index=False).agg(
            sends=("sends", "sum"), opens=("opens", "sum"), clicks=("clicks", "sum"),
            conversions=("conversions", "sum"), revenue=("revenue", "sum"), last_engaged_at=("last_engaged_at", "max"))

    def later_outcomes(self) -> pd.DataFrame:
        """Per (campaign, member) from split_at on (opt_campaign_member_outcomes' shape)."""
        frame = self.outcomes_split[self.outcomes_split.later & (self.outcomes_split.sends > 0)]
        return frame.drop(columns=["later"]).reset_index(drop=True)


def offer_received(outcomes: pd.DataFrame, campaigns: pd.DataFrame, changes: pd.DataFrame,
                   holdouts: pd.DataFrame) -> pd.Series:
    """The offer under which each (campaign, member) row's outcomes were earned: the campaign's
    offer when the member was first sent it. A campaign whose offer an applied card changed
    (changes: opt_offer_changes) had the card's `before` offer until it was applied and its
    `after` offer from then on; a member of the card's holdout (holdouts: opt_offer_holdouts)
    kept the `before` offer. Without this, a retrain after an offer card counted everything the
    campaign earned under its old offer as the new offer's, and one relabelled campaign could
    turn a segment's reward-type effect around. A member first sent before a change and sent
    again after it counts for the offer of the first send (campaign_members keeps one row per
    member and campaign)."""
    current = outcomes.campaign_id.map(campaigns.set_index("campaign_id").offer_id)
    if changes.empty or outcomes.empty:
        return current.astype("int64")
    changed = outcomes.campaign_id.isin(changes.campaign_id)
    instants = lambda values: pd.to_datetime(values, utc=True).astype("datetime64[ns, UTC]")  # one unit for merge_asof
    rows = outcomes.loc[changed, ["campaign_id", "member_id", "first_send_at"]].assign(
        row=outcomes.index[changed], first_send_at=lambda f: instants(f.first_send_at))
    cards = changes.assign(applied_at=instants(changes.applied_at))
    cards = cards.sort_values(["applied_at", "recommendation_id"], kind="stable")
    # the latest change at or before the first send gives its `after`; none, the first `before`
    at_first_send = pd.merge_asof(rows.sort_values("first_send_at", kind="stable"),
                                  cards[["campaign_id", "applied_at", "after_offer_id"]],
                                  left_on="first_send_at", right_on="applied_at", by="campaign_id", direction="backward")
    first_before = cards.groupby("campaign_id").before_offer_id.first()
    offer = at_first_send.after_offer_id.fillna(at_first_send.campaign_id.map(first_before))
    received = current.copy()
    received.loc[at_first_send.row.to_numpy()] = offer.to_numpy()
    if len(holdouts):
        # held out by a card applied before the first send: that card's `before` offer
        held = (holdouts.merge(cards[["campaign_id", "recommendation_id", "applied_at", "before_offer_id"]],
                               on=["campaign_id", "recommendation_id"])
                .merge(rows, on=["campaign_id", "member_id"]))
        held = held[held.applied_at <= held.first_send_at].sort_values(["applied_at", "recommendation_id"], kind="stable")
        held = held.drop_duplicates("row", keep="last")
        received.loc[held.row.to_numpy()] = held.before_offer_id.to_numpy()
    return received.astype("int64")


def latest_event_time(conn: Connection) -> datetime | None:
    return fetch_scalar(conn, "opt_latest_event_time")


def _in_order(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows sorted by every column: a database returns unordered rows in any order (parallel
    scans, the shards of a Citus cluster), and the models' random draws follow the rows, so
    without this the same data could train slightly different models."""
    return frame.sort_values(list(frame.columns), kind="stable", ignore_index=True) if len(frame) else frame


def load(conn: Connection, window: Window, progress=None) -> TrainingInputs:
    say = progress or (lambda message: None)
    bounds = dict(since=window.since, until=window.as_of)
    say("reading members, campaigns and offers")
    members = fetch_df(conn, "opt_members")
    campaigns = fetch_df(conn, "opt_campaigns")
    offers = fetch_df(conn, "opt_offers")
    say("matching sends to the opens and clicks that followed them")
    send_cells = fetch_df(conn, "opt_send_cells", holdout_from=window.holdout_from, **bounds)
    say("reading decayed engagement per member and category")
    engagement = fetch_df(conn, "opt_category_engagement", as_of=window.as_of, since=window.since,
                          holdout_from=window.holdout_from, half_life_days=float(window.half_life_days))
    say("reading campaign outcomes per member")
    outcomes = fetch_df(conn, "opt_campaign_member_outcomes")
    outcomes["offer_id"] = offer_received(outcomes, campaigns, fetch_df(conn, "opt_offer_changes"),
                                          fetch_df(conn, "opt_offer_holdouts"))
    values = fetch_df(conn, "opt_conversion_values", **bounds)
    units = fetch_df(conn, "opt_experiment_units")
    day_to = window.as_of.astimezone(timezone.utc).date()
    day_from = day_to - timedelta(days=RECENT_DAYS)
    recent = fetch_df(conn, "opt_campaign_recent", day_from=day_from, day_to=day_to)
    # Weeks the campaign was sending within the recent days (from its first send day there, at
    # least one week): its weekly volume is what it really sent per calendar week.
    first = pd.to_datetime(recent.first_day) if len(recent) else pd.Series([], dtype="datetime64[ns]")
    span_days = (pd.Timestamp(day_to) - first).dt.days if len(recent) else first
    recent["weeks_observed"] = (span_days.clip(lower=7, upper=RECENT_DAYS) / 7.0) if len(recent) else []
    recent_devices = fetch_df(conn, "opt_campaign_recent_devices", day_from=day_from, day_to=day_to,
                              change_day=day_to - timedelta(days=CHANGE_DAYS))
    activity = fetch_df(conn, "opt_member_activity")
    split_at = datetime.combine(day_from, datetime.min.time(), tzinfo=timezone.utc)
    say("reading outcomes per member before and after the segments' split")
    outcomes_split = fetch_df(conn, "opt_member_outcomes_split", split=split_at, **bounds)
    send_cells, engagement, outcomes, values, units, recent, recent_devices, activity, outcomes_split = map(
        _in_order, (send_cells, engagement, outcomes, values, units, recent, recent_devices, activity, outcomes_split))
    return TrainingInputs(window, members, campaigns, offers, send_cells, engagement, outcomes, values,
                          units, recent, recent_devices, activity, outcomes_split, split_at)
