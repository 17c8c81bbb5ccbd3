"""A real PostgreSQL restart under load (issue 5): what the app answers during it, and that it recovers alone.

Not part of the test suite (it restarts a database server). It serves the app with gunicorn
(4 sync workers, tests/served.py) against DATABASE_URL, runs readers ("my opportunities")
and writers (entries) in threads, runs RESTART_COMMAND once the load is steady, keeps the
load going, and prints what came back before, during and after, second by second.

    python benchmarks/pg_restart_under_load.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/crm_restart \\
        --restart "pg_ctlcluster 15 main restart"

The database is emptied first (DROP SCHEMA public): give it a database of its own.
"""
import argparse
import collections
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


def prepare(database_url):
    """A fresh schema, one department and 8 salespeople with API tokens."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    os.environ["CRM_DATABASE_URL"] = database_url
    from flask_migrate import upgrade
    from served import salespeople

    from app import create_app
    from services.people import departments

    app = create_app({"SECRET_KEY": "restart-script"})
    with app.app_context():
        from models import db

        upgrade(directory=app.extensions["migrate"].directory)
        departments.ensure_head_office(db.session)
        departments.resolve_path(db.session, "华南代理/销售一部", create=True)
        db.session.commit()
    return app, list(salespeople(app, 8, prefix="load").values())


def load(base_url, token, writer, stop, started, log):
    from served import call

    n = 0
    while not stop.is_set():
        n += 1
        try:
            if writer:
                status, body, _type = call(base_url, "POST", "/api/v1/opportunities", token,
                                           {"company": f"重启测试{token[:6]}{n}号五金有限公司"}, timeout=30)
            else:
                status, body, _type = call(base_url, "GET", "/api/v1/opportunities", token, timeout=30)
            outcome = status if status != 503 else f"503 {body.get('message', '') if isinstance(body, dict) else ''}"
        except OSError as error:  # the app itself unreachable: would be a failure of the app, not the database
            outcome = f"connection error {type(error).__name__}"
        log.append((time.monotonic() - started, outcome))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--restart", required=True, help="the shell command that restarts the server")
    parser.add_argument("--before", type=float, default=5, help="seconds of load before the restart")
    parser.add_argument("--after", type=float, default=15, help="seconds of load after the restart command returns")
    args = parser.parse_args()

    from served import gunicorn_server

    _app, tokens = prepare(args.database_url)
    workdir = tempfile.mkdtemp(prefix="pg-restart-")  # kept: gunicorn.err holds any traceback
    with gunicorn_server(args.database_url, workdir) as server:
        stop, log, started = threading.Event(), [], time.monotonic()
        threads = [threading.Thread(target=load, args=(server.base_url, t, i % 2 == 0, stop, started, log))
                   for i, t in enumerate(tokens)]
        for thread in threads:
            thread.start()
        time.sleep(args.before)
        restart_at = time.monotonic() - started
        subprocess.run(args.restart, shell=True, check=True)
        restarted_at = time.monotonic() - started
        time.sleep(args.after)
        stop.set()
        for thread in threads:
            thread.join()
    report(log, restart_at, restarted_at)
    print(f"gunicorn's log (tracebacks of any 500): {workdir}/gunicorn.err")


def report(log, restart_at, restarted_at):
    print(f"restart command from {restart_at:.1f} s to {restarted_at:.1f} s")
    by_second = collections.defaultdict(collections.Counter)
    for at, outcome in log:
        by_second[int(at)][str(outcome)] += 1
    for second in sorted(by_second):
        print(f"{second:4d} s  " + ", ".join(f"{k}: {v}" for k, v in sorted(by_second[second].items())))
    failures = [(at, o) for at, o in log if str(o) not in ("200", "201", "409")]
    print(f"answers: {len(log)}; not 2xx/409: {len(failures)}; of them 500: "
          f"{sum(1 for _at, o in failures if o == 500)}; connection errors: "
          f"{sum(1 for _at, o in failures if str(o).startswith('connection'))}")
    if failures:
        print(f"failures from {failures[0][0]:.2f} s to {failures[-1][0]:.2f} s")
    after = [o for at, o in log if at > restarted_at + 1]
    print(f"after the restart (+1 s): {len(after)} answers, "
          f"{sum(1 for o in after if str(o) not in ('200', '201', '409'))} failed")


if __name__ == "__main__":
    main()
