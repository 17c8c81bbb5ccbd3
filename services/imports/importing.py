"""Importing a customer list in one transaction under the library lock: where the rows go (`Target`),
the checked path row by row (the entry's rules, the duplicate check against the database and the file),
and the fast path of a trusted file (bulk.py); what was done (`ImportSummary`) and its report."""
from __future__ import annotations

import json
import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

from flask_babel import lazy_gettext as _l

from models import ReviewConfirmation

from .. import audit, checking, clock, library, people
from ..errors import RuleViolation
from . import bulk, life, staging
from .checking import checked_rows, refusing
from .mobiles import held_mobiles, held_reason, mobile_pairs
from .owners import PLACED_BY_TARGET, RowOwners
from .reading import limits, open_reader
from .report import REPORT_LINE, match_reason, report_path_for, report_row, report_xlsx, write_report

log = logging.getLogger(__name__)

POOLS = {"public": "public_pool", "agent_admin": "agent_admin_pool", "telesales": "telesales",
         "industry": "industry"}


@dataclass
class Target:
    """Where imported rows go: location, owner and department ids (plain values, no ORM objects)."""

    location: str
    owner_id: int | None = None
    owner_login: str | None = None
    department_id: int | None = None
    cap: int | None = None
    size: int = 0

    def full(self):
        return self.cap is not None and self.size >= self.cap

    def recount(self, session):
        """The owner's library size, counted again (under the lock, before the rows go in)."""
        if self.owner_id is not None:
            self.size = library.sizes(session, [self.owner_id]).get(self.owner_id, 0)

    def place(self):
        """(owner, department) references for the next row's `insert_opportunity`, or None when the library is full."""
        if self.full():
            return None
        self.size += 1
        if self.owner_id is not None:
            return SimpleNamespace(id=self.owner_id, department_id=self.department_id), None
        return None, (SimpleNamespace(id=self.department_id) if self.department_id else None)


def resolve_target(session, pool=None, owner=None, department=None):
    """The Target of `--owner LOGIN` or `--pool NAME [--department PATH]`; RuleViolation if unusable."""
    if owner and pool:
        raise RuleViolation(_l("Give either an owner or a pool, not both."), field="pool")
    if owner:
        return _owner_target(session, owner, department)
    return _pool_target(session, pool or "public", department)


def _owner_target(session, owner, department):
    """A salesperson's library: the owner must be one who may own customers; no department is given."""
    user = people.find_user(session, owner)
    if user is None:
        raise RuleViolation(_l("No such user: %(login)s", login=owner), field="owner")
    if user.role not in people.LIBRARY_ROLES or not user.active:
        raise RuleViolation(_l("%(login)s has no library: only active salespeople, supervisors and managers "
                               "own customers.", login=user.login), field="owner")
    if department:
        raise RuleViolation(_l("A department is given only with the agent-admin pool."), field="department")
    return Target("library", owner_id=user.id, owner_login=user.login, department_id=user.department_id,
                  cap=library.cap(session, user), size=library.size(session, user))


def _pool_target(session, pool, department):
    """A pool: the agent-admin pool is an agent company's, named by `department`; the others take none."""
    if pool not in POOLS:
        raise RuleViolation(_l("Unknown pool: %(pool)s", pool=pool), field="pool")
    if pool == "agent_admin":
        if not department:
            raise RuleViolation(_l("The agent-admin pool belongs to an agent company: name it with --department."),
                                field="department")
        node = people.resolve_path(session, department)
        if node.depth == 0:
            raise RuleViolation(_l("The head office has no agent-admin pool: name an agent company."),
                                field="department")
        company_id = node.company_id
        return Target("agent_admin_pool", department_id=company_id)
    if department:
        raise RuleViolation(_l("A department is given only with the agent-admin pool."), field="department")
    return Target(POOLS[pool])


