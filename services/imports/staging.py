"""A browser import that lets entries in while it runs: its rows are committed in short batches,
hidden, and shown all at once at its end (`import_file(..., stage=IMPORT_ID)`).

Why: one transaction under the library lock for the whole file held every entry, claim and lead
for minutes (6–8 for 100,000 rows; on SQLite an entry gave up after the busy timeout with 503).

How, and why it stays all or nothing for everyone who looks:
- A staged row is written soft-deleted (`deleted_at`) and marked with its import
  (`Opportunity.pending_import_id`): every list, count, export, the API and the duplicate check
  already leave soft-deleted rows out, and the deleted-customers list leaves out pending ones.
  Its mobile keys are written as kind `pending`, outside the unique index of mobiles, so a
  salesperson's entry of the same mobile meanwhile is not refused by a row nobody sees.
- Each batch is its own short transaction under the library lock (`Writer`): the rows of a chunk
  are checked first, in a read transaction (no lock), then written at most WRITE_SECONDS at a time;
  on SQLite the import pauses PAUSE_SECONDS between batches so that a waiting entry gets the one
  write lock (SQLite's busy handler polls; PostgreSQL queues the row lock's waiters in order).
- At the end, one transaction under the lock (`publish`): what entries committed meanwhile wins
  (the later side loses, as between two entries): an import row whose mobile a live customer now
  holds, or that a customer created since the import began duplicates, or beyond an owner's cap
  counted now, is deleted and reported; the rest becomes visible in one UPDATE, with the audit
  entry, the report and the import's status in that same transaction.
- A run that fails deletes its hidden rows (`discard`); a killed one leaves them hidden, and the
  next run of that import, or the hourly purge, deletes them.
"""
from __future__ import annotations

import logging
import time
from datetime import timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import aliased

from models import DataImport, Opportunity, OpportunityPhone, User

from .. import checking, clock, library
from .checking import FileIndex
from .mobiles import held_reason
from .report import match_reason, report_row

log = logging.getLogger(__name__)

WRITE_SECONDS = 0.25  # a batch's transaction holds the library lock about this long at most
PAUSE_SECONDS = 0.12  # SQLite: between batches, longer than the busy handler's longest sleep (100 ms)
DISCARD_BATCH = 2000  # hidden rows deleted per transaction (their terms and phones go with them)
CLOCK_MARGIN = timedelta(minutes=1)  # "created since" judged a minute wider: the servers' clocks may differ
PENDING_MOBILE = "pending"  # OpportunityPhone.kind of a hidden row's mobile: outside uq_opportunity_phone_mobile


class Writer:
    """The short write transactions of a staged import: `ready()` before writing a row (ends the read
    transaction, pauses on SQLite, takes the lock), `wrote()` after (commits once WRITE_SECONDS are
    past), `release()` before the next chunk is checked."""

    def __init__(self, session, progress=None):
        self.session = session
        self.pause = PAUSE_SECONDS if session.get_bind().dialect.name == "sqlite" else 0.0
        self.since = None  # when the current batch took the lock
        self._progress, self.owed, self.estimate = progress, 0, None

    def progress(self, step, estimate=None):
        """The import's progress, told between batches only: on SQLite another connection's write would
        wait for the lock this one holds."""
        self.owed, self.estimate = self.owed + step, estimate
        if self.since is None:
            self._tell()

    def _tell(self):
        if self._progress is not None and self.owed:
            self._progress(self.owed, self.estimate)
        self.owed = 0

    def ready(self):
        if self.since is None:
            self.session.commit()  # no read transaction may be held when the write begins (SQLite)
            if self.pause:
                time.sleep(self.pause)
            library.take_lock(self.session)
            self.since = time.monotonic()

    def wrote(self):
        if time.monotonic() - self.since >= WRITE_SECONDS:
            self.release()

    def release(self):
        if self.since is not None:
            self.session.commit()  # the identity map holds objects weakly: the rows written go with it
            self.since = None
        self._tell()


