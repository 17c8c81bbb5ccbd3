"""The duplicate check (撞单检测) against the labelled set tests/data/dedup_cases.jsonl.

Pure: every case runs through services.normalize.compare / verdict, no database.
Targets (the issue): a duplicate is refused in at least 95% of the duplicate cases and
shown (duplicate or review) in at least 99%; at most 2% of the new companies are refused.
"""
import importlib.util
import json
from collections import Counter
from pathlib import Path

import pytest

from services import normalize as N

DATA = Path(__file__).resolve().parent / "data"
CASES = [json.loads(line) for line in (DATA / "dedup_cases.jsonl").read_text(encoding="utf-8").splitlines()
         if line.strip()]
VERDICTS = ("duplicate", "review", "new")


def _run(case):
    query = N.record_keys(**case["query"])
    matches = [N.compare(query, N.record_keys(**e)) for e in case["existing"]]
    return N.verdict(matches), [m for m in matches if m is not None]


@pytest.fixture(scope="module")
def results():
    return [(case, *_run(case)) for case in CASES]


def _table(results) -> str:
    counts = Counter((case["expected"], got) for case, got, _ in results)
    lines = ["expected \\ got   " + "".join(f"{v:>11}" for v in VERDICTS) + "      total"]
    for exp in VERDICTS:
        row = [counts[(exp, got)] for got in VERDICTS]
        lines.append(f"{exp:<16} " + "".join(f"{n:>11}" for n in row) + f"{sum(row):>11}")
    return "\n".join(lines)


def _misses(results, expected, bad):
    return "\n".join(
        f"  {case['id']}: {case['query']} -> {got} ({[m.reasons for m in matches]}) [{case['note']}]"
        for case, got, matches in results if case["expected"] == expected and got in bad)


def test_the_set_is_large_and_covers_every_kind():
    assert len(CASES) >= 300
    kinds = Counter(c["kind"] for c in CASES)
    for kind in ("traditional", "fullwidth", "punctuation", "region_suffix", "district",
                 "region_bracket", "legal_form", "region_from_fields", "keyword", "keyword_partial",
                 "phone_plus86", "phone_dash_long", "phone_paren", "phone_space",
                 "phone_digits_fullwidth", "phone_ext_zhuan", "phone_ext_en", "phone_list",
                 "mobile", "landline_no_area", "fax_cross", "manual", "hard", "hard_one_char",
                 "same_name_other_city", "new", "same_area_other_number", "same_local_other_area"):
        assert kinds[kind] >= 1, kind
    assert {c["expected"] for c in CASES} == set(VERDICTS)
    assert len({c["id"] for c in CASES}) == len(CASES)


def test_the_set_is_what_its_generator_writes():
    spec = importlib.util.spec_from_file_location("make_dedup_cases", DATA / "make_dedup_cases.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.build() == CASES, "run python tests/data/make_dedup_cases.py"


def test_quality_targets(results):
    table = _table(results)
    dup = [(c, got) for c, got, _ in results if c["expected"] == "duplicate"]
    new = [(c, got) for c, got, _ in results if c["expected"] == "new"]
    review = [(c, got) for c, got, _ in results if c["expected"] == "review"]
    caught = sum(got == "duplicate" for _, got in dup) / len(dup)
    shown = sum(got != "new" for _, got in dup) / len(dup)
    refused_new = sum(got == "duplicate" for _, got in new) / len(new)
    review_shown = sum(got != "new" for _, got in review) / len(review)
    review_refused = sum(got == "duplicate" for _, got in review) / len(review)
    summary = (f"{table}\nduplicates caught {caught:.1%}, shown {shown:.1%}; new refused "
               f"{refused_new:.1%}; reviews shown {review_shown:.1%}, refused {review_refused:.1%}")
    print("\n" + summary)
    assert caught >= 0.95, summary + "\n" + _misses(results, "duplicate", {"review", "new"})
    assert shown >= 0.99, summary + "\n" + _misses(results, "duplicate", {"new"})
    assert refused_new <= 0.02, summary + "\n" + _misses(results, "new", {"duplicate"})
    assert review_shown >= 0.95, summary + "\n" + _misses(results, "review", {"new"})
    assert review_refused <= 0.05, summary + "\n" + _misses(results, "review", {"duplicate"})


@pytest.mark.parametrize("case", [c for c in CASES if c["kind"] in ("manual", "hard")],
                         ids=lambda c: c["id"])
def test_manual_and_hand_written_cases(case):
    got, matches = _run(case)
    if case["expected"] == "new":
        assert got != "duplicate", (case["note"], [m.reasons for m in matches])
    else:
        assert got == case["expected"], (case["note"], [m.reasons for m in matches])


def test_matches_explain_themselves(results):
    for _case, _got, matches in results:
        for m in matches:
            assert m.verdict in ("duplicate", "review")
            assert 0 < m.score <= 1
            assert m.matched_on and set(m.matched_on) <= {"name", "phone", "fax"}
            assert list(m.matched_on) == [k for k in ("name", "phone", "fax") if k in m.matched_on]
            assert m.reasons and all(isinstance(r, str) and r for r in m.reasons)
