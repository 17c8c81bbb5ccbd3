"""Why the duplicate check matched two records: a code with its parameters.

A `Reason` is still the English text it always was (a `str`: logs, the command line's JSON, what is
stored), and carries `code` and `params` so that the pages, the API, the import's report and the scan
say it in the reader's language from the catalogs, never by replacing substrings of the English.

Codes:
- numbers: `same_number` (what, number, their), `same_number_no_area` (what, number, their),
  `number_other_area` (what, number, their, area, area_place, place);
- names: `same_name_same_place` (name, place), `same_name_no_place` (name), `same_name_other_place`
  (name, place), `same_name_same_trade` (name, trade, other_trade, place: the same 字号 and trade in the
  same place, a refusal), `same_name_same_trade_no_place` (name, trade, other_trade), `same_name_other_trade`
  (name, trade, other_trade), `homophone` (name, other), `one_char` (name, other: one character apart, from
  three characters of 字号), `contains` (name, other), `confirmed_other` (name). `name` is a 字号 in the
  `same_name_*_trade` codes, and `trade` the query's trade word, `other_trade` the other record's.
  No longer produced since issue 20 (kept for what was stored): `homophone_same_place` (name, other, place:
  a sound-alike is a resemblance now) and `similar_name` (name, ratio: now `one_char`).
`what` is landline, fax or mobile; `their` the other record's role of that number when it differs
(their fax), else None.
"""


class Reason(str):
    """The English text of a reason, with its `code` and `params` (JSON values)."""

    def __new__(cls, code, text, **params):
        reason = super().__new__(cls, text)
        reason.code = code
        reason.params = params
        return reason

    def __reduce__(self):  # pickled (the scan's worker pool) with its code
        return _rebuild, (self.code, str(self), self.params)

    def as_json(self):
        return {"code": self.code, "params": self.params, "text": str(self)}


def _rebuild(code, text, params):
    return Reason(code, text, **params)
