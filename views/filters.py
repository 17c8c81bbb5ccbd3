"""List filters whose choices are computed per request from the viewer's scope.

Flask-Admin computes filter options once, at start-up; a department filter built that
way would list every company's departments to every admin.
"""
from flask import has_request_context
from flask_admin.contrib.sqla.filters import BaseSQLAFilter
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from models import Department, db
from services.people.access import scoped_departments
from services.people.departments import tree_label

from .base import parse_id


def department_options():
    if not has_request_context() or not current_user.is_authenticated:
        return []
    return [(str(d.id), tree_label(d)) for d in scoped_departments(db.session, current_user)]


class InSubtreeFilter(BaseSQLAFilter):
    """Rows whose department is the chosen one or below it."""

    def __init__(self, column, name):
        super().__init__(column, name, options=department_options)

    def apply(self, query, value, alias=None):
        department_id = parse_id(value)
        chosen = db.session.get(Department, department_id) if department_id is not None else None
        if chosen is None:
            return query.filter(self.column.is_(None) & self.column.isnot(None))  # nothing
        subtree = select(Department.id).where(Department.path.startswith(chosen.path))
        return query.filter(self.column.in_(subtree))

    def operation(self):
        return _l("in")


class ChoiceFilter(BaseSQLAFilter):
    """Equality with a fixed list of choices; a condition per choice may replace equality."""

    def __init__(self, column, name, options, conditions=None):
        super().__init__(column, name, options=options)
        self.conditions = conditions or {}

    def validate(self, value):
        # Only a listed choice: a made-up value compared with a boolean column is an SQL error
        # on PostgreSQL (a 500); refused here, Flask-Admin ignores it with a message.
        return value in {str(key) for key, _label in self.get_options(None) or []}

    def apply(self, query, value, alias=None):
        if value in self.conditions:
            return query.filter(self.conditions[value]())
        return query.filter(self.column == value)

    def operation(self):
        return _l("equals")
