"""The audit log page (审计日志, /audit/): read-only, for admins, within their scope.

A subsystem admin sees every entry; an agent admin the entries filed under its agent
company (services.audit files each entry under the company of the actor or the target).
Nothing here writes an entry except the client address every request hands to the
services (`register`), so that their entries carry it.
"""
import json

from flask import g, request, url_for
from flask_admin.contrib.sqla.filters import BaseSQLAFilter
from flask_babel import format_datetime
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import false, func, or_, select, true
from wtforms.fields.core import UnboundField

from models import AuditEntry, Department, Opportunity, User, db
from services import audit
from services.people.access import company_path, opportunity_clause, user_clause

from . import audit_sentences
from .audit_sentences import COLUMN_LABELS, OTHER, code_text
from .base import ScopedModelView
from .exports import ExportMixin, may_export
from .filters import ChoiceFilter
from .forms import PoolRulesForm, RulesForm
from .notes import LocalDayBetweenFilter

ACTION_LABELS = {
    "login": _l("Logged in"), "login_failed": _l("Failed login"), "logout": _l("Logged out"),
    "account_locked": _l("Account locked"), "account_unlocked": _l("Account restored"),
    "password_changed": _l("Password changed"), "password_reset": _l("Password reset"),
    "user_created": _l("User created"), "user_changed": _l("User changed"),
    "user_deactivated": _l("User deactivated"), "user_reactivated": _l("User reactivated"),
    "user_deleted": _l("User deleted"), "user_restored": _l("User restored"),
    "department_created": _l("Department created"), "department_changed": _l("Department changed"),
    "opportunity_entered": _l("Opportunity entered"), "entry_refused": _l("Entry refused"),
    "review_confirmed": _l("Resemblance confirmed"), "opportunity_deleted": _l("Opportunity deleted"),
    "opportunity_restored": _l("Opportunity restored"), "claim": _l("Claimed from the public pool"),
    "abandon": _l("Abandoned"), "reassign": _l("Reassigned"), "release": _l("Released to the public pool"),
    "return": _l("Returned to the public pool"), "lead": _l("Web lead received"), "import": _l("Import"),
    "dedup_check": _l("Duplicate check"), "check_limit_passed": _l("Daily check limit passed"),
    "export": _l("Export"), "rules_changed": _l("Resource rules changed"),
    "duplicate_scan": _l("Duplicate scan"), "duplicates_dismissed": _l("Not duplicates"),
    "merge": _l("Duplicates merged"), "merge_undone": _l("Merge undone"),
}
TARGET_LABELS = {"opportunity": _l("Opportunity"), "user": _l("User"), "department": _l("Department"),
                 "web_lead": _l("Web lead"), "resource_rules": _l("Resource rules")}
DETAIL_LABELS = {
    "reason": _l("Reason"), "company": _l("Company name"), "verdict": _l("Verdict"), "code": _l("Refused as"),
    "collided": _l("Collided with"), "resembled": _l("Resembles"), "rows": _l("Rows"), "list": _l("List"),
    "format": _l("Format"), "to": _l("To"), "file": _l("File"), "imported": _l("Imported"), "read": _l("Read"),
    "duplicates": _l("Duplicates"), "invalid": _l("Invalid"), "returned": _l("Returned"),
    "opportunity_ids": _l("Opportunities"), "role": _l("Role"), "department": _l("Department"),
    "name": _l("Name"), "existing": _l("Existing customer"), "assigned_to": _l("Assigned to"),
    # issue 21: every key the code writes has a label (an unknown one is said as OTHER, never in English)
    "hits": _l("Matches"), "forced": _l("Required at the first login"), "kept": _l("Kept customer"),
    "skip_check": _l("Without the duplicate check"), "library_full": _l("Library full"), "review": _l("Similar"),
    "merged": _l("Merged into it"), "changed": _l("Changed"), "restored": _l("Restored"), "merge": _l("Merge"),
    "companies": _l("Customers"), "opportunities": _l("Opportunities"), "limit": _l("Daily limit"),
    "minutes": _l("Minutes"), "lead_id": _l("Web lead"), "owner": _l("Owner"), "location": _l("Location"),
    "return_after_days": _l("Days without valid contact"), "ids_cut": _l("More not listed"),
    "email": _l("Email"), "managed_departments": _l("Managed departments"), "login": _l("Login"),
    "display_name": _l("Person's name"),
    "fields": _l("Fields"), "id": _l("ID"), "opportunity_id": _l("ID"), "score": _l("Similarity"),
    **COLUMN_LABELS,
}
CODE_KEYS = {"reason", "code", "verdict", "location"}  # keys whose values are codes, not names
TEXT_LIMIT = 2000  # characters of details shown in a list cell (the export has them all)


