"""The one access base that every admin view shares.

Rows are scoped in `get_query`, `get_count_query` and `get_one` alike (Flask-Admin's
`get_one` ignores `get_query`), bulk actions re-filter their ids through the scope, and
writes go through the rules in `services/`, so a tampered form cannot reach past them.
"""
from flask import abort, flash, redirect, request, url_for
from flask_admin import AdminIndexView, BaseView
from flask_admin.contrib.sqla import ModelView
from flask_babel import gettext as _
from flask_login import current_user

from models import db
from services.access import is_admin
from services.errors import RuleViolation


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


class CRMIndexView(LoginRequiredMixin, AdminIndexView):
    pass


class CRMView(LoginRequiredMixin, BaseView):
    pass


class ScopedModelView(AdminRequiredMixin, ModelView):
    """A model view whose rows are limited by `scope(query)`; writes go through `services/`."""

    can_view_details = True
    can_export = False
    page_size = 50
    can_set_page_size = True

    def scope(self, query):
        raise NotImplementedError

    def get_query(self):
        return self.scope(super().get_query())

    def get_count_query(self):
        return self.scope(super().get_count_query())

    def get_one(self, id):
        """A row of the scope, or 404: the same answer for "absent" and "not yours"."""
        if not str(id).isdigit():
            abort(404)
        row = self.get_query().filter(self.model.id == int(id)).one_or_none()
        if row is None:
            abort(404)
        return row

    def scoped_rows(self, ids):
        """The rows of a bulk action that the actor may reach; other ids are dropped."""
        wanted = [int(i) for i in ids if str(i).isdigit()]
        return self.get_query().filter(self.model.id.in_(wanted)).all() if wanted else []

    # Writes: subclasses implement create_with_rules / update_with_rules / delete_with_rules.
    def create_model(self, form):
        try:
            model = self.create_with_rules(form)
            db.session.commit()
        except RuleViolation as violation:
            db.session.rollback()
            self.show_violation(form, violation)
            return False
        self.after_model_change(form, model, True)
        return model

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

    def show_violation(self, form, violation):
        field = getattr(form, violation.field, None) if violation.field else None
        if field is not None:
            field.errors = list(field.errors) + [str(violation.message)]
        flash(str(violation.message), "error")

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
