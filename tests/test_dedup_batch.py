"""A file's rows checked in batches (`dedup.check_many`) give the answers of one check a row.

One database holds every labelled case's existing customers (tests/data/dedup_cases.jsonl;
some of them in a salesperson's library, one deleted) and a crowd: more customers named
瑞丽…服装 with one landline than a check reads (POSTINGS_LIMIT), so that keyword and phone
queries have more candidates than the limits and are "truncated".
"""
import csv
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from models import Opportunity, OpportunityTerm, db
from services import clock, imports
from services.checking import dedup
from services.library import opportunities
from services.library.opportunities import OpportunityInput

# The "unrelated" cases hold twenty customers each (4,000 in all) and only ever answer "new": the
# batches are compared with single checks on every other kind (tests/test_dedup_cases.py judges them all).
CASES = [case for case in map(json.loads, (Path(__file__).resolve().parent / "data" / "dedup_cases.jsonl")
                              .read_text(encoding="utf-8").splitlines()) if case["kind"] != "unrelated"]
CROWD_PHONE = "021-66668888"
_SYLLABLES = ("甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥春夏秋冬金木水火土风云雷电"
              "梅兰竹菊琴棋书画诗酒花茶松柏桃李杏梨星月日光晨曦朝霞彩虹")
# Queries against the crowd: a keyword in 5,101 names, the crowd's landline with and without
# its area code, a crowd member written otherwise, and names near the crowd's.
CROWD_QUERIES = [
    {"company": "瑞丽"},
    {"company": "瑞丽服装"},
    {"phone": "66668888"},
    {"company": "上海瑞丽甲乙服装有限公司", "phone": CROWD_PHONE},
    {"company": "瑞丽甲乙服装厂", "province": "上海市", "city": "上海市"},
    {"company": "瑞丽甲服装", "city": "上海市", "fax": "021-66668888"},
    {"company": "丽甲"},
    {"company": "乙服"},
]


def _crowd_names():
    names = (f"瑞丽{a}{b}{c}服装有限公司" for a in _SYLLABLES for b in _SYLLABLES for c in _SYLLABLES[:3])
    return [name for name, _ in zip(names, range(dedup.POSTINGS_LIMIT + 100))]


def _write_csv(path, fields, rows):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row.get(k) or "" for k in fields})


def _load(app, org, tmp_path):
    """The labelled cases' customers (every third in sales_a's library, the first deleted) and the crowd."""
    crowd = tmp_path / "crowd.csv"
    _write_csv(crowd, ["company", "province", "city", "phone"],
               [{"company": name, "province": "上海市", "city": "上海市", "phone": CROWD_PHONE} for name in _crowd_names()])
    with app.app_context():
        session = db.session
        owner = SimpleNamespace(id=org.users["sales_a"], department_id=org.depts["华南代理/销售一部/电话组"])
        written = 0
        for case in CASES:
            for existing in case["existing"]:
                in_library = written % 3 == 0
                try:
                    with session.begin_nested():  # a mobile another case holds too: the database refuses it
                        opportunities.insert_opportunity(session, owner if in_library else None, OpportunityInput(**existing),
                                              "library" if in_library else "public_pool", None)
                except IntegrityError:
                    continue
                written += 1
        first = session.scalar(select(func.min(Opportunity.id)))
        session.get(Opportunity, first).deleted_at = clock.now()
        session.commit()
        summary = imports.import_file(session, crowd, skip_check=True, report=False)
        assert summary.imported == len(_crowd_names())
        crowd_postings = session.scalar(select(func.count()).select_from(OpportunityTerm).where(
            OpportunityTerm.term == dedup.term_hash("p:66668888")))
        assert crowd_postings > dedup.POSTINGS_LIMIT  # the phone's postings are more than a check reads
        session.rollback()


def _queries():
    return [{k: v or None for k, v in case["query"].items()} for case in CASES] + CROWD_QUERIES


def _answer(result):
    """What a check answers, field by field."""
    return (result.verdict, result.truncated,
            [(h.opportunity.id, h.match.matched_on, h.match.score, h.match.verdict, h.match.reasons)
             for h in result.hits])


