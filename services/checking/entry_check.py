"""A person's duplicate check (撞单检测): the one front door of the page, the entry form's live check
and the API.

Raw fields in; out come the problems (the same limits as the save's, never a silent cut), the
check's result (audited and counted, services/checking/check_limit.py) and what the save would do with
these details (`opportunities.decide`). The views only read the input, call `check_entry` and
render what it says; the caller commits (the audit entry, and the first refusal's notices).
"""
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from .. import library
from . import check_limit

QUERY_FIELDS = ("company", "phone", "fax", "mobile", "wechat", "province", "city")
KEY_FIELDS = ("company", "phone", "fax", "mobile", "wechat")  # at least one of them: a place alone finds nothing
NEEDS_A_KEY = _l("Give a company name, a landline, a mobile, a fax or a WeChat ID to check.")


@dataclass
class EntryCheck:
    """What a person's check says. `problems` ({field: message}) and `refused` (past the daily limit,
    a CheckLimitReached) leave `result` None; otherwise `decision` is `opportunities.decide`'s."""
    fields: dict
    problems: dict = field(default_factory=dict)
    result: object = None
    decision: object = None
    refused: object = None

    @property
    def searched(self):
        return any(self.fields[name] for name in KEY_FIELDS)


def clean_fields(raw):
    """The query's fields from raw input: text on one line, trimmed, never cut (a value too long is
    a problem `check_entry` names)."""
    data = library.OpportunityInput.from_mapping({name: raw.get(name) for name in QUERY_FIELDS})
    return {name: getattr(data, name).strip() for name in QUERY_FIELDS}


def problems_of(fields):
    """The save's own problems of the fields given (an empty field is not one: the check asks by any key)."""
    data = library.OpportunityInput(**fields)
    return {name: message for name, message in library.validate(data).items() if fields.get(name)}


def check_entry(session, actor, raw):
    """Validate, check (audited, counted), decide: the one way a person's check runs."""
    fields = clean_fields(raw)
    checked = EntryCheck(fields)
    if not checked.searched:
        checked.problems = {"company": NEEDS_A_KEY}
        return checked
    checked.problems = problems_of(fields)
    if checked.problems:
        return checked
    try:
        checked.result = check_limit.checked(session, actor, **fields)
    except check_limit.CheckLimitReached as refused:
        checked.refused = refused
        return checked
    checked.decision = library.decide(session, actor, checked.result)
    return checked


# --- what each field says on its own (the entry form writes it right under the field) --------------
NO_DUPLICATE = _l("No duplicate")


def field_results(checked, actor):
    """{field: {"state", "message", "count"}} for each key field typed: its problem ("problem"), the
    matches found by it ("matches", the worst of them said) or 无重复 ("none"). A number's matches are
    its field's: a landline's the 电话's, a mobile's the 手机's (the engine asks them as one), a WeChat
    ID's the 微信's (one that is a mobile number matches as a mobile: the 手机's, or the 微信's alone)."""
    typed = [name for name in KEY_FIELDS if checked.fields.get(name)]
    out = {name: {"state": "problem", "message": str(checked.problems[name]), "count": 0}
           for name in typed if name in checked.problems}
    if checked.problems or checked.result is None:
        return out
    found = {name: [] for name in typed}
    for hit in checked.result.hits:
        for name in _fields_of(hit, checked.fields):
            found[name].append(hit)
    for name in typed:
        out[name] = _said(found[name], actor)
    return out


def _said(hits, actor):
    if not hits:
        return {"state": "none", "message": str(NO_DUPLICATE), "count": 0}
    n = len(hits)
    if all(hit.opportunity.owner_id == actor.id for hit in hits):
        message, tone = _l("Already in your library, listed below."), "own"
    elif any(library.blocks_entry(hit) for hit in hits):
        message, tone = _l("Already a customer: %(n)d listed below. It cannot be entered.", n=n), "blocks"
    else:
        message, tone = _l("%(n)d similar customers listed below: check them.", n=n), "similar"
    return {"state": "matches", "tone": tone, "message": str(message), "count": n}


def _fields_of(hit, fields):
    """The query's fields that found this hit (`Match.matched_on` names the name, phone and fax)."""
    on = set(hit.match.matched_on)
    out = {"company"} if "name" in on and fields.get("company") else set()
    for name in ("fax", "wechat"):
        if name in on and fields.get(name):
            out.add(name)
    if "phone" in on:
        numbers = [name for name in ("phone", "mobile") if fields.get(name)] or ["wechat"]
        if len(numbers) == 2:  # both typed: the reason says which kind of number matched
            kinds = {getattr(reason, "params", {}).get("what") for reason in hit.match.reasons}
            numbers = [name for name, kind in (("phone", "landline"), ("mobile", "mobile")) if kind in kinds] or numbers
        out.update(numbers)
    return out
