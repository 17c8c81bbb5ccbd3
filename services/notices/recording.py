"""A delivery row: recorded once per event and recipient, whoever records it and however often.

An event's key names it ("lead_assigned:lead:12"); its `id`, carried by every payload, is a UUID derived
from that key, so each recipient and each retry of one event carries the same id and a receiver drops a
repeat. A delivery's key adds the recipient ("...|mail:5", "...|hook:3"): unique in the table.
"""
import json
import uuid
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from models import Delivery, Webhook

from .. import clock

NAMESPACE = uuid.UUID("6f1e4d0e-2b49-4c1a-9f5e-6d3f8c2a7b10")  # this CRM's events


def event_id(event_key):
    return str(uuid.uuid5(NAMESPACE, event_key))


def mail_row(event, event_key, user, text, data, occurred_at, department_id):
    """The row of one mail to `user` (who has an address)."""
    return _row(event, event_key, f"mail:{user.id}", "mail", text, data, occurred_at, department_id,
                user_id=user.id, recipient=user.email)


def hook_rows(session, event, event_key, scope_id, text, data, occurred_at):
    """The rows of the event for each active hook of the company `scope_id` that ticked it."""
    hooks = session.scalars(select(Webhook).where(Webhook.department_id == scope_id, Webhook.active.is_(True))).all()
    return [_row(event, event_key, f"hook:{hook.id}", hook.kind, text, data, occurred_at, scope_id,
                 webhook_id=hook.id, recipient=_host(hook.url))
            for hook in hooks if event in hook.event_list]


def _host(url):
    return (urlsplit(url).hostname or "")[:254]


def _row(event, event_key, recipient_key, channel, text, data, occurred_at, department_id, **more):
    now = clock.now()
    return {"key": f"{event_key}|{recipient_key}"[:250], "event_id": event_id(event_key), "event": event,
            "channel": channel, "department_id": department_id, "subject": text.subject, "body": text.body,
            "data": json.dumps(data, ensure_ascii=False, default=str), "occurred_at": occurred_at,
            "status": "pending", "attempts": 0, "next_try_at": now, "created_at": now, **more}


def insert(session, rows):
    """Insert the rows whose key is new; a key recorded already (a second worker, a rerun) is skipped."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    insert_ = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
    written = 0
    for start in range(0, len(rows), 200):
        statement = insert_(Delivery).values(rows[start:start + 200]).on_conflict_do_nothing(index_elements=["key"])
        written += len(session.execute(statement.returning(Delivery.id)).all())
    return written
