"""Why the duplicate check matched two records: a code with its parameters.

A `Reason` is still the English text it always was (a `str`: logs, the command line's JSON, what is
stored), and carries `code` and `params` so that the pages, the API, the import's report and the scan
say it in the reader's language from the catalogs, never by replacing substrings of the English.

Codes:
- numbers: `same_number` (what, number, their), `same_number_no_area` (what, number, their),
  `number_other_area` (what, number, their, area, area_place, place); `same_wechat` (number: the
  WeChat ID; one that is a mobile number matches as that mobile, `same_number`);
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
from flask_babel import lazy_gettext as _l


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


# --- saying a reason in the reader's language ---------------------------------------------------
# One msgid per code, with the code's parameters by name: the catalogs word each reason whole, so a
# translation may order its parts as its language does. `their` is a part of its own (" (their fax)").
WORDS = {
    "same_number": _l("same %(what)s %(number)s%(their)s"),
    "same_number_no_area": _l("same %(what)s %(number)s%(their)s, area code ignored"),
    "number_other_area": _l("%(what)s %(number)s%(their)s matches without area code, but %(area)s is "
                            "%(area_place)s, not %(place)s"),
    "same_wechat": _l("same WeChat ID %(number)s"),
    "same_name_same_place": _l("same trade name %(name)s, same place %(place)s"),
    "same_name_no_place": _l("same trade name %(name)s, no place to tell them apart"),
    "same_name_other_place": _l("same trade name %(name)s in another place (%(place)s)"),
    "homophone_same_place": _l("%(other)s sounds the same as %(name)s, same place %(place)s"),
    "homophone": _l("%(other)s sounds the same as %(name)s"),
    "contains": _l("%(name)s contains %(other)s"),
    "similar_name": _l("similar trade name %(name)s (%(ratio)s%%)"),
    "one_char": _l("%(other)s is one character from %(name)s"),
    "same_name_same_trade": _l("same trade name %(name)s and trade (%(other_trade)s / %(trade)s), same place "
                               "%(place)s"),
    "same_name_same_trade_no_place": _l("same trade name %(name)s and trade (%(other_trade)s / %(trade)s), no place "
                                        "to tell them apart"),
    "same_name_other_trade": _l("same trade name %(name)s in another trade (%(other_trade)s, not %(trade)s)"),
    "confirmed_other": _l("same trade name %(name)s, confirmed as another company of that name"),
}
NUMBER_WORDS = {"landline": _l("landline"), "fax": _l("fax"), "mobile": _l("mobile"), "phone": _l("landline")}
THEIR = _l(" (their %(role)s)")
UNKNOWN_PLACE = "unknown place"  # what the engine writes for a record without a place


def say(reason):
    """A reason in the reader's language, from its code and parameters: a `Reason`, or one stored as
    JSON (`as_json`). A plain string (stored before reasons had codes) or a code no catalog words yet
    is shown as it is."""
    code, params, text = _parts(reason)
    words = WORDS.get(code)
    if words is None:
        return text
    params = dict(params)
    for name in ("what", "their"):
        if params.get(name) in NUMBER_WORDS:
            params[name] = str(NUMBER_WORDS[params[name]])
    params["their"] = str(THEIR) % {"role": params["their"]} if params.get("their") else ""
    for name in ("place", "area_place"):
        if params.get(name) == UNKNOWN_PLACE:
            params[name] = str(_l("unknown place"))
    try:
        return str(words) % params
    except (KeyError, TypeError, ValueError):  # parameters of another version of the code: the text it had
        return text


def said(reasons):
    """[say(r)] of a list of reasons."""
    return [say(r) for r in reasons or ()]


def codes(reasons):
    """[{"code", "params"}] of a list of reasons, for integrations; a plain string has the code null."""
    out = []
    for reason in reasons or ():
        code, params, _text = _parts(reason)
        out.append({"code": code, "params": params})
    return out


def stored(reasons):
    """A list of reasons as stored in JSON (the import's preview, the scan's groups): `as_json` objects."""
    return [r.as_json() if isinstance(r, Reason) else r for r in reasons or ()]


def _parts(reason):
    """(code, params, English text) of a Reason, a stored object or a plain string (code None)."""
    if isinstance(reason, Reason):
        return reason.code, reason.params, str(reason)
    if isinstance(reason, dict):
        return reason.get("code"), reason.get("params") or {}, reason.get("text") or ""
    return None, {}, str(reason)
