"""Benchmark of the duplicate check (撞单检测) and of the import fast path, at scale.

    python benchmarks/bench_dedup.py [--n 1000000] [--database-url URL --reset] [--queries 500]

1. Writes N synthetic customers (benchmarks/synth.py: Chinese names from trade-name
   words x cities x legal forms, landlines with their city's real area code) to a CSV and
   loads them into a fresh database through `services.imports.import_file(...,
   skip_check=True)`, the function behind `flask opportunities import --skip-check`:
   rows/s of the whole import (reading, validating, normalising, indexing, writing).
2. Times one `dedup.check` for each of ~500 queries: existing customers in other
   spellings with the landline without area code, phones alone without area code,
   keywords (part of a trade name), and new names. p50/p95 overall and per kind, of a
   second pass over the queries (a first pass, reported too, warms the OS page cache).
3. Times `flask opportunities check FILE --json` on a 5,000-row file of the same mix
   (checks/s, the file's own duplicates included).
4. Does the same queries by a full scan, `rapidfuzz.process.extract` over every stored
   name (or every stored phone, for a phone query), and reports the speed-up.

Prints a table and writes the figures as JSON (--out). The default database is a SQLite
file under /tmp (/tmp/bench_dedup-N.sqlite3), removed first; a PostgreSQL database given with --database-url is emptied
(DROP SCHEMA public CASCADE) only with --reset.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rapidfuzz import fuzz, process  # noqa: E402
from sqlalchemy import create_engine, func, select, text  # noqa: E402

from benchmarks.synth import Generator, respell  # noqa: E402

CSV_FIELDS = ["company", "phone", "fax", "mobile", "province", "city", "contact"]
KINDS = ("respelled", "phone_only", "keyword", "new")


def percentile(values, p):
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def write_customers(path, n, seed, write=True):
    """Generate the customers (to `path` unless `write` is false: the same rows again) and
    return the generator and a reservoir sample of 5,000 of them to query."""
    generator = Generator(seed)
    sample = []  # a reservoir of stored rows to query
    rng = random.Random(seed + 1)
    with open(path if write else os.devnull, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_FIELDS)
        writer.writeheader()
        for i, row in enumerate(generator.customers(n)):
            writer.writerow(row)
            if len(sample) < 5000:
                sample.append(row)
            else:
                j = rng.randrange(i + 1)
                if j < 5000:
                    sample[j] = row
    return generator, sample


def make_queries(generator, sample, count, seed, file=False):
    """[(kind, {company, province, city, phone})]: a quarter of each kind, shuffled.

    respelled: a stored customer as another salesperson types it (other legal form, region
               in brackets or dropped, Traditional characters) with the landline without
               its area code;
    phone_only: a stored landline without area code (in a file, under a new company name:
               a row needs a name);
    keyword:   what a salesperson types to search: one trade-name word (瑞丽: common, many
               hits), two (瑞丽恒达), or the second word with the industry (恒达机械);
    new:       a company that is not stored, with place and landline.
    """
    from benchmarks.synth import INDUSTRY_WORDS
    from services.checking import normalize

    rng = random.Random(seed)
    queries = []
    per_kind = max(count // len(KINDS), 1)
    rows = rng.sample(sample, min(len(sample), per_kind * 3))
    fresh = Generator(seed + 7)
    fresh.seen_cores = set(generator.seen_cores)  # names not among the stored ones
    for row in rows[:per_kind]:
        queries.append(("respelled", respell(row, rng)))
    for row in rows[per_kind:2 * per_kind]:
        query = {"phone": row["phone"].split("-", 1)[-1]}
        if file:
            query["company"] = fresh.customer()["company"]
        queries.append(("phone_only", query))
    industries = sorted(INDUSTRY_WORDS, key=len, reverse=True)
    for i, row in enumerate(rows[2 * per_kind:3 * per_kind]):
        core = normalize.company_key(row["company"], row["province"], row["city"]).core
        industry = next((w for w in industries if core.endswith(w)), "")
        trade = core[: len(core) - len(industry)]
        if i % 3 == 0 or len(trade) < 4:
            keyword = trade[:2]
        elif i % 3 == 1:
            keyword = trade
        else:
            keyword = trade[2:] + industry
        queries.append(("keyword", {"company": keyword}))
    for _ in range(per_kind):
        row = fresh.customer()
        queries.append(("new", {"company": row["company"], "province": row["province"], "city": row["city"],
                                "phone": row["phone"]}))
    rng.shuffle(queries)
    return queries


def make_app(url):
    from app import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "benchmark", "CRM_CAPTCHA": False,
                       "TESTING": False})


def fresh_database(url, reset):
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///"):])
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return
    engine = create_engine(url)
    with engine.connect() as conn:
        has_tables = conn.execute(text("SELECT count(*) FROM information_schema.tables "
                                       "WHERE table_schema = 'public'")).scalar()
    if has_tables and not reset:
        sys.exit(f"{url} is not empty: give --reset to empty it (DROP SCHEMA public CASCADE)")
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def time_checks(session, queries, dedup):
    """Every query twice: a first pass (pages maybe not yet in the OS cache: a freshly
    started server) and the timed pass (the steady state of a server's working set)."""
    times, verdicts = {k: [] for k in KINDS}, {k: {} for k in KINDS}
    first = {k: [] for k in KINDS}
    slowest = []
    for kind, q in queries:
        started = time.perf_counter()
        dedup.check(session, **q)
        first[kind].append((time.perf_counter() - started) * 1000)
        session.rollback()
        session.expunge_all()
    for kind, q in queries:
        started = time.perf_counter()
        result = dedup.check(session, **q)
        elapsed = (time.perf_counter() - started) * 1000
        session.rollback()
        session.expunge_all()
        times[kind].append(elapsed)
        verdicts[kind][result.verdict] = verdicts[kind].get(result.verdict, 0) + 1
        slowest.append((elapsed, kind, q, len(result.hits), result.truncated))
    slowest.sort(key=lambda s: -s[0])
    return times, verdicts, slowest[:10], first


def time_scan(names, phones, queries, limit):
    from services.checking import normalize

    times = {k: [] for k in KINDS}
    for kind, q in queries[:limit]:
        started = time.perf_counter()
        if q.get("company"):
            process.extract(normalize.fold(q["company"]), names, scorer=fuzz.ratio, limit=10, score_cutoff=75)
        else:
            process.extract(q["phone"], phones, scorer=fuzz.ratio, limit=10, score_cutoff=90)
        times[kind].append((time.perf_counter() - started) * 1000)
    return times


def summary(times):
    every = [t for ts in times.values() for t in ts]
    out = {"all": {"n": len(every), "p50_ms": percentile(every, 50), "p95_ms": percentile(every, 95),
                   "max_ms": max(every) if every else None}}
    for kind, ts in times.items():
        out[kind] = {"n": len(ts), "p50_ms": percentile(ts, 50), "p95_ms": percentile(ts, 95)}
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000, help="customers to load (default 1,000,000)")
    parser.add_argument("--database-url", default=None,
                        help="SQLAlchemy URL (default: a fresh SQLite file /tmp/bench_dedup-N.sqlite3)")
    parser.add_argument("--reset", action="store_true", help="empty a non-empty PostgreSQL database first")
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--scan-queries", type=int, default=None, help="queries for the full scan (default: all)")
    parser.add_argument("--check-rows", type=int, default=5000, help="rows of the `opportunities check` file")
    parser.add_argument("--workdir", default="/tmp/bench_dedup", help="where the CSV files are written")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--skip-load", action="store_true",
                        help="reuse the database loaded by an earlier run with the same --n and --seed")
    parser.add_argument("--out", default=None, help="JSON results (default benchmarks/results/<db>-<n>.json)")
    args = parser.parse_args()

    url = args.database_url or f"sqlite:////tmp/bench_dedup-{args.n}.sqlite3"
    dialect = url.split(":", 1)[0].split("+", 1)[0]
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    results = {"n": args.n, "database": dialect, "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                                              "platform": platform.platform()}}

    print(f"generating {args.n} customers ...", flush=True)
    started = time.perf_counter()
    customers_csv = workdir / f"customers-{args.n}.csv"
    generator, sample = write_customers(customers_csv, args.n, args.seed, write=not args.skip_load)
    results["generate_seconds"] = round(time.perf_counter() - started, 1)

    if not args.skip_load:
        fresh_database(url, args.reset)
    app = make_app(url)
    from flask_migrate import upgrade

    from models import Opportunity, OpportunityPhone, OpportunityTerm, db
    from services import imports
    from services.checking import dedup

    with app.app_context():
        if args.skip_load:
            previous = Path(args.out) if args.out else None
            results["import"] = json.loads(previous.read_text())["import"] if previous and previous.exists() \
                else None
        else:
            upgrade(directory=app.extensions["migrate"].directory)
            print("importing (opportunities import --skip-check) ...", flush=True)
            summary_import = imports.import_file(db.session, customers_csv, skip_check=True, report=False)
            results["import"] = summary_import.as_dict()
            print("  " + summary_import.line(), flush=True)
        results["rows"] = {
            "opportunity": db.session.scalar(select(func.count()).select_from(Opportunity)),
            "opportunity_phone": db.session.scalar(select(func.count()).select_from(OpportunityPhone)),
            "opportunity_term": db.session.scalar(select(func.count()).select_from(OpportunityTerm)),
        }
        db.session.rollback()
        if dialect == "sqlite":
            db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
            db.session.commit()

        queries = make_queries(generator, sample, args.queries, args.seed)
        print(f"timing dedup.check on {len(queries)} queries ...", flush=True)
        times, verdicts, slowest, first = time_checks(db.session, queries, dedup)
        results["check"] = summary(times)
        results["check_first_pass"] = summary(first)
        results["check_verdicts"] = verdicts
        results["slowest"] = [{"ms": round(ms, 1), "kind": kind, "query": q, "hits": hits, "truncated": trunc}
                              for ms, kind, q, hits, trunc in slowest]

        print(f"timing opportunities check on a {args.check_rows}-row file ...", flush=True)
        check_csv = workdir / f"check-{args.check_rows}.csv"
        file_queries = make_queries(generator, sample, args.check_rows, args.seed + 3, file=True)
        with open(check_csv, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=["company", "phone", "province", "city"])
            writer.writeheader()
            for _kind, q in file_queries:
                writer.writerow({k: q.get(k, "") for k in ("company", "phone", "province", "city")})
        runner = app.test_cli_runner()
        started = time.perf_counter()
        outcome = runner.invoke(args=["opportunities", "check", str(check_csv), "--json"])
        elapsed = time.perf_counter() - started
        lines = outcome.stdout.splitlines()
        assert outcome.exit_code == 0 and len(lines) == len(file_queries), outcome.output[-2000:]
        file_verdicts = {}
        for line in lines:
            v = json.loads(line)["verdict"]
            file_verdicts[v] = file_verdicts.get(v, 0) + 1
        results["check_file"] = {"rows": len(lines), "seconds": round(elapsed, 2),
                                 "checks_per_second": round(len(lines) / elapsed, 1), "verdicts": file_verdicts}

        print("full scan with rapidfuzz.process.extract ...", flush=True)
        names = db.session.scalars(select(Opportunity.name_folded)).all()
        phones = db.session.scalars(select(OpportunityPhone.local)).all()
        db.session.rollback()
    scan_limit = args.scan_queries or len(queries)
    scan = time_scan(names, phones, queries, scan_limit)
    results["scan"] = summary(scan)
    check_all, scan_all = results["check"]["all"], results["scan"]["all"]
    results["speedup"] = {"p50": scan_all["p50_ms"] / check_all["p50_ms"],
                          "p95": scan_all["p95_ms"] / check_all["p95_ms"]}

    print_table(results)
    out = Path(args.out) if args.out else ROOT / "benchmarks" / "results" / f"bench_dedup-{dialect}-{args.n}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"results: {out}")


def print_table(r):
    def ms(v):
        return "-" if v is None else f"{v:8.1f}"

    print()
    print(f"customers: {r['n']:,} on {r['database']} ({r['machine']['cpus']} cpus)")
    imp = r["import"]
    if imp:
        print(f"import --skip-check: {imp['rows_per_second']:,.0f} rows/s ({imp['imported']:,} rows in "
              f"{imp['seconds']:.1f} s)")
    print(f"index rows: {r['rows']}")
    print(f"{'query kind':<12}{'n':>6}{'check p50':>12}{'check p95':>12}{'scan p50':>12}{'scan p95':>12}")
    for kind in ("all", *KINDS):
        c, s = r["check"][kind], r["scan"].get(kind, {})
        print(f"{kind:<12}{c['n']:>6}{ms(c['p50_ms']):>12}{ms(c['p95_ms']):>12}"
              f"{ms(s.get('p50_ms')):>12}{ms(s.get('p95_ms')):>12}")
    fp = r.get("check_first_pass", {}).get("all")
    if fp:
        print(f"first pass over the queries (cold caches): p50 {fp['p50_ms']:.1f} ms, p95 {fp['p95_ms']:.1f} ms")
    print(f"speed-up over the full scan: x{r['speedup']['p50']:.0f} at p50, x{r['speedup']['p95']:.0f} at p95")
    cf = r["check_file"]
    print(f"opportunities check --json: {cf['checks_per_second']:,.0f} checks/s ({cf['rows']} rows in "
          f"{cf['seconds']} s) {cf['verdicts']}")
    print(f"verdicts of the timed queries: {r['check_verdicts']}")


if __name__ == "__main__":
    main()
