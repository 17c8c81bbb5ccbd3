"""Checking a customer list: every row against the database (the one duplicate-check engine,
`dedup.check_many`) and against the earlier rows of the file (`FileIndex`, the same terms and
judgement in memory). `checked_rows` is what an import and a check (`ImportRun`, importing.py) walk."""
from __future__ import annotations

from dataclasses import dataclass

from .. import checking, library
from .reading import active_sources, chunks, row_input, row_keys, row_problems


@dataclass
class FileRow:
    row: int
    company: str
    keys: dict
    opportunity_id: int | None = None  # set once imported


class FileIndex:
    """The earlier rows of a file, searched as `dedup.check` searches the database.

    The same terms (`normalize.index_terms`: exact trade name, one-edit neighbours,
    bigrams, phone locals) in a dict term -> row numbers, the same candidate rules
    (exact terms and name substrings; every bigram of a keyword) and the same
    judgement (`normalize.compare`).
    """

    def __init__(self):
        # term -> the row number, or a set of them when several rows have the term: most terms
        # belong to one row, and a set for each cost a 100,000-row file ~180 MB more
        self.postings: dict[str, int | set[int]] = {}
        self.rows: dict[int, FileRow] = {}

    def add(self, file_row):
        self.rows[file_row.row] = file_row
        number = file_row.row
        for term in checking.index_terms(file_row.keys):
            held = self.postings.get(term)
            if held is None:
                self.postings[term] = number
            elif isinstance(held, set):
                held.add(number)
            elif held != number:
                self.postings[term] = {held, number}

    def _rows(self, term):
        held = self.postings.get(term)
        if held is None:
            return set()
        return held if isinstance(held, set) else {held}

    def _candidates(self, keys):
        core = keys["company_key"].core
        found = set()
        for term in checking.lookup_terms(keys):
            found |= self._rows(term)
        grams = ["g:" + g for g in checking.name_grams(core)]
        if grams:
            lists = sorted((self._rows(g) for g in grams), key=len)
            keyword = lists[0].intersection(*lists[1:]) if lists[0] else set()
            extra = sorted(keyword - found)[: max(checking.CANDIDATE_LIMIT - len(found), 0)]
            found.update(extra)
        return found

    def matches(self, keys):
        out = []
        for number in sorted(self._candidates(keys)):
            earlier = self.rows[number]
            match = checking.compare(keys, earlier.keys)
            if match is not None:
                out.append((earlier, match))
        return out


def file_match_json(earlier, match):
    """A match with an earlier row of the file, as `dedup.hit_json` serialises a hit (`dedup.match_json`)."""
    return {"opportunity_id": earlier.opportunity_id, "company": earlier.company, "location": "file", "owner": None,
            **checking.match_json(match), "row": earlier.row}


def sort_matches(matches):
    """In the check's one order (`dedup.rank`); the database's records before the file's rows."""
    matches.sort(key=lambda m: (*checking.rank(m["verdict"], m["score"]), m["location"] == "file",
                                m.get("row") or 0, m["opportunity_id"] or 0))
    return matches


def verdict_of(matches, into=None):
    """The row's verdict from its matches: the engine's, then the one rule of a person's entry
    (`opportunities.entry_rule`): a resemblance to a customer of a division the agents may not
    take refuses the row as it refuses the entry form (unless the rows go `into` such a division)."""
    verdict = checking.verdict_of(m["verdict"] for m in matches)
    if verdict == checking.REVIEW and refusing(matches, into):
        return checking.DUPLICATE
    return verdict


def refusing(matches, into=None):
    """The matches that refuse a row (`opportunities.entry_rule`): duplicates, and resemblances to a
    closed division's customers."""
    return [m for m in matches if library.entry_rule(m["verdict"], m["location"], into or "library") != library.SIMILAR]


def checked_rows(session, reader, imported_ids=None, into=None, before_check=None, index=None):
    """(row, data, keys, result dict, problems) for every row, checked against the database
    and the earlier rows. `imported_ids`: ids this run wrote, reported as rows of the file;
    `into`: where the rows go (a row's verdict follows `opportunities.entry_rule`).

    The database is asked for dedup.CHECK_BATCH rows at a time (`dedup.check_many`: the
    same answers as a check a row, in a few statements); the earlier rows of the file are
    compared row by row, in order. While importing, the rows of a batch are checked before
    any of them is written: a row's match with an earlier row of its batch comes from the
    file's index (as a row this run imported always does), not from the database.
    `before_check()` is called before each batch is checked (a staged import ends its write there);
    `index`: the FileIndex to fill (a staged import keeps it for the end).
    """
    sources = active_sources(session)
    index = index if index is not None else FileIndex()
    # a check reads, so the bigrams' counts hold for the whole file; an import writes as it goes
    counts = {} if imported_ids is None else None
    for batch in chunks(reader, checking.CHECK_BATCH):
        if before_check is not None:
            before_check()
        if imported_ids is None:
            session.expunge_all()  # a check only reads: keep the identity map small on long files
        rows = [(number, data, row_problems(data, sources)) for number, data in
                ((number, row_input(values)) for number, values in batch)]
        checked = iter(checking.check_many(session, [_check_query(data) for _number, data, problems in rows
                                                     if not problems], counts=counts))
        for number, data, problems in rows:
            if problems:
                yield number, data, None, {"row": number, "verdict": "invalid", "matches": [], "errors": problems}, \
                    problems
                continue
            yield _checked_row(number, data, next(checked), index, imported_ids, into)


def _check_query(data):
    return {"company": data.company, "province": data.province, "city": data.city, "phone": data.phone,
            "fax": data.fax, "mobile": data.mobile, "wechat": data.wechat}


def _checked_row(number, data, checked, index, imported_ids, into=None):
    """A valid row's tuple for `checked_rows`: its database result with the earlier rows'
    matches added, and the row added to the file's index."""
    keys = row_keys(data)
    matches = [checking.hit_json(h) for h in checked.hits
               if imported_ids is None or h.opportunity.id not in imported_ids]
    file_row = FileRow(number, data.company, keys)
    matches += [file_match_json(earlier, match) for earlier, match in index.matches(keys)]
    index.add(file_row)
    result = {"row": number, "verdict": verdict_of(matches, into), "matches": sort_matches(matches)}
    if checked.truncated:
        result["truncated"] = True
    return number, data, file_row, result, None
