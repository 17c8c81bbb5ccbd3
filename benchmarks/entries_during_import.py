"""Entries during a browser import (issue 19, point 8): how long a salesperson's entry waits while a large
import runs, on a real server (gunicorn, 2 sync workers) and worker (`flask worker`), as in production.

Not part of the test suite (a 100,000-row import takes minutes); tests/test_imports_worker.py runs the same
at 3,000 rows. The database is emptied first: give it a database (or a SQLite file) of its own.

    python benchmarks/entries_during_import.py --rows 100000 --database-url sqlite:////tmp/bench_entries.sqlite3
    python benchmarks/entries_during_import.py --rows 100000 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_entries

Prints the preview's and the run's time, the entries made during the run (one every --every seconds, each
timed: p50, p95, max, answers other than 201), the last transaction's hold of the lock (the worker's log),
and whether the import's rows were hidden while it ran and all there at its end.
"""
import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


def prepare(database_url, workdir):
    from sqlalchemy import create_engine, text

    if database_url.startswith("sqlite:///"):
        Path(database_url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    else:
        engine = create_engine(database_url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    os.environ["CRM_DATABASE_URL"] = database_url
    from flask_migrate import upgrade

    from app import create_app
    from conftest import Org
    from models import db

    queue = f"sqlite:///{workdir / 'queue.sqlite3'}"
    app = create_app({"SECRET_KEY": "bench", "CRM_QUEUE_URL": queue, "CRM_CAPTCHA": False,
                      "CRM_IMPORT_MAX_ROWS": 1_000_000})
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        db.session.commit()
    Org(app)
    return app


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--every", type=float, default=0.5, help="seconds between two entries")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-entries-"))
    app = prepare(args.database_url, workdir)

    from faults import environment, write_customers
    from served import call, gunicorn_server, salespeople
    from test_imports_worker import other_name, status, token_of

    racers = list(salespeople(app, 4, prefix="busy").values())
    admin = token_of(app, "admin_a")
    path = write_customers(workdir / "customers.csv", args.rows)
    log = open(workdir / "worker.log", "w+")
    env = {**environment(app), "CRM_QUEUE_URL": app.config["CRM_QUEUE_URL"], "CRM_IMPORT_MAX_ROWS": "1000000"}
    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "worker"], cwd=ROOT, env=env,
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {admin}"}
    try:
        with gunicorn_server(args.database_url, workdir, workers=2, env=env) as server:
            started = time.monotonic()
            answer = client.post("/api/v1/imports", headers=headers, content_type="multipart/form-data",
                                 data={"file": (io.BytesIO(path.read_bytes()), "客户.csv"),
                                       "target": "agent_admin_pool"})
            assert answer.status_code == 202, answer.get_json()
            import_id = answer.get_json()["id"]
            while status(app, import_id)[0] == "checking":
                time.sleep(1)
            assert status(app, import_id)[0] == "ready", status(app, import_id)
            checked = time.monotonic() - started
            counts = client.get(f"/api/v1/imports/{import_id}", headers=headers).get_json()["counts"]
            for racer in racers:
                call(server.base_url, "GET", "/api/v1/dedup?name=" + urllib.parse.quote("佛山金宏鑫家具厂"), racer)
            assert client.post(f"/api/v1/imports/{import_id}/run", headers=headers,
                               json={"review_rows": "all"}).status_code == 202
            started, seconds, others, listed, n = time.monotonic(), [], [], [], 0
            while status(app, import_id)[0] == "importing":
                n += 1
                began = time.monotonic()
                code, body, _type = call(server.base_url, "POST", "/api/v1/opportunities", racers[n % len(racers)],
                                         {"company": f"佛山{other_name(n % 570)}{n // 570}号家具厂", "city": "佛山",
                                          "phone": f"0757-8{n:07d}", "confirm_review": True})
                seconds.append(time.monotonic() - began)
                if code != 201:
                    others.append((code, body))
                if n % 20 == 0:
                    listed.append(call(server.base_url, "GET", "/api/v1/opportunities?per_page=1", admin)[1]["total"])
                time.sleep(args.every)
            ran = time.monotonic() - started
            done = client.get(f"/api/v1/imports/{import_id}", headers=headers).get_json()
            total = call(server.base_url, "GET", "/api/v1/opportunities?per_page=1", admin)[1]["total"]
    finally:
        worker.terminate()
        worker.wait(60)
    seconds.sort()
    entered = len(seconds) - len(others)
    print(f"{args.database_url.split(':')[0]}, {args.rows} rows: preview {checked:.0f} s ({counts}); "
          f"run {ran:.0f} s, status {done['status']}, imported {done['imported']}")
    print(f"{len(seconds)} entries during the run: p50 {statistics.median(seconds):.3f} s, "
          f"p95 {seconds[int(len(seconds) * 0.95) - 1]:.3f} s, max {seconds[-1]:.3f} s, "
          f"over 1 s: {sum(s > 1 for s in seconds)}; not 201: {others[:3]}")
    print(f"admin's list during the run at most {max(listed or [0])} (entries only: {entered}); "
          f"after: {total} = imported {done['imported']} + entries {entered}: {total == done['imported'] + entered}")
    log.seek(0)
    print("".join(line for line in log if "import " in line and ("lost" in line or "held" in line)))


if __name__ == "__main__":
    main()
