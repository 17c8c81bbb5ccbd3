"""Before/after of a change to services/checking/dedup.py: the benchmark's queries, each run by both
implementations in turn on the same loaded database (see bench_dedup.py --skip-load).

    python benchmarks/compare_dedup.py OTHER_DEDUP.py [--n 1000000] [--database-url URL]
"""
import argparse
import importlib.util
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_dedup import KINDS, make_app, make_queries, percentile, write_customers  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("other", help="the other dedup.py (e.g. `git show HEAD:services/checking/dedup.py > /tmp/old.py`)")
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None, help="default: bench_dedup.py's SQLite file for --n")
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    app = make_app(args.database_url or f"sqlite:////tmp/bench_dedup-{args.n}.sqlite3")
    from models import db
    from services.checking import dedup, normalize

    spec = importlib.util.spec_from_file_location("services.dedup_other", args.other)
    other = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = other
    spec.loader.exec_module(other)
    generator, sample = write_customers(None, args.n, args.seed, write=False)
    queries = make_queries(generator, sample, args.queries, args.seed)
    normalize._area_code_table()
    times = {"other": {k: [] for k in KINDS}, "current": {k: [] for k in KINDS}}
    differ = extra_other = extra_current = 0
    verdicts = {}
    with app.app_context():
        for _kind, q in queries[:20]:
            for module in (other, dedup):
                module.check(db.session, **q)
                db.session.rollback()
        for kind, q in queries:
            found = []
            for label, module in (("other", other), ("current", dedup)):
                started = time.perf_counter()
                result = module.check(db.session, **q)
                times[label][kind].append((time.perf_counter() - started) * 1000)
                found.append((result.verdict, sorted(h.opportunity.id for h in result.hits)))
                db.session.rollback()
                db.session.expunge_all()
            if found[0] != found[1]:
                differ += 1
                verdicts[(found[0][0], found[1][0])] = verdicts.get((found[0][0], found[1][0]), 0) + 1
                extra_other += len(set(found[0][1]) - set(found[1][1]))
                extra_current += len(set(found[1][1]) - set(found[0][1]))
    print(f"{'':<12}{'other p50':>11}{'p95':>8}{'current p50':>13}{'p95':>8}")
    for kind in ("all", *KINDS):
        row = []
        for label in ("other", "current"):
            ts = [t for k in KINDS for t in times[label][k]] if kind == "all" else times[label][kind]
            row += [percentile(ts, 50), percentile(ts, 95)]
        print(f"{kind:<12}{row[0]:>11.1f}{row[1]:>8.1f}{row[2]:>13.1f}{row[3]:>8.1f}")
    print(f"queries whose verdict or hits differ: {differ} of {len(queries)}; (other, current) verdicts of those: "
          f"{verdicts}; hits only the other found: {extra_other}, only the current: {extra_current}")


if __name__ == "__main__":
    main()
