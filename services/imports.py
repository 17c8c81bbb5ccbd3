"""Importing customers from a spreadsheet (`flask opportunities import / check`, CONTRACT.md).

A file is read by `tables.RowReader`: a .csv (UTF-8 with or without BOM, or GB18030 as
Excel saves it in China), or the first sheet of an .xlsx, .xls or .ods workbook; the header
row (English or Chinese names, `HEADERS`) may sit below a title row or two; unknown columns
are ignored, a company column is required. Blank rows are skipped; a row's number is its
position after the header (row 1 is the line right below the header).

Every row goes through the same rules as a salesperson's entry: `opportunities.validate`,
then the one duplicate-check engine (`dedup.check`) against the database, and the same
normalisation and comparison (`normalize.index_terms` + `normalize.compare`) against the
earlier rows of the file itself, held in an in-memory inverted index (`FileIndex`).

- `check_file` imports nothing: one result per row, in order (the API's duplicate-check
  shape plus `"row"`; a row that fails validation has verdict `invalid` and `errors`).
- `import_file` writes, in one transaction under the `LibraryLock`, every row that is
  `new` or `review`; `duplicate` and invalid rows (and rows beyond an owner's library
  cap) are not written. A report beside the file (FILE.report.csv, UTF-8 with BOM so
  that Excel opens it; `write_report_xlsx` writes the same table as .xlsx) lists every row
  not imported and every `review` row by its line in the spreadsheet, with the reason and
  what it matched, in the user's language (Chinese on the command line). Any exception (or
  Ctrl-C) rolls the whole file back.
- `skip_check=True` is the migration fast path: the file is trusted (no duplicate
  check, in the database or in the file, but for one exact key: a mobile held already,
  which the unique index uq_opportunity_phone_mobile would refuse, makes the row a
  `duplicate` of the report), rows are still validated, normalised and
  indexed, and written in bulk (batches of `BATCH` rows, ids allocated up front), with
  the normalising spread over worker processes for large files. Loading a large file
  into an empty table (a migration) drops the tables' secondary indexes (on PostgreSQL
  also the index terms' primary key and the foreign keys) and builds them again at the
  end, in the same transaction, and on PostgreSQL runs VACUUM (ANALYZE) on the tables
  after the commit.

Where imported rows live: `owner` (a login) puts them in that user's library (rows
beyond the library cap are refused with reason "library full"); otherwise `pool`:
`public` (public_pool), `telesales`, `industry`, or `agent_admin`, which needs
`department`: the agent company whose agent-admin pool receives them (a PATH as in
`departments create`; a department below a company means its company).
"""
from __future__ import annotations

import contextvars
import hashlib
import json
import multiprocessing
import os
import struct
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path
from types import SimpleNamespace

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, select, text

from models import InfoSource, Opportunity, OpportunityPhone, OpportunityTerm, ReviewConfirmation, User

from . import accounts, audit, clock, dedup, departments, exports, normalize, opportunities
from .errors import RuleViolation
from .locks import take_lock
from .tables import FIELDS, HEADERS, ImportFileError, RowReader, detect_encoding  # noqa: F401 - imports' API

_TRUE = {"1", "true", "yes", "y", "on", "是", "重点", "√", "✓", "✔", "x"}
POOLS = {"public": "public_pool", "agent_admin": "agent_admin_pool", "telesales": "telesales",
         "industry": "industry"}
LIBRARY_ROLES = ("salesperson", "supervisor", "manager")
BATCH = 5000  # rows per bulk insert on the fast path
CHUNK = 2000  # rows per task sent to a normalising worker
PARALLEL_FROM = 20000  # rows (estimated) from which the fast path normalises in worker processes
WORKERS = None  # normalising processes; None: one per core but the writer's
SQLITE_IMPORT_CACHE_KIB = 1024 * 1024  # page cache for a fast import on SQLite (the term index fits)
REPORT_COLUMNS = ("row", "verdict", "reason", "company", "matched", "imported")
_REPORT_TEXT_MAX = 300
_ORDER = {normalize.DUPLICATE: 0, normalize.REVIEW: 1}


# ---------------------------------------------------------------------------
# One row: validation and keys (pure but for the lazy messages, which need the app context)

def row_input(values):
    values = dict(values)
    values["key_customer"] = values.get("key_customer", "").strip().lower() in _TRUE
    return opportunities.OpportunityInput.from_mapping(values)


def row_problems(data, sources):
    """{field: message} of a row: `opportunities.validate`, and an unknown information source."""
    problems = {name: str(message) for name, message in opportunities.validate(data).items()}
    if data.source and data.source not in sources and "source" not in problems:
        problems["source"] = str(_l("Choose an information source from the list."))
    return problems


