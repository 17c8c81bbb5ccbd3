"""The fast path of a trusted file (`skip_check=True`, a migration): rows validated, normalised and
indexed, and written in bulk (executemany on SQLite, COPY on PostgreSQL), the normalising spread over
worker processes for a large file; into an empty table the secondary indexes are built once at the end."""
from __future__ import annotations

import hashlib
import multiprocessing
import os
import struct
import sys
from itertools import repeat

from flask import current_app
from sqlalchemy import func, insert, select, text

from models import ContactNote, Opportunity, OpportunityPhone, OpportunityTerm

from .. import checking, clock, library
from .mobiles import MobileKeys
from .owners import PLACED_BY_TARGET
from .reading import active_sources, chunks, row_input, row_keys, row_problems
from .report import report_row

BATCH = 5000  # rows per bulk insert on the fast path
CHUNK = 2000  # rows per task sent to a normalising worker
PARALLEL_FROM = 20000  # rows (estimated) from which the fast path normalises in worker processes
WORKERS = None  # normalising processes; None: one per core but the writer's
SQLITE_IMPORT_CACHE_KIB = 1024 * 1024  # page cache for a fast import on SQLite (the term index fits)

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
                cached = _HASH_CACHE[term] = checking.term_hash(term)
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
        mobile_keys = checking.phone_keys(mobile)
        if len(mobile_keys) == 1 and mobile_keys[0].kind == "mobile":
            keys = checking.record_keys(company=data.company, province=data.province, city=data.city,
                                         phone=phone, fax=data.fax, wechat=data.wechat, qq=data.qq)
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
        return problems, data.company, None, None, None, None
    keys = fast_keys(data)
    ck = keys["company_key"]
    place = checking.place_of_record(data, ck)  # as opportunities.insert_opportunity
    # in _OPPORTUNITY_COLUMNS' order, without id and the columns every row shares
    row = (data.company, place.province or None, place.city or None, place.district or None,
           data.address, data.contact, data.phone, data.mobile, data.fax, data.email, data.industry,
           _SOURCES.get(data.source) if data.source else None, data.key_customer,
           ck.folded[:200], ck.core[:200], ck.province, ck.city, ck.district, place.town or None,
           checking.fold_wechat(data.wechat) or None, checking.fold_qq(data.qq) or None,
           data.next_contact_at, True)  # imported: no one's new key customer of the day
    phones = [(field_name, k.kind, k.local, k.area_code or "")
              for field_name, list_name in checking.KEY_LISTS.items() for k in keys[list_name]]
    return None, data.company, row, phones, term_hashes(checking.index_terms(keys)), (data.note, data.owner)


def prepare_chunk(chunk):
    return [(number, *_prepare(values)) for number, values in chunk]


def _worker_init(app, sources):
    global _SOURCES
    _SOURCES = sources
    app.app_context().push()  # the validation messages are lazy strings: str() them here


class IdAllocator:
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
                        "norm_province", "norm_city", "norm_district", "town", "wechat", "qq", "next_contact_at",
                        "imported")
COMMON_COLUMNS = _OPPORTUNITY_COLUMNS[14:20]  # the values every row of an import shares
_PHONE_COLUMNS = ("opportunity_id", "field", "kind", "local", "area_code")
_TERM_COLUMNS = ("term", "opportunity_id")
_INDEXED_TABLES = ("opportunity", "opportunity_phone", "opportunity_term")


class BulkWriter:
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


def vacuum(session):
    """PostgreSQL after a migration load: VACUUM (ANALYZE) the opportunity tables, outside the
    transaction, so that the planner knows them and the duplicate check's index-only scans
    need no heap visits (autovacuum may be off, or come much later)."""
    engine = session.get_bind()
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in _INDEXED_TABLES:
            connection.execute(text(f"VACUUM (ANALYZE) {table}"))


def import_fast(session, reader, target, actor, summary, progress):
    """Trust the file: validate, normalise, index and write in bulk, without duplicate checks.

    Into an empty opportunity table (a migration) with a large file, the secondary indexes
    are dropped for the load and built again at its end, in the same transaction.
    """
    global _SOURCES
    _SOURCES = active_sources(session)
    writer = BulkWriter(session)
    cache_before = _widen_sqlite_cache(writer)
    deferred = _drop_for_migration(session, reader, writer)
    now = clock.now()
    common = writer.bound(Opportunity, COMMON_COLUMNS, (target.location, target.owner_id, target.department_id,
                                                          now, now, actor.id if actor is not None else None))
    ids = IdAllocator(session)
    mobiles = MobileKeys(session)
    pool = None
    try:
        pool = _normalising_pool(reader)
        if pool is not None:
            prepared = pool.imap(prepare_chunk, chunks(reader, CHUNK), chunksize=1)
        else:
            prepared = map(prepare_chunk, chunks(reader, CHUNK))
        author_id = actor.id if actor is not None else None
        _load(prepared, reader.estimate, target, mobiles, summary, progress,
              lambda batch: write_batch(writer, batch, common, ids, author_id))
        if deferred:
            writer.create(deferred)
        return bool(deferred)  # a migration load: the tables are new
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
        _restore_sqlite_cache(writer, cache_before)