def audit_clause(actor):
    """SQL condition on AuditEntry: all for a subsystem admin, the company's subtree for an agent admin."""
    if actor.role == "subsystem_admin":
        return true()
    prefix = company_path(actor.department) if actor.role == "agent_admin" else ""
    if not prefix:
        return false()
    return AuditEntry.department_id.in_(select(Department.id).where(Department.path.startswith(prefix)))


def _code_label(value):
    return code_text(value) if isinstance(value, str) else _value_text(value)


def _label(key, labels=DETAIL_LABELS):
    return str(labels.get(key, OTHER))


def _value_text(value):
    if isinstance(value, list):
        return ", ".join(_value_text(v) for v in value)
    if isinstance(value, dict) and set(value) == {"old", "new"}:  # a changed setting or field
        return f"{_value_text(value['old'])} → {_value_text(value['new'])}"
    if isinstance(value, dict):
        if "opportunity_id" in value:  # a collision: "#12 上海瑞丽服装厂 (duplicate)"
            return f"#{value['opportunity_id']} {value.get('company', '')} ({_code_label(value.get('verdict', ''))})"
        return ", ".join(f"{_label(k)}={_code_label(v) if k in CODE_KEYS else _value_text(v)}"
                         for k, v in value.items())
    if value is True or value is False:
        return str(_l("Yes") if value else _l("No"))
    return "—" if value is None else str(value)


def details_text(entry):
    """The entry's JSON details as "label: value; ..." in the viewer's language."""
    if not entry.details:
        return ""
    try:
        details = json.loads(entry.details)
    except ValueError:
        return entry.details
    if not isinstance(details, dict):
        return _value_text(details)
    labels = rules_labels() if entry.action == "rules_changed" else DETAIL_LABELS
    return "; ".join(f"{_label(k, labels)}: {_code_label(v) if k in CODE_KEYS else _value_text(v)}"
                     for k, v in details.items())


def said_cell(entry):
    """The 详情 cell: the entry's sentence, and below it the changed fields as 字段：旧值 → 新值."""
    said = audit_sentences.say(entry)
    changes = Markup("").join(
        Markup('<li><span class="text-muted">{}：</span>{}</li>').format(
            label, Markup("{} → {}").format(old, new) if old else new)
        for label, old, new in said.changes)
    if changes:
        changes = Markup('<ul class="list-unstyled small mb-0 audit-changes">{}</ul>').format(changes)
    return Markup('<div class="audit-sentence">{}</div>{}').format(said.sentence[:TEXT_LIMIT], changes)


def rules_labels():
    """The settings page's own labels for the columns of ResourceRules (so a change reads "本人库容上限: 130 → 100")."""
    return {name: field.args[0] for form in (RulesForm, PoolRulesForm) for name, field in vars(form).items()
            if isinstance(field, UnboundField) and field.args}


def _target_text(entry):
    if not entry.target_type:
        return ""
    label = TARGET_LABELS.get(entry.target_type, entry.target_type)
    return f"{label} #{entry.target_id}" if entry.target_id is not None else str(label)


class ActorFilter(BaseSQLAFilter):
    """By the login the entry names (as typed, for failed logins too); case does not matter."""

    def apply(self, query, value, alias=None):
        return query.filter(func.lower(AuditEntry.actor_login) == value.strip().lower())

    def operation(self):
        return _l("equals")


def search_clause(term):
    """A login, or a word of the details (a company, a file name)."""
    term = (term or "").strip()[:100]
    return or_(AuditEntry.actor_login.contains(term, autoescape=True),
               AuditEntry.details.contains(term, autoescape=True))


