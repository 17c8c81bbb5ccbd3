"""Users (manual §六 new user, §七 find a user, restore a locked account, reset a password)."""
from datetime import timedelta

from flask import abort, current_app, flash, g, jsonify, redirect, request
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.sqla.fields import QuerySelectField, QuerySelectMultipleField
from flask_admin.helpers import get_redirect_target
from flask_admin.model.template import TemplateLinkRowAction
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import and_, func, or_, select
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from models import ROLES, Department, User, db
from services import clock
from services.people import accounts
from services.people.access import ROLE_LABELS, assignable_roles, department_clause, user_clause
from services.people.departments import tree_label

from .base import EmptyList, ScopedModelView, parse_ids
from .filters import ChoiceFilter, InSubtreeFilter
from .forms import AdminForm


class ScopedMultipleField(QuerySelectMultipleField):
    """A multiple select that refuses posted ids outside its choices.

    Flask-Admin's `pre_validate` tests for unknown ids before it has read the posted ids,
    so an id outside the query (another company's department) was silently dropped
    instead of refused.
    """

    def pre_validate(self, form):
        _ = self.data  # resolve the posted ids first: this marks any id outside the choices
        super().pre_validate(form)


def _scoped_department_query():
    return db.session.query(Department).filter(department_clause(current_user)).order_by(Department.path)


class UserForm(AdminForm):
    login = StringField(
        _l("Login account"),
        validators=[InputRequired(_l("Enter the login account.")), Length(max=32, message=_l("At most 32 characters."))],
        description=_l("The login is also the user's name. Letters, digits, Chinese characters, . _ - @"),
    )
    display_name = StringField(
        _l("Person's name"), validators=[Optional(), Length(max=64, message=_l("At most 64 characters."))],
        description=_l("As colleagues write it (张伟); several people may share it. An import's owner column "
                       "(业务负责人) may give the login or this name."),
    )
    role = SelectField(_l("Role"), validators=[InputRequired(_l("Choose a role."))])
    department = QuerySelectField(
        _l("Department"), query_factory=_scoped_department_query, get_label=tree_label,
        allow_blank=True, blank_text="—", validators=[DataRequired(_l("Choose a department from the tree."))],
    )
    managed_departments = ScopedMultipleField(
        _l("Managed departments"), query_factory=_scoped_department_query, get_label=tree_label,
        description=_l("For supervisors and managers: the departments they oversee, each with its sub-departments."),
    )
    email = StringField(_l("Email"), validators=[Optional(), Length(max=254, message=_l("At most 254 characters."))])


def _inactive_cutoff():
    return clock.now() - timedelta(days=current_app.config["CRM_INACTIVE_LOCK_DAYS"] or 36500)


def _locked_condition():
    """Every kind of lock the login refuses: an admin's, disuse, and the wait after wrong passwords."""
    return or_(User.locked_at.isnot(None), func.coalesce(User.last_seen_at, User.created_at) < _inactive_cutoff(),
               accounts.waiting_clause())


STATUS_LABELS = {
    "active": _l("Active"),
    "locked": _l("Locked"),
    "deactivated": _l("Deactivated"),
    "must_change": _l("Must change password"),
}
_STATUS_CONDITIONS = {
    "active": lambda: and_(User.active.is_(True), ~_locked_condition()),
    "locked": _locked_condition,
    "deactivated": lambda: User.active.is_(False),
    "must_change": lambda: User.must_change_password.is_(True),
}


LOCK_LABELS = {
    "admin": _l("locked by an administrator"),
    "inactive": _l("not used for a long time"),
    "too_many_failures": _l("too many wrong passwords"),
}


def lock_kind(user):
    """accounts.lock_kind, read once per request (a list page reads its rows' in one query: get_list)."""
    kinds = g.setdefault("lock_kinds", {})
    if user.id not in kinds:
        kinds[user.id] = accounts.lock_kind(db.session, user)
    return kinds[user.id]


def user_status(user):
    if not user.active:
        return "deactivated"
    if lock_kind(user):
        return "locked"
    return "must_change" if user.must_change_password else "active"


def _format_status(view, context, model, name):
    status = user_status(model)
    badge = {"active": "success", "locked": "danger", "deactivated": "secondary", "must_change": "warning"}[status]
    html = Markup('<span class="badge badge-{} user-status">{}</span>').format(badge, STATUS_LABELS[status])
    if status == "locked":  # which lock: the admin knows what restoring lifts
        html += Markup(' <small class="text-muted lock-kind">{}</small>').format(LOCK_LABELS.get(lock_kind(model), LOCK_LABELS["admin"]))
    return html