def row_keys(data):
    return dedup.query_keys(data.company, data.province, data.city, data.phone, data.fax, data.mobile)


def _truncate(value, limit=_REPORT_TEXT_MAX):
    return value if len(value) <= limit else value[: limit - 1] + "…"


# ---------------------------------------------------------------------------
# Duplicates inside the file

@dataclass
class FileRow:
    row: int
    company: str
    keys: dict
    opportunity_id: int | None = None  # set once imported


class FileIndex:
    """The earlier rows of a file, searched as `dedup.check` searches the database.

    The same terms (`normalize.index_terms`: exact trade name, one-edit neighbours,
    bigrams, phone locals) in a dict term -> row numbers, the same candidate rules
    (exact terms and name substrings; every bigram of a keyword) and the same
    judgement (`normalize.compare`).
    """

    def __init__(self):
        # term -> the row number, or a set of them when several rows have the term: most terms
        # belong to one row, and a set for each cost a 100,000-row file ~180 MB more
        self.postings: dict[str, int | set[int]] = {}
        self.rows: dict[int, FileRow] = {}

    def add(self, file_row):
        self.rows[file_row.row] = file_row
        number = file_row.row
        for term in normalize.index_terms(file_row.keys):
            held = self.postings.get(term)
            if held is None:
                self.postings[term] = number
            elif isinstance(held, set):
                held.add(number)
            elif held != number:
                self.postings[term] = {held, number}

    def _rows(self, term):
        held = self.postings.get(term)
        if held is None:
            return set()
        return held if isinstance(held, set) else {held}

    def _candidates(self, keys):
        core = keys["company_key"].core
        terms = [t for t in normalize.index_terms(keys) if t[:2] in ("n:", "d:", "p:")]
        if core:
            terms += ["n:" + piece for piece in normalize.name_substrings(core)]
        found = set()
        for term in terms:
            found |= self._rows(term)
        grams = ["g:" + g for g in normalize.name_grams(core)]
        if grams:
            lists = sorted((self._rows(g) for g in grams), key=len)
            keyword = lists[0].intersection(*lists[1:]) if lists[0] else set()
            extra = sorted(keyword - found)[: max(dedup.CANDIDATE_LIMIT - len(found), 0)]
            found.update(extra)
        return found

    def matches(self, keys):
        out = []
        for number in sorted(self._candidates(keys)):
            earlier = self.rows[number]
            match = normalize.compare(keys, earlier.keys)
            if match is not None:
                out.append((earlier, match))
        return out


def file_match_json(earlier, match):
    return {
        "opportunity_id": earlier.opportunity_id,
        "company": earlier.company,
        "location": "file",
        "owner": None,
        "matched_on": list(match.matched_on),
        "score": round(match.score, 2),
        "verdict": match.verdict,
        "reasons": list(match.reasons),
        "row": earlier.row,
    }


def _sort_matches(matches):
    matches.sort(key=lambda m: (_ORDER[m["verdict"]], -m["score"], m["location"] == "file",
                                m.get("row") or 0, m["opportunity_id"] or 0))
    return matches


def _verdict(matches):
    verdicts = {m["verdict"] for m in matches}
    if normalize.DUPLICATE in verdicts:
        return normalize.DUPLICATE
    return normalize.REVIEW if verdicts else normalize.NEW


def _active_sources(session):
    return dict(session.execute(select(InfoSource.name, InfoSource.id).where(InfoSource.active.is_(True))).all())


def _checked_rows(session, reader, imported_ids=None):
    """(row, data, keys, result dict, problems) for every row, checked against the database
    and the earlier rows. `imported_ids`: ids this run wrote, reported as rows of the file.

    The database is asked for dedup.CHECK_BATCH rows at a time (`dedup.check_many`: the
    same answers as a check a row, in a few statements); the earlier rows of the file are
    compared row by row, in order. While importing, the rows of a batch are checked before
    any of them is written: a row's match with an earlier row of its batch comes from the
    file's index (as a row this run imported always does), not from the database.
    """
    sources = _active_sources(session)
    index = FileIndex()
    # a check reads, so the bigrams' counts hold for the whole file; an import writes as it goes
    counts = {} if imported_ids is None else None
    for batch in _chunks(reader, dedup.CHECK_BATCH):
        if imported_ids is None:
            session.expunge_all()  # a check only reads: keep the identity map small on long files
        rows = [(number, data, row_problems(data, sources)) for number, data in
                ((number, row_input(values)) for number, values in batch)]
        checked = iter(dedup.check_many(session, [_check_query(data) for _number, data, problems in rows
                                                  if not problems], counts=counts))
        for number, data, problems in rows:
            if problems:
                yield number, data, None, {"row": number, "verdict": "invalid", "matches": [], "errors": problems}, \
                    problems
                continue
            yield _checked_row(number, data, next(checked), index, imported_ids)


