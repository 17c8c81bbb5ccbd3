"""Imports from the browser and the API (导入): upload a list, check every row in the background,
let the admin map columns and values and tick the rows that need a person, then run.

The file and everything it becomes go through `services/imports/`, the command line's
code: the same reader, the same row checks (the one duplicate-check engine, against the
database and the file's earlier rows), the same all-or-nothing write under the library
lock, the same audit entry. What this module adds is the life of an import as a record
(`DataImport`): who may start one where (`new_import`, `target_of`), the two background
jobs (`check` -> status ready, `run` -> status done), the preview's rows
(`DataImportRow`) and the report.

Status: checking -> ready -> importing -> done; failed (with a message) from checking or
importing; cancelled from ready. A job that fails leaves nothing written: the run is one
transaction, and the import's own record changes in that same transaction.
"""
from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from flask import current_app
from flask_babel import lazy_gettext as _l
from rapidfuzz import fuzz, process
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import OperationalError

from models import DataImport, DataImportFile, DataImportRow, Department, InfoSource, Opportunity, User

from . import access, clock, departments, imports, jobs, leads, opportunities
from .errors import RuleViolation
from .text import clean_cell

SUFFIXES = (".xlsx", ".xls", ".ods", ".csv")
TARGETS = ("public_pool", "agent_admin_pool", "library", "round_robin")
VERDICTS = ("new", "review", "duplicate", "invalid")
LIST_FIELDS = ("source",)  # fields whose values must be in a list the admins keep
ROWS_PER_WRITE = 1000  # preview rows written (and progress shown) per statement
MATCHES_KEPT = 5  # matches kept per preview row
SUGGEST_SCORE = 80  # a list value this close to an unknown one is chosen for it until the admin says otherwise

TARGET_LABELS = {
    "public_pool": _l("Public pool"),
    "agent_admin_pool": _l("Agent-admin pool"),
    "library": _l("A salesperson's library"),
    "round_robin": _l("In turn to a department's salespeople"),
}
STATUS_LABELS = {
    "checking": _l("Checking"),
    "ready": _l("Ready to import"),
    "importing": _l("Importing"),
    "done": _l("Done"),
    "failed": _l("Failed"),
    "cancelled": _l("Cancelled"),
}
VERDICT_LABELS = {"new": _l("New"), "review": _l("Needs confirmation"), "duplicate": _l("Duplicate"),
                  "invalid": _l("Invalid")}


def _json(value):
    return json.dumps(value, ensure_ascii=False)


def loads(text, default=None):
    return json.loads(text) if text else default


# --- who may import where ------------------------------------------------------------------

def visible_clause(actor):
    """SQL condition on DataImport: the imports of the actor's scope (its company's; all for a subsystem admin)."""
    if actor.role == "subsystem_admin":
        return DataImport.id.is_not(None)
    return DataImport.department_id == _company_id(actor.department)


def _company_id(department):
    return department.company_id or department.id


def find(session, actor, import_id):
    """The import if the actor may see it, else None (absent and not yours answer alike)."""
    if not access.is_admin(actor) or import_id is None:
        return None
    return session.scalar(select(DataImport).where(DataImport.id == import_id, visible_clause(actor)))


@dataclass
class Placement:
    """Where an import's rows go, as the admin chose it."""
    target: str
    owner_id: int | None = None
    department_id: int | None = None  # the agent company of the agent-admin pool, or the round robin's department


def placement(session, actor, target, owner=None, department=None):
    """The Placement of a target named in a form or the API, within the actor's scope; RuleViolation if not."""
    target = target or "public_pool"
    if target not in TARGETS:
        raise RuleViolation(_l("Choose where the customers go."), field="target")
    if target == "library":
        user = session.scalar(select(User).where(User.login_key == (owner or "").strip().casefold(),
                                                 User.deleted_at.is_(None)))
        if user is None or not access.may_administer_user(actor, user):
            raise RuleViolation(_l("Choose a salesperson of your company."), field="owner")
        if user.role not in access.LIBRARY_ROLES or not user.active:
            raise RuleViolation(_l("%(login)s has no library: only active salespeople, supervisors and managers "
                                   "own customers.", login=user.login), field="owner")
        return Placement(target, owner_id=user.id)
    node = _department(session, actor, department, target)
    if target == "agent_admin_pool":
        if node.depth == 0:
            raise RuleViolation(_l("The head office has no agent-admin pool: name an agent company."),
                                field="department")
        return Placement(target, department_id=node.company_id)
    if target == "round_robin":
        return Placement(target, department_id=node.id)
    return Placement(target)


