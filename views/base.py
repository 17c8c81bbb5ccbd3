"""The one access base that every admin view shares.

Rows are scoped in `get_query`, `get_count_query` and `get_one` alike (Flask-Admin's
`get_one` ignores `get_query`), bulk actions re-filter their ids through the scope, and
writes go through the rules in `services/`, so a tampered form cannot reach past them.
"""
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import datetime

from flask import abort, flash, g, redirect, request, session, url_for
from flask_admin import AdminIndexView, BaseView, expose
from flask_admin.actions import action
from flask_admin.babel import gettext as admin_gettext
from flask_admin.babel import lazy_gettext as admin_lazy_gettext
from flask_admin.babel import ngettext as admin_ngettext
from flask_admin.contrib.sqla import ModelView
from flask_admin.menu import MenuLink
from flask_admin.model import typefmt
from flask_babel import format_datetime
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import inspect

from models import UTCDateTime, db
from services import clock
from services.errors import RuleViolation
from services.library import opportunities
from services.people.access import is_admin
from services.sql import one_of

from .ids import MAX_ID, parse_id, parse_ids  # noqa: F401 (the views import them from here too)

# The navigation bar's menus, as the manual groups them (issue 14). A new page joins one by passing
# `category=OPPORTUNITY_MENU` or `category=SYSTEM_MENU` to its view in views/__init__.py; a menu
# shows only the pages its user may open (each view's is_accessible), and vanishes when none is left.
OPPORTUNITY_MENU = _l("Opportunity management")  # 机会管理
SYSTEM_MENU = _l("System management")  # 系统管理
TIME_FORMAT = "yyyy-MM-dd HH:mm"


def format_time(value):
    """A time as the pages show it: to the minute, in the viewer's time zone (CRM_TIMEZONE); "—" for none."""
    return format_datetime(value, TIME_FORMAT) if value else "—"


def format_due_time(view, context, model, name):
    """A list's column of times to act by (the next contact): in red once it has passed."""
    value = getattr(model, name)
    if value and value < clock.now():
        return Markup('<span class="text-danger font-weight-bold">{}</span>').format(format_time(value))
    return format_time(value)


def _time_cell(view, value, name):
    return format_time(value)


def _empty_cell(view, value, name):
    """An empty time (never locked, no contact yet) reads "—"; any other empty cell stays empty, as in Flask-Admin."""
    column = inspect(view.model).columns.get(name)
    return "—" if column is not None and isinstance(column.type, UTCDateTime) else ""


def _deny():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path if request.query_string else request.path))
    abort(403)


class LoginRequiredMixin:
    """Any signed-in user (the session loader already refuses locked and deactivated accounts)."""

    def is_accessible(self):
        return current_user.is_authenticated and not current_user.must_change_password

    def inaccessible_callback(self, name, **kwargs):
        return _deny()


class AdminRequiredMixin(LoginRequiredMixin):
    """Agent admins and subsystem admins; every other role gets 403."""

    def is_accessible(self):
        return super().is_accessible() and is_admin(current_user)


def record_name(model):
    """The words that name a row to a person: a customer's company, a user's login, a department's name."""
    return next((getattr(model, a) for a in ("company", "login", "name") if getattr(model, a, None)), None)


@dataclass
class EmptyList:
    """An empty list's words: the reason, a hint of what to do, and (label, url) links to go on with."""

    message: str
    hint: str = ""
    links: list = dataclass_field(default_factory=list)


class RoleMenuLink(MenuLink):
    """A menu entry that is not a view of its own (录入机会 is the create page of 我的机会): shown
    only to the users `allowed(user)` names, as a view's is_accessible would decide."""

    def __init__(self, name, endpoint, allowed, category=None):
        super().__init__(name, endpoint=endpoint, category=category)
        self.allowed = allowed

    def is_accessible(self):
        return current_user.is_authenticated and not current_user.must_change_password and self.allowed(current_user)

    def is_active(self, view):
        return request.endpoint == self.endpoint


class CRMIndexView(LoginRequiredMixin, AdminIndexView):
    pass


class CRMView(LoginRequiredMixin, BaseView):
    pass


