"""The current time, in one place so that tests can freeze it; and the days the CRM can hold."""
from datetime import date, datetime, timezone

# The days a date or a time from outside may fall on. datetime holds the years 1 to 9999, but a
# day's bounds moved to CRM_TIMEZONE, or a time moved to UTC, step a day past its own date:
# 0001-01-01 in Asia/Shanghai begins in the year 0 (a 500 before). Nothing in a CRM happens
# before 1900 (where time zones still had local mean time) or near the year 9999.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(9998, 12, 31)


def now():
    return datetime.now(timezone.utc)


def in_range(value):
    """True when a date, or a datetime's own calendar day, lies from FIRST_DAY to LAST_DAY."""
    day = value.date() if isinstance(value, datetime) else value
    return FIRST_DAY <= day <= LAST_DAY
