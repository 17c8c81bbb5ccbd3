"""Benchmark of the duplicate scan (重复客户, issue 11) at scale.

    python benchmarks/bench_duplicates.py [--n 1000000] [--database-url URL --reset] [--skip-load]

Loads about N customers of benchmarks/duplicate_set.py (each base customer followed by a planted
duplicate or look-alike of one of ten kinds) through `flask opportunities import --skip-check`'s
function, then times `services.duplicates.scan.find` (what the worker's scan runs): reading the keys,
building the candidate pairs, judging them with the entry check's engine, grouping. Reports the
seconds of each step, the peak memory of the process (ru_maxrss), the pairs and groups, and the
share of planted duplicates found in a `duplicate` group and of look-alikes wrongly put in one.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_dedup import fresh_database, make_app  # noqa: E402
from benchmarks.duplicate_set import build  # noqa: E402

FIELDS = ["company", "province", "city", "phone", "fax", "mobile", "contact"]


def peak_mib():
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def write(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)


def timed_find(session, duplicates):
    """duplicates.find, step by step (the same calls), with the seconds of each."""
    steps, started = {}, time.perf_counter()
    scope, params = duplicates._scope_sql(None)
    names = duplicates._read_names(session, scope, params)
    steps["read names"] = time.perf_counter() - started
    phones, shared = duplicates._read_phones(session, scope, params)
    steps["read phones"] = time.perf_counter() - started - sum(steps.values())
    pairs = duplicates._pairs(shared, duplicates._name_groups(names), names,
                              duplicates._dismissed(session, scope, params))
    steps["candidate pairs"] = time.perf_counter() - started - sum(steps.values())
    matches = duplicates.judge(pairs, names, phones)
    steps["judge"] = time.perf_counter() - started - sum(steps.values())
    placed = {i for i, (_core, province, city, _district) in names.items() if province or city}
    found = duplicates.group(matches, placed)
    steps["group"] = time.perf_counter() - started - sum(steps.values())
    from models import DuplicateScan

    scan = DuplicateScan(status="running", created_at=datetime.now(timezone.utc))
    session.add(scan)
    session.flush()
    duplicates.save(session, scan.id, len(names), len(pairs), found)
    session.commit()
    steps["save the groups"] = time.perf_counter() - started - sum(steps.values())
    return len(names), len(pairs), found, {k: round(v, 1) for k, v in steps.items()}


def quality(session, found, planted, lookalikes):
    from models import Opportunity

    ids = dict(session.execute(session.query(Opportunity.contact, Opportunity.id).statement).all())
    where = {i: n for n, f in enumerate(found) if f.verdict == "duplicate" for i in f.ids}

    def together(a, b):
        return ids.get(a) in where and where[ids[a]] == where.get(ids.get(b))

    caught = sum(together(a, b) for a, b in planted)
    wrong = sum(together(a, b) for a, b in lookalikes)
    return {"planted": len(planted), "caught": round(caught / len(planted), 4),
            "lookalikes": len(lookalikes), "in_duplicate_groups": round(wrong / len(lookalikes), 4)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000, help="customers, about (default 1,000,000)")
    parser.add_argument("--database-url", default=None,
                        help="SQLAlchemy URL (default: a fresh SQLite file /tmp/bench_duplicates-N.sqlite3)")
    parser.add_argument("--reset", action="store_true", help="empty a non-empty PostgreSQL database first")
    parser.add_argument("--skip-load", action="store_true", help="reuse the database of an earlier run")
    parser.add_argument("--workdir", default="/tmp/bench_duplicates")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:////tmp/bench_duplicates-{args.n}.sqlite3"
    dialect = url.split(":", 1)[0].split("+", 1)[0]
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    results = {"n": args.n, "database": dialect, "machine": {"cpus": os.cpu_count(),
               "python": platform.python_version(), "load_before": os.getloadavg()[0]}}
    app = make_app(url)
    from flask_migrate import upgrade

    from models import db
    from services import imports
    from services.duplicates import scan as duplicates

    if not args.skip_load:  # load, then scan in a fresh process: the worker's memory, not the loader's
        rows = build(companies=args.n // 2)[0]
        path = workdir / f"customers-{args.n}.csv"
        write(path, rows)
        del rows
        fresh_database(url, args.reset)
        with app.app_context():
            upgrade(directory=app.extensions["migrate"].directory)
            started = time.perf_counter()
            summary = imports.import_file(db.session, str(path), pool="public", skip_check=True, report=False)
            load = {"imported": summary.imported, "seconds": round(time.perf_counter() - started, 1)}
        print(f"loaded {load['imported']} customers in {load['seconds']} s", flush=True)
        (workdir / f"load-{dialect}-{args.n}.json").write_text(json.dumps(load))
        os.execv(sys.executable, [sys.executable, *sys.argv, "--skip-load"])
    loaded = workdir / f"load-{dialect}-{args.n}.json"
    results["load"] = json.loads(loaded.read_text()) if loaded.exists() else None
    with app.app_context():
        started = time.perf_counter()
        records, pairs, found, steps = timed_find(db.session, duplicates)
        seconds = time.perf_counter() - started
        results["scan"] = {"records": records, "pairs": pairs, "seconds": round(seconds, 1), "steps": steps,
                           "groups_duplicate": sum(f.verdict == "duplicate" for f in found),
                           "groups_review": sum(f.verdict == "review" for f in found),
                           "peak_mib": peak_mib()}
        db.session.rollback()
        _rows, planted, lookalikes = build(companies=args.n // 2)
        results["quality"] = quality(db.session, found, planted, lookalikes)
        results["machine"]["load_after"] = os.getloadavg()[0]
    print(json.dumps(results, indent=2, ensure_ascii=False))
    out = Path(args.out) if args.out else ROOT / "benchmarks" / "results" / f"bench_duplicates-{dialect}-{args.n}.json"
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
