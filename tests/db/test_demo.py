"""The demo data set is deterministic for a seed and shows its planted truth."""
from datetime import datetime, timezone

import pandas as pd
from sqlalchemy import text

from core.demo import generator as demo
from core.demo import truth as demo_truth


def test_same_seed_same_data():
    end = datetime(2026, 11, 1, 12, tzinfo=timezone.utc)
    first = demo.generate(seed=5, members=400, campaigns=6, days=30, end=end)
    second = demo.generate(seed=5, members=400, campaigns=6, days=30, end=end)
    pd.testing.assert_frame_equal(first.events, second.events)
    pd.testing.assert_frame_equal(first.members, second.members)
    other = demo.generate(seed=6, members=400, campaigns=6, days=30, end=end)
    assert not first.events.equals(other.events)


def test_demo_shape(demo_db, demo_data):
    with demo_db.connect() as conn:
        channels = dict(conn.execute(text("SELECT channel, count(*) FROM campaigns GROUP BY 1")).all())
        tests = conn.execute(text("SELECT count(*) FROM ab_tests")).scalar()
        latest = conn.execute(text("SELECT max(event_time) FROM events")).scalar()
    assert set(channels) == {"push", "email", "in_app"}
    assert tests == len(demo_truth.AB_TESTS)
    assert latest <= demo_data.end


def test_segments_respond_as_planted(demo_db):
    with demo_db.connect() as conn:
        rows = conn.execute(text("""
            SELECT value, sum(opens)::float / sum(delivered) FROM rollup_breakdown_day
            WHERE dimension = 'segment' GROUP BY value""")).all()
    open_rate = dict(rows)
    planted = {s: r["open"] for s, r in demo_truth.SEGMENT_RESPONSE.items()}
    assert open_rate["lapsed"] == min(open_rate.values())
    assert max(planted, key=planted.get) in sorted(open_rate, key=open_rate.get)[-2:]


def test_sends_near_the_preferred_hour_are_opened_more(demo_data):
    events = demo_data.events
    members = demo_data.members.set_index("member_id")
    sends = events[events.event_type == 1][["campaign_id", "member_id", "event_time"]]
    opens = events[events.event_type == 3][["campaign_id", "member_id", "event_time"]]
    local_hour = [t.tz_convert(members.timezone[m]).hour for t, m in zip(sends.event_time, sends.member_id)]
    preferred = demo_truth.preferred_hour(11, sends.member_id.to_numpy())
    sends = sends.assign(at_preferred=(pd.Series(local_hour, index=sends.index) == preferred),
                         day=sends.event_time.dt.floor("D"))
    opened = opens.assign(day=opens.event_time.dt.floor("D"))[["campaign_id", "member_id", "day"]].drop_duplicates()
    joined = sends.merge(opened.assign(opened=True), on=["campaign_id", "member_id", "day"], how="left")
    rates = joined.assign(opened=joined.opened.fillna(False).astype(bool)).groupby("at_preferred").opened.mean()
    assert rates[True] > 1.5 * rates[False]