def discard(session, import_id):
    """Delete the hidden rows of an import (a failed or killed run), a batch per transaction; their number."""
    total = 0
    while True:
        ids = session.scalars(select(Opportunity.id).where(Opportunity.pending_import_id == import_id)
                              .limit(DISCARD_BATCH)).all()
        if not ids:
            return total
        # the phones, terms and review confirmations go with them (ON DELETE CASCADE)
        session.execute(delete(Opportunity).where(Opportunity.id.in_(ids),
                                                  Opportunity.pending_import_id == import_id))
        session.commit()
        total += len(ids)


def discard_abandoned(session):
    """Delete the hidden rows of imports no longer running (their worker was killed): the hourly purge."""
    running = select(DataImport.id).where(DataImport.status == "importing")
    left = session.scalars(select(Opportunity.pending_import_id).where(
        Opportunity.pending_import_id.is_not(None), Opportunity.pending_import_id.not_in(running)).distinct()).all()
    return sum(discard(session, import_id) for import_id in left)


class Staged:
    """What a staged import wrote: opportunity id -> (row number, company, verdict, owner id), and the file's
    index of its rows (checking.FileIndex), against which the customers entered meanwhile are judged."""

    def __init__(self, import_id):
        self.import_id = import_id
        self.started = clock.now()
        self.rows: dict[int, tuple] = {}
        self.index = FileIndex()
        self.phone_mark = 0  # the last phone row when the first `settle` ran

    def add(self, opportunity_id, number, company, verdict, owner_id):
        self.rows[opportunity_id] = (number, company, verdict, owner_id)


def settle(session, staged, target, summary, since):
    """Under the lock: the import's rows that lose to what was committed since `since` (a mobile held now, a
    customer created since who duplicates it, an owner's cap reached) deleted and reported; the rest stays
    hidden (`show`). Run twice: once for the whole run, then, in the last transaction, for the few moments
    between the two (so that the report is made in between, without the lock). Returns the rows lost."""
    began = time.monotonic()
    first = since == staged.started
    since = since - CLOCK_MARGIN
    lost = _mobiles_held(session, staged, None if first else staged.phone_mark)
    if first:  # the phones written after this pass are the second pass's
        staged.phone_mark = session.scalar(select(func.max(OpportunityPhone.id))) or 0
    _drop(session, lost)
    newcomers = _newcomers(session, since)
    duplicated = _duplicated_by(staged, newcomers, set(lost))
    _drop(session, duplicated)
    lost.update(duplicated)
    full = _beyond_caps(session, staged, target, set(lost))
    _drop(session, full)
    lost.update(full)
    _account(summary, staged, lost)
    log.info("import %s: %d rows lost to %d customers entered since %s, in %.2f s", staged.import_id, len(lost),
             len(newcomers), since.isoformat(timespec="seconds"), time.monotonic() - began)
    return lost


def show(session, staged):
    """In the import's last transaction, under the lock: every row left becomes visible, its mobiles keys."""
    mine = select(Opportunity.id).where(Opportunity.pending_import_id == staged.import_id)
    session.execute(update(OpportunityPhone).where(OpportunityPhone.kind == PENDING_MOBILE,
                                                   OpportunityPhone.opportunity_id.in_(mine)).values(kind="mobile"))
    session.execute(update(Opportunity).where(Opportunity.pending_import_id == staged.import_id)
                    .values(deleted_at=None, deleted_by_id=None, pending_import_id=None))


def _account(summary, staged, lost):
    """The summary and the report without the rows lost: each reported as why it lost."""
    for opportunity_id, row in lost.items():
        _number, _company, verdict, _owner = staged.rows.pop(opportunity_id)
        summary.imported -= 1
        if verdict == checking.REVIEW:
            summary.review -= 1
            summary.report_rows = [r for r in summary.report_rows if r["row"] != row["row"]]
        if row["verdict"] == "library_full":
            summary.library_full += 1
        else:
            summary.duplicates += 1
        summary.report_rows.append(row)
    if lost:
        summary.report_rows.sort(key=lambda r: (r["row"] is None, r["row"] or 0))


def _drop(session, lost):
    if lost:
        session.execute(delete(Opportunity).where(Opportunity.id.in_(list(lost))))


