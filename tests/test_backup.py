"""`flask --app app backup PATH` (docs/contract.md): a consistent copy while the app writes, that can be restored."""
import os
import sqlite3
import threading

import pytest
from sqlalchemy import func, select

from app import create_app
from conftest import _config
from models import Opportunity, OpportunityTerm, User, db
from services.library import opportunities
from services.library.opportunities import OpportunityInput


def _writer(app, stop, written):
    """Enter customers one transaction at a time until told to stop, as salespeople would."""
    with app.app_context():
        owner = db.session.scalar(select(User).filter_by(login="sales_a"))
        n = 0
        while not stop.is_set():
            n += 1
            opportunities.insert_opportunity(db.session, owner, OpportunityInput(company=f"备份测试{n:05d}贸易有限公司",
                                                                      phone=f"020-8{n:07d}"), "library", None)
            db.session.commit()
            written.append(n)
        db.session.remove()


def _on_sqlite(app):
    return app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")


def test_backup_on_postgresql_points_to_pg_dump(app, runner, tmp_path):
    result = runner.invoke(args=["backup", str(tmp_path / "crm.bak")])
    if _on_sqlite(app):
        assert result.exit_code == 0, result.output
    else:
        assert result.exit_code != 0 and "pg_dump" in result.output and "Traceback" not in result.output
        assert not (tmp_path / "crm.bak").exists()


ONLY_SQLITE = pytest.mark.skipif(bool(os.environ.get("CRM_TEST_DATABASE_URL")),
                                 reason="SQLite's online backup; PostgreSQL's answer is tested above")


@ONLY_SQLITE
def test_backup_under_write_load_is_consistent_and_restores(app, runner, org, tmp_path):
    stop, written = threading.Event(), []
    thread = threading.Thread(target=_writer, args=(app, stop, written))
    thread.start()
    try:
        while len(written) < 20:  # the backup starts while rows keep arriving
            threading.Event().wait(0.01)
        target = tmp_path / "crm.bak"
        result = runner.invoke(args=["backup", str(target)])
        during = len(written)
    finally:
        stop.set()
        thread.join()
    assert result.exit_code == 0, result.output
    copy = sqlite3.connect(target)
    copied = copy.execute("SELECT count(*) FROM opportunity").fetchone()[0]
    # a moment of the database: whole transactions only, each customer with its index terms
    assert 20 <= copied <= during + 1
    assert copy.execute("SELECT count(*) FROM opportunity o WHERE NOT EXISTS "
                        "(SELECT 1 FROM opportunity_term t WHERE t.opportunity_id = o.id)").fetchone()[0] == 0
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    copy.close()
    assert f"opportunity={copied}" in result.output

    restored = create_app(_config("sqlite:///" + str(target), tmp_path))
    with restored.app_context():
        assert db.session.scalar(select(func.count()).select_from(Opportunity)) == copied
        assert db.session.scalar(select(func.count(func.distinct(OpportunityTerm.opportunity_id)))) == copied
        db.engine.dispose()


@ONLY_SQLITE
def test_backup_refuses_to_overwrite_and_reports_a_missing_folder(app, runner, tmp_path):
    existing = tmp_path / "old.bak"
    existing.write_bytes(b"keep me")
    result = runner.invoke(args=["backup", str(existing)])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert existing.read_bytes() == b"keep me"
    result = runner.invoke(args=["backup", str(tmp_path / "missing" / "crm.bak")])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert not list(tmp_path.glob(".backup-*"))
