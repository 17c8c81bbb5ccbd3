"""The rest of a customer's life in an imported row: its next contact (下次联系时间), a remark brought over as
its first note (备注 / 客户描述, 导入的备注), and whether its level (客户等级) makes it a key customer.

Pure but for `add_imported_note`, which writes the note; the row's owner (业务负责人) is owners.py's."""
from __future__ import annotations

import re
import unicodedata
from datetime import datetime, time
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l

from models import ContactNote

from .. import clock, library

# A date as people write it: 2026-12-20, 2026/12/20, 2026.12.20, 2026年12月20日, then perhaps a time (10:00).
_DATE = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})[日号]?")
_TIME = re.compile(r"(\d{1,2})[:时点](\d{2})?(?:[:分](\d{2})秒?)?分?")
# A day given without a time: the morning of that day, when the working day begins, so that it shows on that
# day's 今日应联系 (and only from then on among the overdue).
MORNING = time(9, 0)

# What a level column (客户等级) says of a key customer, suggested to the admin (who decides per value); the words
# of a key-customer column (重点客户: 是, 1, √) mean it too.
KEY_LEVELS = ("a", "a类", "a级", "重点", "核心", "重要", "vip", "key", "是", "1", "true", "yes", "y", "on", "√", "✓",
              "✔", "x")
_LEVEL_SUFFIXES = ("客户", "客戶")


def parse_next_contact(value, tz=None):
    """The time a 下次联系时间 cell means, aware in CRM_TIMEZONE; None when empty; ValueError when unreadable."""
    text = unicodedata.normalize("NFKC", value or "").strip()
    if not text:
        return None
    date_match = _DATE.match(text)
    if not date_match:
        raise ValueError(text)
    rest = text[date_match.end():].strip().lstrip("Tt").strip()
    at = _time_of(rest)
    year, month, day = (int(part) for part in date_match.groups())
    moment = datetime(year, month, day, at.hour, at.minute, at.second)  # ValueError for 2026-02-30
    if not clock.in_range(moment):
        raise ValueError(text)
    return moment.replace(tzinfo=tz or _zone())


def _time_of(rest):
    if not rest:
        return MORNING
    match = _TIME.fullmatch(rest)
    if not match:
        raise ValueError(rest)
    hour, minute, second = (int(part or 0) for part in match.groups())
    return time(hour, minute, second)  # ValueError for 25:00


def _zone():
    return ZoneInfo(current_app.config["CRM_TIMEZONE"] if has_app_context() else "Asia/Shanghai")


def next_contact_problem(value):
    """The row's problem with its 下次联系时间, naming the value, or None."""
    try:
        parse_next_contact(value)
    except ValueError:
        return _l("The next contact time %(value)s is not a date: write it as 2026-12-20 or 2026-12-20 10:00.",
                  value=value)
    return None


def note_problem(value):
    if len(value) > library.NOTE_CONTENT_LIMIT:
        return _l("The remark may have at most %(n)d characters.", n=library.NOTE_CONTENT_LIMIT)
    return None


def is_key_level(value):
    """Whether a 客户等级 (or 重点客户) value suggests a key customer: A, 重点, 核心, 重要, VIP, 是 ..."""
    text = unicodedata.normalize("NFKC", value or "").strip().lower()
    for suffix in _LEVEL_SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix):
            text = text[:-len(suffix)]
    return text in KEY_LEVELS


def add_imported_note(session, opportunity_id, author_id, content, now=None):
    """The row's remark as its first note (导入的备注): no contact was made, so it is no valid contact, and its
    record's last contact, maturity and return clock stay as they are."""
    note = ContactNote(opportunity_id=opportunity_id, author_id=author_id, method="other", content=content,
                       maturity=0, unreachable=False, busy=False, valid=False, imported=True,
                       created_at=now or clock.now())
    session.add(note)
    return note
