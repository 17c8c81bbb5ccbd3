"""My opportunities (我的机会, manual §三 steps 4-6 and §四): the library, entry and details."""
from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, g, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.form import rules
from flask_admin.model.template import TemplateLinkRowAction
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import case
from sqlalchemy.orm import joinedload
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import Optional

from models import NOTE_METHODS, InfoSource, Opportunity, db
from services import audit, clock
from services.checking import normalize
from services.duplicates import merges
from services.errors import RuleViolation
from services.library import capacity as library
from services.library import customer_locks, events, leads, notes, opportunities, returns, stats
from services.library import rules as resource_rules
from services.library.opportunities import FIELD_LABELS, FIELD_LIMITS, LOCATION_LABELS, OpportunityInput
from services.people.access import LIBRARY_ROLES, is_admin

from .base import EmptyList, LoginRequiredMixin, ScopedModelView, format_due_time, format_time, parse_id
from .dedup import hit_view
from .exports import ExportMixin, may_export
from .forms import AdminForm
from .soft_delete import OpportunityDeleteMixin


def _text(name, **kwargs):
    return StringField(FIELD_LABELS[name], validators=[Optional()],
                       render_kw={"maxlength": FIELD_LIMITS.get(name, 200), **kwargs})


class OpportunityForm(AdminForm):
    """§三 step 5: company name, province, city, contact person, contact details, source, industry."""

    company = _text("company", autocomplete="off")
    phone = _text("phone", inputmode="tel")
    fax = _text("fax", inputmode="tel")
    mobile = _text("mobile", inputmode="tel")
    wechat = _text("wechat", autocomplete="off", autocapitalize="none", spellcheck="false")
    qq = _text("qq", inputmode="numeric", autocomplete="off")
    # typed or picked (templates/place_picker.html), made canonical on save (services/checking/places.py)
    province = _text("province", list="province-list", autocomplete="off")
    city = _text("city", list="city-list", autocomplete="off")
    district = _text("district", list="district-list", autocomplete="off")
    town = _text("town", list="town-list", autocomplete="off")
    address = _text("address")
    contact = _text("contact")
    email = _text("email")
    industry = _text("industry")
    source = SelectField(FIELD_LABELS["source"], validators=[Optional()], validate_choice=False)
    key_customer = BooleanField(_l("Key customer"))
    confirm_review = BooleanField(_l("I checked the similar customers above: this is another company"))


def format_company(view, context, model, name):
    if model.deleted_at is not None:  # the 已删除 view: no details page behind it
        return model.company
    url = view.get_url(".details_view", id=model.id)
    star = Markup(' <span class="badge badge-warning">{}</span>').format(_l("Key")) if model.key_customer else ""
    return Markup('<a href="{}">{}</a>{}{}{}{}').format(url, model.company, star, due_badge(model), lead_badge(model),
                                                       keeping_badges(model))


def days_before_return(model):
    """距回收 N 天 of a customer of the viewer's own library (None: not theirs, or the return rule will not take
    it); the resource rules read once per request."""
    if not current_user.is_authenticated or model.owner_id != current_user.id:
        return None
    if "resource_rules" not in g:
        g.resource_rules = resource_rules.current(db.session)
    return returns.days_left(g.resource_rules, model, clock.now())


def keeping_badges(model):
    """锁定 on a locked customer, 距回收 N 天 on one of the viewer's own that the return rule will take."""
    badges = Markup("")
    if customer_locks.is_locked(model):
        badges += Markup(' <span class="badge badge-info locked">{}</span>').format(_l("Locked"))
    days = days_before_return(model)
    if days is not None:
        badges += Markup(' <span class="badge badge-light border recycle-days">{}</span>').format(
            _l("%(n)d days before return", n=days))
    return badges


def due_badge(model):
    """今日应联系 on a customer of one's own library due today (services/stats.due_clause, as the bar counts)."""
    if model.id in g.get("due_ids", ()):
        return Markup(' <span class="badge badge-primary due-today">{}</span>').format(_l("Due for contact today"))
    return ""


def remember_lead_states(rows):
    """Before a list page renders: the web-lead state of each row, in one query (see lead_badge)."""
    if isinstance(rows, (list, tuple)):  # not when Flask-Admin asks for the query only (execute=False)
        g.lead_states = leads.states(db.session, [row.id for row in rows], clock.now())


def remember_due(rows, keeps_library):
    """Before a list page renders: which of its rows are due today for the viewer, in one query (see due_badge)."""
    if keeps_library and isinstance(rows, (list, tuple)) and rows:
        g.due_ids = set(db.session.scalars(db.select(Opportunity.id).where(
            Opportunity.id.in_([row.id for row in rows]), stats.due_clause(current_user))))


