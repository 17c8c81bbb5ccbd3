"""The public pool (公海): browse, search, and claim into one's own library under the cap."""
from flask import abort, flash, g, redirect, request
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.helpers import get_redirect_target
from flask_admin.model.template import TemplateLinkRowAction
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from models import Opportunity, User, db
from services.errors import RuleViolation
from services.library import capacity as library
from services.library import masking, opportunities
from services.library.opportunities import FIELD_LABELS
from services.people.access import LIBRARY_ROLES, is_admin

from .auth import safe_next
from .base import LoginRequiredMixin, ScopedModelView, parse_id


class PoolView(ScopedModelView):
    list_template = "pool/list.html"
    can_create = can_edit = can_delete = False
    can_view_details = False  # contact details belong to whoever claims it
    column_list = ["company", "province", "city", "industry", "phone", "mobile", "source", "entered_at"]
    column_labels = {**FIELD_LABELS, "entered_at": _l("In the pool since")}
    column_formatters = {"phone": lambda v, c, m, n: v.contact_cell(m, n),
                         "mobile": lambda v, c, m, n: v.contact_cell(m, n)}
    column_sortable_list = ["company", "entered_at"]
    column_default_sort = ("entered_at", True)
    column_searchable_list = ["company"]
    column_extra_row_actions = [TemplateLinkRowAction("pool_actions.claim_row", _l("Claim"))]

    simple_list_pager = True  # the pool can hold most of the database: no count(*) per page

    def is_accessible(self):
        return LoginRequiredMixin.is_accessible(self)

    def scope(self, query):
        return query.filter(Opportunity.location == "public_pool", Opportunity.deleted_at.is_(None))

    search_clause = staticmethod(opportunities.search_clause)  # any known detail, via the name index

    def masking(self):
        """Whether the viewer sees the pool's contacts masked (services/library/masking.py), once per request."""
        if "pool_masking" not in g:
            g.pool_masking = masking.masks_pool(db.session, current_user)
        return g.pool_masking

    def contact_cell(self, model, name):
        """A number as the viewer may see it; masked, and found by a full number typed in the search, it is said
        to match (the viewer typed it: nothing is revealed)."""
        value = masking.masked_value(model, name, self.masking())
        typed = request.args.get("search") or ""
        if value and value != getattr(model, name) and sum(c.isdigit() for c in typed) >= 7 \
                and _digits(typed)[-7:] in _digits(getattr(model, name)):
            return Markup('{} <span class="badge badge-success number-matched">{}</span>').format(
                value, _l("Matches the number searched"))
        return value

    def may_claim(self):
        return current_user.role in LIBRARY_ROLES

    def _claim(self, ids):
        if not self.may_claim():
            flash(_("Only salespeople, supervisors and managers keep a library."), "error")
            return
        # each on its own; a full library ends the run (the rest would be refused the same way)
        self.run_each(ids, lambda opportunity_id: opportunities.claim(db.session, current_user, opportunity_id),
                      _("%(n)d customers are now in your library."), stop_on=("library_full", "daily_claim_limit"))

    @expose("/claim/", methods=("POST",))
    def claim_view(self):
        self._claim([request.form.get("id", "")])
        return redirect(get_redirect_target(param_name="url") or self.get_url(".index_view"))

    @action("claim", _l("Claim"), _l("Claim the selected customers into your library?"))
    def action_claim(self, ids):
        self._claim(ids)

    def is_action_allowed(self, name):
        if name == "assign" and not is_admin(current_user):
            return False
        return super().is_action_allowed(name)

    # --- 分配给…: an admin gives pool customers to a person they administer, at once (no embargo for admins) ---

    def _assignees(self):
        """The people the admin may choose, each with their library's size and cap."""
        users = opportunities.pool_assignees(db.session, current_user)
        sizes = library.sizes(db.session, [user.id for user in users]) if users else {}
        return [(user, sizes.get(user.id, 0), library.cap(db.session, user)) for user in users]

    def _assign_all(self, rows, assignee):
        """All the chosen customers or none: a full library or a customer gone meanwhile refuses the lot."""
        try:
            for row in rows:
                opportunities.assign(db.session, current_user, row.id, assignee)
            db.session.commit()
        except RuleViolation as refused:
            db.session.rollback()
            flash(str(refused.message), "error")
            return False
        flash(_("%(n)d customers assigned to %(user)s.", n=len(rows), user=assignee.login), "success")
        return True

    @expose("/assign/", methods=("GET", "POST"))
    def assign_view(self):
        if not is_admin(current_user):
            abort(403)
        source = request.form if request.method == "POST" else request.args
        return_url = safe_next(source.get("url")) or self.get_url(".index_view")
        rows = self.scoped_rows(str(source.get("ids") or "").split(",")[:500])
        if not rows:
            abort(404)
        if request.method == "POST":
            assignee_id = parse_id(request.form.get("assignee", ""))
            assignee = db.session.get(User, assignee_id) if assignee_id is not None else None
            if self._assign_all(rows, assignee):
                return redirect(return_url)
        return self.render("pool/assign.html", rows=rows, assignees=self._assignees(), return_url=return_url)

    @action("assign", _l("Assign to…"))
    def action_assign(self, ids):
        rows = self.scoped_rows(ids)
        if not rows:
            abort(404)
        return redirect(self.get_url(".assign_view", ids=",".join(str(row.id) for row in rows)))


def _digits(text):
    return "".join(c for c in text or "" if c.isdigit())
