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
importing; cancelled from ready or failed (or while its job still waits for a worker). A job
that fails leaves nothing written: the run is one transaction, and the import's own record
changes in that same transaction; a failed check's preview rows are deleted with it.

A check or a run is started by one conditional UPDATE (`_start`: from ready or failed), so that
of two clicks, or three API calls at once, exactly one starts it (the others: 409 `not_ready`);
the import then names that job (`job_id`), and a job that is not its import's current one
writes nothing (`_current`, and `_finish` under the run's own transaction).
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from rapidfuzz import fuzz, process
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import defer

from models import DataImport, DataImportFile, DataImportRow, Department, InfoSource, User

from .. import checking, clock, imports, jobs, library, people
from ..errors import RuleViolation
from ..sql import one_of
from ..text import clean_cell
from . import life, previews
from .owners import RowOwners

SUFFIXES = (".xlsx", ".xls", ".ods", ".csv")
TARGETS = ("public_pool", "agent_admin_pool", "library", "round_robin")
VERDICTS = ("new", "review", "duplicate", "invalid")
# fields whose values must be in a list: the information sources the admins keep; a level (客户等级) is a key
# customer or not, as the admin maps each value of the file
LIST_FIELDS = ("source", "key_customer")
KEY, NOT_KEY = "1", "0"  # what a level value is mapped to (services/imports/life.py reads them so)
ROWS_PER_WRITE = 1000  # preview rows written (and progress shown) per statement
MATCHES_KEPT = 5  # matches kept per preview row
COLUMNS_SHOWN = 200  # column dropdowns on the page and columns in the API's detail (an old import's header may be wider)
HEADER_SHOWN = 200  # characters of a header shown
VALUES_SHOWN = 200  # unknown list values kept and shown per field (the most frequent)
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
    return DataImport.department_id == actor.department.scope_id


def find(session, actor, import_id):
    """The import if the actor may see it, else None (absent and not yours answer alike)."""
    if not people.is_admin(actor) or import_id is None:
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
        if user is None or not people.may_administer_user(actor, user):
            raise RuleViolation(_l("Choose a salesperson of your company."), field="owner")
        if user.role not in people.LIBRARY_ROLES or not user.active:
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
            node = path if isinstance(path, Department) else people.resolve_path(session, path)
        except RuleViolation:
            node = None
        if node is None or not people.may_administer_department(actor, node):
            raise RuleViolation(_l("Choose a department of your company."), field="department")
        return node
    if actor.role == "subsystem_admin" and target in ("agent_admin_pool", "round_robin"):
        raise RuleViolation(_l("Choose the department."), field="department")
    return session.get(Department, actor.department.scope_id)


def target_of(session, item):
    """The `imports.Target` of an import, counted now (the run counts again under the lock)."""
    if item.target == "library":
        user = session.get(User, item.owner_id)
        if user is None or user.deleted_at is not None or not user.active:
            raise RuleViolation(_l("The salesperson chosen for this import can no longer receive customers."),
                                field="owner")
        return imports.Target("library", owner_id=user.id, owner_login=user.login, department_id=user.department_id,
                              cap=library.cap(session, user))
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
        users = library.assignees(session, department)  # the turn order of web leads
        people = [SimpleNamespace(id=u.id, department_id=u.department_id,
                                  cap=library.cap(session, u), size=0) for u in users]
        robin = cls(department, people)
        robin.cap = sum(p.cap for p in people)
        return robin

    def recount(self, session):
        sizes = library.sizes(session, [p.id for p in self.people])
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
    file_name = fit_name(clean_cell(Path(file_name or "").name) or "upload")
    suffix = Path(file_name).suffix.lower()
    if suffix not in SUFFIXES:
        raise RuleViolation(_l("Upload an .xlsx, .xls, .ods or .csv file."), field="file")
    if not data:
        raise RuleViolation(_l("The file is empty."), field="file")
    if len(data) > max_bytes():
        raise RuleViolation(too_large(), field="file", code="too_large")
    try:  # the header read now: a file that is no table is refused at once
        imports.open_reader(data, caps=imports.limits(), name=file_name)
    except imports.ImportFileError as error:
        raise RuleViolation(error.message, field="file") from None
    now = clock.now()
    item = DataImport(created_by_id=actor.id, department_id=actor.department.scope_id, created_at=now,
                      file_name=file_name, file_size=len(data), status="checking", target=placement_.target,
                      owner_id=placement_.owner_id, target_department_id=placement_.department_id)
    session.add(item)
    session.flush()
    session.add(DataImportFile(import_id=item.id, kind="upload", name=file_name, data=data, created_at=now))
    item.job_id = jobs.start(session, "import_check", item.id, undo=_forget).id
    return item


NAME_MAX = 255  # DataImport.file_name, DataImportFile.name


def fit_name(name, limit=NAME_MAX):
    """A file name of at most `limit` characters, shortened in its stem: the suffix says what the file is
    (a name cut at 255 lost its ".xlsx" and was refused as the wrong kind of file)."""
    if len(name) <= limit:
        return name
    suffix = Path(name).suffix
    if not suffix or len(suffix) >= limit // 2:
        return name[:limit]
    return name[:limit - len(suffix)] + suffix


def _forget(session, job_id):
    """A new upload whose check the queue refused: nothing of it is kept."""
    import_id = session.scalar(select(DataImport.id).where(DataImport.job_id == job_id))
    session.execute(delete(DataImportRow).where(DataImportRow.import_id == import_id))
    session.execute(delete(DataImportFile).where(DataImportFile.import_id == import_id))
    session.execute(delete(DataImport).where(DataImport.id == import_id))


def too_large():
    return _l("The file is larger than %(n)d MB: split it, or keep only the columns to import.",
              n=current_app.config["CRM_IMPORT_MAX_MB"])


def _upload(session, item):
    """The uploaded file's bytes, as kept in the database."""
    data = session.scalar(select(DataImportFile.data).where(DataImportFile.import_id == item.id,
                                                          DataImportFile.kind == "upload"))
    if data is None:
        raise jobs.JobFailed(_l("The uploaded file was deleted after the retention period: upload it again."))
    return data


def _reader(item, data):
    """The rows of the uploaded bytes, read in the sandbox (its messages name the file the admin uploaded)."""
    try:
        return imports.open_reader(data, columns=loads(item.columns), caps=imports.limits(), name=item.file_name)
    except imports.ImportFileError as error:
        raise jobs.JobFailed(error.message) from None


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
        self.owners = Counter()  # the names of the owner column (业务负责人), judged after the check

    def __getattr__(self, name):
        return getattr(self.reader, name)

    def __iter__(self):
        for number, values in self.reader:
            for name, allowed in self.lists.items():
                given = values.get(name)
                if given and given not in allowed:
                    self.unknown[name][given] += 1
                    values[name] = self._chosen(name, given, allowed)
            if values.get("owner"):
                self.owners[values["owner"]] += 1
            self.values_of[number] = values
            yield number, values

    def _chosen(self, name, given, allowed):
        chosen = self.value_map.get(name, {})
        if given in chosen:
            return chosen[given]
        suggested = _suggestion(name, given, allowed)
        if suggested is not None:
            self.suggested.setdefault(name, {})[given] = suggested
            return suggested
        return given  # left as it is: the row is invalid until the admin maps it


def _suggestion(name, given, allowed):
    """The list value chosen for `given` until the admin says otherwise: a level like A, 重点, 核心, 重要 or VIP
    is a key customer (any other is not); an information source, a close one (rapidfuzz), else None."""
    if name == "key_customer":
        return KEY if life.is_key_level(given) else NOT_KEY
    best = process.extractOne(given, allowed, scorer=fuzz.partial_ratio) if allowed else None
    return best[0] if best and best[1] >= SUGGEST_SCORE else None


def list_values(session):
    return {"source": session.scalars(select(InfoSource.name).where(InfoSource.active.is_(True))
                                      .order_by(InfoSource.id)).all(),
            "key_customer": [KEY, NOT_KEY]}


# --- the check (a background job) ----------------------------------------------------------

def _check_failed(session, import_id, message, job_id=None):
    """The import failed with its check (unless a later start made another job its current one); the
    rows the check had written are deleted, so that "nothing was written" is true and no half preview
    is run: the file must be checked again."""
    if jobs.mark_failed(session, DataImport, import_id, message, while_in=("checking",), job_id=job_id):
        session.execute(delete(DataImportRow).where(DataImportRow.import_id == import_id))
        session.execute(update(DataImport).where(DataImport.id == import_id).values(rows_total=None, counts=None))


def _run_failed(session, import_id, message, job_id=None):
    """The import failed with its run, unless its own transaction already said done (a worker that
    died after the run committed, before its job was marked done) or it has another current job."""
    jobs.mark_failed(session, DataImport, import_id, message, while_in=("importing",), job_id=job_id)


def _current(item, progress, status):
    """Refuse to work for an import whose current job is another (started again since) or that left
    `status` (cancelled): this job then writes nothing, and its failure changes nothing of the import."""
    if item is None or item.job_id != progress.job_id or item.status != status:
        raise jobs.JobFailed(SUPERSEDED)


@jobs.handler("import_check", failed=_check_failed)
def check(session, import_id, progress):
    """Read the file and check every row; keep each row's verdict and why; status ready."""
    item = session.get(DataImport, import_id)
    _current(item, progress, "checking")
    data = _upload(session, item)
    reader = _reader(item, data)
    if item.columns is None:  # the first check: the company's last choices for these headers
        remembered = _remembered_columns(session, item, reader.headers)
        if remembered:
            item.columns = _json(remembered)
            reader = _reader(item, data)
    item.headers = _json(reader.headers)
    item.header_line = reader.header_line
    item.columns = _json(_mapping(reader))
    session.execute(delete(DataImportRow).where(DataImportRow.import_id == item.id))
    session.commit()
    value_map = loads(item.value_map, {})
    mapped = MappedReader(reader, value_map, list_values(session))
    counts, total = _check_rows(session, item, mapped, progress)
    unknown = {name: sorted(value for value, _n in values.most_common(VALUES_SHOWN))
               for name, values in mapped.unknown.items() if values}
    unplaced = _unplaced_owners(session, item, mapped.owners)
    if unplaced:
        unknown["owner"] = unplaced
    for name, suggested in mapped.suggested.items():  # those shown: the run suggests the same again for the others
        shown = set(unknown.get(name, ()))
        value_map.setdefault(name, {}).update({given: value for given, value in suggested.items() if given in shown})
    ready = session.execute(update(DataImport).where(
        DataImport.id == import_id, DataImport.job_id == progress.job_id, DataImport.status == "checking").values(
        value_map=_json(value_map), counts=_json(counts), rows_total=total, status="ready",
        unknown_values=_json(unknown)))
    if ready.rowcount != 1:
        raise jobs.JobFailed(SUPERSEDED)
    progress(total, total, force=True)


def _unplaced_owners(session, item, names):
    """The owner column's names that place no row in a library: nobody the importer administers, or several
    people (two 张伟); their rows will go where the import's target puts them."""
    if not names:
        return []
    owners = RowOwners.of(session, session.get(User, item.created_by_id))
    return sorted(name for name, _n in names.most_common() if owners.find(name)[0] is None)[:VALUES_SHOWN]


def _mapping(reader):
    """{header: field or None} of every header of the file, as the reader maps them now."""
    by_index = {index: name for name, index in reader.columns.items()}
    return {header: by_index.get(index) for index, header in enumerate(reader.headers) if header}


def _check_rows(session, item, mapped, progress):
    import_id = item.id  # the loop commits and keeps the identity map small: no ORM object is read in it
    counts = Counter({verdict: 0 for verdict in VERDICTS})
    pending, total = [], 0
    estimate = getattr(mapped, "estimate", None)
    limit = preview_row_bytes()
    for number, data, _file_row, result, problems in imports.ImportRun(mapped).checked(session):
        values = _placed(mapped.values_of.pop(number), data)
        counts[result["verdict"]] += 1
        total += 1
        kept = [{**m, "reasons": checking.reasons_stored(m["reasons"])} for m in result["matches"][:MATCHES_KEPT]]
        values, matches, errors = previews.bound(values, kept,
                                                 {k: str(v) for k, v in problems.items()} if problems else None,
                                                 limit)
        pending.append({"import_id": import_id, "row": number, "line": mapped.line(number),
                        "verdict": result["verdict"], "company": data.company[:200],
                        "values": _json(values), "matches": _json(matches),
                        "errors": _json(errors) if errors else None, "include": False})
        if len(pending) >= ROWS_PER_WRITE:
            _write_rows(session, pending)
            progress(total, max(estimate or 0, total))
    _write_rows(session, pending)
    return dict(counts), total


def _placed(values, data):
    """A preview row's values with the place levels the row's input read from its place column or address (地区:
    广东深圳宝安 → 广东省, 深圳市, 宝安区), so that the preview shows them as they will be kept."""
    levels = {level: getattr(data, level, "") for level in ("province", "city", "district", "town")}
    return {**values, **{level: value for level, value in levels.items() if value and not values.get(level)}}


def preview_row_bytes():
    """The bytes a preview keeps per row (the run reads the file again: the preview only shows)."""
    return max(current_app.config["CRM_IMPORT_PREVIEW_ROW_BYTES"], previews.MIN_ROW_BYTES)


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
        recheck = _choose_columns(item, columns)
    if values is not None:
        recheck = _choose_values(session, item, values) or recheck
    return recheck


def _choose_columns(item, columns):
    """Keep the mapping {header: field or ""}; whether it changed. Every header must be the file's,
    every field one we import, and one column must still be the company name."""
    fields = set(imports.FIELDS)
    headers = set(loads(item.headers, []))
    clean = dict(loads(item.columns, {}))  # the headers not named keep their field
    for header, name in columns.items():
        if header not in headers or (name and name not in fields):
            raise RuleViolation(_l("Unknown column or field: %(name)s", name=f"{header} → {name}"),
                                field="columns")
        clean[header] = name or None
    if "company" not in clean.values():
        raise RuleViolation(_l("One column must be the company name."), field="columns")
    changed = clean != loads(item.columns, {})
    item.columns = _json(clean)
    return changed


def _choose_values(session, item, values):
    """Keep the choices {list field: {value in the file: value in the list, or ""}}; whether any was
    given (a choice changes the rows' values, so the file is checked again)."""
    current = loads(item.value_map, {})
    for name, chosen in values.items():
        if name not in LIST_FIELDS or not isinstance(chosen, dict):
            raise RuleViolation(_l("Unknown field: %(name)s", name=name), field="values")
        allowed = set(list_values(session)[name]) | {""}
        for value in chosen.values():
            if not isinstance(value, str) or value not in allowed:
                raise RuleViolation(_l("%(value)s is not in the list.", value=value), field="values")
        current.setdefault(name, {}).update(chosen)
    item.value_map = _json(current)
    return bool(values)


def recheck(session, item):
    """Check the file again (after a change of mapping, or a check that failed)."""
    _start(session, item, "checking", "import_check")


NOT_NOW = _l("This import is being checked or imported, or has ended: it cannot be started now.")
SUPERSEDED = _l("This import was started again or cancelled meanwhile: this job wrote nothing.")
CHECK_FAILED = _l("The check of this file failed: check it again before importing.")


def _start(session, item, status, kind):
    """Move the import from ready or failed to `status` and start its job `kind`, by one conditional UPDATE:
    of two starts at once exactly one changes the row, the other is refused (409 `not_ready`). Should the
    queue refuse the job, the import is put back as it was."""
    import_id, before = item.id, {"status": item.status, "message": item.message, "job_id": item.job_id}
    started = session.execute(update(DataImport).where(
        DataImport.id == import_id, DataImport.status.in_(("ready", "failed"))).values(status=status, message=None),
        execution_options={"synchronize_session": False})
    if started.rowcount != 1:
        raise RuleViolation(NOT_NOW, code="not_ready")

    def put_back(session_, job_id):
        session_.execute(update(DataImport).where(DataImport.id == import_id, DataImport.job_id == job_id)
                         .values(**before))

    job = jobs.start(session, kind, item.id, undo=put_back)
    item.status, item.message, item.job_id = status, None, job.id


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
        query = query.where(one_of(session, DataImportRow.row, [int(r) for r in rows][:max_rows()]))
    return session.execute(query.values(include=on)).rowcount


def max_rows():
    return current_app.config["CRM_IMPORT_MAX_ROWS"]


def runnable(item):
    """Refuse (409 `not_ready`, saying why) an import that cannot be run now: before the admin's choices
    are kept, so that of two runs at once the later one is told the import is under way."""
    if item.status == "checking":
        raise RuleViolation(_l("The check of this file has not finished yet."), code="not_ready")
    if item.status not in ("ready", "failed"):
        raise RuleViolation(NOT_NOW, code="not_ready")
    if item.rows_total is None:
        raise RuleViolation(CHECK_FAILED, code="not_ready")


def start_run(session, actor, item, judged=True):
    """Run the import (again, after a failed run: nothing of that run was written). `judged`: the preview
    judges the rows as the run will (no mapping changed with this call), so a run that would import
    nothing is refused, saying why (409 `nothing_to_import`)."""
    runnable(item)
    target_of(session, item)  # refused now if the target went away since the upload
    why = nothing_to_import(session, item) if judged else None
    if why:
        raise RuleViolation(why, code="nothing_to_import")
    _start(session, item, "importing", "import_run")


def ticked(session, item):
    """The rows that need confirmation ticked to be imported."""
    return session.scalar(select(func.count()).where(DataImportRow.import_id == item.id,
                                                     DataImportRow.verdict == "review",
                                                     DataImportRow.include.is_(True)))


def nothing_to_import(session, item):
    """Why a run would import no row, as the preview judged them (its new rows and ticked review rows), in
    words; None when it would import some, or before a check ended (`runnable` says why then)."""
    counts = loads(item.counts, {})
    if item.rows_total is None or counts.get("new", 0) or ticked(session, item):
        return None
    left = {verdict: counts.get(verdict, 0) for verdict in ("duplicate", "invalid", "review")
            if counts.get(verdict, 0)}
    if not left:
        why = _("the file has no data rows")
    elif len(left) == 1:
        (verdict, n), = left.items()
        why = ALL_OF_ONE[verdict](n)
    else:
        why = _("; ").join(SOME_OF_EACH[verdict](n) for verdict, n in left.items())
    return _("Nothing to import: %(why)s.", why=why)


# each number said in words (a lambda: ngettext needs a request's language, and the number)
ALL_OF_ONE = {
    "duplicate": lambda n: ngettext("the %(num)d row is a duplicate", "all %(num)d rows are duplicates", n),
    "invalid": lambda n: ngettext("the %(num)d row is invalid", "all %(num)d rows are invalid", n),
    "review": lambda n: ngettext("the %(num)d row needs confirmation and is not ticked",
                                 "all %(num)d rows need confirmation and none is ticked", n),
}
SOME_OF_EACH = {
    "duplicate": lambda n: ngettext("%(num)d duplicate row", "%(num)d duplicate rows", n),
    "invalid": lambda n: ngettext("%(num)d invalid row", "%(num)d invalid rows", n),
    "review": lambda n: ngettext("%(num)d row that needs confirmation, not ticked",
                                 "%(num)d rows that need confirmation, not ticked", n),
}


def cancel(session, item):
    """Cancel before the run: from ready or failed, or while its job still waits for a worker (withdrawn,
    so that no worker takes it: a job the queue lost must not hold the import for ever). Conditional, as a
    start is: a run started meanwhile wins. Its preview rows, its uploaded file and any report are deleted
    (a copy of a customer list is kept no longer than it serves); the record and its counts stay. The caller
    commits, then `retention.checkpoint`s (a preview may have been large)."""
    allowed = ("ready", "failed")
    if item.status in ("checking", "importing") and item.job_id is not None and \
            jobs.withdraw(session, item.job_id, CANCELLED):
        allowed = (item.status,)
    cancelled = session.execute(update(DataImport).where(DataImport.id == item.id, DataImport.status.in_(allowed))
                                .values(status="cancelled", finished_at=clock.now()),
                                execution_options={"synchronize_session": False})
    if cancelled.rowcount != 1:
        raise RuleViolation(_l("This import cannot be cancelled now."), code="not_ready")
    item.status = "cancelled"
    session.execute(delete(DataImportRow).where(DataImportRow.import_id == item.id))
    session.execute(delete(DataImportFile).where(DataImportFile.import_id == item.id))


CANCELLED = _l("The import was cancelled: nothing was imported, and its file and preview were deleted.")


def file_kept(session, item):
    """Whether the import's uploaded file (and with it its preview rows) is still kept: not after a cancel,
    nor after the retention period."""
    return session.scalar(select(DataImportFile.id).where(DataImportFile.import_id == item.id,
                                                        DataImportFile.kind == "upload")) is not None


# --- the run (a background job) ------------------------------------------------------------

@jobs.handler("import_run", failed=_run_failed)
def run(session, import_id, progress):
    """Import the file as chosen, all or nothing as anyone sees it: the rows committed in short batches,
    hidden, then shown in one transaction with the audit entry, the report and the import's own status
    (services/imports/staging.py), which `_finish` refuses, rolling it back and the hidden rows deleted, if
    this job is no longer the import's current one."""
    item = session.get(DataImport, import_id)
    _current(item, progress, "importing")
    job_id = progress.job_id
    actor = session.get(User, item.created_by_id)
    file_name = item.file_name
    try:
        target = target_of(session, item)
    except RuleViolation as refusal:
        raise jobs.JobFailed(refusal.message) from None
    review_rows = set(session.scalars(select(DataImportRow.row).where(
        DataImportRow.import_id == item.id, DataImportRow.include.is_(True))))
    session.commit()
    mapped = MappedReader(_reader(item, _upload(session, item)), loads(item.value_map, {}), list_values(session))
    # staged: short transactions, the rows hidden until the end, so that entries go on meanwhile
    pipeline = imports.ImportRun(mapped, target, actor, file_name=file_name, review_rows=review_rows,
                                 stage=import_id, progress=_Counter(progress, item.rows_total))
    try:
        with pipeline.writing(session) as summary:  # the import's outcome, in the run's last transaction
            _finish(session, import_id, job_id, file_name, summary)
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


def _finish(session, import_id, job_id, file_name, summary):
    """In the import's transaction: its counts, its report, its status. By statements: the import
    keeps the session's identity map small (expunge_all), so no object of before is attached. Only
    while this job is the import's current one and it is importing: else nothing of the run is kept."""
    finished = session.execute(update(DataImport).where(
        DataImport.id == import_id, DataImport.job_id == job_id, DataImport.status == "importing").values(
        status="done", finished_at=clock.now(), imported=summary.imported,
        not_imported=summary.read - summary.imported))
    if finished.rowcount != 1:
        raise jobs.JobFailed(SUPERSEDED)
    session.execute(delete(DataImportFile).where(DataImportFile.import_id == import_id,
                                                 DataImportFile.kind == "report"))
    session.execute(insert(DataImportFile).values(import_id=import_id, kind="report", name=report_name(file_name),
                                                  data=summary.report_xlsx(),
                                                  created_at=clock.now()))


def report_name(file_name):
    marker = "-导入报告.xlsx"
    return Path(file_name).stem[:NAME_MAX - len(marker)] + marker


def report(session, item):
    """The report's bytes, or None (not run yet, or deleted after the retention period)."""
    return session.scalar(select(DataImportFile.data).where(DataImportFile.import_id == item.id,
                                                          DataImportFile.kind == "report"))


# --- reading an import ---------------------------------------------------------------------

# what a list of imports does not read: the header, the mappings and the list values (megabytes for an old import)
LIST_ONLY = (defer(DataImport.headers), defer(DataImport.columns), defer(DataImport.value_map),
             defer(DataImport.unknown_values))


def shown_columns(item, limit=COLUMNS_SHOWN):
    """([(index, header, field or None)], how many more) of the file's columns to show: the mapped ones and
    the first of the rest, `limit` in all (a header stored before its width was capped may be very wide)."""
    columns = loads(item.columns, {})
    named = [(index, header) for index, header in enumerate(loads(item.headers, [])) if header]
    mapped = [(index, header) for index, header in named if columns.get(header)][:limit]
    rest = [(index, header) for index, header in named if not columns.get(header)][:limit - len(mapped)]
    shown = sorted(mapped + rest)
    return [(index, header, columns.get(header)) for index, header in shown], len(named) - len(shown)


def first(mapping, limit=VALUES_SHOWN):
    """The first `limit` entries of a dict or list kept in an import's JSON (older imports kept them all)."""
    if isinstance(mapping, dict):
        return dict(list(mapping.items())[:limit])
    return list(mapping)[:limit]

def rows(session, item, verdict=None, page=1, per_page=50):
    """(rows of the preview, total), filtered by verdict, in the file's order."""
    query = select(DataImportRow).where(DataImportRow.import_id == item.id)
    if verdict:
        query = query.where(DataImportRow.verdict == verdict)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    items = session.scalars(query.order_by(DataImportRow.row).offset((page - 1) * per_page).limit(per_page)).all()
    return items, total


def waiting_of(session, item):
    """Where the import's job waits in the queue (`jobs.Waiting`), or None when no job of it waits."""
    return jobs.waiting(session, item.job) if item.status in ("checking", "importing") else None


def queued_words(waiting):
    """What a page says of a waiting job (排队中, how many before it, whether the worker seems down), or None."""
    if waiting is None:
        return None
    if waiting.ahead:
        text = ngettext("Queued: %(num)d job before it", "Queued: %(num)d jobs before it", waiting.ahead)
    else:
        text = _("Queued: it is next")
    if waiting.down:
        text += _("; ") + _("the background worker does not seem to be running: tell your system administrator.")
    return text


def progress_of(session, item):
    """(done, total) of the import's current job, after marking failed what a dead worker left."""
    jobs.reap(session)
    job = item.job
    if job is None:
        return 0, item.rows_total
    return job.done or 0, job.total or item.rows_total