@dataclass
class ImportSummary:
    path: Path
    report_path: Path | None = None
    read: int = 0
    imported: int = 0
    duplicates: int = 0
    invalid: int = 0
    review: int = 0
    library_full: int = 0
    review_skipped: int = 0  # review rows not ticked for import (browser imports)
    seconds: float = 0.0
    report_rows: list = field(default_factory=list)
    _xlsx: bytes | None = None

    def report_xlsx(self):
        """The report as .xlsx, made once (a staged import makes it before its last transaction)."""
        if self._xlsx is None:
            self._xlsx = report_xlsx(self.report_rows)
        return self._xlsx

    def forget_report(self):
        self._xlsx = None

    @property
    def rate(self):
        return self.read / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self):
        return {"read": self.read, "imported": self.imported, "duplicates": self.duplicates,
                "invalid": self.invalid, "review": self.review, "library_full": self.library_full,
                "seconds": round(self.seconds, 3), "rows_per_second": round(self.rate, 1),
                "report": str(self.report_path) if self.report_path else None}

    def line(self):
        return (f"read {self.read}, imported {self.imported}, duplicates {self.duplicates}, "
                f"invalid {self.invalid}, review {self.review}, library full {self.library_full}; "
                f"{self.seconds:.2f} s, {self.rate:.0f} rows/s")


@dataclass
class ImportRun:
    """One import, the command line's (`import_file`: a file's path) and the browser's (uploads.py: the
    uploaded bytes) alike: where its rows come from, where they go, and how.

    `reader`: the rows, a reader of `open_reader` (or one that maps their values, as the browser's does);
    `target`: where they go (`Target`, a round robin too); `file_name`: the file the audit entry names;
    `review_rows`: the review rows ticked to be imported (the others are reported; None: all of them);
    `stage`: a browser import's id: its rows are then committed in short batches, hidden, and shown at the
    end (staging.py), so that entries go on meanwhile, and a failure deletes the hidden rows;
    `progress(step, estimate)`: told every 100 rows."""

    reader: object
    target: Target | None = None  # none to check
    actor: object = None
    file_name: str = ""
    skip_check: bool = False
    review_rows: set | None = None
    stage: int | None = None
    progress: object = None

    def checked(self, session):
        """Every row checked, nothing written: (row, data, file row, result, problems), as `checked_rows`."""
        return checked_rows(session, self.reader)

    def execute(self, session):
        """Write the rows, all or nothing, committed here; the ImportSummary."""
        with self.writing(session) as summary:
            pass
        return summary

    @contextmanager
    def writing(self, session):
        """Write the rows and the audit entry, then yield the ImportSummary inside the last transaction, under
        the lock, for the caller to record the outcome in it (the browser's import record); commit after.

        Raises RuleViolation (a refused target) with nothing written; any exception, the caller's too (or
        Ctrl-C), rolls everything back and propagates."""
        started = time.perf_counter()
        summary = ImportSummary(Path(self.file_name))
        lines = REPORT_LINE.set(self.reader.line)  # as `report_lines` does, around the whole transaction
        try:
            loaded, last = self._write(session, summary)
            _audit(session, self.actor, self.file_name, self.target, summary, self.skip_check)
            yield summary
            session.commit()
            if last is not None:
                log.info("import %s: the last transaction held the lock %.2f s", self.stage, time.monotonic() - last)
        except BaseException:
            session.rollback()
            if self.stage is not None:
                _discard(session, self.stage)
            raise
        finally:
            REPORT_LINE.reset(lines)
        if loaded:
            bulk.vacuum(session)
        summary.seconds = time.perf_counter() - started

    def _write(self, session, summary):
        """The rows written, the transaction left open: (whether the fast path loaded them, the monotonic time
        the staged path's last transaction took the lock, or None)."""
        _with_row_owners(session, self.target, self.reader, self.actor)
        if self.stage is not None and not self.skip_check:  # ends under the lock, in the transaction left open
            return False, _import_staged(session, self.reader, self.target, self.actor, summary, self.progress,
                                         self.review_rows, self.stage)
        library.take_lock(session)
        _recount(session, self.target)  # under the lock
        if self.skip_check:
            return bulk.import_fast(session, self.reader, self.target, self.actor, summary, self.progress), None
        _import_checked(session, self.reader, self.target, self.actor, summary, self.progress, self.review_rows)
        return False, None


def check_file(session, path, columns=None, max_rows=None):
    """The duplicate-check result of every data row of the file at `path` (`flask opportunities check`), in
    order; imports nothing.

    Yields {"row", "verdict", "matches"} (as docs/contract.md; a match of an earlier row of the
    file has location "file", "row" and opportunity_id null), or for a row that fails
    validation {"row", "verdict": "invalid", "matches": [], "errors": {field: message}}.
    Raises ImportFileError when the file cannot be read. `columns`, `max_rows`: as RowReader's.
    """
    reader = open_reader(path, columns, limits(command_line=True, max_rows=max_rows))
    for _number, _data, _file_row, result, _problems in ImportRun(reader).checked(session):
        yield result


