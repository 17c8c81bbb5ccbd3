"""The nightly resource rules, scheduled by the app's own job system: no cron to set up.

A worker (`flask --app app worker`, which `make run` starts) runs `rules run` every day at
CRM_RULES_AT (02:00 by default) in CRM_TIMEZONE, as huey's periodic task. Two workers each
start it at that minute; that is harmless, since a run takes the library lock and a second
run finds nothing left to do (services/library/returns.py). An empty CRM_RULES_AT turns it off (to
run `rules run` from cron instead).
"""
import logging
import re
from datetime import timezone
from zoneinfo import ZoneInfo

from models import db

from . import clock, duplicates, imports, library

log = logging.getLogger(__name__)
_AT = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def run(session, now=None):
    """What `rules run` does: the rules (committed), the old uploaded files, and a scan for duplicates already
    inside when an admin switched that on at /rules/; the rules' summary."""
    summary = library.run_returns(session, now or clock.now())
    session.commit()
    imports.purge_uploads(session)
    summary.duplicate_scan = duplicates.start_nightly(session) is not None
    session.commit()
    return summary


def parse_at(value):
    """(hour, minute) of "HH:MM", None for "" (off); ValueError for anything else."""
    if not value:
        return None
    match = _AT.match(value.strip())
    if match is None:
        raise ValueError(f"CRM_RULES_AT must be HH:MM (24-hour clock) or empty, not {value!r}")
    return int(match.group(1)), int(match.group(2))


def due_at(hour, minute, zone):
    """huey's test of a periodic task: whether the minute it is given (UTC, naive) is hour:minute in `zone`.
    Converted each time, so that a zone with summer time keeps the local hour."""
    def due(moment):
        local = moment.replace(tzinfo=timezone.utc).astimezone(zone)
        return (local.hour, local.minute) == (hour, minute)
    return due


def schedule(app, queue):
    at = parse_at(app.config.get("CRM_RULES_AT"))
    if at is None:
        return

    @queue.periodic_task(due_at(*at, ZoneInfo(app.config["CRM_TIMEZONE"])), name="nightly_rules")
    def nightly_rules():
        with app.app_context():
            try:
                summary = run(db.session)
                log.info("rules run: warned %s, returned %s, overdue leads notified %s",
                         summary.warned, summary.returned, summary.overdue_leads)
            finally:
                db.session.remove()
