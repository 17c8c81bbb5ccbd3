"""The agent-admin pool (代理商管理员库, manual §五): customers the company's salespeople abandoned.

Agent admins see their own company's pool, subsystem admins every company's. From here an
opportunity is reassigned to a salesperson of the company (refused at the cap) or
released to the public pool, one by one or in bulk; the ids of a bulk action are
re-filtered through the scope, and every move goes through services/opportunities.
"""
from flask import abort, flash, g, redirect, request
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.model.template import TemplateLinkRowAction
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from models import Department, Opportunity, User, db
from services.errors import RuleViolation
from services.library import capacity as library
from services.library import events, opportunities
from services.library.opportunities import FIELD_LABELS
from services.people.access import LIBRARY_ROLES, user_clause

from .auth import safe_next
from .base import EmptyList, ScopedModelView, format_time, parse_id
from .opportunities import FollowMergeMixin, details_context, format_company, remember_lead_states
from .soft_delete import OpportunityDeleteMixin


def _abandon_info(attribute):
    def format_(view, context, model, name):
        event = view.abandon_events().get(model.id)
        if event is None:
            return "—"
        if attribute == "by":
            return event.actor.login if event.actor else "—"
        if attribute == "at":
            return format_time(event.created_at)
        return event.reason or "—"
    return format_


class AgentPoolView(FollowMergeMixin, OpportunityDeleteMixin, ScopedModelView):
    list_template = "agent_pool/list.html"
    can_create = can_edit = can_delete = False
    can_view_details = True
    details_template = "opportunities/details.html"
    column_list = ["company", "contact", "phone", "wechat", "city", "maturity", "abandoned_by", "abandoned_at",
                   "abandon_reason", "last_contact_at"]
    column_details_list = ["company", "province", "city", "district", "town", "address", "contact", "phone", "mobile",
                           "wechat", "qq", "fax", "email", "industry", "source", "maturity", "last_contact_at"]
    column_labels = {**FIELD_LABELS, "maturity": _l("Maturity"), "abandoned_by": _l("Abandoned by"),
                     "abandoned_at": _l("Abandoned at"), "abandon_reason": _l("Abandon reason"),
                     "last_contact_at": _l("Last contact")}
    column_sortable_list = ["company", "last_contact_at"]
    column_default_sort = ("id", True)
    column_searchable_list = ["company"]
    column_formatters = {"abandoned_by": _abandon_info("by"), "abandoned_at": _abandon_info("at"),
                         "abandon_reason": _abandon_info("reason"), "company": format_company,
                         "maturity": lambda v, c, m, n: "—" if m.maturity is None else m.maturity}
    column_extra_row_actions = [TemplateLinkRowAction("agent_pool_actions.reassign_row", _l("Reassign")),
                                TemplateLinkRowAction("agent_pool_actions.release_row", _l("Release to the public pool")),
                                TemplateLinkRowAction("delete_actions.delete_row", _l("Delete")),
                                TemplateLinkRowAction("delete_actions.restore_row", _l("Restore"))]

    def scope(self, query):
        # agent admins: their company's departments (opportunity_clause); subsystem admins: all
        return query.filter(Opportunity.location == "agent_admin_pool", self.visible_clause())

    search_clause = staticmethod(opportunities.search_clause)  # any known detail, via the name index
    live_tab_label = _l("Agent-admin pool")  # where an empty 已删除 view leads back to

    def empty_list_help(self, searching, clear_search_url):
        if searching or self.showing_deleted():
            return super().empty_list_help(searching, clear_search_url)
        return EmptyList(_l("No customer is waiting in the agent-admin pool."),
                         hint=_l("Customers that salespeople abandon come here, to be reassigned or released."))

    def get_list(self, *args, **kwargs):
        count, rows = super().get_list(*args, **kwargs)
        g.abandon_events = events.last_abandon(db.session, [row.id for row in rows])  # per request
        remember_lead_states(rows)
        return count, rows

    def abandon_events(self):
        return g.get("abandon_events", {})

    def render(self, template, **kwargs):
        if template == self.details_template and kwargs.get("model") is not None:
            kwargs.update(details_context(kwargs["model"]))
        return super().render(template, **kwargs)

    # --- reassign -------------------------------------------------------------------------

    def _salespeople(self, rows):
        """Active library-keeping users of the companies of the rows, in the admin's scope."""
        prefixes = {row.department.path for row in rows if row.department is not None}
        if not prefixes:
            return []
        company_depts = select(Department.id).where(
            db.or_(*[Department.path.startswith(prefix) for prefix in prefixes]))
        users = db.session.scalars(
            select(User).where(User.role.in_(LIBRARY_ROLES), User.active.is_(True), User.locked_at.is_(None),
                               User.deleted_at.is_(None),
                               User.department_id.in_(company_depts), user_clause(current_user))
            .order_by(User.login)).all()
        sizes = dict(db.session.execute(
            select(Opportunity.owner_id, func.count()).where(Opportunity.owner_id.in_([u.id for u in users]),
                                                             Opportunity.deleted_at.is_(None))
            .group_by(Opportunity.owner_id)).all()) if users else {}
        return [(user, sizes.get(user.id, 0)) for user in users]

    def _ids(self, raw):
        return [part for part in str(raw or "").split(",") if part][:500]

    @expose("/reassign/", methods=("GET", "POST"))
    def reassign_view(self):
        source = request.form if request.method == "POST" else request.args
        return_url = safe_next(source.get("url")) or self.get_url(".index_view")
        rows = self.scoped_rows(self._ids(source.get("ids")))
        if not rows:
            abort(404)
        if request.method == "POST":
            salesperson_id = parse_id(request.form.get("salesperson", ""))
            salesperson = db.session.scalar(select(User).where(User.id == salesperson_id, user_clause(current_user))) \
                if salesperson_id is not None else None
            try:
                for row in rows:
                    opportunities.reassign(db.session, current_user, row.id, salesperson)
                login = salesperson.login
                db.session.commit()
            except RuleViolation as refused:
                db.session.rollback()
                flash(str(refused.message), "error")
            else:
                flash(_("%(n)d customers reassigned to %(user)s.", n=len(rows), user=login), "success")
                return redirect(return_url)
        return self.render("agent_pool/reassign.html", rows=rows, salespeople=self._salespeople(rows),
                           cap=library.cap(db.session, None), return_url=return_url)

    @action("reassign", _l("Reassign"))
    def action_reassign(self, ids):
        rows = self.scoped_rows(ids)
        if not rows:
            abort(404)
        return redirect(self.get_url(".reassign_view", ids=",".join(str(row.id) for row in rows)))

    # --- release --------------------------------------------------------------------------

    def _release(self, ids):
        self.run_bulk(ids, lambda row: opportunities.release(db.session, current_user, row.id),
                      _("%(n)d customers released to the public pool.", n=len(self.scoped_rows(ids))))

    @expose("/release/", methods=("POST",))
    def release_view(self):
        self._release([request.form.get("id", "")])
        return redirect(safe_next(request.form.get("url")) or self.get_url(".index_view"))

    @action("release", _l("Release to the public pool"), _l("Release the selected customers to the public pool?"))
    def action_release(self, ids):
        self._release(ids)
