"""The contact-note list (联系小记): every note a viewer may see, to read and export; never edited here.

A note is visible with its opportunity (services.people.access.opportunity_clause), and its author
always sees it, also after the opportunity left the author's library.
"""
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_admin.contrib.sqla.filters import BaseSQLAFilter, DateBetweenFilter
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, or_, select, true
from sqlalchemy.orm import joinedload

from models import ContactNote, Opportunity, User
from services import clock
from services.library import notes
from services.people.access import opportunity_clause

from .base import LoginRequiredMixin, ScopedModelView, format_due_time
from .exports import ExportMixin, may_export
from .filters import ChoiceFilter


def note_clause(actor):
    """SQL condition on ContactNote: notes of the opportunities the actor sees, and the actor's own."""
    if actor.role == "subsystem_admin":
        return true()
    visible = select(Opportunity.id).where(opportunity_clause(actor))
    return or_(ContactNote.opportunity_id.in_(visible), ContactNote.author_id == actor.id)


class LocalDayBetweenFilter(DateBetweenFilter):
    """Written between two calendar days of CRM_TIMEZONE, both included (not UTC days)."""

    def validate(self, value):
        """Two readable days the CRM can hold (services/clock.py); Flask-Admin ignores a filter that is not."""
        if not super().validate(value):
            return False
        return all(clock.in_range(day) for day in self.clean(value))

    def apply(self, query, value, alias=None):
        zone = ZoneInfo(current_app.config["CRM_TIMEZONE"])
        first, last = value
        start = datetime.combine(first, time.min, tzinfo=zone)
        end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone)
        column = self.get_column(alias)
        return query.filter(column >= start, column < end)


class AuthorFilter(BaseSQLAFilter):
    """Written by the account with this login (case does not matter)."""

    def apply(self, query, value, alias=None):
        authors = select(User.id).where(func.lower(User.login) == value.strip().lower())
        return query.filter(self.column.in_(authors))

    def operation(self):
        return _l("equals")


def _company(view, context, model, name):
    return model.opportunity.company


METHOD = lambda v, c, m, n: notes.METHOD_LABELS.get(m.method, m.method)  # noqa: E731
YES_NO = {True: _l("Yes"), False: _l("No")}
def _author(note):
    """The author's login; an imported remark (导入的备注) says so, as the command line's has no author."""
    if note.imported:
        return str(_l("Imported note")) + (f" · {note.author.login}" if note.author else "")
    return note.author.login


LABELS = {"created_at": _l("Time"), "author": _l("Author"), "opportunity": _l("Company name"),
          "method": _l("Contact method"), "content": _l("What happened"), "maturity": _l("Maturity"),
          "valid": _l("Valid contact"), "next_contact_at": _l("Next contact")}
EXPORT_COLUMNS = [
    (LABELS["created_at"], lambda n: n.created_at), (LABELS["author"], lambda n: _author(n)),
    (LABELS["opportunity"], lambda n: n.opportunity.company),
    (LABELS["method"], lambda n: notes.METHOD_LABELS.get(n.method, n.method)),
    (LABELS["content"], lambda n: n.content), (LABELS["maturity"], lambda n: n.maturity),
    (LABELS["valid"], lambda n: YES_NO[bool(n.valid)]), (LABELS["next_contact_at"], lambda n: n.next_contact_at),
]


class NoteListView(ExportMixin, ScopedModelView):
    list_template = "notes/list.html"
    can_create = can_edit = can_delete = False
    can_view_details = False  # the note is read on its opportunity's page
    column_list = ["created_at", "author", "opportunity", "method", "content", "maturity", "valid",
                   "next_contact_at"]
    column_labels = LABELS
    column_sortable_list = ["created_at", "next_contact_at"]
    column_default_sort = ("created_at", True)
    column_formatters = {
        "next_contact_at": format_due_time, "opportunity": _company,
        "author": lambda v, c, m, n: _author(m), "method": METHOD,
        "valid": lambda v, c, m, n: YES_NO[bool(m.valid)],
    }
    column_filters = [
        LocalDayBetweenFilter(ContactNote.created_at, _l("Time")),
        AuthorFilter(ContactNote.author_id, _l("Author")),
        ChoiceFilter(ContactNote.valid, _l("Valid contact"), options=[("1", _l("Yes")), ("0", _l("No"))],
                     conditions={"1": lambda: ContactNote.valid.is_(True), "0": lambda: ContactNote.valid.is_(False)}),
    ]
    export_basename = _l("Contact notes")
    export_columns = EXPORT_COLUMNS
    export_options = (joinedload(ContactNote.author), joinedload(ContactNote.opportunity))

    def is_accessible(self):
        return LoginRequiredMixin.is_accessible(self)

    @property
    def simple_list_pager(self):
        """Admins reach every note of a company: no count(*) over them on every page."""
        return current_user.is_authenticated and current_user.role in ("agent_admin", "subsystem_admin")

    def scope(self, query):
        return query.filter(note_clause(current_user))

    def render(self, template, **kwargs):
        kwargs.setdefault("may_export", may_export(current_user))
        return super().render(template, **kwargs)
