"""A company's group robots and webhooks: set by its agent admin, by a subsystem admin for the head office.

A hook belongs to a company's node (an agent company, or the head office) and receives the events of that
company's people that its admin ticked. Its address is checked on saving (and again on every delivery).
"""
import secrets
from urllib.parse import parse_qs, urlsplit

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from models import WEBHOOK_EVENTS, WEBHOOK_KINDS, Department, Webhook

from .. import people
from ..errors import RuleViolation
from . import addresses

KIND_LABELS = {"generic": _l("Generic webhook (signed JSON)"), "wecom": _l("WeCom group robot (企业微信)"),
               "dingtalk": _l("DingTalk group robot (钉钉)"), "feishu": _l("Feishu group robot (飞书)")}
EVENT_LABELS = {"lead_assigned": _l("A web lead assigned"), "lead_overdue": _l("A web lead overdue"),
                "recycle_warning": _l("A customer about to return to the public pool"),
                "recycled": _l("A customer returned to the public pool"),
                "abandoned": _l("A customer abandoned into the agent-admin pool"),
                "quota_summary": _l("Each morning, yesterday's quotas per department")}
NOT_ADMIN = _l("Only an agent admin or a subsystem admin may set robots and webhooks.")
NOT_FOUND = _l("This webhook does not exist, or you may not see it.")


def may_manage(actor):
    return actor is not None and actor.role in ("agent_admin", "subsystem_admin")


def _require_admin(actor):
    if not may_manage(actor):
        raise RuleViolation(NOT_ADMIN, code="forbidden")


def company_of(session, actor, path=None):
    """The company node a hook is set for: the agent admin's own; for a subsystem admin PATH's company, or
    the head office ("/" or none)."""
    if actor.role == "agent_admin":
        return people.company_department(session, actor.department)
    if not path or not str(path).strip() or str(path).strip() == "/":
        return session.scalar(select(Department).where(Department.depth == 0))
    try:
        department = people.resolve_path(session, str(path))
    except RuleViolation:
        raise RuleViolation(_l("Unknown department: %(path)s", path=path), field="department") from None
    return people.company_department(session, department) or department


def visible_clause(actor):
    """The hooks an admin sees: its company's; a subsystem admin's, all."""
    if actor.role == "subsystem_admin":
        return Webhook.id.is_not(None)
    prefix = people.company_path(actor.department)
    return Webhook.department_id.in_(select(Department.id).where(Department.path == prefix))


def hooks(session, actor):
    _require_admin(actor)
    return session.scalars(select(Webhook).where(visible_clause(actor)).order_by(Webhook.id)).all()


def find(session, actor, hook_id):
    _require_admin(actor)
    hook = session.scalar(select(Webhook).where(Webhook.id == hook_id, visible_clause(actor)))
    if hook is None:
        raise RuleViolation(NOT_FOUND, code="not_found")
    return hook


def _events(events):
    if not isinstance(events, (list, tuple)) or not events or not all(isinstance(e, str) for e in events):
        raise RuleViolation(_l("Tick at least one event."), field="events")
    unknown = [e for e in events if e not in WEBHOOK_EVENTS]
    if unknown:
        raise RuleViolation(_l("Unknown event: %(event)s", event=unknown[0][:40]), field="events")
    return ",".join(e for e in WEBHOOK_EVENTS if e in events)


def _robot_address(kind, url):
    """A robot's address carries its token: 企业微信's `key=`, 钉钉's `access_token=`, 飞书's last path part."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    found = {"wecom": query.get("key"), "dingtalk": query.get("access_token"),
             "feishu": parts.path.rstrip("/").rpartition("/")[2]}.get(kind, True)
    if not found:
        raise RuleViolation(_l("This is not the address of a robot of that kind: copy the whole webhook address "
                               "the group's robot settings show."), field="url")


def _secret(kind, secret):
    if secret is not None and not isinstance(secret, str) or len(secret or "") > 200:
        raise RuleViolation(_l("The secret has at most 200 characters."), field="secret")
    secret = (secret or "").strip()
    if kind == "dingtalk" and secret and not secret.isalnum():
        raise RuleViolation(_l("A DingTalk robot's secret has only letters and digits (SEC...)."), field="secret")
    return secret or (secrets.token_hex(24) if kind == "generic" else None)  # a generic hook is always signed


def create(session, actor, url, kind, events, secret=None, department=None):
    """A new hook of the actor's company (or of `department`'s, for a subsystem admin); the generic hook's
    secret is made when none is given (and shown once, in the answer)."""
    _require_admin(actor)
    if kind not in WEBHOOK_KINDS:
        raise RuleViolation(_l("Choose the kind of hook."), field="kind")
    if not isinstance(url, str) or not url.strip() or len(url) > 1000:
        raise RuleViolation(_l("Give the hook's address (at most 1000 characters)."), field="url")
    url = url.strip()
    config = current_app.config
    addresses.check(url, bool(config.get("CRM_WEBHOOK_ALLOW_PRIVATE")), addresses.own_hosts(config.get("CRM_EXTERNAL_URL")))
    _robot_address(kind, url)
    company = company_of(session, actor, department)
    if company is None:
        raise RuleViolation(_l("Unknown department: %(path)s", path=department or ""), field="department")
    hook = Webhook(department_id=company.id, kind=kind, url=url, secret=_secret(kind, secret), events=_events(events),
                   active=True, created_by_id=actor.id)
    session.add(hook)
    session.flush()
    return hook


def delete(session, actor, hook_id):
    """Delete a hook; what it was sent stays in the log (its rows no longer name it)."""
    session.delete(find(session, actor, hook_id))
    session.flush()
