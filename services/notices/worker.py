"""The worker's minute: what happened becomes deliveries, and the due deliveries are sent.

A periodic task of every worker (`flask --app app worker`), each minute: the overdue web leads told
(as `rules run` does, so that an overdue lead is not announced only at night), the notices fanned out,
the lead warnings and the morning digest recorded, then the due deliveries sent. Two workers doing this
at the same minute share the work: every step claims what it takes.
"""
import logging

from huey import crontab

from models import db

from .. import clock, library
from . import producing, sending

log = logging.getLogger(__name__)


def run(session, now=None):
    """One round; (sent, failed) deliveries."""
    now = now or clock.now()
    current = library.current_rules(session)
    library.notify_overdue(session, now)
    producing.fan_out(session, now)
    producing.warn_leads(session, current.lead_warn_hours, now)
    producing.digests(session, current, now)
    producing.quota_summaries(session, current, now)
    session.commit()
    return sending.send_due(session)  # its own now: what was just recorded is due


def schedule(app, queue):
    @queue.periodic_task(crontab(minute="*"), name="deliver_notices")
    def deliver_notices():
        with app.app_context():
            try:
                sent, failed = run(db.session)
                if sent or failed:
                    log.info("notices: %s sent, %s failed", sent, failed)
            finally:
                db.session.remove()