checked_rows = _checked_rows


def _check_query(data):
    return {"company": data.company, "province": data.province, "city": data.city, "phone": data.phone,
            "fax": data.fax, "mobile": data.mobile}


def _checked_row(number, data, checked, index, imported_ids):
    """A valid row's tuple for `_checked_rows`: its database result with the earlier rows'
    matches added, and the row added to the file's index."""
    keys = row_keys(data)
    matches = [dedup.hit_json(h) for h in checked.hits
               if imported_ids is None or h.opportunity.id not in imported_ids]
    file_row = FileRow(number, data.company, keys)
    matches += [file_match_json(earlier, match) for earlier, match in index.matches(keys)]
    index.add(file_row)
    result = {"row": number, "verdict": _verdict(matches), "matches": _sort_matches(matches)}
    if checked.truncated:
        result["truncated"] = True
    return number, data, file_row, result, None


checked_rows = _checked_rows  # the browser imports' preview (services/import_jobs.py)


def check_file(session, path, columns=None, max_rows=None):
    """The duplicate-check result of every data row of the file, in order; imports nothing.

    Yields {"row", "verdict", "matches"} (as CONTRACT.md; a match of an earlier row of the
    file has location "file", "row" and opportunity_id null), or for a row that fails
    validation {"row", "verdict": "invalid", "matches": [], "errors": {field: message}}.
    Raises ImportFileError when the file cannot be read. `columns`, `max_rows`: as RowReader's.
    """
    reader = RowReader(path, columns=columns, max_rows=max_rows)
    for _number, _data, _file_row, result, _problems in _checked_rows(session, reader):
        yield result


# ---------------------------------------------------------------------------
# Importing

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


def report_path_for(path):
    path = Path(path)
    return path.with_name(path.name + ".report.csv")


# --- the report: the rows not imported, and the review rows, with the reason -------------
# A report row is a dict of REPORT_COLUMNS (verdicts and "yes"/"no" as codes, so that any code
# can build one); only the written table speaks the user's language (REPORT_HEADERS...).

REPORT_HEADERS = {"row": _l("Line"), "verdict": _l("Conclusion"), "reason": _l("Reason"),
                  "company": _l("Company name"), "matched": _l("Matched records"), "imported": _l("Imported?")}
REPORT_VERDICTS = {normalize.DUPLICATE: _l("Duplicate"), normalize.REVIEW: _l("Needs confirmation"),
                   "invalid": _l("Invalid"), "library_full": _l("Library full")}
REPORT_YES_NO = {"yes": _l("Yes"), "no": _l("No")}
_REPORT_LINE = contextvars.ContextVar("report_line", default=None)


@contextmanager
def report_lines(line):
    """Within it, a report row names a data row by `line(number)`, its line in the spreadsheet
    (`RowReader.line`): the line a person finds when opening the file, whatever rows sit
    above the header. `import_file` reports so."""
    token = _REPORT_LINE.set(line)
    try:
        yield
    finally:
        _REPORT_LINE.reset(token)


def _line(number):
    line = _REPORT_LINE.get()
    return line(number) if line is not None and number is not None else number


def _describe(match):
    if match["location"] == "file":
        where = str(_l("row %(row)d of this file", row=_line(match["row"])))
    else:
        where = f"#{match['opportunity_id']} {str(opportunities.LOCATION_LABELS[match['location']])}"
        if match["owner"]:
            where += f" {match['owner']}"
    return f"{match['company']} ({where})"


def _report_row(number, verdict, reason, company, matched=(), imported=False):
    return {"row": _line(number), "verdict": verdict, "reason": _truncate(reason),
            "company": _truncate(company or ""), "matched": _truncate("; ".join(_describe(m) for m in matched), 2000),
            "imported": "yes" if imported else "no"}


def _match_reason(matches, verdict):
    chosen = [m for m in matches if m["verdict"] == verdict][:3]
    return "; ".join("; ".join(m["reasons"]) for m in chosen)


def report_table(rows):
    """(headers, rows of cells) of the report in the current language."""
    headers = [str(REPORT_HEADERS[name]) for name in REPORT_COLUMNS]
    cells = ([row["row"], str(REPORT_VERDICTS.get(row["verdict"], row["verdict"])), row["reason"], row["company"],
              row["matched"], str(REPORT_YES_NO.get(row["imported"], row["imported"]))] for row in rows)
    return headers, cells


