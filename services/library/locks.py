"""The library lock: one row (LibraryLock, id 1) that every write into or out of a library updates first.

Entries, claims, abandons, reassignments, releases, restores, leads, merges, imports and the
nightly return all begin their transaction with `take_lock`: the update waits for any other
holder, so the duplicate check and the cap are decided on what the others committed, and no
two of them interleave (the same row lock on PostgreSQL, the one writer on SQLite).
"""
from sqlalchemy import update

from models import LibraryLock


def take_lock(session):
    """Serialise entries and claims (see LibraryLock); the first statement of the transaction."""
    session.execute(update(LibraryLock).where(LibraryLock.id == 1).values(counter=LibraryLock.counter + 1))