def _mobiles_held(session, staged, after):
    """The hidden rows whose mobile a live customer holds now (the second time: a mobile key written after
    the phone row `after`: by an entry, a restore, an edit), or (the first time) an earlier hidden row of this
    import holds (the check did not reach it): a report row each. The unique index of mobiles would
    otherwise refuse the last transaction."""
    mine, other = aliased(OpportunityPhone), aliased(OpportunityPhone)
    first = after is None
    held_live = (other.kind == "mobile") if first else ((other.kind == "mobile") & (other.id > after))
    held_here = (other.kind == PENDING_MOBILE) & (other.opportunity_id < mine.opportunity_id) \
        & (Opportunity.pending_import_id == staged.import_id)
    rows = session.execute(
        select(mine.opportunity_id, mine.local, other.opportunity_id, Opportunity.company, Opportunity.location,
               User.login)
        .join(Opportunity, Opportunity.id == other.opportunity_id)
        .outerjoin(User, User.id == Opportunity.owner_id)
        .join(mine, (mine.field == other.field) & (mine.local == other.local))
        .where(mine.kind == PENDING_MOBILE,
               mine.opportunity_id.in_(select(Opportunity.id).where(Opportunity.pending_import_id == staged.import_id)),
               (held_live | held_here) if first else held_live)
        .order_by(mine.opportunity_id)).all()
    lost = {}
    for oid, local, holder_id, company, location, login in rows:
        if oid in lost or holder_id in lost or oid not in staged.rows:
            continue
        number, own_company, _verdict, _owner = staged.rows[oid]
        lost[oid] = report_row(number, checking.DUPLICATE, held_reason(local), own_company,
                               [{"opportunity_id": holder_id, "company": company, "location": location,
                                 "owner": login}])
    return lost


def _newcomers(session, since):
    """The customers created since `since` by others (entries, leads, other imports), live."""
    return session.execute(select(Opportunity.id, Opportunity.company, Opportunity.province, Opportunity.city,
                                  Opportunity.phone, Opportunity.fax, Opportunity.mobile, Opportunity.wechat,
                                  Opportunity.location,
                                  User.login)
                           .outerjoin(User, User.id == Opportunity.owner_id)
                           .where(Opportunity.created_at >= since, Opportunity.deleted_at.is_(None))).all()


def _duplicated_by(staged, newcomers, gone):
    """The import's rows that a newcomer duplicates, judged as the file's own rows were (the file's index:
    the same terms and `normalize.compare`, in memory): the newcomer was committed first, so the import's row
    loses, as a second entry of the same customer would."""
    lost = {}
    for newcomer in newcomers:
        keys = checking.record_keys_of(newcomer)
        for earlier, match in staged.index.matches(keys):
            oid = earlier.opportunity_id
            if oid in staged.rows and oid not in lost and oid not in gone and match.verdict == checking.DUPLICATE:
                number, company, _verdict, _owner = staged.rows[oid]
                reason = match_reason([{"verdict": match.verdict, "reasons": list(match.reasons)}])
                lost[oid] = report_row(number, checking.DUPLICATE, reason, company, [
                    {"opportunity_id": newcomer.id, "company": newcomer.company, "location": newcomer.location,
                     "owner": newcomer.login}])
    return lost


def _beyond_caps(session, staged, target, gone):
    """The import's latest rows of an owner whose library (its live customers and the import's hidden rows)
    is now beyond its cap: entries and claims made meanwhile count first."""
    people = getattr(target, "people", None)
    caps = {p.id: p.cap for p in people} if people is not None else (
        {target.owner_id: target.cap} if target.owner_id is not None and target.cap is not None else {})
    owners = getattr(target, "owners", None)  # the people a row's owner column placed it with
    if owners is not None:
        caps = {**owners.caps(), **caps}
    if not caps:
        return {}
    sizes = library.sizes(session, list(caps))
    lost = {}
    for owner_id, cap in caps.items():
        mine = sorted((oid for oid, row in staged.rows.items() if row[3] == owner_id and oid not in gone),
                      reverse=True)  # hidden still: not in `sizes`
        excess = sizes.get(owner_id, 0) + len(mine) - cap
        if excess <= 0:
            continue
        latest = mine[:excess]
        for oid in latest:
            number, company, _verdict, _owner = staged.rows[oid]
            lost[oid] = report_row(number, "library_full", str(library.row_refusal(cap)), company)
    return lost