def import_file(session, path, actor=None, pool=None, owner=None, department=None, skip_check=False,
                progress=None, report=True, columns=None, max_rows=None, reader=None):
    """Import the file at `path` (`flask opportunities import`) in one transaction (committed here), its
    rows placed by `owner` or `pool` (`resolve_target`); an ImportSummary, the report written beside the
    file unless `report` is false.

    Raises ImportFileError (file unreadable) or RuleViolation (bad target) with nothing written; any
    other exception rolls everything back and propagates. `columns`, `max_rows`: as RowReader's. The
    report rows name the spreadsheet's lines (`report_lines`).
    """
    started = time.perf_counter()
    if reader is None:  # the command line passes the one whose header it has read already
        reader = open_reader(path, columns, limits(command_line=True, max_rows=max_rows))
    try:
        target = resolve_target(session, pool=pool, owner=owner, department=department)
    except BaseException:
        session.rollback()
        raise
    summary = ImportRun(reader, target, actor, file_name=str(path), skip_check=skip_check,
                        progress=progress).execute(session)
    summary.seconds = time.perf_counter() - started
    if report:
        summary.report_path = report_path_for(path)
        write_report(summary.report_path, summary.report_rows)
    return summary


def _import_staged(session, reader, target, actor, summary, progress, review_rows, import_id):
    """The checked path in short transactions, the rows hidden (staging.py); returns holding the lock in
    the last transaction, the rows that lost to what was committed meanwhile reported, the rest visible."""
    staging.discard(session, import_id)  # what a killed run of this import left
    writer = staging.Writer(session, progress)
    writer.ready()
    _recount(session, target)  # the sizes as the import begins; entries made meanwhile count again at the end
    writer.release()
    staged = staging.Staged(import_id)
    _import_checked(session, reader, target, actor, summary, writer.progress, review_rows, staged=staged,
                    writer=writer)
    writer.release()
    writer.ready()  # what entries committed during the run wins: the rows that lose are deleted, still hidden
    since = clock.now()
    staging.settle(session, staged, target, summary, staged.started)
    writer.release()
    summary.report_xlsx()  # made now, without the lock
    writer.ready()  # the last transaction: under the lock until import_file commits
    if staging.settle(session, staged, target, summary, since):
        summary.forget_report()
    staging.show(session, staged)
    return writer.since


def _with_row_owners(session, target, reader, actor):
    """A file with an owner column (业务负责人) places each row in the library of the person it names, if it can."""
    if "owner" in (getattr(reader, "columns", None) or {}):
        target.owners = RowOwners.of(session, actor)


def _recount(session, target):
    target.recount(session)
    if getattr(target, "owners", None) is not None:
        target.owners.recount(session)


def _discard(session, import_id):
    """A failed staged run's hidden rows deleted (a dead database: the next run or the hourly purge will)."""
    try:
        staging.discard(session, import_id)
    except Exception:
        session.rollback()
        log.warning("could not delete the hidden rows of import %s", import_id, exc_info=True)


def _audit(session, actor, path, target, summary, skip_check):
    """One audit entry per import (not one per row): the file, where the rows went, the counts."""
    counts = {name: value for name, value in summary.as_dict().items() if name not in ("seconds", "rows_per_second",
                                                                                          "report")}
    audit.record(session, actor, "import", department_id=target.department_id, details={
        "file": Path(path).name, "location": target.location, "owner": target.owner_login,
        "skip_check": skip_check, **counts})


def _import_checked(session, reader, target, actor, summary, progress, review_rows=None, staged=None, writer=None):
    """Row by row: validate, check (database and earlier rows), insert what may be entered.

    `review_rows`: when given, the only review rows to import (the others are reported).
    `staged`, `writer`: a staged import's (staging.py): rows written hidden, in short transactions."""
    imported_ids = set()
    created_by_id = actor.id if actor is not None else None
    done = 0
    for row in checked_rows(
            session, reader, imported_ids, target.location, before_check=writer.release if writer is not None else None,
            index=staged.index if staged is not None else None):
        number, data, file_row, result, _problems = row
        summary.read += 1
        done += 1
        if progress and done % 100 == 0:
            progress(100, reader.estimate)
        if _turned_away(session, summary, row, target.location, review_rows, writer):
            continue
        place, location = _placed(summary, target, number, data)
        if place is None:
            summary.library_full += 1
            summary.report_rows.append(report_row(
                number, "library_full", str(library.row_refusal(target.cap)), data.company))
            continue
        opportunity = _insert(session, place, data, location, created_by_id, staged, number, result["verdict"])
        imported_ids.add(opportunity.id)
        file_row.opportunity_id = opportunity.id
        summary.imported += 1
        if result["verdict"] == checking.REVIEW:
            _confirm_review(session, summary, opportunity, created_by_id, number, data, result["matches"])
        if writer is not None:
            writer.wrote()
        elif done % 500 == 0:  # keep the identity map small on long files
            session.flush()
            session.expunge_all()
    if progress:
        progress(done % 100, reader.estimate)


