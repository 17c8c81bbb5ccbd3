"""The current time, in one place so that tests can freeze it."""
from datetime import datetime, timezone


def now():
    return datetime.now(timezone.utc)
