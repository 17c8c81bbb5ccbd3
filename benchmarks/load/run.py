"""Run the load test: gunicorn serving the prepared database, locust driving it at steps.

    .venv/bin/python benchmarks/load/run.py [--steps 10,25,50,100] [--seconds 60] [--workers 4]

For each number of concurrent salespeople, runs locust headless for `--seconds` (the
statistics start once every simulated salesperson has logged in) and reads its statistics: requests per second and p50/p95 per request kind and overall. Prints a
table, writes benchmarks/results/load-<database>-<n>.json, and says up to which step the
slowest p95 of the work (duplicate check, my opportunities, details, note; logging in left
out) stays under 200 ms: what one server holds. Needs `pip install -r benchmarks/requirements.txt`.
"""
import argparse
import csv
import json
import os
import platform
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
BIN = Path(sys.executable).parent


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(url, workers, port):
    # one key shared by the workers (sessions must survive a change of worker), made for this run
    env = dict(os.environ, CRM_DATABASE_URL=url, CRM_SECRET_KEY=secrets.token_hex(32), CRM_CAPTCHA="0")
    server = subprocess.Popen([str(BIN / "gunicorn"), "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
                               "--log-level", "warning", "app:create_app()"], cwd=ROOT, env=env)
    for _ in range(120):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2)
            return server
        except OSError:
            time.sleep(0.5)
    server.terminate()
    sys.exit("gunicorn did not start")


def run_step(port, users, seconds, prefix):
    subprocess.run([str(BIN / "locust"), "-f", str(HERE / "locustfile.py"), "--headless", "-u", str(users),
                    "-r", str(max(users // 5, 1)), "-t", f"{seconds}s", "--host", f"http://127.0.0.1:{port}",
                    "--csv", str(prefix), "--only-summary", "--reset-stats"], cwd=HERE, check=True, capture_output=True)
    rows = {}
    with open(f"{prefix}_stats.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            rows[row["Name"]] = {"requests": int(row["Request Count"]), "failures": int(row["Failure Count"]),
                                 "rps": round(float(row["Requests/s"]), 1),
                                 "p50_ms": float(row["50%"] or 0), "p95_ms": float(row["95%"] or 0)}
    return rows


def worst_p95(step):
    """The slowest p95 among the day's work (check, lists, details, note), logging in left out."""
    return max(r["p95_ms"] for name, r in step.items() if name != "Aggregated" and not name.startswith("/login"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", default="10,25,50,100")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    plan = json.loads((HERE / "work" / "plan.json").read_text())
    url = plan["database_url"]
    database = "postgresql" if url.startswith("postgresql") else "sqlite"
    port = free_port()
    server = start_server(url, args.workers, port)
    results = {"database": database, "n": plan["n"], "workers": args.workers, "seconds": args.seconds,
               "machine": f"{platform.machine()}, {os.cpu_count()} cores", "steps": {}}
    try:
        for users in map(int, args.steps.split(",")):
            results["steps"][users] = run_step(port, users, args.seconds, HERE / "work" / f"step-{users}")
            step = results["steps"][users]
            total, work = step["Aggregated"], worst_p95(step)
            print(f"{users:4d} users: {total['rps']:7.1f} req/s  p50 {total['p50_ms']:6.0f} ms  "
                  f"worst p95 of the work {work:6.0f} ms  failures {total['failures']}", flush=True)
    finally:
        server.terminate()
        server.wait()
    holds = [u for u, r in results["steps"].items() if worst_p95(r) <= 200]
    results["holds_users_at_p95_200ms"] = max(holds) if holds else 0
    out = ROOT / "benchmarks" / "results" / f"load-{database}-{plan['n']}.json"
    out.write_text(json.dumps(results, indent=1, ensure_ascii=False))
    print(f"one server ({args.workers} workers) holds {results['holds_users_at_p95_200ms']} concurrent users "
          f"under p95 200 ms; figures in {out}")


if __name__ == "__main__":
    main()