def _write_whole(path, data):
    """Write the file whole, then move it into place: never half a report."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_report(path, rows):
    """The report as CSV, UTF-8 with BOM (Excel), text cells neutralised against formulas."""
    _write_whole(path, exports.to_csv(*report_table(rows)))


def report_xlsx(rows):
    """The report as .xlsx bytes (openpyxl, write-only), text cells neutralised against formulas."""
    headers, cells = report_table(rows)
    return exports.to_xlsx(headers, cells, sheet_title=str(_l("Import report")))


def write_report_xlsx(path, rows):
    _write_whole(path, report_xlsx(rows))


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
            self.size = session.scalar(select(func.count()).select_from(Opportunity)
                                       .where(Opportunity.owner_id == self.owner_id, Opportunity.deleted_at.is_(None)))

    def place(self):
        """(owner, department) references for the next row's `_insert`, or None when the library is full."""
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
        user = accounts.find_user(session, owner)
        if user is None:
            raise RuleViolation(_l("No such user: %(login)s", login=owner), field="owner")
        if user.role not in LIBRARY_ROLES or not user.active:
            raise RuleViolation(_l("%(login)s has no library: only active salespeople, supervisors and managers "
                                   "own customers.", login=user.login), field="owner")
        if department:
            raise RuleViolation(_l("A department is given only with the agent-admin pool."), field="department")
        return Target("library", owner_id=user.id, owner_login=user.login, department_id=user.department_id,
                      cap=opportunities.library_cap(session, user), size=opportunities.library_size(session, user))
    pool = pool or "public"
    if pool not in POOLS:
        raise RuleViolation(_l("Unknown pool: %(pool)s", pool=pool), field="pool")
    if pool == "agent_admin":
        if not department:
            raise RuleViolation(_l("The agent-admin pool belongs to an agent company: name it with --department."),
                                field="department")
        node = departments.resolve_path(session, department)
        if node.depth == 0:
            raise RuleViolation(_l("The head office has no agent-admin pool: name an agent company."),
                                field="department")
        company_id = node.company_id
        return Target("agent_admin_pool", department_id=company_id)
    if department:
        raise RuleViolation(_l("A department is given only with the agent-admin pool."), field="department")
    return Target(POOLS[pool])


# --- mobiles: what the unique index uq_opportunity_phone_mobile holds (migration 0006) ------

def _mobile_pairs(phone_keys, fax_keys):
    """The (field, local) of a record's mobile numbers: the unique index's key."""
    return {(field_name, k.local) for field_name, keys in (("phone", phone_keys), ("fax", fax_keys))
            for k in keys if k.kind == "mobile"}


def _held_mobiles(session, pairs):
    """{(field, local): the holder as a match of the report} of those pairs the database holds."""
    pairs = set(pairs)
    numbers = sorted({local for _field, local in pairs})
    held = {}
    for start in range(0, len(numbers), 5000):  # under every driver's limit of bound parameters
        for field_name, local, oid, company, location, owner in session.execute(
                select(OpportunityPhone.field, OpportunityPhone.local, Opportunity.id, Opportunity.company,
                       Opportunity.location, User.login)
                .join(Opportunity, Opportunity.id == OpportunityPhone.opportunity_id)
                .outerjoin(User, User.id == Opportunity.owner_id)
                .where(OpportunityPhone.kind == "mobile", OpportunityPhone.local.in_(numbers[start:start + 5000]))):
            if (field_name, local) in pairs:
                held[field_name, local] = {"opportunity_id": oid, "company": company, "location": location,
                                           "owner": owner}
    return held


def _held_reason(number):
    return str(_l("mobile %(number)s belongs to another customer already", number=number))


class _MobileKeys:
    """The fast path's check of mobiles, the one rule it keeps: the unique index would fail the
    whole import on a mobile held already, so such a row is reported as a duplicate instead.

    Mobiles of the rows taken are kept in a dict (field, local) -> row; when the database held
    any mobile at the start, each chunk's are also looked up there, in one query (no one else
    writes one meanwhile: entries, leads and restores wait for the LibraryLock the import holds).
    A load into an empty table (a migration) never asks the database.
    """

    def __init__(self, session):
        self.session = session
        self.taken = {}
        self.held = {}
        self.look_up_held = session.scalar(
            select(OpportunityPhone.id).where(OpportunityPhone.kind == "mobile").limit(1)) is not None

    def look_up(self, results):
        """The database's holders of the mobiles of a chunk of prepared rows."""
        if self.look_up_held:
            self.held = _held_mobiles(self.session, {
                (field_name, local) for _number, _problems, _company, _row, phones, _terms in results if phones
                for field_name, kind, local, _area_code in phones if kind == "mobile"})

    def refusal(self, number, company, phones):
        """The report row of a row whose mobile is taken (by an earlier row or in the database), or None."""
        for field_name, kind, local, _area_code in phones:
            if kind != "mobile":
                continue
            row = self.taken.get((field_name, local))
            if row is not None:
                return _report_row(number, normalize.DUPLICATE, str(_l(
                    "mobile %(number)s is on row %(row)d of this file already", number=local, row=_line(row))), company)
            holder = self.held.get((field_name, local))
            if holder is not None:
                return _report_row(number, normalize.DUPLICATE, _held_reason(local), company, [holder])
        return None

    def take(self, number, phones):
        """Mark the row's mobiles taken; its phones, each once (a number typed twice in a field)."""
        mobile = False
        for field_name, kind, local, _area_code in phones:
            if kind == "mobile":
                self.taken[field_name, local] = number
                mobile = True
        return list(dict.fromkeys(phones)) if mobile else phones