@pytest.mark.parametrize("batch", [dedup.CHECK_BATCH, 37])
def test_check_many_answers_as_check_row_by_row(app, org, tmp_path, monkeypatch, batch):
    _load(app, org, tmp_path)
    monkeypatch.setattr(dedup, "CHECK_BATCH", batch)
    queries = _queries()
    with app.app_context():
        session = db.session
        deleted = session.scalar(select(func.min(Opportunity.id)))
        excluded = deleted + 1
        one = [dedup.check(session, **q) for q in queries]
        many = dedup.check_many(session, queries)
        one_excluding = [dedup.check(session, **q, exclude_id=excluded) for q in queries]
        many_excluding = dedup.check_many(session, queries, exclude_ids={excluded})
    assert len(many) == len(queries)
    for i, (a, b) in enumerate(zip(one, many)):
        assert _answer(b) == _answer(a), (i, queries[i])
        assert [(h.opportunity, h.match) for h in b.hits] == [(h.opportunity, h.match) for h in a.hits], i
    assert [_answer(r) for r in many_excluding] == [_answer(r) for r in one_excluding]
    # what the comparison covered: every verdict, owners, truncated answers, the exclusion
    assert {r.verdict for r in one} == {"duplicate", "review", "new"}
    assert any(h.opportunity.owner_login == "sales_a" for r in one for h in r.hits)
    assert sum(r.truncated for r in one) >= 3
    assert max(len(r.hits) for r in one) > dedup.KEYWORD_LIMIT
    assert any(h.opportunity.id == excluded for r in one for h in r.hits)
    assert not any(h.opportunity.id == excluded for r in many_excluding for h in r.hits)


def _file_rows():
    """The labelled queries, the crowd's, invalid rows, and rows that repeat earlier ones of the file."""
    rows = [dict(case["query"]) for case in CASES] + [dict(q) for q in CROWD_QUERIES]
    rows.insert(5, {"company": "", "phone": "021-12345678"})  # no company: invalid
    rows.insert(50, {"company": "瑞丽新潮服装有限公司", "phone": "12"})  # not a phone number: invalid
    rows += [dict(row) for row in rows[::7]]  # the file's own duplicates
    rows.append({"company": "苏州新天地纺织厂", "province": "江苏省", "city": "苏州市", "phone": "0512-68881234"})
    rows.append({"company": "新天地纺织有限公司", "city": "苏州市", "phone": "68881234"})
    return rows


def _one_row_results(session, path):
    """The file's results as a check a row gives them (the check before batches): the
    database by `dedup.check`, then the earlier rows of the file."""
    reader = imports.RowReader(path)
    sources = imports.reading.active_sources(session)
    index = imports.FileIndex()
    out = []
    for number, values in reader:
        data = imports.row_input(values)
        problems = imports.row_problems(data, sources)
        if problems:
            out.append({"row": number, "verdict": "invalid", "matches": [], "errors": problems})
            continue
        keys = imports.row_keys(data)
        checked = dedup.check(session, company=data.company, province=data.province, city=data.city,
                              phone=data.phone, fax=data.fax, mobile=data.mobile)
        matches = [dedup.hit_json(h) for h in checked.hits]
        matches += [imports.file_match_json(earlier, match) for earlier, match in index.matches(keys)]
        index.add(imports.FileRow(number, data.company, keys))
        result = {"row": number, "verdict": imports.checking.verdict_of(matches), "matches": imports.checking.sort_matches(matches)}
        if checked.truncated:
            result["truncated"] = True
        out.append(result)
    return json.loads(json.dumps(out, ensure_ascii=False))


@pytest.mark.parametrize("batch", [dedup.CHECK_BATCH, 64])
def test_a_files_check_gives_the_results_of_one_check_a_row(runner, app, org, tmp_path, monkeypatch, batch):
    _load(app, org, tmp_path)
    path = tmp_path / "check.csv"
    _write_csv(path, ["company", "province", "city", "phone", "fax"], _file_rows())
    monkeypatch.setattr(dedup, "CHECK_BATCH", batch)
    outcome = runner.invoke(args=["opportunities", "check", str(path), "--json"])
    assert outcome.exit_code == 0, outcome.output
    got = [json.loads(line) for line in outcome.stdout.splitlines()]
    with app.app_context():
        expected = _one_row_results(db.session, path)
    assert len(got) == len(expected) == len(_file_rows())
    for row, want in zip(got, expected):
        assert row == want, row["row"]
    # what the comparison covered
    verdicts = {row["verdict"] for row in got}
    assert verdicts == {"duplicate", "review", "new", "invalid"}
    assert sum(bool(row.get("truncated")) for row in got) >= 3
    assert sum(any(m["location"] == "file" for m in row["matches"]) for row in got) >= len(_file_rows()) // 10
    assert any(m["owner"] == "sales_a" for row in got for m in row["matches"])
