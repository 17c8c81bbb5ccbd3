"""Benchmark of a file's duplicate check (`opportunities check FILE --json`, the preview of
a browser import), at scale.

    python benchmarks/bench_file_check.py [--n 1000000] [--rows 100000] [--database-url URL --reset]
                                          [--skip-load]

1. Loads N synthetic customers (benchmarks/synth.py) through the import fast path, as
   bench_dedup.py does (--skip-load: reuse the database an earlier run loaded with the
   same --n and --seed).
2. Writes a file of ROWS rows as a salesperson's list would be: stored customers in other
   spellings (landline without area code), stored landlines under new names, new
   companies, rows repeating an earlier row of the file, and a few bare trade-name words
   (瑞丽: more candidates than the limits, "truncated").
3. Runs `flask --app app opportunities check FILE --json` on it in a child process: rows/s
   and the child's peak memory (ru_maxrss).
4. On the first --sample rows: one `dedup.check` a row (the old path) against
   `dedup.check_many` (the batches the file check now uses): rows/s of each, and that both
   give the same results.

Writes the figures as JSON (--out, default benchmarks/results/bench_file_check-<db>-<n>.json).
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from benchmarks.bench_dedup import CSV_FIELDS, fresh_database, make_app  # noqa: E402
from benchmarks.synth import TRADE_WORDS, Generator, respell  # noqa: E402

FILE_FIELDS = ["company", "phone", "fax", "mobile", "province", "city"]
# Share of each kind of row in the file; "repeat" rows copy an earlier row of the file.
MIX = (("respelled", 0.30), ("phone", 0.15), ("new", 0.43), ("repeat", 0.10), ("word", 0.02))


def load_customers(path, n, seed, keep, write=True):
    """Generate the N customers (to `path` unless `write` is false) and return the
    generator and a reservoir sample of `keep` of them to put in the file."""
    generator = Generator(seed)
    sample = []
    rng = random.Random(seed + 1)
    with open(path if write else os.devnull, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_FIELDS)
        writer.writeheader()
        for i, row in enumerate(generator.customers(n)):
            writer.writerow(row)
            if len(sample) < keep:
                sample.append(row)
            else:
                j = rng.randrange(i + 1)
                if j < keep:
                    sample[j] = row
    return generator, sample


def file_rows(generator, sample, count, seed):
    """[(kind, row)] of the file, in file order."""
    rng = random.Random(seed)
    fresh = Generator(seed + 7)
    fresh.seen_cores = set(generator.seen_cores)  # new names: none of the stored ones
    fresh.seen_mobiles = set(generator.seen_mobiles)
    kinds, weights = zip(*MIX)
    stored = iter(rng.sample(sample, len(sample)))
    out, placed = [], []  # placed: rows of the file with a place, which respell can write otherwise
    for kind in rng.choices(kinds, weights, k=count):
        if kind == "repeat" and not placed:
            kind = "new"
        if kind == "respelled":
            row = respell(next(stored), rng)
        elif kind == "phone":
            row = {**fresh.customer(), "phone": next(stored)["phone"].split("-", 1)[-1]}
        elif kind == "new":
            row = fresh.customer()
        elif kind == "repeat":
            row = respell(rng.choice(placed), rng)  # the same company again, written otherwise
        else:
            row = {"company": rng.choice(TRADE_WORDS)}
        out.append((kind, row))
        if row.get("province"):
            placed.append(row)
    return out


def write_file(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=FILE_FIELDS, extrasaction="ignore")
        writer.writeheader()
        for _kind, row in rows:
            writer.writerow({k: row.get(k) or "" for k in FILE_FIELDS})


def time_cli(url, path):
    """`opportunities check FILE --json` in a child process: (seconds, lines, verdicts, its peak RSS in MiB)."""
    env = {**os.environ, "CRM_DATABASE_URL": url, "CRM_SECRET_KEY": "benchmark"}
    out_path = Path(str(path) + ".out.jsonl")
    started = time.perf_counter()
    with open(out_path, "w", encoding="utf-8") as out, open(str(path) + ".err", "w") as err:
        child = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "opportunities", "check",
                                  str(path), "--json"], cwd=ROOT, env=env, stdout=out, stderr=err)
        _pid, status, usage = os.wait4(child.pid, 0)  # the child's own resource usage
    elapsed = time.perf_counter() - started
    assert os.waitstatus_to_exitcode(status) == 0, Path(str(path) + ".err").read_text()[-2000:]
    verdicts = {}
    lines = 0
    with open(out_path, encoding="utf-8") as handle:
        for line in handle:
            lines += 1
            v = json.loads(line)["verdict"]
            verdicts[v] = verdicts.get(v, 0) + 1
    return elapsed, lines, verdicts, round(usage.ru_maxrss / 1024, 1), usage.ru_utime, usage.ru_stime


def queries_of(rows):
    return [{k: row.get(k) or None for k in ("company", "province", "city", "phone", "fax", "mobile")}
            for _kind, row in rows]


def same(a, b):
    """Whether two CheckResults are the same answer (verdict, hits in order, matches, truncated)."""
    return a.verdict == b.verdict and a.truncated == b.truncated and \
        [(h.opportunity, h.match) for h in a.hits] == [(h.opportunity, h.match) for h in b.hits]


def compare_paths(session, dedup, rows):
    """The old path (one check a row) and check_many on the same rows: seconds of each, differences."""
    queries = queries_of(rows)
    started = time.perf_counter()
    one = [dedup.check(session, **q) for q in queries]
    one_seconds = time.perf_counter() - started
    session.rollback()
    started = time.perf_counter()
    many = dedup.check_many(session, queries)
    many_seconds = time.perf_counter() - started
    session.rollback()
    differ = [i for i, (a, b) in enumerate(zip(one, many)) if not same(a, b)]
    return one_seconds, many_seconds, differ


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000, help="customers to load (default 1,000,000)")
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the checked file (default 100,000)")
    parser.add_argument("--sample", type=int, default=3000, help="rows timed on the old path as well")
    parser.add_argument("--database-url", default=None,
                        help="SQLAlchemy URL (default: a SQLite file /tmp/bench_file_check-N.sqlite3)")
    parser.add_argument("--reset", action="store_true", help="empty a non-empty PostgreSQL database first")
    parser.add_argument("--skip-load", action="store_true",
                        help="reuse the database loaded by an earlier run with the same --n and --seed")
    parser.add_argument("--workdir", default="/tmp/bench_file_check", help="where the CSV files are written")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()

    url = args.database_url or f"sqlite:////tmp/bench_file_check-{args.n}.sqlite3"
    dialect = url.split(":", 1)[0].split("+", 1)[0]
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    results = {"n": args.n, "rows": args.rows, "database": dialect,
               "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                           "platform": platform.platform(), "load_average_at_start": os.getloadavg()}}

    print(f"generating {args.n} customers ...", flush=True)
    customers_csv = workdir / f"customers-{args.n}.csv"
    generator, sample = load_customers(customers_csv, args.n, args.seed, args.rows, write=not args.skip_load)
    if not args.skip_load:
        fresh_database(url, args.reset)
    app = make_app(url)
    from flask_migrate import upgrade

    from models import db
    from services import imports
    from services.checking import dedup

    with app.app_context():
        if not args.skip_load:
            upgrade(directory=app.extensions["migrate"].directory)
            print("importing (opportunities import --skip-check) ...", flush=True)
            summary = imports.import_file(db.session, customers_csv, skip_check=True, report=False)
            results["import"] = summary.as_dict()
            print("  " + summary.line(), flush=True)
        if dialect == "sqlite":
            db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
            db.session.commit()
        rows = file_rows(generator, sample, args.rows, args.seed + 3)
        del generator, sample
        results["file_mix"] = {kind: sum(1 for k, _ in rows if k == kind) for kind, _share in MIX}
        check_csv = workdir / f"check-{args.rows}.csv"
        write_file(check_csv, rows)

        print(f"old path and check_many on {args.sample} rows ...", flush=True)
        part = rows[: args.sample]
        compare_paths(db.session, dedup, part[:200])  # warm the caches of both
        one_seconds, many_seconds, differ = compare_paths(db.session, dedup, part)
        results["sample"] = {"rows": len(part), "one_by_one_rows_per_second": round(len(part) / one_seconds, 1),
                             "check_many_rows_per_second": round(len(part) / many_seconds, 1),
                             "different_results": len(differ), "first_different_rows": differ[:10]}
        print(f"  {results['sample']}", flush=True)

    print(f"opportunities check --json on the {args.rows}-row file ...", flush=True)
    seconds, lines, verdicts, peak_mib, user, system = time_cli(url, check_csv)
    results["check_file"] = {"rows": lines, "seconds": round(seconds, 1), "rows_per_second": round(lines / seconds, 1),
                             "verdicts": verdicts, "peak_rss_mib": peak_mib, "cpu_user_seconds": round(user, 1),
                             "cpu_system_seconds": round(system, 1), "load_average_after": os.getloadavg()}
    print(f"  {results['check_file']}", flush=True)
    out = Path(args.out) if args.out else ROOT / "benchmarks" / "results" / f"bench_file_check-{dialect}-{args.n}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"results: {out}")


if __name__ == "__main__":
    main()