def _turned_away(session, summary, row, location, review_rows, writer):
    """Whether the row may not be imported (it is then counted and reported): a problem in its fields,
    a duplicate, a mobile or landline held already, a review row not ticked for import."""
    number, data, file_row, result, problems = row
    if problems:
        summary.invalid += 1
        summary.report_rows.append(report_row(number, "invalid", "; ".join(problems.values()), data.company))
        return True
    verdict, matches = result["verdict"], result["matches"]
    if verdict == checking.DUPLICATE:
        summary.duplicates += 1
        refused = refusing(matches, location)
        summary.report_rows.append(report_row(number, verdict, match_reason(refused), data.company, refused))
        return True
    if writer is not None:
        writer.ready()  # under the lock from here: what is held and the cap are as committed now
    held = held_mobiles(session, mobile_pairs(file_row.keys["phone_keys"], file_row.keys["fax_keys"],
                                              file_row.keys.get("wechat_keys", ())))
    if held:  # a holder the check did not reach (too many candidates): the index would refuse it
        (field_name, local), holder = next(iter(held.items()))
        summary.duplicates += 1
        summary.report_rows.append(report_row(number, checking.DUPLICATE, held_reason(local), data.company,
                                               [holder]))
        return True
    if verdict == checking.REVIEW and review_rows is not None and number not in review_rows:
        summary.review_skipped += 1
        summary.report_rows.append(report_row(
            number, verdict, [_l("not ticked for import"), *match_reason(matches)],
            data.company, matches))
        return True
    return False


def _placed(summary, target, number, data):
    """(owner and department references, location) of the row: the library of the person its owner column names
    when it can go there, else where the target places it (and why not there, reported); (None, None): full."""
    owners, why = getattr(target, "owners", None), None
    if owners is not None and data.owner:
        owner_ref, why = owners.place(data.owner)
        if owner_ref is not None:
            return (owner_ref, None), "library"
    place = target.place()
    if place is not None and why is not None:
        summary.report_rows.append(report_row(number, PLACED_BY_TARGET, str(why), data.company, imported=True))
    return place, target.location


def _insert(session, place, data, location, created_by_id, staged, number, verdict):
    """The row as an opportunity where the target places it, with the rest of its life (its next contact, its
    remark as an imported note); in a staged import, hidden and noted."""
    owner_ref, department_ref = place
    opportunity = library.insert_opportunity(session, owner_ref, data, location, department_ref,
                                             pending=staged.import_id if staged is not None else None)
    opportunity.created_by_id = created_by_id
    opportunity.imported = True  # no one's new key customer of the day: nobody entered it
    opportunity.next_contact_at = data.next_contact_at  # a past one kept: overdue, and due today
    if data.note:
        session.flush()
        life.add_imported_note(session, opportunity.id, created_by_id, data.note)
    if staged is not None:
        staged.add(opportunity.id, number, data.company, verdict, owner_ref.id if owner_ref else None)
    return opportunity


def _confirm_review(session, summary, opportunity, created_by_id, number, data, matches):
    """A review row imported: the importer's confirmation kept, with what the row resembled, and reported."""
    summary.review += 1
    resembled = [{"opportunity_id": m["opportunity_id"], "company": m["company"], "score": m["score"],
                  **({"row": m["row"]} if m["location"] == "file" else {})} for m in matches]
    session.add(ReviewConfirmation(opportunity_id=opportunity.id, user_id=created_by_id,
                                   resembled=json.dumps(resembled, ensure_ascii=False),
                                   created_at=clock.now()))
    summary.report_rows.append(report_row(number, checking.REVIEW, match_reason(matches), data.company,
                                           matches, imported=True))
