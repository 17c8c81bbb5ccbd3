"""The labelled set again, through the database engine that pages, API and imports use.

tests/test_dedup_cases.py judges the pairs with the pure comparison; here each case's
existing customers are written to the database with their index terms, and the query goes
through services.checking.dedup.check: the candidates must come out of the index, not a scan.
"""
import json
from collections import Counter
from pathlib import Path

from models import db
from services.checking import dedup
from services.library import opportunities
from services.library.opportunities import OpportunityInput

CASES = [json.loads(line) for line in
         (Path(__file__).resolve().parent / "data" / "dedup_cases.jsonl").read_text(encoding="utf-8").splitlines()
         if line.strip()]


def _run(case):
    session = db.session
    for existing in case["existing"]:
        opportunities.insert_opportunity(session, None, OpportunityInput(**existing), "public_pool", None)
    result = dedup.check(session, **{("company" if k == "company" else k): v for k, v in case["query"].items()})
    session.rollback()  # each case starts from an empty table
    return result.verdict


def test_the_engine_meets_the_bar_on_every_labelled_case(app):
    with app.app_context():
        results = [(case, _run(case)) for case in CASES]
    counts = Counter((case["expected"], got) for case, got in results)
    duplicates = sum(n for (expected, _), n in counts.items() if expected == "duplicate")
    new = sum(n for (expected, _), n in counts.items() if expected == "new")
    caught = counts[("duplicate", "duplicate")] / duplicates
    shown = (counts[("duplicate", "duplicate")] + counts[("duplicate", "review")]) / duplicates
    refused_new = counts[("new", "duplicate")] / new
    misses = [(case["id"], case["query"]["company"], got) for case, got in results
              if case["expected"] == "duplicate" and got != "duplicate"]
    assert caught >= 0.95, misses
    assert shown >= 0.99, misses
    assert refused_new <= 0.02, [(c["id"], c["query"]) for c, got in results
                                 if c["expected"] == "new" and got == "duplicate"]