def import_file(session, path, actor=None, pool=None, owner=None, department=None, skip_check=False,
                progress=None, report=True, columns=None, max_rows=None, reader=None, target=None, review_rows=None,
                before_commit=None, file_name=None):
    """Import the file in one transaction (committed here); returns an ImportSummary.

    Raises ImportFileError (file unreadable) or RuleViolation (bad target) with nothing
    written; any other exception rolls everything back and propagates. `columns`,
    `max_rows`: as RowReader's. The report rows name the spreadsheet's lines (`report_lines`).

    Browser imports (services/import_jobs.py) pass their own `reader` (mapped columns and
    values) and `target` (a round robin too), the `review_rows` the admin ticked (other
    review rows are not imported), and `before_commit(summary)`, which records the import's
    outcome in the same transaction.
    """
    started = time.perf_counter()
    reader = reader if reader is not None else RowReader(path, columns=columns, max_rows=max_rows)
    summary = ImportSummary(Path(path))
    lines = _REPORT_LINE.set(reader.line)  # as `report_lines` does, around the whole transaction
    try:
        target = target if target is not None else resolve_target(session, pool=pool, owner=owner,
                                                                   department=department)
        take_lock(session)
        target.recount(session)  # under the lock
        if skip_check:
            loaded = _import_fast(session, reader, target, actor, summary, progress)
        else:
            _import_checked(session, reader, target, actor, summary, progress, review_rows)
            loaded = False
        _audit(session, actor, file_name or path, target, summary, skip_check)
        if before_commit is not None:
            before_commit(summary)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        _REPORT_LINE.reset(lines)
    if loaded:
        _vacuum(session)
    summary.seconds = time.perf_counter() - started
    if report:
        summary.report_path = report_path_for(path)
        write_report(summary.report_path, summary.report_rows)
    return summary


def _audit(session, actor, path, target, summary, skip_check):
    """One audit entry per import (not one per row): the file, where the rows went, the counts."""
    counts = {name: value for name, value in summary.as_dict().items() if name not in ("seconds", "rows_per_second",
                                                                                          "report")}
    audit.record(session, actor, "import", department_id=target.department_id, details={
        "file": Path(path).name, "location": target.location, "owner": target.owner_login,
        "skip_check": skip_check, **counts})


def _import_checked(session, reader, target, actor, summary, progress, review_rows=None):
    """Row by row: validate, check (database and earlier rows), insert what may be entered.

    `review_rows`: when given, the only review rows to import (the others are reported)."""
    imported_ids = set()
    created_by_id = actor.id if actor is not None else None
    done = 0
    for number, data, file_row, result, problems in _checked_rows(session, reader, imported_ids):
        summary.read += 1
        done += 1
        if progress and done % 100 == 0:
            progress(100, reader.estimate)
        if problems:
            summary.invalid += 1
            summary.report_rows.append(_report_row(number, "invalid", "; ".join(problems.values()), data.company))
            continue
        verdict, matches = result["verdict"], result["matches"]
        if verdict == normalize.DUPLICATE:
            summary.duplicates += 1
            summary.report_rows.append(_report_row(number, verdict, _match_reason(matches, verdict),
                                                   data.company, [m for m in matches if m["verdict"] == verdict]))
            continue
        held = _held_mobiles(session, _mobile_pairs(file_row.keys["phone_keys"], file_row.keys["fax_keys"]))
        if held:  # a holder the check did not reach (too many candidates): the index would refuse it
            (field_name, local), holder = next(iter(held.items()))
            summary.duplicates += 1
            summary.report_rows.append(_report_row(number, normalize.DUPLICATE, _held_reason(local), data.company,
                                                   [holder]))
            continue
        if verdict == normalize.REVIEW and review_rows is not None and number not in review_rows:
            summary.review_skipped += 1
            summary.report_rows.append(_report_row(
                number, verdict, str(_l("not ticked for import")) + "; " + _match_reason(matches, verdict),
                data.company, matches))
            continue
        place = target.place()
        if place is None:
            summary.library_full += 1
            summary.report_rows.append(_report_row(
                number, "library_full", str(_l("library full (%(n)d customers)", n=target.cap)), data.company))
            continue
        owner_ref, department_ref = place
        opportunity = opportunities.insert_opportunity(session, owner_ref, data, target.location, department_ref)
        opportunity.created_by_id = created_by_id
        imported_ids.add(opportunity.id)
        file_row.opportunity_id = opportunity.id
        summary.imported += 1
        if verdict == normalize.REVIEW:
            summary.review += 1
            resembled = [{"opportunity_id": m["opportunity_id"], "company": m["company"], "score": m["score"],
                          **({"row": m["row"]} if m["location"] == "file" else {})} for m in matches]
            session.add(ReviewConfirmation(opportunity_id=opportunity.id, user_id=created_by_id,
                                           resembled=json.dumps(resembled, ensure_ascii=False),
                                           created_at=clock.now()))
            summary.report_rows.append(_report_row(number, verdict, _match_reason(matches, verdict), data.company,
                                                   matches, imported=True))
        if done % 500 == 0:  # keep the identity map small on long files
            session.flush()
            session.expunge_all()
    if progress:
        progress(done % 100, reader.estimate)