class UserView(ScopedModelView):
    list_template = "users/list.html"
    create_template = "users/create.html"
    edit_template = "users/edit.html"
    can_delete = False  # accounts are deactivated, never deleted: their history stays theirs
    form = UserForm
    column_list = ["login", "display_name", "role", "department", "status", "last_seen_at", "created_at"]
    column_details_list = ["login", "display_name", "role", "department", "managed_departments", "email", "status",
                           "last_seen_at", "created_at", "locked_at"]
    column_labels = {
        "login": _l("Login account"), "display_name": _l("Person's name"), "role": _l("Role"), "department": _l("Department"),
        "managed_departments": _l("Managed departments"), "email": _l("Email"), "status": _l("Status"),
        "last_seen_at": _l("Last used"), "created_at": _l("Created"), "locked_at": _l("Locked at"),
    }
    column_sortable_list = ["login", "role", ("department", "department.path"), "last_seen_at", "created_at"]
    column_default_sort = ("login", False)
    column_searchable_list = ["login"]
    column_formatters = {
        "role": lambda v, c, m, n: ROLE_LABELS[m.role],
        "status": _format_status,
        "managed_departments": lambda v, c, m, n: "、".join(d.name for d in m.managed_departments) or "—",
    }
    column_filters = [
        InSubtreeFilter(User.department_id, _l("Department")),
        ChoiceFilter(User.role, _l("Role"), options=lambda: [(r, ROLE_LABELS[r]) for r in ROLES]),
        ChoiceFilter(User.active, _l("Status"), options=lambda: list(STATUS_LABELS.items()),
                     conditions=_STATUS_CONDITIONS),
    ]
    column_extra_row_actions = [
        TemplateLinkRowAction("user_actions.unlock_row", _l("Restore account")),
        TemplateLinkRowAction("user_actions.reset_row", _l("Reset password")),
        TemplateLinkRowAction("user_actions.delete_row", _l("Delete user")),
        TemplateLinkRowAction("user_actions.undelete_row", _l("Restore deleted user")),
    ]

    def scope(self, query):
        # deleted accounts only on the 已删除 view (issue 5), hidden from every other page
        deleted = User.deleted_at.is_not(None) if self.showing_deleted() else User.deleted_at.is_(None)
        return query.filter(user_clause(current_user), deleted)

    def showing_deleted(self):
        return request.args.get("show") == "deleted" and request.endpoint == "users.index_view"

    def empty_list_help(self, searching, clear_search_url):
        if self.showing_deleted() and not searching:
            return EmptyList(_l("No deleted users."), links=[(_l("Users"), self.get_url(".index_view"))])
        return super().empty_list_help(searching, clear_search_url)

    def is_action_allowed(self, name):
        if request.endpoint == "users.index_view" and (name == "undelete") != self.showing_deleted():
            return False  # the 已删除 view offers only restore; the others never offer it
        return super().is_action_allowed(name)

    def get_list(self, *args, **kwargs):
        count, rows = super().get_list(*args, **kwargs)
        if isinstance(rows, (list, tuple)):  # not when Flask-Admin asks for the query only
            g.lock_kinds = accounts.lock_kinds(db.session, rows)
        return count, rows

    def row_status(self, user):
        return user_status(user)

    def _get_filter_groups(self):
        self._refresh_filters_cache()  # department choices depend on who is looking
        return super()._get_filter_groups()

    def _with_role_choices(self, form):
        form.role.choices = [(r, ROLE_LABELS[r]) for r in assignable_roles(current_user)]
        return form

    def create_form(self, obj=None):
        return self._with_role_choices(super().create_form(obj))

    def edit_form(self, obj=None):
        form = self._with_role_choices(super().edit_form(obj))
        form.login.render_kw = {"readonly": True}
        return form

    # --- writes through the rules --------------------------------------------
    def create_with_rules(self, form):
        user, one_time = accounts.create_user(
            db.session, current_user, form.login.data, form.role.data, form.department.data,
            form.managed_departments.data, form.email.data, display_name=form.display_name.data,
        )
        g.one_time_password = one_time
        return user

    def update_with_rules(self, form, model):
        accounts.update_user(db.session, current_user, model, form.role.data, form.department.data,
                             form.managed_departments.data, form.email.data,
                             display_name=form.display_name.data)

    @expose("/new/", methods=("GET", "POST"))
    def create_view(self):
        response = super().create_view()
        if getattr(g, "one_time_password", None):
            # Shown once, in the answer to the POST itself; it is stored only as a hash.
            return self._one_time_page(g.created_user, g.one_time_password, created=True)
        return response

    def after_model_change(self, form, model, is_created):
        if is_created:
            g.created_user = model

    def _one_time_page(self, user, password, created):
        return self.render("users/one_time_password.html", user=user, password=password, created=created,
                           hours=current_app.config["CRM_TEMP_PASSWORD_HOURS"])

    # --- §六: is this login free? --------------------------------------------
    @expose("/check-login")
    def check_login(self):
        problem = accounts.login_problem(db.session, request.args.get("login", ""))
        return jsonify(free=problem is None, message=str(problem) if problem else _("This login is free."))

    # --- §七: restore, reset, deactivate -------------------------------------
    def _posted_user(self):
        return self.get_one(request.form.get("id", ""))

    @expose("/unlock/", methods=("POST",))
    def unlock_view(self):
        user = self._posted_user()
        self.run_bulk([user.id], lambda u: accounts.unlock(db.session, current_user, u),
                      _("The account %(login)s has been restored.", login=user.login))
        # back to the list the admin came from, but only to a page of this site
        return redirect(get_redirect_target() or self.get_url(".index_view"))

    @expose("/reset-password/", methods=("POST",))
    def reset_password_view(self):
        user = self._posted_user()
        try:
            password = accounts.reset_password(db.session, current_user, user)
        except accounts.RuleViolation as violation:
            db.session.rollback()
            abort(403, str(violation.message))
        db.session.commit()
        return self._one_time_page(user, password, created=False)

    @action("unlock", _l("Restore account"), _l("Restore the selected accounts?"))
    def action_unlock(self, ids):
        self.run_bulk(ids, lambda u: accounts.unlock(db.session, current_user, u),
                      _("%(n)s accounts have been restored."))

    @action("deactivate", _l("Deactivate"), _l("Deactivate the selected accounts? They can no longer log in."))
    def action_deactivate(self, ids):
        self.run_bulk(ids, lambda u: accounts.deactivate(db.session, current_user, u),
                      _("%(n)s accounts have been deactivated."))

    @action("reactivate", _l("Reactivate"), _l("Reactivate the selected accounts?"))
    def action_reactivate(self, ids):
        self.run_bulk(ids, lambda u: accounts.reactivate(db.session, current_user, u),
                      _("%(n)s accounts have been reactivated."))

    # --- issue 5: soft delete -------------------------------------------------
    def _deleted_rows(self, ids):
        """Deleted accounts in the admin's scope (the other views never reach them)."""
        wanted = parse_ids(ids)
        return db.session.scalars(select(User).where(User.id.in_(wanted), User.deleted_at.is_not(None),
                                                     user_clause(current_user))).all() if wanted else []

    def _undelete(self, ids):
        rows = self._deleted_rows(ids)
        if not rows:
            abort(404)
        self.run_rows(rows, lambda u: accounts.restore_user(db.session, current_user, u),
                      _("%(n)s accounts have been restored.") % {"n": len(rows)})

    def run_rows(self, rows, rule, done_message):
        try:
            for row in rows:
                rule(row)
            db.session.commit()
        except accounts.RuleViolation as violation:
            db.session.rollback()
            flash(str(violation.message), "error")
            return
        flash(done_message, "success")

    @expose("/soft-delete/", methods=("POST",))
    def delete_user_view(self):
        user = self._posted_user()
        self.run_bulk([user.id], lambda u: accounts.delete_user(db.session, current_user, u),
                      _("The account %(login)s has been deleted.", login=user.login))
        return redirect(get_redirect_target() or self.get_url(".index_view"))

    @expose("/undelete/", methods=("POST",))
    def undelete_view(self):
        self._undelete([request.form.get("id", "")])
        return redirect(self.get_url(".index_view", show="deleted"))

    @action("soft_delete", _l("Delete user"), _l("Delete the selected accounts? They can no longer log in; "
                                                 "an admin can restore them."))
    def action_soft_delete(self, ids):
        self.run_bulk(ids, lambda u: accounts.delete_user(db.session, current_user, u),
                      _("%(n)s accounts have been deleted."))

    @action("undelete", _l("Restore deleted user"), _l("Restore the selected deleted accounts?"))
    def action_undelete(self, ids):
        self._undelete(ids)
