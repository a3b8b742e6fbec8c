"""The event vocabulary: event types and their codes in the events table."""
EVENT_CODES = {"send": 1, "delivered": 2, "open": 3, "impression": 4, "click": 5, "conversion": 6}
EVENT_NAMES = {code: name for name, code in EVENT_CODES.items()}
ENGAGEMENT_TYPES = ("open", "click")  # what a conversion is attributed to
