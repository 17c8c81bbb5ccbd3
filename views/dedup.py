"""The duplicate-check page (撞单检测, manual §三 steps 2-3) and its live JSON for the entry form."""
from flask import flash, g, jsonify, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from models import db
from services import check_limit, normalize, opportunities, places
from services.opportunities import LOCATION_LABELS, validate, OpportunityInput

from .base import CRMView

# The engine explains a match in English fragments; these are their translations, longest first.
_REASON_WORDS = [
    ("confirmed as another company of that name", _l("confirmed as another company of that name")),
    ("matches without area code, but", _l("matches without area code, but")),
    ("no place to tell them apart", _l("no place to tell them apart")),
    ("similar trade name", _l("similar trade name")),
    ("same trade name", _l("same trade name")),
    ("area code ignored", _l("area code ignored")),
    ("in another place", _l("in another place")),
    ("same place", _l("same place")),
    ("(their fax)", _l("(their fax)")),
    ("(their phone)", _l("(their phone)")),
    ("(their landline)", _l("(their landline)")),
    ("(their mobile)", _l("(their mobile)")),
    ("landline", _l("landline")),
    ("mobile", _l("mobile")),
    ("phone", _l("phone")),
    ("fax", _l("fax")),
    ("sounds the same as", _l("sounds the same as")),
    ("contains", _l("contains")),
    (" is ", _l(" is ")),
    (", not ", _l(", not ")),
]
VERDICT_LABELS = {"duplicate": _l("Duplicate"), "review": _l("Similar"), "new": _l("New")}


def explain(reason):
    for english, translated in _REASON_WORDS:
        reason = reason.replace(english, str(translated))
    return reason


def hit_view(hit, actor):
    """What a hit shows: name, place and whose library; details only for one's own."""
    opportunity = hit.opportunity
    own = opportunity.owner_id == actor.id
    return {
        "id": opportunity.id,
        "company": opportunity.company,
        "place": "".join(p for p in (opportunity.province, opportunity.city) if p and p != "None"),
        "location": str(LOCATION_LABELS[opportunity.location]),
        "owner": opportunity.owner_login or "",
        "own": own,
        "url": url_for("opportunities.details_view", id=opportunity.id) if own else None,
        "verdict": hit.match.verdict,
        # one's own customer is not a red 撞单: it is already there, and the name links to it
        "verdict_label": str(_l("In your library") if own else VERDICT_LABELS[hit.match.verdict]),
        "blocks": opportunities.blocks_entry(hit),  # this hit alone refuses the entry
        "reasons": [explain(r) for r in hit.match.reasons],
        "score": round(hit.match.score, 2),
    }


def _query_from(args, by="all"):
    fields = {"company": args.get("name", ""), "phone": args.get("phone", ""), "fax": args.get("fax", ""),
              "mobile": args.get("mobile", ""), "province": args.get("province", ""), "city": args.get("city", "")}
    fields = {k: v.strip()[:200] for k, v in fields.items()}
    if by in ("name", "phone", "fax"):  # the manual's three separate searches
        keep = {"name": "company"}.get(by, by)
        fields = {k: (v if k in (keep, "province", "city") else "") for k, v in fields.items()}
    return fields


def _limit_answer(refused):
    response = jsonify(error="check_limit", message=str(refused.message))
    response.status_code = 429
    return response


def _problems(fields):
    data = OpportunityInput(**{k: v for k, v in fields.items()})
    problems = {k: str(v) for k, v in validate(data).items() if fields.get(k)}
    return problems


def _decision(result):
    """What the save would do with these details (services.opportunities.decide, the rule `enter`
    applies): the page offers 录入 only when it accepts."""
    decision = opportunities.decide(db.session, current_user, result)
    return {"outcome": decision.outcome, "accepts": decision.accepts,
            "message": str(decision.message) if decision.message else "",
            "url": url_for("opportunities.details_view", id=decision.found.id) if decision.outcome == "yours" else None}


class DedupView(CRMView):
    @expose("/")
    def index(self):
        by = request.args.get("by", "all")
        fields = _query_from(request.args, by)
        searched = any(fields[k] for k in ("company", "phone", "fax", "mobile"))
        result, problems = None, {}
        if searched:
            problems = _problems(fields)
            if not problems:
                result = self._checked(fields)
        hits = [hit_view(h, current_user) for h in result.hits] if result else []
        decision = _decision(result) if result else None
        db.session.commit()  # the dedup_check entry, once the hits are read (a commit expires them)
        # district and town do not change the check: they ride along to the entry form
        below = {k: places.clean(request.args.get(k, "")) for k in ("district", "town")}
        return self.render("dedup/index.html", fields=fields, by=by, searched=searched, result=result, hits=hits,
                           decision=decision, problems=problems, provinces=normalize.provinces(), below=below)

    @expose("/check.json")
    def check_json(self):
        """The entry form's live check: the same engine, the same privacy as the page."""
        fields = _query_from(request.args)
        if not any(fields[k] for k in ("company", "phone", "fax", "mobile")):
            return jsonify(verdict="new", total=0, hits=[], problems={})
        problems = _problems(fields)
        if problems:
            return jsonify(verdict=None, total=0, hits=[], problems=problems)
        result = self._checked(fields)
        if result is None:
            return _limit_answer(g.check_refusal)
        hits = [hit_view(h, current_user) for h in result.hits[:50]]
        decision = _decision(result)
        db.session.commit()  # the dedup_check entry, once the hits are read (a commit expires them)
        return jsonify(verdict=result.verdict, verdict_label=str(VERDICT_LABELS[result.verdict]),
                       total=result.total, truncated=result.truncated, hits=hits, problems={},
                       summary=_("%(n)d customers in all", n=result.total),
                       outcome=decision["outcome"], message=decision["message"])

    @staticmethod
    def _checked(fields):
        """The audited, counted check (services.check_limit); None, with a message, past the daily limit.

        The caller commits the audit entry after reading the hits.
        """
        try:
            return check_limit.checked(db.session, current_user, **fields)
        except check_limit.CheckLimitReached as refused:
            db.session.commit()  # the first refusal's audit entry and notices to the admins
            g.check_refusal = refused
            if request.endpoint == "dedup.index":
                flash(str(refused.message), "error")
            return None

    # The place pickers' lists (static/js/place_picker.js): the parents in canonical names ("" where
    # unknown) and the names of the level below; anything unknown is an empty list, never an error.
    @expose("/cities.json")
    def cities_json(self):
        return _place_options("cities")

    @expose("/districts.json")
    def districts_json(self):
        return _place_options("districts")

    @expose("/towns.json")
    def towns_json(self):
        return _place_options("towns")


def _place_options(level):
    args = request.args
    place, names = places.options(level, args.get("province", ""), args.get("city", ""), args.get("district", ""))
    return jsonify({"province": place.province, "city": place.city, "district": place.district, level: names})
