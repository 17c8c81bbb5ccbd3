"""Hostile files (tests/hostile.py, a few kilobytes each) uploaded to a running server, gunicorn and
the worker each capped at 2 GB of address space as a production unit is (deploy/: MemoryMax): each
is refused in Chinese naming the cap, or read within it; every process still answers, none was
replaced; nothing beyond the caps is stored."""
import os
import subprocess
import sys

import hostile
import pytest
from faults import environment
from served import ROOT, call, gunicorn_server, limited, upload
from sqlalchemy import func, select
from test_imports_worker import stop, token_of, wait_for

from conftest import zh
from models import DataImport, DataImportRow, Job, db
from services.imports import ImportFileError, table_sandbox, table_sizes

pytestmark = pytest.mark.slow  # a gunicorn and a worker process

ADDRESS_SPACE = 2 * 1024 ** 3  # every service process (the parsing child caps itself lower, at 1.5 GB)
ROWS = ("%(file)s has %(rows)d rows, more than the %(max)d that can be imported at once (CRM_IMPORT_MAX_ROWS): "
        "split it into smaller files.")
WIDE = ("The header row of %(file)s has %(columns)d columns, more than the %(max)d a list may have "
        "(CRM_IMPORT_MAX_COLUMNS): delete the columns not to import.")
CELLS = ("%(file)s spans %(rows)d rows by %(columns)d columns, more than the %(max)d cells a list may have "
         "(CRM_IMPORT_MAX_CELLS): delete what lies beyond the customers (select the empty rows and columns after "
         "them, delete them) and save it again.")
BOMB = ("%(file)s unpacks to %(mb)d MB from %(kb)d KB (a zip bomb, or a damaged file): open it in Excel or WPS and "
        "save it again as .xlsx.")
BEYOND = ("%(file)s could not be read within the server's limits (%(mb)d MB of memory, %(s)d seconds): it is too "
          "large or too complex, or damaged. Open it in Excel or WPS, keep only the customers, and save it as .xlsx "
          "or CSV.")


def processes(root_pid):
    """The ids of a process and all its descendants (from /proc)."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    parent = int(handle.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            children.setdefault(parent, []).append(int(entry))
    found, todo = set(), [root_pid]
    while todo:
        pid = todo.pop()
        found.add(pid)
        todo.extend(children.get(pid, []))
    return found


REFUSED = [  # (file, builder, message, its variables)
    ("最后一格.xlsx", hostile.xlsx_far_corner, ROWS, {"rows": 1048576, "max": 100000}),
    ("压缩炸弹.xlsx", lambda p: hostile.xlsx_zip_bomb(p, megabytes=20), BOMB, {"mb": 20, "kb": 20}),
    ("重复百万行.ods", hostile.ods_repeated, ROWS, {"rows": 1000001, "max": 100000}),
    ("重复九万行.ods", lambda p: hostile.ods_repeated(p, rows=90_000), CELLS,
     {"rows": 90001, "columns": 1000, "max": 20_000_000}),
    ("百万列表头.csv", hostile.csv_wide_header, WIDE, {"columns": 1_000_000, "max": 200}),
]
READ = [  # (file, builder, data rows the check finds)
    ("十万行一千列.xlsx", hostile.xlsx_wide_and_tall, 1),
    ("右边一格.xlsx", hostile.xlsx_stray_cell, 30),
    ("百万列一行.csv", hostile.csv_wide_row, 1),
    ("一个大格子.xlsx", lambda p: hostile.xlsx_big_cells(p, count=1, chars=300_000), 1),
]


def test_hostile_files_are_refused_or_read_within_the_caps_and_every_process_lives(app, org, tmp_path):
    queue = f"sqlite:///{tmp_path / 'queue.sqlite3'}"
    env = {"CRM_QUEUE_URL": queue}
    log = open(tmp_path / "worker.log", "w+")
    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "worker"], cwd=ROOT,
                              env={**environment(app), **env}, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True, preexec_fn=limited(ADDRESS_SPACE))
    token = token_of(app, "admin_a")
    try:
        with gunicorn_server(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path, workers=2, env=env,
                             address_space=ADDRESS_SPACE) as server:
            web = processes(server.pid)
            for name, build, message, variables in REFUSED:
                status, answer = upload(server.base_url, token, build(tmp_path / name))
                assert status == 422, (name, answer)
                assert answer["message"] == zh(app, message, file=name, **variables), name
            imported = []
            for name, build, rows in READ:
                status, answer = upload(server.base_url, token, build(tmp_path / name))
                assert status == 202, (name, answer)
                wait_for(app, answer["id"], {"ready"}, log)
                imported.append((answer["id"], rows))
            assert call(server.base_url, "GET", "/login")[0] == 200
            assert processes(server.pid) >= web, "a web process died and was replaced"
            assert worker.poll() is None, "the worker died"
    finally:
        stop(worker)
        log.close()
    with app.app_context():
        for import_id, rows in imported:
            assert db.session.get(DataImport, import_id).rows_total == rows
        longest = db.session.scalar(select(func.max(func.length(DataImportRow.values))))
        assert longest < 8 * 1024  # the 300,000-character cell was cut before it was kept
        assert db.session.scalar(select(func.count()).select_from(Job).where(Job.status == "failed")) == 0
        assert db.session.scalar(select(func.count()).select_from(DataImport)) == len(READ)  # no refused one kept


def test_a_file_beyond_the_parsers_memory_is_refused_and_the_asker_lives(tmp_path):
    """The last line of defence: with the caps lifted, the 1.6 KB workbook that asks calamine for 549 GB
    kills only the child that parses it (1.5 GB of address space), and the caller gets a refusal."""
    path = hostile.xlsx_far_corner(tmp_path / "最后一格.xlsx")
    limits = table_sizes.Limits(max_rows=None, max_cells=10 ** 12, memory_mb=1536, seconds=30)
    with pytest.raises(ImportFileError) as refused:
        table_sandbox.SandboxedReader(path, limits=limits)
    assert refused.value.message._args[0] == BEYOND
    assert refused.value.message._kwargs == {"file": "最后一格.xlsx", "mb": 1536, "s": 30}
