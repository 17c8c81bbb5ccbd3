"""Where the time of `opportunities import --skip-check` goes, per customer, in one process.

    python benchmarks/import_breakdown.py [--n 100000] [--database-url URL]

Times separately, on N synthetic customers (benchmarks/synth.py) and a fresh database:
reading the CSV, preparing the rows (validate, normalise, index terms and their hashes:
what the worker processes do), writing them (the bulk inserts of the opportunity, its
phones and its ~15 index rows: what the one writing process does), building the deferred
indexes and committing. Each in CPU time of this process (`time.process_time`: another
program on the machine disturbs it less) and in wall time (which holds the database
server's work on PostgreSQL; on SQLite the database works inside this process).

The import prepares in worker processes beside the one writer, so on a machine with C
cores its rows per second are at most about 1e6 / max(W, (read + prepare + W) / C), W the
wall time of write + index + commit, in µs per customer.
"""
from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_dedup import CSV_FIELDS, fresh_database, make_app  # noqa: E402
from benchmarks.synth import Generator  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file in a temporary folder")
    parser.add_argument("--reset", action="store_true", help="empty a non-empty PostgreSQL database first")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="import_breakdown-"))
    url = args.database_url or f"sqlite:///{folder / 'crm.sqlite3'}"
    path = folder / "customers.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_FIELDS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(Generator(2026).customers(args.n))
    fresh_database(url, args.reset)
    app = make_app(url)
    from flask_migrate import upgrade

    from models import Opportunity, db
    from services import clock, imports
    from services.imports import bulk

    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        bulk._SOURCES = imports.reading.active_sources(db.session)
        spent = {}

        def timed(name, work):
            started, wall = time.process_time(), time.perf_counter()
            result = work()
            spent[name] = (time.process_time() - started, time.perf_counter() - wall)
            return result

        rows = timed("read", lambda: list(imports.RowReader(path)))
        prepared = timed("prepare", lambda: bulk.prepare_chunk(rows))
        batch = [(row, phones, terms) for _number, problems, _company, row, phones, terms in prepared if not problems]
        writer = bulk.BulkWriter(db.session)
        if writer.name == "sqlite":
            writer.connection.exec_driver_sql(f"PRAGMA cache_size=-{bulk.SQLITE_IMPORT_CACHE_KIB}")
        deferred = writer.deferred_structures()
        writer.drop(deferred)
        now = clock.now()
        common = writer.bound(Opportunity, bulk.COMMON_COLUMNS, ("public_pool", None, None, now, now, None))
        ids = bulk.IdAllocator(db.session)

        def write():
            for start in range(0, len(batch), bulk.BATCH):
                bulk.write_batch(writer, batch[start:start + bulk.BATCH], common, ids)
        timed("write", write)
        timed("index", lambda: writer.create(deferred))
        timed("commit", db.session.commit)
        terms = sum(len(t) for _r, _p, t in batch) / len(batch)
    cpu = {name: times[0] / len(batch) * 1e6 for name, times in spent.items()}
    wall = {name: times[1] / len(batch) * 1e6 for name, times in spent.items()}
    serial = wall["write"] + wall["index"] + wall["commit"]
    cores = os.cpu_count() or 1
    bound = 1e6 / max(serial, (cpu["read"] + cpu["prepare"] + serial) / cores)
    print(f"{len(batch):,} customers on {url.split(':', 1)[0]}, {terms:.1f} index rows each, {cores} cores")
    print("µs per customer, CPU / wall: " + ", ".join(f"{name} {cpu[name]:.1f} / {wall[name]:.1f}" for name in spent))
    print(f"at most {bound:,.0f} customers/s on {cores} cores (the writer alone: {1e6 / serial:,.0f}/s)")

if __name__ == "__main__":
    main()
