"""How long uploaded customer lists are kept: the files of browser imports and their preview rows
are deleted after `CRM_IMPORT_RETENTION_DAYS` (30 by default); the import's record and counts stay.
(A cancelled import loses them at once: `import_jobs.cancel`.)

The worker runs `purge` every hour (a periodic job of the queue); `rules run` runs it too.
"""
from datetime import timedelta

from flask import current_app
from huey import crontab
from sqlalchemy import delete, select, text

from models import DataImport, DataImportFile, DataImportRow, db

from .. import clock
from . import staging

ACTIVE = ("checking", "importing")  # an import at work keeps its file whatever its age


def purge(session, now=None, days=None):
    """Delete the files (uploads and reports) and the preview rows of imports older than the retention;
    the number of files deleted."""
    days = current_app.config["CRM_IMPORT_RETENTION_DAYS"] if days is None else days
    cutoff = (now or clock.now()) - timedelta(days=days)
    old = select(DataImport.id).where(DataImport.created_at < cutoff, DataImport.status.not_in(ACTIVE))
    deleted = session.execute(delete(DataImportFile).where(DataImportFile.import_id.in_(old))).rowcount
    rows = session.execute(delete(DataImportRow).where(DataImportRow.import_id.in_(old))).rowcount
    session.commit()
    staging.discard_abandoned(session)  # the hidden rows a killed import run left
    if deleted or rows:
        checkpoint(session)
    return deleted


def checkpoint(session):
    """After a large deletion on SQLite, write the WAL back and truncate it: it would otherwise keep the
    size of what was deleted (SQLite reuses the freed pages of the database file; PostgreSQL needs
    nothing). After the commit, on a connection with no transaction open; busy readers make it partial,
    which is harmless: the next one finishes."""
    if session.get_bind().dialect.name != "sqlite":
        return
    session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    session.commit()


def schedule(app, queue):
    """Purge every hour on the worker (huey's periodic task; a worker with `periodic=True` runs it)."""
    @queue.periodic_task(crontab(minute="17"), name="purge_import_files")
    def purge_import_files():
        with app.app_context():
            try:
                purge(db.session)
            finally:
                db.session.remove()
