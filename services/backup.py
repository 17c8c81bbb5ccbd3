"""`flask backup PATH`: a consistent copy of the SQLite database while the app keeps writing.

SQLite's online backup API (sqlite3.Connection.backup) copies the pages inside one read
transaction; in WAL mode writers are not blocked and the copy is the database as of one
moment. The copy is written beside PATH and renamed into place only once it is complete
and passes `PRAGMA integrity_check`, so a failed backup never leaves a half file at PATH.
PostgreSQL has its own tool for this (pg_dump; README "Backups").
"""
import os
import sqlite3
import tempfile

from flask_babel import lazy_gettext as _l

from .errors import RuleViolation


def sqlite_path(engine):
    """The database file of a SQLite engine; None for any other database."""
    if engine.dialect.name != "sqlite":
        return None
    return engine.url.database


def backup(engine, target):
    """Copy the database behind `engine` to the file `target`; returns the counts of the copy's main tables."""
    if sqlite_path(engine) is None:
        raise RuleViolation(_l("This database is PostgreSQL: back it up with pg_dump (see the README)."))
    target = os.path.abspath(target)
    if os.path.exists(target):
        raise RuleViolation(_l("%(path)s exists already; choose a new file name.", path=target))
    folder = os.path.dirname(target)
    if not os.path.isdir(folder):
        raise RuleViolation(_l("The folder %(path)s does not exist.", path=folder))
    handle, partial = tempfile.mkstemp(prefix=".backup-", suffix=".partial", dir=folder)
    os.close(handle)
    try:
        _copy(engine, partial)
        counts = _verify(partial)
        os.replace(partial, target)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    return counts


def _copy(engine, partial):
    source = engine.raw_connection()
    try:
        destination = sqlite3.connect(partial)
        with destination:
            source.driver_connection.backup(destination)
        destination.close()
    finally:
        source.close()


def _verify(path):
    copy = sqlite3.connect(path)
    try:
        status = copy.execute("PRAGMA integrity_check").fetchone()[0]
        if status != "ok":
            raise RuleViolation(_l("The copy failed its integrity check: %(status)s", status=status))
        return {table: copy.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608 (fixed names)
                for table in ("opportunity", "contact_note", "user", "department")}
    finally:
        copy.close()