# --- the fast path ------------------------------------------------------------

_blake2b = hashlib.blake2b
_HASH_CACHE: dict[str, int] = {}  # bigram and other shared terms -> hash (a small vocabulary)


def term_hashes(terms):
    """`dedup.term_hash` of many terms at once (one unpack), the frequent bigram terms cached."""
    out = []
    todo = []
    for term in terms:
        if term[0] == "g":
            cached = _HASH_CACHE.get(term)
            if cached is None:
                cached = _HASH_CACHE[term] = dedup.term_hash(term)
            out.append(cached)
        else:
            out.append(None)
            todo.append(term)
    if todo:
        digests = b"".join([_blake2b(t.encode(), digest_size=8).digest() for t in todo])
        values = iter(struct.unpack(f">{len(todo)}q", digests))
        out = [next(values) if v is None else v for v in out]
    return out


_SIMPLE_MOBILE_CACHE = {}


def fast_keys(data):
    """`row_keys(data)`, with the phone and mobile parsed apart when that gives the same keys.

    `dedup.query_keys` joins phone and mobile with "/", which sends every row with both down
    the phone parser's general path; a plain 11-digit mobile after the phone adds just its
    own key there, so parsing it alone (the fast path of the parser) is the same.
    """
    phone, mobile = data.phone, data.mobile
    if phone and mobile and len(mobile) == 11 and mobile.isdigit() and mobile[0] == "1":
        mobile_keys = normalize.phone_keys(mobile)
        if len(mobile_keys) == 1 and mobile_keys[0].kind == "mobile":
            keys = normalize.record_keys(company=data.company, province=data.province, city=data.city,
                                         phone=phone, fax=data.fax)
            if mobile_keys[0] not in keys["phone_keys"]:
                keys["phone_keys"] = keys["phone_keys"] + mobile_keys
            return keys
    return row_keys(data)  # its company key is the one `validate` just computed (cached)


_SOURCES: dict[str, int] = {}


def _prepare(values):
    """One row for the fast path: (problems or None, company, opportunity values, phone tuples, term hashes)."""
    data = row_input(values)
    problems = row_problems(data, _SOURCES)
    if problems:
        return problems, data.company, None, None, None
    keys = fast_keys(data)
    ck = keys["company_key"]
    # in _OPPORTUNITY_COLUMNS' order, without id and the columns every row shares
    row = (data.company, data.province or ck.province, data.city or ck.city, data.district or ck.district,
           data.address, data.contact, data.phone, data.mobile, data.fax, data.email, data.industry,
           _SOURCES.get(data.source) if data.source else None, data.key_customer,
           ck.folded[:200], ck.core[:200], ck.province, ck.city, ck.district)
    phones = [(field_name, k.kind, k.local, k.area_code or "")
              for field_name, key_list in (("phone", keys["phone_keys"]), ("fax", keys["fax_keys"]))
              for k in key_list]
    return None, data.company, row, phones, term_hashes(normalize.index_terms(keys))


def _prepare_chunk(chunk):
    return [(number, *_prepare(values)) for number, values in chunk]


def _worker_init(app, sources):
    global _SOURCES
    _SOURCES = sources
    app.app_context().push()  # the validation messages are lazy strings: str() them here


