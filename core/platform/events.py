"""The event vocabulary: event types and their codes in the events table, and the names of
its day partitions (made by migration 0001's ensure_event_partitions)."""
import re
from datetime import date, datetime

EVENT_CODES = {"send": 1, "delivered": 2, "open": 3, "impression": 4, "click": 5, "conversion": 6}
EVENT_NAMES = {code: name for name, code in EVENT_CODES.items()}
ENGAGEMENT_TYPES = ("open", "click")  # what a conversion is attributed to

DAY_PARTITION = re.compile(r"events_p\d{8}")  # a day's partition; any other partition is not a day's


def day_partition(day: date) -> str:
    """The name of the partition of events that holds UTC day `day`."""
    return f"events_p{day:%Y%m%d}"


def partition_day(name: str) -> date:
    """The UTC day a day partition (DAY_PARTITION) holds."""
    return datetime.strptime(name[len("events_p"):], "%Y%m%d").date()