def _department(session, actor, path, target):
    """The department a target names (by PATH, or a Department), by default the actor's company, within the
    actor's scope."""
    if path:
        try:
            node = path if isinstance(path, Department) else departments.resolve_path(session, path)
        except RuleViolation:
            node = None
        if node is None or not access.may_administer_department(actor, node):
            raise RuleViolation(_l("Choose a department of your company."), field="department")
        return node
    if actor.role == "subsystem_admin" and target in ("agent_admin_pool", "round_robin"):
        raise RuleViolation(_l("Choose the department."), field="department")
    return session.get(Department, _company_id(actor.department))


def target_of(session, item):
    """The `imports.Target` of an import, counted now (the run counts again under the lock)."""
    if item.target == "library":
        user = session.get(User, item.owner_id)
        if user is None or user.deleted_at is not None or not user.active:
            raise RuleViolation(_l("The salesperson chosen for this import can no longer receive customers."),
                                field="owner")
        return imports.Target("library", owner_id=user.id, owner_login=user.login, department_id=user.department_id,
                              cap=opportunities.library_cap(session, user))
    if item.target == "round_robin":
        return RoundRobin.of(session, session.get(Department, item.target_department_id))
    if item.target == "agent_admin_pool":
        return imports.Target("agent_admin_pool", department_id=item.target_department_id)
    return imports.Target("public_pool")


class RoundRobin(imports.Target):
    """Rows given in turn to the salespeople of a department's subtree (active, not locked), as web
    leads are: each next row to the next person with room under the cap; nobody left: library full."""

    def __init__(self, department, people):
        super().__init__("library", department_id=department.id, owner_login=department.name)
        self.people = people  # [SimpleNamespace(id, department_id, cap, size)]
        self.turn = 0

    @classmethod
    def of(cls, session, department):
        subtree = select(Department.id).where(Department.path.startswith(department.path))
        users = session.scalars(select(User).where(
            User.role.in_(leads.ASSIGNEE_ROLES), User.active.is_(True), User.locked_at.is_(None),
            User.deleted_at.is_(None), User.department_id.in_(subtree)).order_by(User.id)).all()
        people = [SimpleNamespace(id=u.id, department_id=u.department_id,
                                  cap=opportunities.library_cap(session, u), size=0) for u in users]
        robin = cls(department, people)
        robin.cap = sum(p.cap for p in people)
        return robin

    def recount(self, session):
        sizes = dict(session.execute(select(Opportunity.owner_id, func.count()).where(
            Opportunity.owner_id.in_([p.id for p in self.people]), Opportunity.deleted_at.is_(None))
            .group_by(Opportunity.owner_id)).all()) if self.people else {}
        for person in self.people:
            person.size = sizes.get(person.id, 0)

    def full(self):
        return all(p.size >= p.cap for p in self.people)

    def place(self):
        for step in range(len(self.people)):
            person = self.people[(self.turn + step) % len(self.people)]
            if person.size < person.cap:
                person.size += 1
                self.turn = (self.turn + step + 1) % len(self.people)
                return SimpleNamespace(id=person.id, department_id=person.department_id), None
        return None


# --- upload --------------------------------------------------------------------------------

def max_bytes():
    return current_app.config["CRM_IMPORT_MAX_MB"] * 1024 * 1024


def new_import(session, actor, file_name, data, placement_):
    """Keep an uploaded file and start its check; the DataImport. RuleViolation (field `file`) when the
    file is no table of customers that can be read: its message says why, in the user's language."""
    file_name = clean_cell(Path(file_name or "").name)[:255] or "upload"
    suffix = Path(file_name).suffix.lower()
    if suffix not in SUFFIXES:
        raise RuleViolation(_l("Upload an .xlsx, .xls, .ods or .csv file."), field="file")
    if not data:
        raise RuleViolation(_l("The file is empty."), field="file")
    if len(data) > max_bytes():
        raise RuleViolation(too_large(), field="file", code="too_large")
    with _on_disk(data, suffix) as path:  # read the header now: a file that is no table is refused at once
        try:
            imports.RowReader(path, max_rows=current_app.config["CRM_IMPORT_MAX_ROWS"])
        except imports.ImportFileError as error:
            raise RuleViolation(_named(error.message, path.name, file_name), field="file") from None
    now = clock.now()
    item = DataImport(created_by_id=actor.id, department_id=_company_id(actor.department), created_at=now,
                      file_name=file_name, file_size=len(data), status="checking", target=placement_.target,
                      owner_id=placement_.owner_id, target_department_id=placement_.department_id)
    session.add(item)
    session.flush()
    session.add(DataImportFile(import_id=item.id, kind="upload", name=file_name, data=data, created_at=now))
    item.job_id = jobs.start(session, "import_check", item.id).id
    return item


