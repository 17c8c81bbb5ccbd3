"""Upgrading a database that holds data keeps every row (SQLite's batch mode copies tables).

Always on a SQLite file of its own, whatever database the suite runs on: the trap is SQLite's. An
earlier upgrade from 0004 dropped the opportunity table's old copy with foreign keys on, and ON
DELETE CASCADE took every contact note and index term with it.
"""
import sqlite3

from flask_migrate import upgrade

from app import create_app
from services.checking import dedup, normalize

T = "2026-01-01 00:00:00.000000"


def _app(path):
    return create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "tests-only-secret",
                       "CRM_QUEUE_URL": "immediate", "TESTING": True})


def _fill_at_0004(path):
    """A department, a salesperson with an API token, a customer with a contact note and an index term."""
    db = sqlite3.connect(path)
    db.execute("INSERT INTO department (id, short_name, name, parent_id, path, depth, created_at) "
               "VALUES (1, '华南代理', '华南代理', NULL, '/1/', 1, ?)", (T,))
    db.execute("INSERT INTO user (id, login, login_key, password_hash, must_change_password, role, department_id, "
               "active, session_version, created_at) VALUES (1, 'zhangsan', 'zhangsan', 'x', 0, 'salesperson', 1, "
               "1, 1, ?)", (T,))
    db.execute("INSERT INTO api_token (id, user_id, token_hash, created_at) VALUES (1, 1, 'h', ?)", (T,))
    db.execute("INSERT INTO opportunity (id, company, key_customer, location, owner_id, department_id, entered_at, "
               "created_at, name_folded, name_core) VALUES (1, '扬州五环印花厂', 0, 'library', 1, 1, ?, ?, "
               "'扬州五环印花厂', '五环印花')", (T, T))
    db.execute("INSERT INTO contact_note (id, opportunity_id, author_id, method, content, maturity, unreachable, "
               "busy, valid, created_at) VALUES (1, 1, 1, 'phone', '王经理说下周来', 2, 0, 0, 1, ?)", (T,))
    db.execute("INSERT INTO opportunity_term (term, opportunity_id) VALUES (42, 1)")
    db.commit()
    db.close()


def _counts(path):
    db = sqlite3.connect(path)
    tables = ("department", "user", "api_token", "opportunity", "contact_note", "opportunity_term")
    counts = {t: db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
    db.close()
    return counts


def test_an_upgrade_from_0004_keeps_every_note_and_index_row(tmp_path):
    path = tmp_path / "crm.sqlite3"
    app = _app(path)
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory, revision="0004")
    _fill_at_0004(path)
    before = _counts(path)
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory, revision="0010")
    assert _counts(path) == before == {"department": 1, "user": 1, "api_token": 1, "opportunity": 1,
                                       "contact_note": 1, "opportunity_term": 1}
    with app.app_context():  # 0011 rebuilds the duplicate check's keys (services/checking/rekey.py)
        upgrade(directory=app.extensions["migrate"].directory)
    db = sqlite3.connect(path)
    assert db.execute("SELECT content FROM contact_note").fetchone() == ("王经理说下周来",)
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    terms = {row[0] for row in db.execute("SELECT term FROM opportunity_term WHERE opportunity_id = 1")}
    assert terms == {dedup.term_hash(t) for t in normalize.index_terms(dedup.query_keys("扬州五环印花厂"))}
    assert db.execute("SELECT name_core, norm_city FROM opportunity").fetchone() == ("五环印花", "扬州市")
