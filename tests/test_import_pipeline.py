"""The one import pipeline (services/imports/importing.py `ImportRun`) and the reader of bytes.

An upload is read from its bytes as a file from its path: the same header and rows, its messages naming
the file as it was uploaded, and no copy of it left on disk; the pipeline's write is all or nothing, the
step its caller takes in the last transaction (the browser's import record) included.
"""
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import func, select
from test_import import companies, count, write_csv

from models import AuditEntry, db
from services import imports

DATA = Path(__file__).resolve().parent / "data"
PASSWORD = "%(file)s is protected by a password: open it in Excel or WPS, remove the password and save it again."
ROWS = [["扬州恒达机械厂", "0514-2398577", "", "13902201234", "江苏", "扬州", "王经理", "机械", "", ""],
        ["苏州精工模具有限公司", "0512-65432100", "", "13700001111", "江苏", "苏州", "李工", "模具", "", ""]]


@pytest.mark.parametrize("name", ["customers-libreoffice.xlsx", "customers-libreoffice.xls",
                                  "customers-libreoffice.ods", "customers-browser.csv"])
def test_an_upload_is_read_from_its_bytes_as_a_file_from_its_path(app, name):
    path = DATA / name
    with app.app_context():
        by_path = imports.open_reader(path, caps=imports.limits())
        by_bytes = imports.open_reader(path.read_bytes(), caps=imports.limits(), name="客户名单" + path.suffix)
        assert (by_bytes.headers, by_bytes.header_line, by_bytes.columns, by_bytes.estimate) == \
            (by_path.headers, by_path.header_line, by_path.columns, by_path.estimate)
        rows = list(by_bytes)
        assert rows and rows == list(by_path)


def test_a_refused_upload_is_named_as_uploaded_and_leaves_no_copy_on_disk(app, tmp_path, monkeypatch):
    """A workbook with a password is one that only calamine's reader of its suffix, which reads paths, can
    name: its bytes are written once for that, into a folder that is gone once the reading child is."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where the sandbox makes the child's folder
    with app.app_context():
        for fixture in ("encrypted-libreoffice.xlsx", "encrypted-libreoffice.xls"):
            name = "加密的名单" + Path(fixture).suffix
            with pytest.raises(imports.ImportFileError) as refused:
                imports.open_reader((DATA / fixture).read_bytes(), caps=imports.limits(), name=name)
            assert refused.value.message._args[0] == PASSWORD
            assert refused.value.message._kwargs == {"file": name}
    assert list(tmp_path.iterdir()) == []


def imports_audited(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "import"))


def test_the_pipeline_writes_all_or_nothing_with_its_callers_last_step(app, org, tmp_path):
    path = write_csv(tmp_path / "名单.csv", ROWS)
    with app.app_context():
        run = imports.ImportRun(imports.open_reader(path), imports.Target("public_pool"), file_name="名单.csv")
        with pytest.raises(RuntimeError), run.writing(db.session) as summary:
            assert summary.imported == 2  # written in the open transaction, not yet committed
            raise RuntimeError("the caller's record of the import failed")
    assert count(app) == 0 and imports_audited(app) == 0

    with app.app_context():
        run = imports.ImportRun(imports.open_reader(path.read_bytes(), name="名单.csv"),
                                imports.Target("public_pool"), file_name="名单.csv")
        summary = run.execute(db.session)
    assert (summary.read, summary.imported) == (2, 2)
    assert companies(app) == ["扬州恒达机械厂", "苏州精工模具有限公司"] and imports_audited(app) == 1
