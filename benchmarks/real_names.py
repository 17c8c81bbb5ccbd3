"""How good the duplicate check (撞单检测) is on real trade names (issue 20's "How good").

    python benchmarks/real_names.py [--set real|holdout|both] [--database-url URL --reset] [--json]
                                    [--one-by-one]

Loads the frozen labelled set (tests/data/dedup_real.jsonl, built by tests/data/make_real_cases.py
from real 字号) into a fresh database: its 20,000 customers (10,000 a city) through the trusted
import's bulk path (`imports.import_file(..., skip_check=True)`, as `flask opportunities import
--skip-check`), then checks every query, the rows of a file at a time (`dedup.check_many`, whose
answers are `dedup.check`'s, tests/test_dedup_batch.py), or one by one with --one-by-one. Prints,
per kind of query and in all:

    refused  answered `duplicate` (for a real company: the entry is refused, nobody can enter it)
    held     answered `review` (a confirmation is asked for)
    new      answered `new`
    caught   of the true duplicates, refused
    first    of the queries about one customer (`target`), that customer first among the hits
    agree    the answer is the label's

and the bars of issue 20 (BARS). The held-out part (other cities, another seed) is loaded into a
database of its own (emptied between the two on PostgreSQL; a new SQLite file). The default database
is a SQLite file under /tmp; a PostgreSQL database given with --database-url is emptied (DROP SCHEMA
public CASCADE) only with --reset.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATA = ROOT / "tests" / "data"
SETS = {"real": DATA / "dedup_real.jsonl", "holdout": DATA / "dedup_real_holdout.jsonl"}
KINDS = ("unrelated", "sound_alike", "one_char", "other_trade", "respelled", "family", "typo", "phone")
REAL_COMPANIES = ("unrelated", "sound_alike", "one_char", "other_trade")  # another company than the hit's
DUPLICATES = ("respelled", "family", "phone")
CSV_FIELDS = ("company", "province", "city", "phone", "mobile")
# Issue 20's bars: (kind, figure, "<=" or ">=", value)
BARS = [(kind, "refused", "<=", 0.01) for kind in REAL_COMPANIES] + [("unrelated", "held", "<=", 0.05)] + \
       [(kind, "caught", ">=", 0.99) for kind in DUPLICATES] + [("typo", "first", ">=", 1.0)]


def load_set(path):
    """(customers' records, query cases) of a frozen set."""
    customers, cases = [], []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            item = json.loads(line)
            (customers.append(item["record"]) if item["kind"] == "customer" else cases.append(item))
    return customers, cases


def load_customers(session, customers, workdir):
    """Write the customers to a CSV file and import it on the trusted bulk path (public pool)."""
    from services import imports

    path = Path(workdir) / "customers.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_FIELDS)
        writer.writeheader()
        writer.writerows({k: record.get(k, "") for k in CSV_FIELDS} for record in customers)
    summary = imports.import_file(session, path, skip_check=True, report=False)
    if summary.imported != len(customers):
        raise RuntimeError(f"{summary.imported} of {len(customers)} customers imported: {summary.line()}")
    return summary


def run(session, cases, one_by_one=False):
    """[(case, verdict, [company of each hit, worst first])]."""
    from services.checking import dedup

    queries = [{k: v for k, v in case["query"].items() if v} for case in cases]
    if one_by_one:
        results = []
        for query in queries:
            results.append(dedup.check(session, **query))
            session.rollback()
    else:
        results = dedup.check_many(session, queries)
        session.rollback()
    return [(case, r.verdict, [h.opportunity.company for h in r.hits]) for case, r in zip(cases, results)]


def _share(rows, test):
    return sum(1 for row in rows if test(row)) / len(rows) if rows else None


def figures(results):
    """{kind or "all ...": {n, refused, held, new, caught, first, agree}}, shares between 0 and 1."""
    by_kind = defaultdict(list)
    for row in results:
        by_kind[row[0]["kind"]].append(row)
    groups = {kind: by_kind[kind] for kind in KINDS if by_kind[kind]}
    groups["all real companies"] = [r for k in REAL_COMPANIES for r in by_kind[k]]
    groups["all true duplicates"] = [r for k in DUPLICATES for r in by_kind[k]]
    groups["all"] = list(results)
    out = {}
    for name, rows in groups.items():
        duplicates = [r for r in rows if r[0]["expected"] == "duplicate"]
        targeted = [r for r in rows if r[0]["target"]]
        out[name] = {
            "n": len(rows),
            "refused": _share(rows, lambda r: r[1] == "duplicate"),
            "held": _share(rows, lambda r: r[1] == "review"),
            "new": _share(rows, lambda r: r[1] == "new"),
            "caught": _share(duplicates, lambda r: r[1] == "duplicate"),
            "first": _share(targeted, lambda r: bool(r[2]) and r[2][0] == r[0]["target"]),
            "agree": _share(rows, lambda r: r[1] == r[0]["expected"]),
        }
    return out


def bars(figs):
    """[(kind, figure, op, bar, value, met)] of issue 20's bars on these figures."""
    out = []
    for kind, figure, op, bar in BARS:
        value = figs[kind][figure]
        met = value is not None and (value <= bar if op == "<=" else value >= bar)
        out.append((kind, figure, op, bar, value, met))
    return out


def misses(results, kind, figure, limit=15):
    """A few queries of `kind` that miss the bar on `figure`, to read."""
    bad = {"refused": lambda v, hits, c: v == "duplicate", "held": lambda v, hits, c: v == "review",
           "caught": lambda v, hits, c: v != "duplicate",
           "first": lambda v, hits, c: not hits or hits[0] != c["target"]}[figure]
    rows = [f"  {c['id']}: {c['query']} -> {v} {hits[:3]} [{c['note']}]"
            for c, v, hits in results if c["kind"] == kind and bad(v, hits, c)]
    return "\n".join(rows[:limit])


def table(figs):
    def pct(v):
        return "" if v is None else f"{v:.1%}"

    lines = [f"{'kind':<22}{'n':>6}{'refused':>9}{'held':>8}{'new':>8}{'caught':>8}{'first':>8}{'agree':>8}"]
    for name, f in figs.items():
        lines.append(f"{name:<22}{f['n']:>6}{pct(f['refused']):>9}{pct(f['held']):>8}{pct(f['new']):>8}"
                     f"{pct(f['caught']):>8}{pct(f['first']):>8}{pct(f['agree']):>8}")
    return "\n".join(lines)


def measure(app, path, one_by_one=False):
    """Load the set at `path` into the app's (empty, migrated) database and return its figures and results."""
    from models import db

    customers, cases = load_set(path)
    with app.app_context(), tempfile.TemporaryDirectory() as workdir:
        started = time.perf_counter()
        load_customers(db.session, customers, workdir)
        loaded = time.perf_counter() - started
        started = time.perf_counter()
        results = run(db.session, cases, one_by_one)
        checked = time.perf_counter() - started
        db.session.remove()
    return {"figures": figures(results), "seconds": {"load": round(loaded, 1), "check": round(checked, 1)},
            "customers": len(customers), "queries": len(cases)}, results


def main():
    from benchmarks.bench_dedup import fresh_database, make_app

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", choices=("real", "holdout", "both"), default="both")
    parser.add_argument("--database-url", default=None,
                        help="SQLAlchemy URL (default: a fresh SQLite file /tmp/real_names-SET.sqlite3)")
    parser.add_argument("--reset", action="store_true", help="empty a non-empty PostgreSQL database first")
    parser.add_argument("--one-by-one", action="store_true", help="dedup.check per query, not check_many")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON only")
    parser.add_argument("--misses", action="store_true", help="print queries that miss a bar")
    args = parser.parse_args()

    from flask_migrate import upgrade

    out = {}
    for name in (("real", "holdout") if args.set == "both" else (args.set,)):
        url = args.database_url or f"sqlite:////tmp/real_names-{name}.sqlite3"
        fresh_database(url, args.reset or (name == "holdout" and args.set == "both"))  # the real set was ours
        app = make_app(url)
        with app.app_context():
            upgrade(directory=app.extensions["migrate"].directory)
        report, results = measure(app, SETS[name], args.one_by_one)
        report["bars"] = [dict(zip(("kind", "figure", "op", "bar", "value", "met"), b)) for b in bars(report["figures"])]
        out[name] = report
        if not args.json:
            print(f"\n{name} set ({report['customers']} customers, {report['queries']} queries; "
                  f"loaded in {report['seconds']['load']} s, checked in {report['seconds']['check']} s)")
            print(table(report["figures"]))
            for kind, figure, op, bar, value, met in bars(report["figures"]):
                print(f"  {'ok  ' if met else 'MISS'} {kind} {figure} {value:.1%} (bar {op} {bar:.0%})")
                if not met and args.misses:
                    print(misses(results, kind, figure))
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
