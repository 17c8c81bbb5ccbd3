"""Helpers of the fault tests (tests/test_faults.py, tests/test_imports_worker.py): a large customer
file, what the database holds, and whether another process is writing in it right now."""
import csv
import os
import sqlite3

from sqlalchemy import create_engine, text

from models import Opportunity, OpportunityPhone, OpportunityTerm, db

# trade names of three characters, one from each list: more distinct names than the large file has rows
_FIRST = "金银铜铁锡华中东南西北天地人和泰安康宁福寿吉祥瑞丽光明正大新兴永盛隆昌恒通达利"
_SECOND = "宏伟鸿运嘉禾美佳德信诚益丰裕源远广厚长青山川江海云星晨曦春秋冬夏松竹梅兰菊荷"
_THIRD = "鑫森淼焱垚磊晶品众犇骉昊旭辉煌"
_KINDS = ["五金", "纺织", "服装", "电子", "塑料", "印刷", "包装", "机械"]


def write_customers(path, rows):
    """A spreadsheet of `rows` different companies of Guangzhou, each with its own landline."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["公司名称", "省份", "城市", "电话", "联系人"])
        for i in range(rows):
            first, rest = divmod(i, len(_FIRST))
            name = _FIRST[rest] + _SECOND[first % len(_SECOND)] + _THIRD[first // len(_SECOND) % len(_THIRD)]
            out.writerow([f"广州{name}{_KINDS[i % 8]}有限公司", "广东", "广州", f"020-8{i:07d}", "陈经理"])
    return path


def counts(app):
    with app.app_context():
        count = lambda model: db.session.scalar(db.select(db.func.count()).select_from(model))  # noqa: E731
        orphans = sum(db.session.scalar(db.select(db.func.count()).select_from(model).where(
            ~model.opportunity_id.in_(db.select(Opportunity.id)))) for model in (OpportunityTerm, OpportunityPhone))
        unindexed = db.session.scalar(db.select(db.func.count()).select_from(Opportunity).where(
            ~Opportunity.id.in_(db.select(OpportunityTerm.opportunity_id))))
        return {"opportunities": count(Opportunity), "terms": count(OpportunityTerm), "phones": count(OpportunityPhone),
                "orphans": orphans, "unindexed": unindexed}


def environment(app):
    return {**os.environ, "CRM_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "CRM_SECRET_KEY": "tests-only-shared-secret", "CRM_CAPTCHA": "0"}


def writing(app):
    """True once another connection holds an open write transaction (the importer's), seen from outside."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        engine = create_engine(url)
        try:
            with engine.connect() as conn:  # the importer has inserted index rows in its open transaction
                return bool(conn.scalar(text(
                    "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                    "WHERE c.relname = 'opportunity_term' AND l.mode = 'RowExclusiveLock' "
                    "AND l.pid <> pg_backend_pid()")))
        finally:
            engine.dispose()
    probe = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")  # refused at once while the importer holds the write lock
        probe.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError as locked:
        return "locked" in str(locked)
    finally:
        probe.close()
