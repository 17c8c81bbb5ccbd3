"""How long uploaded customer lists are kept: the files of browser imports are deleted after
`CRM_IMPORT_RETENTION_DAYS` (30 by default); the import's record, counts and rows stay.

The worker runs `purge` every hour (a periodic job of the queue); `rules run` runs it too.
"""
from datetime import timedelta

from flask import current_app
from huey import crontab
from sqlalchemy import delete, select

from models import DataImport, DataImportFile, db

from . import clock
from .imports import staging

ACTIVE = ("checking", "importing")  # an import at work keeps its file whatever its age


def purge(session, now=None, days=None):
    """Delete the files (uploads and reports) of imports older than the retention; their number."""
    days = current_app.config["CRM_IMPORT_RETENTION_DAYS"] if days is None else days
    cutoff = (now or clock.now()) - timedelta(days=days)
    old = select(DataImport.id).where(DataImport.created_at < cutoff, DataImport.status.not_in(ACTIVE))
    deleted = session.execute(delete(DataImportFile).where(DataImportFile.import_id.in_(old))).rowcount
    session.commit()
    staging.discard_abandoned(session)  # the hidden rows a killed import run left
    return deleted


def schedule(app, queue):
    """Purge every hour on the worker (huey's periodic task; a worker with `periodic=True` runs it)."""
    @queue.periodic_task(crontab(minute="17"), name="purge_import_files")
    def purge_import_files():
        with app.app_context():
            try:
                purge(db.session)
            finally:
                db.session.remove()
