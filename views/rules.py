"""The resource rules settings page (资源规则, manual §九): the one ResourceRules row, subsystem admins only; and
the public pool's rules per agent company (services/library/pool_rules.py), which an agent admin sets for its own
company on this page too (and sees nothing else of it).

The return-to-pool rule empties libraries, so before it is switched on the admin sees its dry
run for exactly the values being saved: "预览" shows it without saving, and a save that switches
the rule on (or changes it while on) is held back, showing the dry run, until those same values
have been previewed.
"""
from types import SimpleNamespace

from flask import abort, flash, redirect, request, session
from flask_admin import expose
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from models import Department, User, db
from services import audit, clock
from services.errors import RuleViolation
from services.library import pool_rules, returns, rules

from .base import CRMView, format_time
from .forms import PoolRulesForm, RulesForm
from .ids import parse_id

RETURN_FIELDS = ("return_after_days", "return_warn_days", "return_exempt_key_customers", "return_exempt_note_days")
PREVIEWED = "rules_previewed"  # the session key of the return values whose dry run was last shown


class RulesView(CRMView):
    def is_accessible(self):
        return super().is_accessible() and current_user.role in ("subsystem_admin", "agent_admin")

    @expose("/", methods=("GET", "POST"))
    def index(self):
        if current_user.role != "subsystem_admin":  # an agent admin sets its company's pool rules only
            if request.method == "POST":
                abort(403)
            return self.render("rules/index.html", form=None, **self._pool_context())
        row = rules.current(db.session)
        form = RulesForm(obj=row) if request.method == "GET" else RulesForm()
        preview = None
        if request.method == "POST" and form.validate():
            values = SimpleNamespace(**{name: getattr(form, name).data for name in RETURN_FIELDS})
            if request.form.get("action") == "preview" or self._needs_preview(row, form, values):
                if request.form.get("action") != "preview":
                    flash(_("Check the dry run below, then save the same values again to apply the return rule."), "warning")
                session[PREVIEWED] = _signature(values)
                preview = returns.preview(db.session, values, clock.now())
            else:
                self._save(row, form)
                flash(_("The resource rules have been saved."), "success")
                return redirect(self.get_url(".index"))
        elif request.method == "POST":
            flash(_("Nothing was saved: correct the marked values."), "error")
        if preview is None:  # the rule as it stands (saved values, or the last valid ones)
            preview = returns.preview(db.session, row, clock.now())
        return self.render("rules/index.html", form=form, row=row, preview=preview,
                           updated_by=row_updated_by(row), format_time=format_time, **self._pool_context())

    @staticmethod
    def _pool_company():
        """The company whose pool rules the page shows: the agent admin's own; for a subsystem admin the one
        chosen (`?company=ID`), the head office (every company's default) by default."""
        if current_user.role != "subsystem_admin":
            return pool_rules.company_of(db.session, current_user)
        chosen = parse_id(request.args.get("company", ""))
        department = db.session.get(Department, chosen) if chosen else pool_rules.head_office(db.session)
        if department is None or not pool_rules.may_edit(current_user, department):
            abort(404)
        return department

    def _pool_context(self, pool_form=None):
        company = self._pool_company()
        in_force = pool_rules.for_company(db.session, company)
        companies = db.session.scalars(select(Department).where(Department.depth <= 1).order_by(Department.path)).all() \
            if current_user.role == "subsystem_admin" else [company]
        return {"pool_form": pool_form or PoolRulesForm(data=in_force.values()), "pool_company": company,
                "pool_source": in_force.source, "companies": companies}

    @expose("/pool/", methods=("POST",))
    def pool(self):
        """Save the shown company's pool rules (audited); a value out of range is said and nothing is saved."""
        company = self._pool_company()
        form = PoolRulesForm()
        if form.validate():
            try:
                pool_rules.save(db.session, current_user, company, {name: getattr(form, name).data
                                                                     for name in pool_rules.FIELDS})
                db.session.commit()
                flash(_("The pool rules of %(company)s have been saved.", company=company.name), "success")
                return redirect(self.get_url(".index", company=company.id))
            except RuleViolation as refused:
                db.session.rollback()
                flash(str(refused.message), "error")
        else:
            flash(_("Nothing was saved: correct the marked values."), "error")
        return self._pool_refused(form), 422  # the form again, its values said wrong: nothing was saved

    def _pool_refused(self, form):
        context = self._pool_context(form)
        if current_user.role != "subsystem_admin":
            return self.render("rules/index.html", form=None, **context)
        row = rules.current(db.session)
        return self.render("rules/index.html", form=RulesForm(obj=row), row=row, updated_by=row_updated_by(row),
                           preview=returns.preview(db.session, row, clock.now()), format_time=format_time, **context)

    @staticmethod
    def _needs_preview(row, form, values):
        """Switching the rule on, or changing it while on, needs a dry run of these very values first."""
        if not form.return_enabled.data:
            return False
        changed = not row.return_enabled or _signature(row) != _signature(values)
        return changed and session.get(PREVIEWED) != _signature(values)

    @staticmethod
    def _save(row, form):
        names = [field.name for field in form if hasattr(row, field.name)]
        before = {name: getattr(row, name) for name in names}
        form.populate_obj(row)
        row.updated_at, row.updated_by_id = clock.now(), current_user.id
        changed = audit.changes(before, {name: getattr(row, name) for name in names})
        if changed:  # old and new value of each changed setting
            audit.record(db.session, current_user, "rules_changed", target=row, details=changed)
        session.pop(PREVIEWED, None)
        db.session.commit()


def row_updated_by(row):
    user = db.session.get(User, row.updated_by_id) if row.updated_by_id else None
    return user.login if user else "—"


def _signature(values):
    return [int(getattr(values, name)) for name in RETURN_FIELDS]
