"""Contact notes (联系小记, manual §四): what happened, how close the customer is, when to call again.

A note is never edited: a correction is a new note (so "editable only on the day it was
written" holds trivially, and the daily count of valid contacts cannot be rewritten later).
Whether a note counts as a valid contact (有效联系) is decided here, in `is_valid_contact`.
"""
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from models import NOTE_METHODS, ContactNote, Opportunity

from .. import clock, text
from ..errors import RuleViolation
from . import leads

METHOD_LABELS = {
    "phone": _l("Phone"),
    "visit": _l("Visit"),
    "email": _l("Email"),
    "im": _l("Instant message"),
    "other": _l("Other"),
}
CONTENT_LIMIT = 2000


def maturity_levels():
    """The levels a note may give: 0 (no prospect) to CRM_MATURITY_MAX (5 by default)."""
    return list(range(current_app.config.get("CRM_MATURITY_MAX", 5) + 1))


def is_valid_contact(maturity, unreachable, busy):
    """§四: a note is a valid contact unless maturity is 0 or either tick is set."""
    return bool(maturity) and not unreachable and not busy


def local_time(value):
    """A naive time typed in a form is in CRM_TIMEZONE; an aware one is kept as it is."""
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(current_app.config["CRM_TIMEZONE"]))
    return value


def validate(method, content, maturity, next_contact_at, now):
    """Problems as {field: message}; empty when the note may be written."""
    problems = {}
    if method not in NOTE_METHODS:
        problems["method"] = _l("Choose how you contacted the customer.")
    if not content:
        problems["content"] = _l("Write what happened.")
    elif len(content) > CONTENT_LIMIT:
        problems["content"] = _l("What happened may have at most %(n)d characters.", n=CONTENT_LIMIT)
    levels = maturity_levels()
    if isinstance(maturity, bool) or not isinstance(maturity, int) or maturity not in levels:
        problems["maturity"] = _l("Maturity is a level from %(low)d to %(high)d.", low=levels[0], high=levels[-1])
    if next_contact_at is not None and not clock.in_range(next_contact_at):
        problems["next_contact_at"] = _l("The next contact time must fall between the years %(first)d and %(last)d.",
                                         first=clock.FIRST_DAY.year, last=clock.LAST_DAY.year)
    elif next_contact_at is not None and next_contact_at < now:
        problems["next_contact_at"] = _l("The next contact time is in the past.")
    return problems


def add_note(session, actor, opportunity_id, method, content, maturity, unreachable=False, busy=False,
             next_contact_at=None, now=None):
    """Write a note on an opportunity of the actor's own library; update its contact times and maturity."""
    now = now or clock.now()
    opportunity = session.get(Opportunity, opportunity_id)
    if opportunity is None or opportunity.deleted_at is not None or actor is None or opportunity.owner_id != actor.id:
        raise RuleViolation(_l("This customer is not in your library."), code="not_found")
    content = text.multi_line(content)  # its lines and tabs kept
    next_contact_at = local_time(next_contact_at)
    problems = validate(method, content, maturity, next_contact_at, now)
    if problems:
        field, message = next(iter(problems.items()))
        raise RuleViolation(message, field=field)
    note = ContactNote(opportunity_id=opportunity.id, author_id=actor.id, method=method, content=content,
                       maturity=maturity, unreachable=bool(unreachable), busy=bool(busy),
                       valid=is_valid_contact(maturity, unreachable, busy), next_contact_at=next_contact_at,
                       created_at=now)
    session.add(note)
    opportunity.last_contact_at = now
    if note.valid:
        opportunity.last_valid_contact_at = now
    opportunity.maturity = maturity
    opportunity.next_contact_at = next_contact_at  # the note's plan replaces the old one
    session.flush()
    if note.valid:  # the first valid contact meets the deadline of the web leads waiting on it
        leads.meet(session, opportunity.id, now)
    return note


def notes_of(session, opportunity_id):
    """The timeline of an opportunity: newest first."""
    return session.scalars(select(ContactNote).where(ContactNote.opportunity_id == opportunity_id)
                           .options(selectinload(ContactNote.author))
                           .order_by(ContactNote.created_at.desc(), ContactNote.id.desc())).all()


def parse_form_time(text):
    """A `datetime-local` input ("2026-11-27T09:30") as a naive datetime, None when empty; ValueError else."""
    text = (text or "").strip()
    if not text:
        return None
    return datetime.fromisoformat(text)