def too_large():
    return _l("The file is larger than %(n)d MB: split it, or keep only the columns to import.",
              n=current_app.config["CRM_IMPORT_MAX_MB"])


def _named(message, temp_name, file_name):
    """A reader's message about our temporary file, about the file the admin uploaded instead."""
    return str(message).replace(temp_name, file_name)


@contextmanager
def _on_disk(data, suffix):
    """The bytes as a temporary file with the right suffix (the readers read files), removed after."""
    handle = tempfile.NamedTemporaryFile(prefix="crm-import-", suffix=suffix, delete=False)
    try:
        with handle:
            handle.write(data)
        yield Path(handle.name)
    finally:
        os.unlink(handle.name)


@contextmanager
def _upload(session, item):
    data = session.scalar(select(DataImportFile.data).where(DataImportFile.import_id == item.id,
                                                          DataImportFile.kind == "upload"))
    if data is None:
        raise jobs.JobFailed(_l("The uploaded file was deleted after the retention period: upload it again."))
    with _on_disk(data, Path(item.file_name).suffix.lower()) as path:
        yield path


def _reader(item, path):
    try:
        return imports.RowReader(path, columns=loads(item.columns), max_rows=current_app.config["CRM_IMPORT_MAX_ROWS"])
    except imports.ImportFileError as error:
        raise jobs.JobFailed(_named(error.message, path.name, item.file_name)) from None


def _remembered_columns(session, item, headers):
    """The company's last choices for these headers ({header: field or None}), from its previous import."""
    previous = session.scalar(select(DataImport.columns).where(
        DataImport.department_id == item.department_id, DataImport.id != item.id, DataImport.columns.is_not(None))
        .order_by(DataImport.id.desc()).limit(1))
    remembered = loads(previous, {})
    return {header: remembered[header] for header in headers if header in remembered}


# --- values that must come from a list ----------------------------------------------------

class MappedReader:
    """A RowReader whose rows have their list values mapped (`value_map`, {field: {given: chosen}}) (their
    control characters were dropped by the reader); records every list value not in the list (`unknown`), and
    chooses for it a close list value (`suggested`) when the admin has not chosen."""

    def __init__(self, reader, value_map, lists):
        self.reader = reader
        self.value_map = value_map
        self.lists = lists  # {field: [value, ...]}
        self.unknown = {name: Counter() for name in lists}
        self.suggested = {}
        self.values_of = {}  # row number -> values, for the caller to take

    def __getattr__(self, name):
        return getattr(self.reader, name)

    def __iter__(self):
        for number, values in self.reader:
            for name, allowed in self.lists.items():
                given = values.get(name)
                if given and given not in allowed:
                    self.unknown[name][given] += 1
                    values[name] = self._chosen(name, given, allowed)
            self.values_of[number] = values
            yield number, values

    def _chosen(self, name, given, allowed):
        chosen = self.value_map.get(name, {})
        if given in chosen:
            return chosen[given]
        best = process.extractOne(given, allowed, scorer=fuzz.partial_ratio) if allowed else None
        if best and best[1] >= SUGGEST_SCORE:
            self.suggested.setdefault(name, {})[given] = best[0]
            return best[0]
        return given  # left as it is: the row is invalid until the admin maps it


def list_values(session):
    return {"source": session.scalars(select(InfoSource.name).where(InfoSource.active.is_(True))
                                      .order_by(InfoSource.id)).all()}


# --- the check (a background job) ----------------------------------------------------------

def _failed(session, import_id, message):
    """The import failed with its job, unless its own transaction already said done (a worker that
    died after the run committed, before its job was marked done)."""
    jobs.mark_failed(session, DataImport, import_id, message, while_in=("checking", "importing"))


