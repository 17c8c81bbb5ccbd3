"""Sending the due deliveries: one attempt in flight per row, backoff on failure, given up after a day.

A worker takes rows by one conditional UPDATE (pending -> sending, where still pending and due) and
commits before it sends, so a second worker running at the same moment finds them taken; nothing is
sent inside a database transaction. A worker that died while sending leaves its rows `sending`; after
STUCK they are pending again. The robots' rows of one hook go in one message (企业微信 allows 20 messages a
minute per robot; each round sends each robot at most one).
"""
import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select, update

from models import Delivery, Webhook

from .. import clock
from . import addresses, channels

log = logging.getLogger(__name__)

BACKOFF = (30, 120, 600, 1800, 3600, 3 * 3600, 6 * 3600)  # seconds before the 1st, 2nd ... retry, then the last
GIVE_UP = timedelta(days=1)
STUCK = timedelta(minutes=10)
ROUND = 100  # rows taken per round
ROBOT_BATCH = 10  # deliveries per robot message
ROBOT_TEXT_BYTES = 1800  # 企业微信 refuses a text over 2048 bytes (UTF-8); the others allow more
HOOK_GONE = "the webhook was deleted or switched off"  # no retry can succeed: given up at once
ROBOT_MESSAGES = 8  # per robot and round: two workers in one minute stay under 企业微信's 20 a minute


def backoff(attempts):
    """The wait before the next try after `attempts` failed ones: the first within a minute."""
    return timedelta(seconds=BACKOFF[min(attempts, len(BACKOFF)) - 1])


def unstick(session, now):
    """Rows left `sending` by a worker that died: pending again."""
    session.execute(update(Delivery).where(Delivery.status == "sending", Delivery.claimed_at < now - STUCK)
                    .values(status="pending").execution_options(synchronize_session=False))


def claim(session, ids, now):
    """Take the rows of `ids` still pending and due for this worker; their ids. Committed at once."""
    statement = (update(Delivery).where(Delivery.id.in_(ids), Delivery.status == "pending",
                                        Delivery.next_try_at <= now)
                 .values(status="sending", claimed_at=now, attempts=Delivery.attempts + 1)
                 .returning(Delivery.id).execution_options(synchronize_session=False))
    taken = list(session.scalars(statement))
    session.commit()
    return taken


def batches(rows):
    """The due rows in sending units: a robot's rows together (several messages' worth at most; the rest wait
    for the next round), every other row alone. A row is (id, channel, webhook_id, size in characters)."""
    robots, units = {}, []
    for row in rows:
        if row.channel in ("wecom", "dingtalk", "feishu") and row.webhook_id is not None:
            robots.setdefault(row.webhook_id, []).append(row)
        else:
            units.append([row.id])
    for hook_rows in robots.values():
        units += robot_messages(hook_rows)[:ROBOT_MESSAGES]
    return units


def robot_messages(rows):
    """A robot's rows cut into messages of at most ROBOT_BATCH events and ROBOT_TEXT_BYTES (a Chinese
    character is 3 bytes in UTF-8)."""
    messages, current, size = [], [], 0
    for row in rows:
        length = 3 * row.size + 2
        if current and (len(current) == ROBOT_BATCH or size + length > ROBOT_TEXT_BYTES):
            messages.append(current)
            current, size = [], 0
        current.append(row.id)
        size += length
    return messages + ([current] if current else [])


def send_due(session, now=None):
    """Send what is due now; (sent, failed) counts of this round."""
    now = now or clock.now()
    unstick(session, now)
    session.commit()
    size = (func.length(Delivery.subject) + func.length(Delivery.body) + 1).label("size")
    due = session.execute(select(Delivery.id, Delivery.channel, Delivery.webhook_id, size)
                          .where(Delivery.status == "pending", Delivery.next_try_at <= now)
                          .order_by(Delivery.next_try_at, Delivery.id).limit(ROUND)).all()
    sent = failed = 0
    for ids in batches(due):
        taken = claim(session, ids, now)
        if not taken:
            continue
        rows = session.scalars(select(Delivery).where(Delivery.id.in_(taken)).order_by(Delivery.id)).all()
        error = attempt(session, rows)
        finish(session, rows, error, clock.now())
        session.commit()
        sent, failed = (sent + len(rows), failed) if error is None else (sent, failed + len(rows))
    return sent, failed


def attempt(session, rows):
    """Send one unit; None, or the reason it failed."""
    config = current_app.config
    allow = bool(config.get("CRM_WEBHOOK_ALLOW_PRIVATE"))
    own = addresses.own_hosts(config.get("CRM_EXTERNAL_URL"))
    first = rows[0]
    try:
        if first.channel == "mail":
            channels.send_mail(config, first)
            return None
        hook = session.get(Webhook, first.webhook_id) if first.webhook_id else None
        if hook is None or not hook.active:
            return HOOK_GONE
        if hook.kind == "generic":
            channels.send_webhook(hook, first, allow, own)
        else:
            channels.send_robot(hook, rows, allow, own)
        return None
    except (channels.DeliveryError, addresses.Refused) as error:
        return str(error.message if isinstance(error, addresses.Refused) else error)
    except Exception as error:  # noqa: BLE001 - an unforeseen failure is logged and retried, never lost
        log.exception("delivery %s failed", first.id)
        return f"{type(error).__name__}: {error}"


def finish(session, rows, error, now):
    """Record how the attempt ended: sent; else retried after the backoff, or given up after a day."""
    for row in rows:
        if error is None:
            values = {"status": "sent", "sent_at": now, "last_error": None}
        else:
            retry_at = now + backoff(row.attempts)
            gave_up = retry_at > row.created_at + GIVE_UP or error == HOOK_GONE
            values = {"status": "failed" if gave_up else "pending", "next_try_at": retry_at,
                      "last_error": error[:500]}
        session.execute(update(Delivery).where(Delivery.id == row.id, Delivery.status == "sending").values(**values)
                        .execution_options(synchronize_session=False))