def _chunks(reader, size=None):
    size = size or CHUNK
    chunk = []
    for item in reader:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class _IdAllocator:
    """Ids for the opportunities of a batch, allocated before the insert so that the phone
    and term rows need no flush: max(id)+1 on SQLite (one writer, and we hold the lock),
    the id sequence on PostgreSQL (safe beside any other writer)."""

    def __init__(self, session):
        self.session = session
        self.dialect = session.get_bind().dialect.name
        self.next_id = None

    def take(self, n):
        if n == 0:
            return []
        if self.dialect == "postgresql":
            return list(self.session.scalars(text(
                "SELECT nextval(pg_get_serial_sequence('opportunity', 'id')) FROM generate_series(1, :n)"),
                {"n": n}))
        if self.next_id is None:
            self.next_id = (self.session.scalar(select(func.max(Opportunity.id))) or 0) + 1
        ids = list(range(self.next_id, self.next_id + n))
        self.next_id += n
        return ids


_OPPORTUNITY_COLUMNS = ("id", "company", "province", "city", "district", "address", "contact", "phone", "mobile",
                        "fax", "email", "industry", "source_id", "key_customer", "location", "owner_id",
                        "department_id", "entered_at", "created_at", "created_by_id", "name_folded", "name_core",
                        "norm_province", "norm_city", "norm_district")
_COMMON_COLUMNS = _OPPORTUNITY_COLUMNS[14:20]  # the values every row of an import shares
_PHONE_COLUMNS = ("opportunity_id", "field", "kind", "local", "area_code")
_TERM_COLUMNS = ("term", "opportunity_id")
_INDEXED_TABLES = ("opportunity", "opportunity_phone", "opportunity_term")


class _BulkWriter:
    """Writes prepared rows in the session's transaction, by the fastest means of the database:
    the driver's executemany of tuples on SQLite (values passed through the columns' bind
    processors, as SQLAlchemy would), COPY on PostgreSQL, an executemany insert elsewhere."""

    def __init__(self, session):
        self.session = session
        self.connection = session.connection()
        self.dialect = self.connection.dialect
        self.name = self.dialect.name

    def _processors(self, table, columns):
        return [table.c[name].type._cached_bind_processor(self.dialect) for name in columns]

    def bound(self, model, columns, values):
        """`values` of `columns` as `write` would pass them to the driver: for the values
        every row shares, processed once rather than once a row."""
        if self.name != "sqlite":
            return tuple(values)
        processors = self._processors(model.__table__, columns)
        return tuple(p(v) if p else v for p, v in zip(processors, values))

    def write(self, model, columns, rows, bound=()):
        """Insert `rows` (tuples in `columns`' order); the columns in `bound` hold values
        already passed through `bound`."""
        if not rows:
            return
        table = model.__table__
        if self.name == "sqlite":
            processors = [None if name in bound else p
                          for name, p in zip(columns, self._processors(table, columns))]
            if any(processors):
                pairs = [(i, p) for i, p in enumerate(processors) if p]
                rows = [list(r) for r in rows]
                for r in rows:
                    for i, p in pairs:
                        r[i] = p(r[i])
            cursor = self.connection.connection.driver_connection.cursor()
            try:
                cursor.executemany(f"INSERT INTO {table.name} ({', '.join(columns)}) "
                                   f"VALUES ({', '.join('?' * len(columns))})", rows)
            finally:
                cursor.close()
        elif self.name == "postgresql":
            cursor = self.connection.connection.driver_connection.cursor()
            try:
                with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
                    for r in rows:
                        copy.write_row(r)
            finally:
                cursor.close()
        else:
            self.connection.execute(insert(table), [dict(zip(columns, r)) for r in rows])

    # --- what a migration load builds once at the end rather than row by row: the secondary
    # indexes; on PostgreSQL also the index terms' primary key and the foreign keys, whose
    # per-row checks (a trigger and an index probe for each of ~15 index rows a customer)
    # cost more than the insert itself; ADD CONSTRAINT checks them all in one join.

    def deferred_structures(self):
        """[(DROP statement, CREATE statement)] of what the load of empty tables defers."""
        tables = "('opportunity', 'opportunity_phone', 'opportunity_term')"
        if self.name == "sqlite":
            return [(f'DROP INDEX "{name}"', sql) for name, sql in self.connection.execute(text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                f"AND tbl_name IN {tables}")).all()]
        if self.name != "postgresql":
            return []
        constraints = [(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"',
                        f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
                       for table, name, definition in self.connection.execute(text(
                           "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) "
                           "FROM pg_constraint c WHERE c.conrelid::regclass::text IN " + tables +
                           " AND (c.contype = 'f' OR (c.contype = 'p' AND c.conrelid = 'opportunity_term'::regclass))"
                           " ORDER BY c.contype, c.conname")).all()]
        indexes = [(f'DROP INDEX "{name}"', sql) for name, sql in self.connection.execute(text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
            f"AND tablename IN {tables} AND indexname NOT IN (SELECT conname FROM pg_constraint)")).all()]
        return constraints + indexes

    def drop(self, structures):
        for drop, _create in structures:
            self.connection.execute(text(drop))

    def create(self, structures):
        for _drop, create in reversed(structures):  # primary keys before the foreign keys
            self.connection.execute(text(create))