@jobs.handler("import_check", failed=_failed)
def check(session, import_id, progress):
    """Read the file and check every row; keep each row's verdict and why; status ready."""
    item = session.get(DataImport, import_id)
    with _upload(session, item) as path:
        reader = _reader(item, path)
        if item.columns is None:  # the first check: the company's last choices for these headers
            remembered = _remembered_columns(session, item, reader.headers)
            if remembered:
                item.columns = _json(remembered)
                reader = _reader(item, path)
        item.headers = _json(reader.headers)
        item.header_line = reader.header_line
        item.columns = _json(_mapping(reader))
        session.execute(delete(DataImportRow).where(DataImportRow.import_id == item.id))
        session.commit()
        value_map = loads(item.value_map, {})
        mapped = MappedReader(reader, value_map, list_values(session))
        counts, total = _check_rows(session, item, mapped, progress)
    for name, suggested in mapped.suggested.items():
        value_map.setdefault(name, {}).update(suggested)
    item = session.get(DataImport, import_id)
    item.value_map = _json(value_map)
    item.unknown_values = _json({name: sorted(values) for name, values in mapped.unknown.items() if values})
    item.counts, item.rows_total, item.status = _json(counts), total, "ready"
    progress(total, total, force=True)


def _mapping(reader):
    """{header: field or None} of every header of the file, as the reader maps them now."""
    by_index = {index: name for name, index in reader.columns.items()}
    return {header: by_index.get(index) for index, header in enumerate(reader.headers) if header}


def _check_rows(session, item, mapped, progress):
    import_id = item.id  # the loop commits and keeps the identity map small: no ORM object is read in it
    counts = Counter({verdict: 0 for verdict in VERDICTS})
    pending, total = [], 0
    estimate = getattr(mapped, "estimate", None)
    for number, data, _file_row, result, problems in imports.checked_rows(session, mapped):
        values = mapped.values_of.pop(number)
        counts[result["verdict"]] += 1
        total += 1
        pending.append({"import_id": import_id, "row": number, "line": mapped.line(number),
                        "verdict": result["verdict"], "company": data.company[:200],
                        "values": _json(values), "matches": _json(result["matches"][:MATCHES_KEPT]),
                        "errors": _json({k: str(v) for k, v in problems.items()}) if problems else None,
                        "include": False})
        if len(pending) >= ROWS_PER_WRITE:
            _write_rows(session, pending)
            progress(total, max(estimate or 0, total))
    _write_rows(session, pending)
    return dict(counts), total


def _write_rows(session, rows):
    if rows:
        session.execute(insert(DataImportRow), rows)
        session.commit()
        rows.clear()


# --- what the admin chooses before the run --------------------------------------------------

def choose(session, item, columns=None, values=None):
    """Keep the admin's column mapping and list-value choices; a changed mapping is checked again."""
    if item.status not in ("ready", "failed"):
        raise RuleViolation(_l("This import cannot be changed now."), code="not_ready")
    recheck = False
    if columns is not None:
        fields = set(imports.FIELDS)
        headers = loads(item.headers, [])
        clean = dict(loads(item.columns, {}))  # the headers not named keep their field
        for header, name in columns.items():
            if header not in headers or (name and name not in fields):
                raise RuleViolation(_l("Unknown column or field: %(name)s", name=f"{header} → {name}"),
                                    field="columns")
            clean[header] = name or None
        if "company" not in clean.values():
            raise RuleViolation(_l("One column must be the company name."), field="columns")
        recheck = clean != loads(item.columns, {})
        item.columns = _json(clean)
    if values is not None:
        current = loads(item.value_map, {})
        for name, chosen in values.items():
            if name not in LIST_FIELDS or not isinstance(chosen, dict):
                raise RuleViolation(_l("Unknown field: %(name)s", name=name), field="values")
            allowed = set(list_values(session)[name]) | {""}
            for value in chosen.values():
                if value not in allowed:
                    raise RuleViolation(_l("%(value)s is not in the list.", value=value), field="values")
            current.setdefault(name, {}).update(chosen)
            recheck = True
        item.value_map = _json(current)
    return recheck


def recheck(session, item):
    """Check the file again (after a change of mapping)."""
    item.status, item.message = "checking", None
    item.job_id = jobs.start(session, "import_check", item.id).id


def include(session, item, rows, on=True):
    """Tick (or untick) rows to be imported should they need confirmation: `rows` is a list of row
    numbers (whatever their verdict now: a mapping chosen with them may make them review rows), or
    "all" for every review row of the preview."""
    if item.status not in ("ready", "failed"):
        raise RuleViolation(_l("This import cannot be changed now."), code="not_ready")
    query = update(DataImportRow).where(DataImportRow.import_id == item.id)
    if rows == "all":
        query = query.where(DataImportRow.verdict == "review")
    else:
        query = query.where(DataImportRow.row.in_([int(r) for r in rows][:max_rows()]))
    return session.execute(query.values(include=on)).rowcount


