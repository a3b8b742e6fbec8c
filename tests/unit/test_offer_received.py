"""The offer each campaign outcome was earned under (core.optimize.inputs.offer_received): the
campaign's offer at the member's first send, through its applied offer cards and their holdouts."""
from __future__ import annotations

import pandas as pd

from core.optimize.inputs import offer_received

T = pd.Timestamp("2026-11-01 12:00", tz="UTC")
T2 = T + pd.Timedelta(days=3)
H = pd.Timedelta(hours=1)


def test_each_outcome_counts_for_the_offer_of_its_first_send():
    campaigns = pd.DataFrame({"campaign_id": [1, 2], "offer_id": [3, 5]})   # today's offers
    # campaign 1: offer 1, then 2 from T (card 10), then 3 from T2 (card 11); campaign 2 never changed
    changes = pd.DataFrame({"campaign_id": [1, 1], "recommendation_id": [10, 11], "applied_at": [T, T2],
                            "before_offer_id": [1, 2], "after_offer_id": [2, 3]})
    holdouts = pd.DataFrame({"campaign_id": [1, 1, 1], "member_id": [104, 105, 106], "recommendation_id": [10, 10, 11]})
    first_sends = {101: T - H, 102: T + H, 103: T2 + H, 104: T + H, 105: T - H, 106: T2 + H, 107: T}
    outcomes = pd.DataFrame({"campaign_id": [1] * 7 + [2], "member_id": list(first_sends) + [101],
                             "first_send_at": list(first_sends.values()) + [T - H]},
                            index=range(100, 108))  # any index: the answer keeps it
    got = offer_received(outcomes, campaigns, changes, holdouts)
    assert got.index.tolist() == outcomes.index.tolist()
    assert dict(zip(outcomes.member_id.astype(str) + "@" + outcomes.campaign_id.astype(str), got)) == {
        "101@1": 1,   # before the first card: the offer it replaced
        "102@1": 2,   # between the cards
        "103@1": 3,   # after both: today's offer
        "104@1": 1,   # held out by card 10, first sent after it: kept offer 1
        "105@1": 1,   # held out by card 10 but first sent before it: offer 1 anyway
        "106@1": 2,   # held out by card 11, first sent after it: kept offer 2
        "107@1": 2,   # first sent at the moment card 10 was applied: its new offer
        "101@2": 5}   # no card: the campaign's offer


def test_without_offer_cards_every_outcome_has_its_campaigns_offer():
    campaigns = pd.DataFrame({"campaign_id": [1, 2], "offer_id": [3, 5]})
    outcomes = pd.DataFrame({"campaign_id": [2, 1], "member_id": [1, 1], "first_send_at": [T, T]})
    none = pd.DataFrame(columns=["campaign_id", "recommendation_id", "applied_at", "before_offer_id", "after_offer_id"])
    assert offer_received(outcomes, campaigns, none, pd.DataFrame()).tolist() == [5, 3]
