"""Build the load test's database: N customers and 200 salespeople with a library each.

    .venv/bin/python benchmarks/load/prepare.py [--n 1000000] [--users 200] [--database-url URL --reset]

Customers come from benchmarks/synth.py through the import fast path (`import --skip-check`,
into the public pool); then each salesperson gets `--library` of them (100 by default) in
their library, as a working team would have. Writes benchmarks/load/work/plan.json: the
database URL, the logins and password, each login's own opportunity ids, and names and
phones to check (existing and new), which locustfile.py reads.
"""
import argparse
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_dedup import fresh_database, make_app, make_queries, write_customers  # noqa: E402

WORK = Path(__file__).resolve().parent / "work"
PASSWORD = "渠道压测2026春"
DEPARTMENTS = [f"华南代理/销售{n}部" for n in "一二三四五六七八九十"]


def build(url, n, users, library, reset):
    from flask_migrate import upgrade
    from sqlalchemy import text

    from models import User, db
    from services import imports
    from services.people import accounts, departments

    WORK.mkdir(exist_ok=True)
    fresh_database(url, reset)
    app = make_app(url)
    csv_path = WORK / f"customers-{n}.csv"
    generator, sample = write_customers(csv_path, n, seed=2026)
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        s = db.session
        departments.ensure_head_office(s)
        logins = []
        for i in range(users):
            department = departments.resolve_path(s, DEPARTMENTS[i % len(DEPARTMENTS)], create=True)
            login = f"sales{i:03d}"
            accounts.create_user(s, None, login, "salesperson", department, [], password=PASSWORD)
            logins.append(login)
        s.commit()
        started = time.perf_counter()
        imports.import_file(s, str(csv_path), pool="public", skip_check=True, report=False)
        loaded = time.perf_counter() - started
        owned = {}
        for login in logins:  # each salesperson's library: `library` customers of the pool
            user = s.query(User).filter_by(login=login).one()
            ids = [row[0] for row in s.execute(text(
                "SELECT id FROM opportunity WHERE location = 'public_pool' ORDER BY id LIMIT :n"), {"n": library})]
            s.execute(text("UPDATE opportunity SET location = 'library', owner_id = :u, department_id = :d "
                           "WHERE id IN (" + ",".join(map(str, ids)) + ")"), {"u": user.id, "d": user.department_id})
            owned[login] = ids
        s.commit()
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        else:
            s.execute(text("ANALYZE"))
            s.commit()
    queries = make_queries(generator, sample, 2000, seed=7)
    plan = {"database_url": url, "n": n, "password": PASSWORD, "owned": owned, "load_seconds": round(loaded, 1),
            "checks": [q for _kind, q in queries]}
    (WORK / "plan.json").write_text(json.dumps(plan, ensure_ascii=False))
    print(f"{n} customers loaded in {loaded:.0f} s; {users} salespeople with {library} each; plan in {WORK}/plan.json")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--library", type=int, default=100)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--reset", action="store_true")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{WORK}/load-{args.n}.sqlite3"
    random.seed(2026)
    build(url, args.n, args.users, args.library, args.reset)


if __name__ == "__main__":
    main()
