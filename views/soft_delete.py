"""Soft delete of opportunities on the admins' lists (issue 5): a row and a bulk "delete", and a
"已删除" view (`?show=deleted`) of the deleted ones with "restore".

Used by the opportunities list and the agent-admin pool. Every id goes through
services.library.opportunities.delete/restore, which re-check the admin's scope; the POSTs carry the
CSRF token (row forms) or go through Flask-Admin's action form (bulk).
"""
from flask import flash, redirect, request
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.helpers import get_redirect_target
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from models import db
from services.errors import RuleViolation
from services.library import opportunities
from services.people.access import deleted_opportunity_clause, is_admin, opportunity_clause

from .base import EmptyList, parse_ids


class OpportunityDeleteMixin:
    def may_delete(self):
        return current_user.is_authenticated and is_admin(current_user)

    def showing_deleted(self):
        """The 已删除 view: admins only, the list page only (never an export or a details page)."""
        return self.may_delete() and request.args.get("show") == "deleted" \
            and request.endpoint == f"{self.endpoint}.index_view"

    def visible_clause(self):
        """Live opportunities in scope, or on the 已删除 view the deleted ones in scope."""
        return deleted_opportunity_clause(current_user) if self.showing_deleted() else opportunity_clause(current_user)

    live_tab_label = _l("All")  # the tab an empty 已删除 view leads back to

    def empty_list_help(self, searching, clear_search_url):
        if self.showing_deleted() and not searching:
            return EmptyList(_l("No deleted customers."), links=[(self.live_tab_label, self.get_url(".index_view"))])
        return super().empty_list_help(searching, clear_search_url)

    def is_action_allowed(self, name):
        if name in ("soft_delete", "restore"):
            if not self.may_delete():
                return False
            if request.endpoint == f"{self.endpoint}.index_view":  # offer each on its own view only
                return (name == "restore") == self.showing_deleted()
            return True
        if self.showing_deleted():
            return False  # no claim, reassign or release of deleted rows
        return super().is_action_allowed(name)

    def _delete(self, raw_ids):
        ids = parse_ids(raw_ids)
        try:
            for opportunity_id in ids:
                opportunities.delete(db.session, current_user, opportunity_id)
            db.session.commit()
        except RuleViolation as refused:
            db.session.rollback()
            flash(str(refused.message), "error")
            return
        if ids:
            flash(_("%(n)d customers deleted. An admin can restore them from the Deleted view.", n=len(ids)),
                  "success")

    def _restore(self, raw_ids):
        """Each on its own: one refused (entered again meanwhile) does not hold back the others."""
        self.run_each(raw_ids, lambda opportunity_id: opportunities.restore(db.session, current_user, opportunity_id),
                      _("%(n)d customers restored."))

    def _back(self, show=None):
        return redirect(get_redirect_target(param_name="url") or self.get_url(".index_view", show=show))

    @expose("/soft-delete/", methods=("POST",))
    def soft_delete_view(self):
        self._delete([request.form.get("id", "")])
        return self._back()

    @expose("/restore/", methods=("POST",))
    def restore_view(self):
        self._restore([request.form.get("id", "")])
        return self._back(show="deleted")

    @action("soft_delete", _l("Delete"), _l("Delete the selected customers? An admin can restore them."))
    def action_soft_delete(self, ids):
        self._delete(ids)

    @action("restore", _l("Restore"), _l("Restore the selected customers?"))
    def action_restore(self, ids):
        self._restore(ids)