def lead_badge(model):
    """A red 逾期 badge for a row with an overdue web lead, a blue one for a lead waiting to be followed up."""
    state = g.get("lead_states", {}).get(model.id)
    if state == "overdue":
        return Markup(' <span class="badge badge-danger lead-overdue">{}</span>').format(_l("Lead overdue"))
    if state == "open":
        return Markup(' <span class="badge badge-info lead-open">{}</span>').format(_l("New web lead"))
    return ""


def _time_left(delta):
    minutes = max(int(delta.total_seconds() // 60), 0)
    return _("%(hours)d h %(minutes)d min left", hours=minutes // 60, minutes=minutes % 60)


def _lead_rows(model):
    now = clock.now()
    return [(lead, *leads.lead_status(lead, now)) for lead in leads.leads_of(db.session, model.id)]


def _format_location(view, context, model, name):
    if model.location == "library":
        return model.owner.login if model.owner else ""
    return LOCATION_LABELS[model.location]


def details_context(model):
    """What the details page shows below the record: notes, history, and the forms of its owner."""
    zone = ZoneInfo(current_app.config["CRM_TIMEZONE"])
    return {
        "is_owner": model.owner_id == current_user.id,
        "notes": notes.notes_of(db.session, model.id),
        "events": (history := events.history(db.session, model.id)),
        "merge_lines": merges.of_history(db.session, history),
        "may_open_merges": is_admin(current_user),
        "record_heading": record_heading(model),
        "note_methods": [(m, notes.METHOD_LABELS[m]) for m in NOTE_METHODS],
        "maturity_levels": notes.maturity_levels(),
        "abandon_reasons": opportunities.abandon_reasons(db.session),
        "now_local": clock.now().astimezone(zone).strftime("%Y-%m-%dT%H:%M"),
        "format_time": format_time,
        "method_label": lambda m: notes.METHOD_LABELS.get(m, m),
        "event_label": lambda kind: EVENT_LABELS.get(kind, kind),
        "leads": _lead_rows(model),
        "time_left": _time_left,
        "locked": customer_locks.is_locked(model),
        "days_before_return": days_before_return(model),
    }


def record_heading(model):
    """The details page's heading says where the record is (issue 21): a record of the public pool opened from a
    merge or the audit log is not in 我的机会."""
    if model.location != "library":
        return LOCATION_LABELS.get(model.location, _l("Customer"))
    if model.owner_id == current_user.id:
        return _l("My opportunities")
    return _l("Library of %(login)s", login=model.owner.login if model.owner else "—")


def refusal_panel(refusal):
    """What the entry form's check panel shows after a refused save: the matches and the outcome
    ("duplicate", "yours": the first refusing match is one's own, or "confirm": a resemblance to confirm)."""
    hits = [hit_view(h, current_user) for h in refusal.result.hits]
    blocking = next((h for h in hits if h["blocks"]), None)
    if refusal.code == "review_required":
        outcome = "confirm"
    else:
        outcome = "yours" if blocking is not None and blocking["own"] else "duplicate"
    return {"refusal_hits": hits, "refusal_outcome": outcome, "refusal_message": str(refusal.message)}


EVENT_LABELS = {"abandon": _l("Abandoned"), "reassign": _l("Reassigned"), "release": _l("Released to the public pool"),
                "lead": _l("Web lead"), "merge": _l("Duplicates merged into it"), "unmerge": _l("Merge undone"),
                "return": _l("Returned to the public pool by the resource rules"),  # `rules run`
                "claim": _l("Claimed from the public pool")}


def _owner_text(model):
    return model.owner.login if model.owner else LOCATION_LABELS[model.location]


EXPORT_COLUMNS = [
    (FIELD_LABELS["company"], lambda o: o.company), (FIELD_LABELS["contact"], lambda o: o.contact),
    (FIELD_LABELS["phone"], lambda o: o.phone), (FIELD_LABELS["mobile"], lambda o: o.mobile),
    (FIELD_LABELS["wechat"], lambda o: o.wechat), (FIELD_LABELS["qq"], lambda o: o.qq),
    (FIELD_LABELS["province"], lambda o: o.province), (FIELD_LABELS["city"], lambda o: o.city),
    (FIELD_LABELS["district"], lambda o: o.district), (FIELD_LABELS["town"], lambda o: o.town),
    (_l("Department"), lambda o: o.department.name if o.department else None),
    (_l("Owner"), _owner_text),
    (_l("Key customer"), lambda o: _l("Yes") if o.key_customer else _l("No")),
    (_l("Maturity"), lambda o: o.maturity),
    (_l("Last contact"), lambda o: o.last_contact_at), (_l("Next contact"), lambda o: o.next_contact_at),
    (_l("Entered"), lambda o: o.entered_at),
]
# endpoints that show the list as the viewer left it (the export takes the list's own URL arguments)
LIST_ENDPOINTS = ("opportunities.index_view", "opportunities.export")


class FollowMergeMixin:
    """An old link to a merged record (a bookmark, a notice, an email) leads to the record it was merged
    into, when the user may see that one; otherwise the usual 404."""

    def _merged_away(self):
        row_id = parse_id(request.args.get("id", ""))
        if row_id is None or self.get_query().filter(Opportunity.id == row_id).first() is not None:
            return None
        target = merges.merged_into(db.session, current_user, row_id)
        if target is None:
            return None
        flash(_("That customer was merged into %(company)s.", company=target.company), "info")
        return redirect(url_for("opportunities.details_view", id=target.id))

    @expose("/details/")
    def details_view(self):
        return self._merged_away() or super().details_view()

    @expose("/edit/", methods=("GET", "POST"))
    def edit_view(self):
        return self._merged_away() or super().edit_view()


class OpportunityView(FollowMergeMixin, OpportunityDeleteMixin, ExportMixin, ScopedModelView):
    """The library as a Flask-Admin model view; every role sees only its scope."""

    list_template = "opportunities/list.html"
    create_template = "opportunities/create.html"
    details_template = "opportunities/details.html"
    can_edit = False  # changes to a customer's keys come with the contact-note work
    can_delete = False
    form = OpportunityForm
    created_message = _l("Entered into your library: %(name)s")
    # the duplicate check speaks where one types (issue 21): each field it reads has its own line under
    # it (entry_check.checked), and the panel of matches, with the confirmation tick of a resemblance,
    # sits right under 公司名称 (the script moves it under the number whose matches it lists)
    form_create_rules = [rules.Field("company", render_field="entry_check.checked"),
                         rules.Field("confirm_review", render_field="entry_check.panel"),
                         *(rules.Field(name, render_field="entry_check.checked") for name in ("phone", "fax", "mobile", "wechat")),
                         "qq", "province", "city",
                         "district", "town", "address", "contact", "email", "industry", "source", "key_customer"]
    page_size = 50
    column_list = ["company", "contact", "phone", "wechat", "city", "maturity", "location", "last_contact_at",
                   "next_contact_at", "entered_at"]
    column_details_list = ["company", "province", "city", "district", "town", "address", "contact", "phone", "mobile",
                           "wechat", "qq", "fax", "email", "industry", "source", "key_customer", "maturity", "location", "entered_at",
                           "last_contact_at", "next_contact_at"]
    column_labels = {**{k: v for k, v in FIELD_LABELS.items()}, "maturity": _l("Maturity"),
                     "location": _l("Owner"), "key_customer": _l("Key customer"),
                     "last_contact_at": _l("Last contact"), "next_contact_at": _l("Next contact"),
                     "entered_at": _l("Entered")}
    column_sortable_list = ["company", "last_contact_at", "next_contact_at", "entered_at"]
    column_default_sort = ("entered_at", True)
    column_searchable_list = ["company"]  # the box searches every known detail (see _apply_search)
    column_formatters = {
        "company": format_company, "location": _format_location, "next_contact_at": format_due_time,
        "maturity": lambda v, c, m, n: "—" if m.maturity is None else m.maturity,
    }
    column_formatters_detail = {
        "location": lambda v, c, m, n: (Markup("{} · {}").format(LOCATION_LABELS[m.location], m.owner.login)
                                        if m.owner else LOCATION_LABELS[m.location]),
        "key_customer": lambda v, c, m, n: _l("Yes") if m.key_customer else _l("No"),
    }

    column_extra_row_actions = [TemplateLinkRowAction("delete_actions.delete_row", _l("Delete")),
                                TemplateLinkRowAction("delete_actions.restore_row", _l("Restore"))]

    export_basename = _l("Opportunities")
    export_columns = EXPORT_COLUMNS
    export_options = (joinedload(Opportunity.owner), joinedload(Opportunity.department))

    def is_accessible(self):
        return LoginRequiredMixin.is_accessible(self)

    @property
    def can_create(self):
        """Only the roles that keep a library enter customers into one (admins import instead)."""
        return current_user.is_authenticated and current_user.role in LIBRARY_ROLES

    @property
    def simple_list_pager(self):
        """Admins may reach a million rows: no count(*) over them on every page."""
        return current_user.is_authenticated and current_user.role in ("agent_admin", "subsystem_admin")

    def keeps_library(self):
        return current_user.is_authenticated and current_user.role in LIBRARY_ROLES

    def showing(self):
        """The list's tab (issue 21): "all" (the whole library, first), "due" (今日应联系, ?show=due, for those
        who keep a library) or "deleted" (the admins' 已删除). `?show=all` still means all, for old links."""
        if self.showing_deleted():
            return "deleted"
        if request.args.get("show") == "due" and self.keeps_library() and request.endpoint in LIST_ENDPOINTS:
            return "due"
        return "all"

    def scope(self, query):
        query = query.filter(self.visible_clause())  # never a deleted one, but on the admins' 已删除 view
        if self.showing() == "due":  # exactly what the bar and the home page count
            query = query.filter(stats.due_clause(current_user))
        return query

    def _apply_sorting(self, query, joins, sort_column, sort_desc):
        """Unless the viewer picked a column: today's due customers first (soonest first), then the rest newest
        first, so that 全部 opening the list still puts the day's work at the top."""
        if sort_column is None and self.showing() != "deleted" and self.keeps_library():
            due = stats.due_clause(current_user)
            query = query.order_by(case((due, 0), else_=1), case((due, Opportunity.next_contact_at), else_=None))
        return super()._apply_sorting(query, joins, sort_column, sort_desc)

    search_clause = staticmethod(opportunities.search_clause)  # any known detail, via the name index

    def get_list(self, *args, **kwargs):
        count, rows = super().get_list(*args, **kwargs)
        remember_lead_states(rows)
        remember_due(rows, self.keeps_library())
        return count, rows

    def empty_list_help(self, searching, clear_search_url):
        """Why 我的机会 is empty (issue 21): nothing due today (a link to 全部), or no customer at all yet."""
        showing = self.showing()
        if searching or showing == "deleted":
            return super().empty_list_help(searching, clear_search_url)
        if showing == "due":
            return EmptyList(_l("Nobody is due for contact today."),
                             hint=_l("A customer comes here on the day of the next contact set in a contact note."),
                             links=[(_l("All customers"), self.get_url(".index_view"))])
        if self.keeps_library():
            return EmptyList(_l("Your library has no customers yet."),
                             hint=_l("Run a duplicate check and enter a customer, or claim one from the public pool."),
                             links=[(_l("Duplicate check"), url_for("dedup.index")),
                                    (_l("Public pool"), url_for("pool.index_view"))])
        return EmptyList(_l("No customers in your scope yet."),
                         hint=_l("Customers appear here once salespeople enter them or an import brings them in."))

    def create_form(self, obj=None):
        form = super().create_form(obj)
        sources = db.session.scalars(db.select(InfoSource).where(InfoSource.active.is_(True))
                                     .order_by(InfoSource.id)).all()
        form.source.choices = [("", "—")] + [(s.name, s.name) for s in sources]
        if request.method == "GET":  # carried over from the duplicate-check page
            for name in ("company", "phone", "fax", "wechat", "province", "city", "district", "town"):
                if request.args.get(name):
                    getattr(form, name).data = request.args[name][:200]
        return form

    def create_with_rules(self, form):
        data = OpportunityInput.from_mapping({k: f.data for k, f in form._fields.items()})
        try:
            return opportunities.enter(db.session, current_user, data, confirm_review=form.confirm_review.data)
        except opportunities.DuplicateFound as refusal:
            g.dedup_refusal = g.entry_refusal = refusal
            raise
        except RuleViolation as refusal:
            if refusal.code == "library_full":
                g.entry_refusal = refusal
            raise

    def create_model(self, form):
        """Save through the rules; a refused entry is rolled back, then its refusal goes to the audit log."""
        model = super().create_model(form)
        refusal = g.pop("entry_refusal", None)
        if refusal is not None:
            audit.record_refusal(db.session, current_user, "entry_refused",
                                 details=audit.entry_refusal(refusal, form.company.data))
        return model

    def render(self, template, **kwargs):
        refusal = getattr(g, "dedup_refusal", None)
        kwargs.setdefault("refusal_outcome", None)
        if refusal is not None:
            kwargs.update(refusal_panel(refusal))
        kwargs.setdefault("library_size", library.size(db.session, current_user))
        kwargs.setdefault("library_cap", library.cap(db.session, current_user))
        kwargs.setdefault("provinces", normalize.provinces())  # the place pickers' first list
        kwargs.setdefault("may_export", may_export(current_user))
        if template == self.details_template and kwargs.get("model") is not None:
            kwargs.update(details_context(kwargs["model"]))
        return super().render(template, **kwargs)

    def show_violation(self, form, violation):
        """A resemblance is a question, asked in the check's panel beside the matches; a customer already
        one's own is news with a link home (the panel), not a red error on the name."""
        if isinstance(violation, opportunities.DuplicateFound):
            outcome = refusal_panel(violation)["refusal_outcome"]
            if outcome == "confirm":
                return
            if outcome == "yours":
                flash(str(violation.message), "info")
                return
        super().show_violation(form, violation)

    # --- §四 contact notes and §五 abandon, on the details page ----------------------------

    def _posted_id(self):
        opportunity_id = parse_id(request.form.get("id", ""))
        if opportunity_id is None:
            abort(404)
        self.get_one(opportunity_id)  # 404 unless the actor may see it
        return opportunity_id

    @expose("/note/", methods=("POST",))
    def note_view(self):
        """Write a contact note; the page says whether it counted as a valid contact."""
        opportunity_id = self._posted_id()
        form = request.form
        try:
            raw = form.get("maturity", "").strip()
            maturity = int(raw) if raw.isascii() and raw.lstrip("-").isdigit() and len(raw) < 6 else None
            next_contact_at = notes.parse_form_time(form.get("next_contact_at"))
        except ValueError:
            return self._refused_note(opportunity_id, _("The next contact time is not a date and time we can read."))
        try:
            note = notes.add_note(db.session, current_user, opportunity_id, form.get("method", ""),
                                  form.get("content", ""), maturity, unreachable=bool(form.get("unreachable")),
                                  busy=bool(form.get("busy")), next_contact_at=next_contact_at)
            db.session.commit()
        except RuleViolation as refused:
            db.session.rollback()
            if refused.code == "not_found":
                abort(404)
            return self._refused_note(opportunity_id, str(refused.message))
        if note.valid:
            flash(_("Note saved. It counts as a valid contact."), "success")
        else:
            flash(_("Note saved. It does not count as a valid contact (maturity 0, customer not reached, "
                    "or customer busy)."), "warning")
        return redirect(self.get_url(".details_view", id=opportunity_id))

    def _refused_note(self, opportunity_id, message):
        """The details page again, with the note form holding what the salesperson typed.

        A redirect would show an empty form: a long note was lost to a typo in the time.
        """
        flash(message, "error")
        return self.render(self.details_template, model=self.get_one(opportunity_id),
                           details_columns=self._details_columns, get_value=self.get_detail_value,
                           return_url=self.get_url(".index_view"), note_draft=request.form)

    @expose("/abandon/", methods=("POST",))
    def abandon_view(self):
        """§五: give the customer up, with a reason; it goes to the agent company's pool."""
        opportunity_id = self._posted_id()
        try:
            opportunity = opportunities.abandon(db.session, current_user, opportunity_id, request.form.get("reason"))
            company = opportunity.company
            db.session.commit()
        except RuleViolation as refused:
            db.session.rollback()
            if refused.code == "not_found":
                abort(404)
            flash(str(refused.message), "error")
            return redirect(self.get_url(".details_view", id=opportunity_id))
        flash(_("%(company)s was abandoned and is now in the agent-admin pool.", company=company), "success")
        return redirect(self.get_url(".index_view"))

    # --- 锁定: locked customers are never returned to the pool (services/library/customer_locks.py) ------------

    def is_action_allowed(self, name):
        if name in ("lock", "unlock") and not self.keeps_library():
            return False
        return super().is_action_allowed(name)

    def _lock(self, ids, rule, done_message):
        self.run_each(ids, lambda opportunity_id: rule(db.session, current_user, opportunity_id), done_message,
                      stop_on=("lock_limit",))

    @expose("/lock/", methods=("POST",))
    def lock_view(self):
        opportunity_id = self._posted_id()
        self._lock([opportunity_id], customer_locks.lock, _("%(n)d customers locked."))
        return redirect(self.get_url(".details_view", id=opportunity_id))

    @expose("/unlock/", methods=("POST",))
    def unlock_view(self):
        opportunity_id = self._posted_id()
        self._lock([opportunity_id], customer_locks.unlock, _("%(n)d customers unlocked."))
        return redirect(self.get_url(".details_view", id=opportunity_id))

    @action("lock", _l("Lock"), _l("Lock the selected customers? The return rule never takes a locked customer."))
    def action_lock(self, ids):
        self._lock(ids, customer_locks.lock, _("%(n)d customers locked."))

    @action("unlock", _l("Unlock"), _l("Unlock the selected customers?"))
    def action_unlock(self, ids):
        self._lock(ids, customer_locks.unlock, _("%(n)d customers unlocked."))