def _widen_sqlite_cache(writer):
    """On SQLite, a page cache the term index fits in, for the load; the size it had, to put back."""
    if writer.name != "sqlite":
        return None
    cache_before = writer.connection.exec_driver_sql("PRAGMA cache_size").scalar()
    writer.connection.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_IMPORT_CACHE_KIB}")
    return cache_before


def _restore_sqlite_cache(writer, cache_before):
    if cache_before is None:
        return
    try:
        writer.connection.exec_driver_sql(f"PRAGMA cache_size={int(cache_before)}")
    except Exception:  # the connection is going away with the error that got us here
        pass


def _drop_for_migration(session, reader, writer):
    """The secondary indexes dropped for a large file into an empty table (built again once, at the end)."""
    if reader.estimate >= PARALLEL_FROM and session.scalar(select(Opportunity.id).limit(1)) is None:
        deferred = writer.deferred_structures()
        writer.drop(deferred)
        return deferred
    return []


def _normalising_pool(reader):
    """Worker processes to normalise a large file in, where there are cores to spare and fork; else None."""
    if reader.estimate >= PARALLEL_FROM and (os.cpu_count() or 1) > 1 and sys.platform != "win32":
        context = multiprocessing.get_context("fork")
        # the writer keeps one core busy: the other cores normalise
        return context.Pool(WORKERS or max(1, (os.cpu_count() or 2) - 1), initializer=_worker_init,
                            initargs=(current_app._get_current_object(), _SOURCES))
    return None


def _load(prepared, estimate, target, mobiles, summary, progress, write):
    """The prepared rows that may go in, written `BATCH` at a time by `write`."""
    batch = []
    for results in prepared:
        mobiles.look_up(results)
        for item in results:
            entry = _admitted(item, target, mobiles, summary)
            if entry is None:
                continue
            batch.append(entry)
            if len(batch) >= BATCH:
                write(batch)
                summary.imported += len(batch)
                batch = []
        if progress:
            progress(len(results), estimate)
    if batch:
        write(batch)
        summary.imported += len(batch)


def _admitted(item, target, mobiles, summary):
    """A prepared row's (row, phones, terms) to write; None when it is invalid, its mobile is held,
    or the library is full (then it is counted and reported)."""
    summary.read += 1
    number, problems, company, row, phones, terms, life = item
    if problems:
        summary.invalid += 1
        summary.report_rows.append(report_row(number, "invalid", "; ".join(problems.values()), company))
        return None
    refusal = mobiles.refusal(number, company, phones)
    if refusal:
        summary.duplicates += 1
        summary.report_rows.append(refusal)
        return None
    note, owner = life
    placed = _placed(number, company, owner, target, summary)
    if placed is None:
        return None
    return row, mobiles.take(number, phones), terms, note, placed or None


def _placed(number, company, owner, target, summary):
    """(location, owner id, department id) of the library the row's owner column names (services/imports/owners.py),
    () where the target puts it, None when the target is full (counted and reported)."""
    owners, why = getattr(target, "owners", None), None
    if owners is not None and owner:
        owner_ref, why = owners.place(owner)
        if owner_ref is not None:
            return "library", owner_ref.id, owner_ref.department_id
    if target.full():
        summary.library_full += 1
        summary.report_rows.append(report_row(number, "library_full", str(library.row_refusal(target.cap)), company))
        return None
    target.size += 1
    if why is not None:
        summary.report_rows.append(report_row(number, PLACED_BY_TARGET, str(why), company, imported=True))
    return ()


def write_batch(writer, batch, common, ids, author_id=None):
    opportunity_rows, phone_rows, term_rows, note_rows = [], [], [], []
    now = clock.now()
    for opportunity_id, (row, phones, terms, note, placed) in zip(ids.take(len(batch)), batch):
        shared = (*placed, *common[3:]) if placed else common  # ids and a location: bound as they are
        opportunity_rows.append((opportunity_id, *row[:13], *shared, *row[13:]))
        phone_rows.extend((opportunity_id, *phone) for phone in phones)
        term_rows.extend(zip(terms, repeat(opportunity_id)))
        if note:  # the row's remark as its first note (导入的备注): no contact, never a valid one
            note_rows.append({"opportunity_id": opportunity_id, "author_id": author_id, "method": "other",
                              "content": note, "maturity": 0, "unreachable": False, "busy": False, "valid": False,
                              "imported": True, "created_at": now})
    term_rows.sort()  # in the primary key's order: fewer index pages touched
    writer.write(Opportunity, _OPPORTUNITY_COLUMNS, opportunity_rows, bound=COMMON_COLUMNS)
    writer.write(OpportunityPhone, _PHONE_COLUMNS, phone_rows)
    writer.write(OpportunityTerm, _TERM_COLUMNS, term_rows)
    if note_rows:
        writer.connection.execute(insert(ContactNote), note_rows)
