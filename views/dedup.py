"""The duplicate-check page (撞单检测, manual §三 steps 2-3) and its live JSON for the entry form."""
from flask import flash, jsonify, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from models import db
from services.checking import entry_check, normalize, places
from services.checking.dedup import hit_json
from services.library import opportunities
from services.library.opportunities import LOCATION_LABELS

from .base import CRMView

VERDICT_LABELS = {"duplicate": _l("Duplicate"), "review": _l("Similar"), "new": _l("New")}


def hit_view(hit, actor, decision=None):
    """What a hit shows (`dedup.hit_json`, the one serialiser, in the reader's words), with the page's
    extras: its place, whose library, and a link only to one's own."""
    opportunity = hit.opportunity
    own = opportunity.owner_id == actor.id
    return {
        **hit_json(hit, words=True),
        "id": opportunity.id,
        "place": "".join(p for p in (opportunity.province, opportunity.city) if p and p != "None"),
        "location": str(LOCATION_LABELS[opportunity.location]),
        "owner": opportunity.owner_login or "",
        "own": own,
        "url": url_for("opportunities.details_view", id=opportunity.id) if own else None,
        # one's own customer is not a red 撞单: it is already there, and the name links to it
        "verdict_label": str(_l("In your library") if own else VERDICT_LABELS[hit.match.verdict]),
        "blocks": opportunities.blocks_entry(hit),  # this hit alone refuses the entry
    }


def _query_from(args, by="all"):
    fields = entry_check.clean_fields({"company": args.get("name", ""), **{
        k: args.get(k, "") for k in ("phone", "fax", "mobile", "wechat", "province", "city")}})
    if by in ("name", "phone", "fax", "wechat"):  # the manual's three separate searches, and WeChat's
        keep = {"name": "company"}.get(by, by)
        fields = {k: (v if k in (keep, "province", "city") else "") for k, v in fields.items()}
    return fields


def _limit_answer(refused):
    response = jsonify(error="check_limit", message=str(refused.message))
    response.status_code = 429
    return response


def _decision(decision):
    """What the save would do with these details (services.library.opportunities.decide, the rule `enter`
    applies): the page offers 录入 only when it accepts."""
    return {"outcome": decision.outcome, "accepts": decision.accepts,
            "message": str(decision.message) if decision.message else "",
            "url": url_for("opportunities.details_view", id=decision.found.id) if decision.outcome == "yours" else None}


def _checked(fields):
    """`entry_check.check_entry` of the fields; past the daily limit its refusal is committed (the first
    one's audit entry and notices to the admins) and, on the page, flashed. The caller commits the
    check's audit entry after reading the hits."""
    checked = entry_check.check_entry(db.session, current_user, fields)
    if checked.refused is not None:
        db.session.commit()
        if request.endpoint == "dedup.index":
            flash(str(checked.refused.message), "error")
    return checked


class DedupView(CRMView):
    @expose("/")
    def index(self):
        by = request.args.get("by", "all")
        fields = _query_from(request.args, by)
        searched = any(fields[k] for k in entry_check.KEY_FIELDS)
        result, problems, decision = None, {}, None
        if searched:
            checked = _checked(fields)
            result, problems = checked.result, {k: str(v) for k, v in checked.problems.items()}
            decision = _decision(checked.decision) if result else None
        hits = [hit_view(h, current_user) for h in result.hits] if result else []
        db.session.commit()  # the dedup_check entry, once the hits are read (a commit expires them)
        # district and town do not change the check: they ride along to the entry form
        below = {k: places.clean(request.args.get(k, "")) for k in ("district", "town")}
        return self.render("dedup/index.html", fields=fields, by=by, searched=searched, result=result, hits=hits,
                           decision=decision, problems=problems, provinces=normalize.provinces(), below=below)

    @expose("/check.json")
    def check_json(self):
        """The entry form's live check: the same engine, the same privacy as the page."""
        fields = _query_from(request.args)
        if not any(fields[k] for k in entry_check.KEY_FIELDS):
            return jsonify(verdict="new", total=0, hits=[], problems={})
        checked = _checked(fields)
        if checked.problems:
            return jsonify(verdict=None, total=0, hits=[], problems={k: str(v) for k, v in checked.problems.items()},
                           fields=entry_check.field_results(checked, current_user))
        if checked.refused is not None:
            return _limit_answer(checked.refused)
        result = checked.result
        hits = [hit_view(h, current_user) for h in result.hits[:50]]
        decision = _decision(checked.decision)
        said = entry_check.field_results(checked, current_user)  # each field's own word, under it
        db.session.commit()  # the dedup_check entry, once the hits are read (a commit expires them)
        return jsonify(verdict=result.verdict, verdict_label=str(VERDICT_LABELS[result.verdict]),
                       total=result.total, truncated=result.truncated, hits=hits, problems={},
                       summary=_("%(n)d customers in all", n=result.total),
                       outcome=decision["outcome"], message=decision["message"], fields=said)

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