def _vacuum(session):
    """PostgreSQL after a migration load: VACUUM (ANALYZE) the opportunity tables, outside the
    transaction, so that the planner knows them and the duplicate check's index-only scans
    need no heap visits (autovacuum may be off, or come much later)."""
    engine = session.get_bind()
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in _INDEXED_TABLES:
            connection.execute(text(f"VACUUM (ANALYZE) {table}"))


def _import_fast(session, reader, target, actor, summary, progress):
    """Trust the file: validate, normalise, index and write in bulk, without duplicate checks.

    Into an empty opportunity table (a migration) with a large file, the secondary indexes
    are dropped for the load and built again at its end, in the same transaction.
    """
    global _SOURCES
    _SOURCES = _active_sources(session)
    writer = _BulkWriter(session)
    sqlite = writer.name == "sqlite"
    cache_before = None
    if sqlite:
        cache_before = writer.connection.exec_driver_sql("PRAGMA cache_size").scalar()
        writer.connection.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_IMPORT_CACHE_KIB}")
    deferred = []
    if reader.estimate >= PARALLEL_FROM and session.scalar(select(Opportunity.id).limit(1)) is None:
        deferred = writer.deferred_structures()
        writer.drop(deferred)
    now = clock.now()
    common = writer.bound(Opportunity, _COMMON_COLUMNS, (target.location, target.owner_id, target.department_id,
                                                          now, now, actor.id if actor is not None else None))
    ids = _IdAllocator(session)
    mobiles = _MobileKeys(session)
    pool = None
    try:
        if reader.estimate >= PARALLEL_FROM and (os.cpu_count() or 1) > 1 and sys.platform != "win32":
            context = multiprocessing.get_context("fork")
            # the writer keeps one core busy: the other cores normalise
            pool = context.Pool(WORKERS or max(1, (os.cpu_count() or 2) - 1), initializer=_worker_init,
                                initargs=(current_app._get_current_object(), _SOURCES))
            prepared = pool.imap(_prepare_chunk, _chunks(reader), chunksize=1)
        else:
            prepared = map(_prepare_chunk, _chunks(reader))
        batch = []
        for results in prepared:
            mobiles.look_up(results)
            for item in results:
                summary.read += 1
                number, problems, company, row, phones, terms = item
                if problems:
                    summary.invalid += 1
                    summary.report_rows.append(_report_row(number, "invalid", "; ".join(problems.values()), company))
                    continue
                refusal = mobiles.refusal(number, company, phones)
                if refusal:
                    summary.duplicates += 1
                    summary.report_rows.append(refusal)
                    continue
                if target.full():
                    summary.library_full += 1
                    summary.report_rows.append(_report_row(
                        number, "library_full", str(_l("library full (%(n)d customers)", n=target.cap)), company))
                    continue
                target.size += 1
                batch.append((row, mobiles.take(number, phones), terms))
                if len(batch) >= BATCH:
                    _write_batch(writer, batch, common, ids)
                    summary.imported += len(batch)
                    batch = []
            if progress:
                progress(len(results), reader.estimate)
        if batch:
            _write_batch(writer, batch, common, ids)
            summary.imported += len(batch)
        if deferred:
            writer.create(deferred)
        return bool(deferred)  # a migration load: the tables are new
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
        if sqlite and cache_before is not None:
            try:
                writer.connection.exec_driver_sql(f"PRAGMA cache_size={int(cache_before)}")
            except Exception:  # the connection is going away with the error that got us here
                pass


def _write_batch(writer, batch, common, ids):
    opportunity_rows, phone_rows, term_rows = [], [], []
    for opportunity_id, (row, phones, terms) in zip(ids.take(len(batch)), batch):
        opportunity_rows.append((opportunity_id, *row[:13], *common, *row[13:]))
        phone_rows.extend((opportunity_id, *phone) for phone in phones)
        term_rows.extend(zip(terms, repeat(opportunity_id)))
    term_rows.sort()  # in the primary key's order: fewer index pages touched
    writer.write(Opportunity, _OPPORTUNITY_COLUMNS, opportunity_rows, bound=_COMMON_COLUMNS)
    writer.write(OpportunityPhone, _PHONE_COLUMNS, phone_rows)
    writer.write(OpportunityTerm, _TERM_COLUMNS, term_rows)