class ScopedModelView(AdminRequiredMixin, ModelView):
    """A model view whose rows are limited by `scope(query)`; writes go through `services/`."""

    can_view_details = True
    can_export = False
    list_template = "crm_list.html"  # no pager under a list that fits one page
    edit_template = "crm_edit.html"  # no 保存并添加另一个 on an edit page
    page_size = 50
    can_set_page_size = True
    # every time in a list or on a details page reads alike (format_time), with no formatter per column
    column_type_formatters = {**typefmt.BASE_FORMATTERS, type(None): _empty_cell, datetime: _time_cell}
    column_type_formatters_detail = {**typefmt.DETAIL_FORMATTERS, type(None): _empty_cell, datetime: _time_cell}

    search_clause = None  # a function(term) -> SQL condition that replaces Flask-Admin's ILIKE search

    def empty_list_help(self, searching, clear_search_url):
        """What an empty list says (templates/empty_list.html): why, what to do, and links; a view with more to
        say about its own emptiness (我的机会, a 已删除 view) overrides it and calls this for the rest."""
        if searching:
            return EmptyList(_l("Nothing matches the search or the filters."),
                             links=[(_l("Clear the search"), clear_search_url)])
        return EmptyList(_l("There is nothing here yet."))

    def scope(self, query):
        raise NotImplementedError

    def search_placeholder(self):
        """The search box says what it takes: the customers' search reads a name, a phone or a contact."""
        if self.search_clause is opportunities.search_clause:
            return str(_l("Company, phone or contact"))
        return super().search_placeholder()

    def _apply_search(self, query, count_query, joins, count_joins, search):
        if self.search_clause is None:
            return super()._apply_search(query, count_query, joins, count_joins, search)
        clause = self.search_clause(search)
        return query.filter(clause), (count_query.filter(clause) if count_query is not None else None), joins, \
            count_joins

    def _apply_pagination(self, query, page, page_size):
        """`?page=` as Flask-Admin reads it may be negative or past BIGINT (a 500 on both databases):
        a page before the first is the first, one past any row an empty page."""
        size = page_size or self.page_size
        page = min(max(page or 0, 0), MAX_ID // size) if size else page
        return super()._apply_pagination(query, page, page_size)

    def get_query(self):
        return self.scope(super().get_query())

    def get_count_query(self):
        return self.scope(super().get_count_query())

    def get_one(self, id):
        """A row of the scope, or 404: the same answer for "absent" and "not yours"."""
        row_id = parse_id(id)
        if row_id is None:
            abort(404)
        row = self.get_query().filter(self.model.id == row_id).one_or_none()
        if row is None:
            abort(404)
        return row

    def validate_form(self, form):
        """Validate, then turn lazily translated error messages into text.

        The forms' validators carry `lazy_gettext` messages; Flask-Admin's templates show
        (and mark the field for) only errors that are `str`, so a lazy message was dropped
        and the admin saw "failed" with no field marked.
        """
        valid = super().validate_form(form)
        for field in form:
            if isinstance(field.errors, (list, tuple)):
                field.errors = [str(e) if isinstance(e, LazyString) else e for e in field.errors]
        return valid

    def scoped_rows(self, ids):
        """The rows of a bulk action that the actor may reach; other ids are dropped."""
        wanted = parse_ids(ids, limit=None)
        return self.get_query().filter(one_of(db.session, self.model.id, wanted)).all() if wanted else []

    # Writes: subclasses implement create_with_rules / update_with_rules / delete_with_rules.
    def create_model(self, form):
        try:
            model = self.create_with_rules(form)
            db.session.commit()
        except RuleViolation as violation:
            db.session.rollback()
            self.show_violation(form, violation)
            return False
        g.created_name = record_name(model)
        self.after_model_change(form, model, True)
        return model

    created_message = _l("Created: %(name)s")

    @expose("/new/", methods=("GET", "POST"))
    def create_view(self):
        """Flask-Admin's create page, whose 创建记录成功。 names nothing: the flash says what was created."""
        response = super().create_view()
        name = g.pop("created_name", None)
        generic = admin_gettext("Record was successfully created.")
        if name and "_flashes" in session:
            session["_flashes"] = [(category, str(self.created_message % {"name": name})
                                    if category == "success" and message == generic else message)
                                   for category, message in session["_flashes"]]
        return response

    def update_model(self, form, model):
        try:
            self.update_with_rules(form, model)
            db.session.commit()
        except RuleViolation as violation:
            db.session.rollback()
            self.show_violation(form, violation)
            return False
        self.after_model_change(form, model, False)
        return True

    def delete_model(self, model):
        try:
            self.delete_with_rules(model)
            db.session.commit()
        except RuleViolation as violation:
            db.session.rollback()
            flash(str(violation.message), "error")
            return False
        return True

    @action("delete", admin_lazy_gettext("Delete"),
            admin_lazy_gettext("Are you sure you want to delete selected records?"))
    def action_delete(self, ids):
        """Bulk delete, row by row through the scope and the rules.

        Flask-Admin's own compares the posted ids as strings with the integer key, which
        PostgreSQL refuses (a 500 for every bulk delete), and lets an odd id raise.
        """
        deleted = sum(1 for row in self.scoped_rows(ids) if self.delete_model(row))
        if deleted:
            flash(admin_ngettext("Record was successfully deleted.", "%(count)s records were successfully deleted.",
                                 deleted, count=deleted), "success")

    def show_violation(self, form, violation):
        field = getattr(form, violation.field, None) if violation.field else None
        if field is not None:
            field.errors = list(field.errors) + [str(violation.message)]
        flash(str(violation.message), "error")

    def run_each(self, ids, rule, done_message, stop_on=()):
        """Apply a rule to each posted id in a transaction of its own: one refusal (flashed) does
        not hold back the others; a refusal whose code is in `stop_on` ends the run."""
        done = 0
        for row_id in parse_ids(ids):
            try:
                rule(row_id)
                db.session.commit()
                done += 1
            except RuleViolation as refusal:
                db.session.rollback()
                flash(str(refusal.message), "error")
                if refusal.code in stop_on:
                    break
        if done:
            flash(done_message % {"n": done}, "success")

    def run_bulk(self, ids, rule, done_message):
        """Apply a rule to every reachable row of a bulk or row action, in one transaction."""
        rows = self.scoped_rows(ids)
        if not rows:
            abort(404)
        try:
            for row in rows:
                rule(row)
            db.session.commit()
        except RuleViolation as violation:
            db.session.rollback()
            flash(str(violation.message), "error")
            return
        flash(done_message % {"n": len(rows)} if "%(n)" in done_message else done_message, "success")
