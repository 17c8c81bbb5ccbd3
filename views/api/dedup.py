"""GET /dedup: the duplicate check (撞单检测), through the one front door of a person's check
(services/checking/entry_check.py), as the page."""
from flask import g, request

from models import db
from services.checking import dedup, entry_check, normalize

from . import bp
from .errors import error_response, invalid_response
from .openapi import MATCH_VERDICTS, add_schemas, operation, query, ref


@bp.get("/dedup")
@operation(
    "Duplicate check (撞单检测)", tags=["opportunities"],
    description="Where a company already lives, by name keyword (fuzzy), landline, mobile and fax (area codes "
                "ignored) and WeChat ID. Shows each match's name, place and owner only. Give at least one of name, "
                "phone, mobile, fax, wechat; province and city tell apart same-named companies of different places.",
    parameters=[
        query("name", "company name or keyword", {"type": "string", "examples": ["扬州五环"]}),
        query("phone", "landline, with or without area code"),
        query("mobile", "mobile number"), query("fax", "fax, with or without area code"),
        query("wechat", "WeChat ID (微信号), any case; one that is a mobile number is checked as that mobile"),
        query("province", "province, to tell same-named companies apart"), query("city", "city, likewise"),
    ],
    responses={200: ("The duplicate-check result", "DedupResult"), 422: None, 429: None},
)
def dedup_check():
    """Through the one front door of a person's check (services/checking/entry_check.py), as the page."""
    raw = {name: request.args.get(name) for name in ("phone", "mobile", "fax", "wechat", "province", "city")}
    checked = entry_check.check_entry(db.session, g.api_user, {"company": request.args.get("name"), **raw})
    if checked.problems:
        return invalid_response({("name" if name == "company" else name): text
                                 for name, text in checked.problems.items()})
    if checked.refused is not None:
        db.session.commit()  # the first refusal tells the admins
        return error_response(429, "check_limit", checked.refused.message)
    result, decision = checked.result, checked.decision
    answer = {**dedup.result_json(result, words=True), "truncated": result.truncated,
              "outcome": decision.outcome, "message": str(decision.message) if decision.message else ""}
    db.session.commit()  # the dedup_check audit entry, once the hits are read (a commit expires them)
    return answer


# --- the schema of this call ---------------------------------------------------------------
add_schemas({
    "DedupResult": {
        "type": "object",
        "required": ["verdict", "matches"],
        "properties": {
            "verdict": {"enum": [*MATCH_VERDICTS, normalize.NEW]},
            "matches": {"type": "array", "items": ref("Match"), "description": "best match first"},
            "truncated": {"type": "boolean",
                          "description": "the keyword is too common: not every candidate was judged; refine it"},
        },
    },
})
