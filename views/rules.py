"""The resource rules settings page (资源规则, manual §九): the one ResourceRules row, subsystem admins only.

The return-to-pool rule empties libraries, so before it is switched on the admin sees its dry
run for exactly the values being saved: "预览" shows it without saving, and a save that switches
the rule on (or changes it while on) is held back, showing the dry run, until those same values
have been previewed.
"""
from types import SimpleNamespace

from flask import flash, redirect, request, session
from flask_admin import expose
from flask_babel import gettext as _
from flask_login import current_user

from models import User, db
from services import audit, clock
from services.library import returns, rules

from .base import CRMView, format_time
from .forms import RulesForm

RETURN_FIELDS = ("return_after_days", "return_warn_days", "return_exempt_key_customers", "return_exempt_note_days")
PREVIEWED = "rules_previewed"  # the session key of the return values whose dry run was last shown


class RulesView(CRMView):
    def is_accessible(self):
        return super().is_accessible() and current_user.role == "subsystem_admin"

    @expose("/", methods=("GET", "POST"))
    def index(self):
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
                           updated_by=row_updated_by(row), format_time=format_time)

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