class AuditView(ExportMixin, ScopedModelView):
    list_template = "audit/list.html"
    can_create = can_edit = can_delete = False
    can_view_details = False
    column_display_actions = False
    action_disallowed_list = ["delete"]
    simple_list_pager = True  # the log only grows: no count(*) over it on every page
    column_list = ["created_at", "actor_login", "action", "target", "details", "ip"]
    column_labels = {"created_at": _l("Time"), "actor_login": _l("Actor"), "action": _l("Action"),
                     "target": _l("Target"), "details": _l("Details"), "ip": _l("IP address")}
    column_sortable_list = ["created_at"]
    column_default_sort = [("created_at", True), ("id", True)]
    column_filters = [
        ChoiceFilter(AuditEntry.action, _l("Action"), options=lambda: [(a, ACTION_LABELS[a]) for a in audit.ACTIONS]),
        ActorFilter(AuditEntry.actor_login, _l("Actor")),
        LocalDayBetweenFilter(AuditEntry.created_at, _l("Time")),
        ChoiceFilter(AuditEntry.target_type, _l("Target"), options=lambda: list(TARGET_LABELS.items())),
    ]
    search_clause = staticmethod(search_clause)
    column_searchable_list = ["actor_login"]  # shows the search box; search_clause does the searching
    export_basename = _l("Audit log")
    export_columns = [
        (_l("Time"), lambda e: e.created_at), (_l("Actor"), lambda e: e.actor_login),
        (_l("Action"), lambda e: str(ACTION_LABELS.get(e.action, e.action))), (_l("Target"), _target_text),
        (_l("Details"), details_text), (_l("IP address"), lambda e: e.ip),
        (_l("Description"), audit_sentences.text),  # issue 21: the page's sentence, added last
    ]

    column_formatters = {
        "created_at": lambda v, c, m, n: format_datetime(m.created_at, "yyyy-MM-dd HH:mm:ss"),
        "action": lambda v, c, m, n: ACTION_LABELS.get(m.action, m.action),
        "target": lambda v, c, m, n: v.target_cell(m),
        "details": lambda v, c, m, n: said_cell(m),
        "actor_login": lambda v, c, m, n: m.actor_login or "—",
    }

    def scope(self, query):
        return query.filter(audit_clause(current_user))

    def get_list(self, *args, **kwargs):
        count, rows = super().get_list(*args, **kwargs)
        if kwargs.get("execute", True) and rows is not None:
            g.audit_visible = self._visible_targets(rows)
            g.audit_named = self._load_named(rows)
        return count, rows

    @staticmethod
    def _load_named(rows):
        """The users and departments this page's sentences name, loaded in two queries (the session's identity
        map then answers the sentences' lookups; the list keeps them from being garbage-collected meanwhile)."""
        loaded = []
        for kind, model in (("user", User), ("department", Department)):
            ids = {r.target_id for r in rows if r.target_type == kind and r.target_id}
            if ids:
                loaded += db.session.scalars(select(model).where(model.id.in_(ids))).all()
        return loaded

    @staticmethod
    def _visible_targets(rows):
        """{(type, id)} of this page's targets that the viewer may open: two queries per page."""
        wanted = {kind: [r.target_id for r in rows if r.target_type == kind and r.target_id]
                  for kind in ("opportunity", "user")}
        visible = set()
        if wanted["opportunity"]:
            visible |= {("opportunity", i) for i in db.session.scalars(
                select(Opportunity.id).where(Opportunity.id.in_(wanted["opportunity"]),
                                             opportunity_clause(current_user)))}
        if wanted["user"]:
            visible |= {("user", i) for i in db.session.scalars(
                select(User.id).where(User.id.in_(wanted["user"]), user_clause(current_user)))}
        return visible

    def target_cell(self, entry):
        text = _target_text(entry)
        if (entry.target_type, entry.target_id) not in getattr(g, "audit_visible", set()):
            return text
        endpoint = "opportunities.details_view" if entry.target_type == "opportunity" else "users.edit_view"
        return Markup('<a href="{}">{}</a>').format(url_for(endpoint, id=entry.target_id), text)

    def render(self, template, **kwargs):
        kwargs.setdefault("may_export", may_export(current_user))
        return super().render(template, **kwargs)


def register(app):
    """Every request hands its client address to the session, for the entries the services record."""

    @app.before_request
    def _audit_ip():
        audit.use_ip(db.session, request.remote_addr)