def max_rows():
    return current_app.config["CRM_IMPORT_MAX_ROWS"]


def start_run(session, actor, item):
    """Run the import (again, after a failed run: nothing of that run was written)."""
    if item.status not in ("ready", "failed") or item.rows_total is None:
        raise RuleViolation(_l("The check of this file has not finished yet."), code="not_ready")
    target_of(session, item)  # refused now if the target went away since the upload
    item.status, item.message = "importing", None
    item.job_id = jobs.start(session, "import_run", item.id).id


def cancel(session, item):
    if item.status not in ("ready", "failed"):
        raise RuleViolation(_l("This import cannot be cancelled now."), code="not_ready")
    item.status, item.finished_at = "cancelled", clock.now()


# --- the run (a background job) ------------------------------------------------------------

@jobs.handler("import_run", failed=_failed)
def run(session, import_id, progress):
    """Import the file as chosen, all or nothing as anyone sees it: the rows committed in short batches,
    hidden, then shown in one transaction with the audit entry, the report and the import's own status
    (services/imports/staging.py)."""
    item = session.get(DataImport, import_id)
    actor = session.get(User, item.created_by_id)
    file_name = item.file_name
    try:
        target = target_of(session, item)
    except RuleViolation as refusal:
        raise jobs.JobFailed(refusal.message) from None
    review_rows = set(session.scalars(select(DataImportRow.row).where(
        DataImportRow.import_id == item.id, DataImportRow.include.is_(True))))
    session.commit()
    with _upload(session, item) as path:
        mapped = MappedReader(_reader(item, path), loads(item.value_map, {}), list_values(session))
        counter = _Counter(progress, item.rows_total)
        try:  # staged: short transactions, the rows hidden until the end, so that entries go on meanwhile
            imports.import_file(session, path, actor=actor, reader=mapped, target=target, review_rows=review_rows,
                                progress=counter, report=False, file_name=file_name, stage=import_id,
                                before_commit=lambda summary: _finish(session, import_id, file_name, summary))
        except OperationalError as error:
            if "full" in str(error.orig).lower() or "no space" in str(error.orig).lower():
                raise jobs.JobFailed(_l("The server's disk is full: nothing was imported.")) from None
            raise


class _Counter:
    """The import's progress (increments) as the job's (done, total)."""

    def __init__(self, progress, total):
        self.progress, self.total, self.done = progress, total, 0

    def __call__(self, step, _estimate=None):
        self.done += step
        self.progress(self.done, self.total)


def _finish(session, import_id, file_name, summary):
    """In the import's transaction: its counts, its report, its status. By statements: the import
    keeps the session's identity map small (expunge_all), so no object of before is attached."""
    session.execute(update(DataImport).where(DataImport.id == import_id).values(
        status="done", finished_at=clock.now(), imported=summary.imported,
        not_imported=summary.read - summary.imported))
    session.execute(delete(DataImportFile).where(DataImportFile.import_id == import_id,
                                                 DataImportFile.kind == "report"))
    session.execute(insert(DataImportFile).values(import_id=import_id, kind="report", name=report_name(file_name),
                                                  data=summary.report_xlsx(),
                                                  created_at=clock.now()))


def report_name(file_name):
    return f"{Path(file_name).stem}-导入报告.xlsx"


def report(session, item):
    """The report's bytes, or None (not run yet, or deleted after the retention period)."""
    return session.scalar(select(DataImportFile.data).where(DataImportFile.import_id == item.id,
                                                          DataImportFile.kind == "report"))


# --- reading an import ---------------------------------------------------------------------

def rows(session, item, verdict=None, page=1, per_page=50):
    """(rows of the preview, total), filtered by verdict, in the file's order."""
    query = select(DataImportRow).where(DataImportRow.import_id == item.id)
    if verdict:
        query = query.where(DataImportRow.verdict == verdict)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    items = session.scalars(query.order_by(DataImportRow.row).offset((page - 1) * per_page).limit(per_page)).all()
    return items, total


def progress_of(session, item):
    """(done, total) of the import's current job, after marking failed what a dead worker left."""
    jobs.reap(session)
    job = item.job
    if job is None:
        return 0, item.rows_total
    return job.done or 0, job.total or item.rows_total
