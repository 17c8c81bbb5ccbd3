"""Entering and claiming opportunities (manual §三), under the duplicate check and the cap.

Every way into a library goes through `take_lock` (services/library/locks.py) first: the check and the cap are
decided and written inside one transaction that no other entry or claim interleaves.
"""
import json
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, insert, or_, select
from sqlalchemy import delete as delete_rows
from sqlalchemy.exc import IntegrityError

from models import (
    AbandonReason,
    InfoSource,
    Opportunity,
    OpportunityPhone,
    OpportunityTerm,
    ReviewConfirmation,
    User,
)

from .. import audit, checking, clock, notices, people, text
from ..errors import RuleViolation
from . import capacity as library
from . import claiming
from .events import record_event
from .locks import take_lock

LOCATION_LABELS = {
    "library": _l("Library"),
    "public_pool": _l("Public pool"),
    "agent_admin_pool": _l("Agent-admin pool"),
    "telesales": _l("Telesales division"),
    "industry": _l("Industry division"),
}
FIELD_LIMITS = {"company": 200, "province": 32, "city": 32, "district": 32, "town": 32, "address": 300,
                "contact": 64, "phone": 100, "mobile": 64, "fax": 100, "email": 254, "industry": 64,
                "wechat": 32, "qq": 16}
FIELD_LABELS = {
    "company": _l("Company name"), "province": _l("Province"), "city": _l("City"), "district": _l("District"),
    "town": _l("Town or subdistrict"), "address": _l("Address"), "contact": _l("Contact person"),
    "phone": _l("Landline"), "mobile": _l("Mobile"), "fax": _l("Fax"), "email": _l("Email"), "industry": _l("Industry"), "source": _l("Information source"),
    "wechat": _l("WeChat"), "qq": _l("QQ"),
}
CONTACT_PROBLEMS = {  # a WeChat or QQ field that is no ID, said to the person who typed it
    "wechat": _l("A WeChat ID has 6 to 20 letters, digits, - or _ and begins with a letter (or is a mobile number)."),
    "qq": _l("A QQ number has 5 to 11 digits."),
}


class DuplicateFound(RuleViolation):
    """The entry collides with existing records; `result` says which and where."""

    def __init__(self, message, result, code="duplicate"):
        super().__init__(message, field="company", code=code)
        self.result = result


@dataclass
class OpportunityInput:
    company: str = ""
    province: str = ""
    city: str = ""
    district: str = ""
    town: str = ""
    address: str = ""
    contact: str = ""
    phone: str = ""
    mobile: str = ""
    fax: str = ""
    email: str = ""
    wechat: str = ""
    qq: str = ""
    industry: str = ""
    source: str = ""
    key_customer: bool = False

    @classmethod
    def from_mapping(cls, data):
        values = {}
        for name in cls.__dataclass_fields__:
            value = data.get(name)
            if name == "key_customer":
                values[name] = value in (True, 1, "1", "true", "on", "y", "yes")
            else:
                value = value if isinstance(value, str) else ("" if value is None else str(value))
                values[name] = text.one_line(value)  # a tab or a line break pasted in is a space
        return cls(**values)


def validate(data):
    """Field problems as {field: message}; empty when the input may be checked and saved."""
    problems = {}
    for name, limit in FIELD_LIMITS.items():
        if len(getattr(data, name)) > limit:
            problems[name] = _l("%(field)s may have at most %(n)d characters.", field=FIELD_LABELS[name], n=limit)
    # a field too long is named for its length only (but for the place: an unknown one is named as such)
    if "company" not in problems:
        problems.update(_company_problem(data))
    for name in ("phone", "mobile", "fax"):
        if name not in problems:
            problems.update(_number_problem(data, name))
    for name, problem in (("wechat", checking.wechat_problem), ("qq", checking.qq_problem)):
        if name not in problems and problem(getattr(data, name)):
            problems[name] = CONTACT_PROBLEMS[name]
    problems.update(_place_problem(data))
    if "email" not in problems:
        problems.update(_email_problem(data))
    return problems


def _company_problem(data):
    if not data.company:
        return {"company": _l("Enter the company name.")}
    # placed as `dedup.query_keys` places it: the same cached key, computed once per row
    if len(checking.company_key(data.company, data.province or None, data.city or None).core
           or checking.fold(data.company)) < 2:
        return {"company": _l("The company name is too short to tell companies apart.")}
    return {}


def _number_problem(data, name):
    """The phone, mobile or fax field, if it holds something that is not a number we can read."""
    value = getattr(data, name)
    if value and checking.phone_problem(value):
        return {name: _l("%(field)s is not a phone number we can read.", field=FIELD_LABELS[name])}
    return {}


def _place_problem(data):
    """The province, or else the city, if it names no place we know."""
    if not (data.province or data.city):
        return {}
    province, city, _district = checking.canonical_place(data.province or None, data.city or None)
    if data.province and province is None:
        return {"province": _l("Unknown province.")}
    if data.city and city is None:
        return {"city": _l("Unknown city.")}
    return {}


def _email_problem(data):
    if not data.email:
        return {}
    try:
        validate_email(data.email, check_deliverability=False)
    except EmailNotValidError:
        return {"email": _l("This is not a valid email address.")}
    return {}


def _source(session, name):
    if not name:
        return None
    source = session.scalar(select(InfoSource).where(InfoSource.name == name, InfoSource.active.is_(True)))
    if source is None:
        raise RuleViolation(_l("Choose an information source from the list."), field="source")
    return source


def where_it_lives(found, actor=None):
    """"the public pool", "zhangsan's library"...: the words a refusal uses, of a `dedup.Found`."""
    if found.location == "library":
        if actor is not None and found.owner_id == actor.id:
            return _l("your own library")
        return _l("the library of %(owner)s", owner=found.owner_login)
    return LOCATION_LABELS[found.location]


# The manual's problem 1: a customer of the telesales or industry division is not the agents' to
# take, so even a resemblance to one cannot be confirmed away as "another company".
CLOSED_LOCATIONS = ("telesales", "industry")


@dataclass
class EntryDecision:
    """What `enter` does with these details for this actor; the check page and the form's live check
    show it, so they cannot promise what the save refuses.

    outcome: "enter", "confirm" (a resemblance: enters once confirmed), "duplicate" (refused,
    `found` says where it lives), "yours" (already the actor's own, `found`), "library_full".
    """
    outcome: str
    message: object = None
    found: object = None

    @property
    def accepts(self):
        return self.outcome in ("enter", "confirm")


# What a hit means for a person's entry, an import row and a web lead (docs/dedup.md, "What 相似 means").
DUPLICATE, CLOSED, SIMILAR = "duplicate", "closed", "similar"


def entry_rule(verdict, location, into="library"):
    """The one rule of what a hit means for a new record going `into` a place, whatever way it comes:
    DUPLICATE (the engine's duplicate: refused), CLOSED (a resemblance to a customer of the telesales
    or industry division, which the agents may not take: refused like a duplicate, unless the record
    goes into one of those divisions itself), else SIMILAR (entered once a person confirms it is
    another company). `verdict`, `location`: the hit's (a file's earlier row has location "file")."""
    if verdict == checking.DUPLICATE:
        return DUPLICATE
    if location in CLOSED_LOCATIONS and into not in CLOSED_LOCATIONS:
        return CLOSED
    return SIMILAR


def blocks_entry(hit, into="library"):
    """A hit that refuses the entry (`entry_rule`): a duplicate, or any hit in another division."""
    return entry_rule(hit.match.verdict, hit.opportunity.location, into) != SIMILAR


def decide(session, actor, result, location="library"):
    """The one rule of an entry, given the duplicate check's `result` for its details."""
    if location == "library" and not library.has_room(session, actor):
        return EntryDecision("library_full", library.refusal_message("enter", session, actor))
    found = next((h.opportunity for h in result.hits if blocks_entry(h, location)), None)
    if found is not None:
        return _refusal(found, actor)
    if result.verdict == checking.REVIEW:
        return EntryDecision("confirm", _l("Similar customers exist. Check them, then confirm that this is another "
                                           "company."))
    return EntryDecision("enter")


def _refusal(found, actor):
    if actor is not None and found.owner_id == actor.id:
        return EntryDecision("yours", _l("%(company)s is already in your library.", company=found.company), found)
    if found.location in CLOSED_LOCATIONS:
        message = _l("A similar customer (%(company)s) is in the %(place)s: it cannot be entered here.",
                     company=found.company, place=LOCATION_LABELS[found.location])
    else:
        message = _l("This customer already exists (%(company)s, in %(place)s) and cannot be entered.",
                     company=found.company, place=where_it_lives(found))
    return EntryDecision("duplicate", message, found)


def _refuse_unless_accepted(decision, result, confirm_review):
    if decision.outcome == "library_full":
        raise RuleViolation(decision.message, code="library_full")
    if decision.outcome in ("duplicate", "yours"):
        raise DuplicateFound(decision.message, result)
    if decision.outcome == "confirm" and not confirm_review:
        raise DuplicateFound(decision.message, result, code="review_required")


def enter(session, actor, data, confirm_review=False, location="library", department=None):
    """§三: enter an opportunity into the actor's library (or a pool, for imports by admins).

    Checks again inside the transaction, after taking the lock, and applies `decide`: a
    duplicate (or a customer of another division) is refused with where it lives, a
    resemblance needs `confirm_review`, and a full library is refused.
    """
    problems = validate(data)
    if problems:
        field, message = next(iter(problems.items()))
        raise RuleViolation(message, field=field)
    take_lock(session)
    result = checking.check(session, company=data.company, province=data.province, city=data.city,
                         phone=data.phone, fax=data.fax, mobile=data.mobile, wechat=data.wechat)
    _refuse_unless_accepted(decide(session, actor, result, location), result, confirm_review)
    opportunity = _insert_or_refuse(session, actor, data, location, department)
    if result.verdict == checking.REVIEW:
        resembled = [{"opportunity_id": h.opportunity.id, "company": h.opportunity.company,
                      "score": round(h.match.score, 2)} for h in result.hits]
        session.add(ReviewConfirmation(opportunity_id=opportunity.id, user_id=actor.id if actor else None,
                                       resembled=json.dumps(resembled, ensure_ascii=False), created_at=clock.now()))
    details = {"company": opportunity.company, "verdict": result.verdict}
    if result.verdict == checking.REVIEW:
        details["resembled"] = audit.collisions(result)
    audit.record(session, actor, "opportunity_entered", target=opportunity, details=details)
    return opportunity


def unless_mobile_taken(session, write):
    """(what `write()` returns, False), run in a savepoint; (None, True) when the unique index
    of mobiles (uq_opportunity_phone_mobile) refused it, the savepoint rolled back.

    The duplicate check refuses first what the index would; this turns a collision that the
    check missed (a holder beyond its candidates, a record written around it) into a clean
    refusal for the caller to word. Any other constraint is a bug and raises.
    """
    try:
        with session.begin_nested():
            return write(), False
    except IntegrityError as collision:
        if "opportunity_phone" not in str(collision.orig):
            raise
    return None, True


def _insert_or_refuse(session, actor, data, location, department):
    """`insert_opportunity`, where the unique index of mobiles has the last word (`unless_mobile_taken`)."""
    opportunity, taken = unless_mobile_taken(session, lambda: insert_opportunity(session, actor, data, location,
                                                                                        department))
    if not taken:
        return opportunity
    result = checking.check(session, company=data.company, province=data.province, city=data.city,
                         phone=data.phone, fax=data.fax, mobile=data.mobile, wechat=data.wechat)
    decision = decide(session, actor, result, location)
    if decision.outcome in ("duplicate", "yours"):
        raise DuplicateFound(decision.message, result)
    raise DuplicateFound(_l("A customer with this phone number exists already and cannot be entered."), result)


def insert_opportunity(session, actor, data, location, department, pending=None):
    """The row of a new opportunity and its keys (phones, the check's terms), without any check:
    the callers checked and hold the lock (`enter`, a web lead, an import). `pending`: the id of
    the browser import that writes it hidden until its end (services/imports/staging.py): soft-deleted,
    and its mobiles outside the unique index until then."""
    keys = checking.record_keys_of(data)
    company_key = keys["company_key"]
    # the pickers' short names (扬州, 小榄) kept in full; a place the name gives fills what is left empty
    place = checking.place_of_record(data, company_key)
    now = clock.now()
    in_library = location == "library"
    opportunity = Opportunity(
        company=data.company, province=place.province or None, city=place.city or None,
        district=place.district or None, town=place.town or None, address=data.address, contact=data.contact,
        phone=data.phone, mobile=data.mobile, fax=data.fax, email=data.email, industry=data.industry,
        wechat=checking.fold_wechat(data.wechat) or None, qq=checking.fold_qq(data.qq) or None,
        source=_source(session, data.source), key_customer=data.key_customer, location=location,
        owner_id=actor.id if in_library else None,
        department_id=actor.department_id if in_library else (department.id if department else None),
        entered_at=now, created_at=now, created_by_id=actor.id if actor else None,
        name_folded=company_key.folded[:200], name_core=company_key.core[:200],
        norm_province=company_key.province, norm_city=company_key.city, norm_district=company_key.district,
        deleted_at=now if pending is not None else None, pending_import_id=pending,
    )
    session.add(opportunity)
    session.flush()
    phones = checking.phone_rows(opportunity.id, keys)
    if pending is not None:
        phones = [{**row, "kind": "pending"} if row["kind"] == "mobile" else row for row in phones]
    if phones:
        session.execute(insert(OpportunityPhone), phones)
    session.execute(insert(OpportunityTerm), checking.index_rows(opportunity.id, keys))
    return opportunity


def _live(session, opportunity_id):
    """The opportunity unless it is soft-deleted (a deleted one is not there for any rule)."""
    opportunity = session.get(Opportunity, opportunity_id)
    return opportunity if opportunity is not None and opportunity.deleted_at is None else None


def claim(session, actor, opportunity_id):
    """Take an opportunity from the public pool into the actor's library, under the cap and the pool rules of the
    actor's company (services/library/claiming.py); the claim is kept in its history, which the daily limit counts."""
    take_lock(session)
    opportunity = _live(session, opportunity_id)
    if opportunity is None or opportunity.location != "public_pool":
        raise RuleViolation(_l("This customer is no longer in the public pool."), code="not_found")
    now = clock.now()
    claiming.check(session, actor, opportunity, now)
    library.require_room(session, actor, "claim")
    record_event(session, opportunity, "claim", actor, to_owner_id=actor.id)
    opportunity.location, opportunity.owner_id = "library", actor.id
    opportunity.department_id, opportunity.entered_at = actor.department_id, now
    opportunity.last_valid_contact_at = None  # a new library starts its own count
    audit.record(session, actor, "claim", target=opportunity, details={"company": opportunity.company})
    return opportunity


def _assignable(actor):
    """SQL condition on User: the active library keepers `actor` administers (an agent admin: their company's;
    a subsystem admin: anyone's)."""
    return and_(User.role.in_(people.LIBRARY_ROLES), User.active.is_(True), User.locked_at.is_(None),
                User.deleted_at.is_(None), people.user_clause(actor))


def pool_assignees(session, actor):
    """Whom an admin may give a public-pool customer to, by login."""
    if not people.is_admin(actor):
        return []
    return session.scalars(select(User).where(_assignable(actor)).order_by(User.login)).all()


def _assignee(session, actor, assignee):
    if assignee is None or session.scalar(select(User.id).where(User.id == assignee.id, _assignable(actor))) is None:
        raise RuleViolation(_l("Choose a salesperson you administer."), field="owner")
    return assignee


def assign(session, actor, opportunity_id, assignee):
    """An admin gives a public-pool customer to a library keeper they administer, at once: the embargo on new
    arrivals binds salespeople only. Under the library lock and the assignee's cap, like a claim; kept in the
    history as a 'reassign' (not a 'claim', so it does not count toward the assignee's daily claims)."""
    take_lock(session)
    if not people.is_admin(actor):
        raise RuleViolation(_l("Only admins assign customers from the public pool."), code="forbidden")
    opportunity = _live(session, opportunity_id)
    if opportunity is None or opportunity.location != "public_pool":
        raise RuleViolation(_l("This customer is no longer in the public pool."), code="not_found")
    assignee = _assignee(session, actor, assignee)
    return _given_to(session, actor, opportunity, assignee)


def search_clause(term):
    """"Any known detail" (§四): a phone or fax without area code, a name keyword, a contact, a WeChat ID or QQ."""
    term = (term or "").strip()[:100]
    keys = checking.phone_keys(term) if sum(c.isdigit() for c in term) >= 5 else []
    if keys:
        # By the check's index of phone terms rather than opportunity_phone: a term stays with every
        # record, a mobile key does not (a deleted record's, or a later holder's that migration 0006 removed).
        # a QQ number by its index term too (q:), not by its column: the digits alone name no column here
        terms = [checking.term_hash(prefix + k.local) for k in keys for prefix in ("p:", "q:")]
        found = Opportunity.id.in_(select(OpportunityTerm.opportunity_id).where(OpportunityTerm.term.in_(terms)))
        return or_(found, *_id_clauses(term)) if any(c.isalpha() for c in term) else found
    folded = checking.fold(term)
    clauses = [Opportunity.contact.contains(term, autoescape=True), *_id_clauses(term)]
    if folded:
        clauses.append(Opportunity.name_folded.contains(folded, autoescape=True))
        core = checking.company_key(term).core  # "上海市瑞丽" finds 上海瑞丽服装厂 by its trade name
        if core and core != folded:
            clauses.append(Opportunity.name_core.contains(core, autoescape=True))
    return or_(*clauses)


def _id_clauses(term):
    """A WeChat ID or QQ number, or a part of one: both are kept folded (lower case, half-width)."""
    folded = checking.fold_wechat(term)
    if not folded:
        return []
    return [Opportunity.wechat.contains(folded, autoescape=True), Opportunity.qq.contains(folded, autoescape=True)]


def save_choice(session, actor, model, item, name, active=True):
    """An entry of a list the subsystem admin keeps (information sources, abandon reasons)."""
    if actor is not None and actor.role != "subsystem_admin":
        raise RuleViolation(_l("Only a subsystem admin keeps this list."))
    name = (name or "").strip()
    if not name or len(name) > 64:
        raise RuleViolation(_l("An entry has a name of 1 to 64 characters."), field="name")
    clash = session.scalar(select(model.id).where(model.name == name))
    if clash is not None and (item is None or clash != item.id):
        raise RuleViolation(_l("%(name)s is on the list already.", name=name), field="name")
    item = item or model()
    item.name, item.active = name, bool(active)
    session.add(item)
    return item


# --- abandoning, and the agent-admin pool (manual §五) ----------------------------------------


def abandon(session, actor, opportunity_id, reason):
    """§五: give up an opportunity of one's own library, with a reason from the admins' list.

    It moves to the agent-admin pool of the owner's agent company; who, when and why is
    kept in its history (OpportunityEvent).
    """
    take_lock(session)
    opportunity = _live(session, opportunity_id)
    if opportunity is None or actor is None or opportunity.owner_id != actor.id:
        raise RuleViolation(_l("This customer is not in your library."), code="not_found")
    name = (reason or "").strip() if isinstance(reason, str) else ""
    if not name:
        raise RuleViolation(_l("Choose why you abandon this customer."), field="reason")
    chosen = session.scalar(select(AbandonReason).where(AbandonReason.name == name, AbandonReason.active.is_(True)))
    if chosen is None:
        raise RuleViolation(_l("Choose a reason from the list."), field="reason")
    company = people.company_department(session, actor.department)
    if company is None:
        raise RuleViolation(_l("Only the staff of an agent company can abandon customers to its pool."))
    record_event(session, opportunity, "abandon", actor, from_owner_id=actor.id, reason=chosen.name)
    opportunity.location, opportunity.owner_id, opportunity.department_id = "agent_admin_pool", None, company.id
    opportunity.locked_by_id = opportunity.locked_at = None  # a lock ends when the customer leaves the library
    audit.record(session, actor, "abandon", target=opportunity,
                 details={"company": opportunity.company, "reason": chosen.name})
    notices.abandoned(session, opportunity, actor, chosen.name)  # recorded now, posted by the worker
    session.flush()
    return opportunity


def _pooled(session, actor, opportunity_id):
    """An opportunity of the agent-admin pool that the actor administers, else not_found."""
    opportunity = _live(session, opportunity_id)
    if opportunity is None or opportunity.location != "agent_admin_pool" or actor is None:
        raise RuleViolation(_l("This customer is no longer in the agent-admin pool."), code="not_found")
    if actor.role == "subsystem_admin":
        return opportunity
    prefix = people.company_path(actor.department) if actor.role == "agent_admin" else ""
    if not prefix or opportunity.department is None or not opportunity.department.path.startswith(prefix):
        raise RuleViolation(_l("This customer is no longer in the agent-admin pool."), code="not_found")
    return opportunity


def reassign(session, actor, opportunity_id, salesperson):
    """§五: the agent admin gives a pooled opportunity to a salesperson of the company, under the cap."""
    take_lock(session)
    opportunity = _pooled(session, actor, opportunity_id)
    if (salesperson is None or not salesperson.active or salesperson.locked_at is not None
            or salesperson.role not in people.LIBRARY_ROLES
            or people.company_path(salesperson.department) != opportunity.department.path):
        raise RuleViolation(_l("Choose a salesperson of this agent company."), field="salesperson")
    return _given_to(session, actor, opportunity, salesperson)


def _given_to(session, actor, opportunity, person):
    """An admin gives `opportunity` to `person`'s library (from the public pool or an agent admin's pool), within
    its cap: a reassign in its history (not a claim: the person's daily claims stay theirs) and the audit."""
    library.require_room(session, person, "reassign")
    record_event(session, opportunity, "reassign", actor, to_owner_id=person.id)
    opportunity.location, opportunity.owner_id = "library", person.id
    opportunity.department_id, opportunity.entered_at = person.department_id, clock.now()
    opportunity.last_valid_contact_at = None  # a new library starts its own count
    audit.record(session, actor, "reassign", target=opportunity,
                 details={"company": opportunity.company, "to": person.login})
    session.flush()
    return opportunity


def release(session, actor, opportunity_id):
    """§五: the agent admin releases a pooled opportunity to the public pool (公海)."""
    take_lock(session)
    opportunity = _pooled(session, actor, opportunity_id)
    record_event(session, opportunity, "release", actor)
    # recorded under the agent company it leaves: the public pool belongs to no department
    audit.record(session, actor, "release", target=opportunity, department_id=opportunity.department_id,
                 details={"company": opportunity.company})
    opportunity.location, opportunity.owner_id, opportunity.department_id = "public_pool", None, None
    opportunity.entered_at = clock.now()
    session.flush()
    return opportunity


def abandon_reasons(session):
    return session.scalars(select(AbandonReason).where(AbandonReason.active.is_(True))
                           .order_by(AbandonReason.id)).all()


# --- soft delete (issue 5) --------------------------------------------------------------------
#
# A deleted opportunity keeps its row, owner and history (deleted_at/deleted_by_id are set):
# access.opportunity_clause hides it from every list, count, page, pool, export, stat and the
# API; library.size does not count it; the duplicate check ignores it (so the same customer may
# be entered again), and restoring it is refused while an active duplicate exists.
# It holds no mobile key (opportunity_phone rows of kind 'mobile'): the unique index
# uq_opportunity_phone_mobile would otherwise keep its mobile from a new live record, which the
# check lets in. `delete` drops those rows and `restore` writes them again from the numbers kept.


def _administered(session, actor, opportunity_id, deleted):
    if actor is None or actor.role not in ("agent_admin", "subsystem_admin"):
        raise RuleViolation(_l("Only admins delete and restore customers."), code="forbidden")
    state = people.deleted_opportunity_clause(actor) if deleted else people.opportunity_clause(actor)
    opportunity = session.scalar(select(Opportunity).where(Opportunity.id == opportunity_id, state,
                                                          people.may_delete_opportunity_clause(actor)))
    if opportunity is None:
        raise RuleViolation(_l("This customer does not exist or is out of your reach."), code="not_found")
    return opportunity


def delete(session, actor, opportunity_id):
    """An admin deletes an opportunity of its scope: hidden everywhere, restorable, audited."""
    opportunity = _administered(session, actor, opportunity_id, deleted=False)
    opportunity.deleted_at, opportunity.deleted_by_id = clock.now(), actor.id
    session.execute(delete_rows(OpportunityPhone).where(OpportunityPhone.opportunity_id == opportunity.id,
                                                        OpportunityPhone.kind == "mobile"))
    audit.record(session, actor, "opportunity_deleted", target=opportunity,
                 details={"company": opportunity.company, "location": opportunity.location,
                          "owner": opportunity.owner.login if opportunity.owner else None})
    session.flush()
    return opportunity


def restore(session, actor, opportunity_id):
    """Undo a delete, unless the customer was entered again meanwhile (an active duplicate exists)
    or the owner's library is full now."""
    opportunity = _administered(session, actor, opportunity_id, deleted=True)
    if opportunity.merged_into_id is not None:
        raise RuleViolation(_l("%(company)s was merged into another customer: undo the merge on the duplicates page "
                               "instead.", company=opportunity.company), code="merged")
    take_lock(session)  # as an entry: no one enters the same customer while this checks
    result = checking.check(session, company=opportunity.company, province=opportunity.province,
                         city=opportunity.city, phone=opportunity.phone, fax=opportunity.fax,
                         mobile=opportunity.mobile, wechat=opportunity.wechat, exclude_id=opportunity.id)
    if result.verdict == checking.DUPLICATE:
        first = next(h for h in result.hits if h.match.verdict == checking.DUPLICATE).opportunity
        raise RuleViolation(_l("%(company)s cannot be restored: the same customer exists again (%(other)s, in "
                               "%(place)s).", company=opportunity.company, other=first.company,
                               place=where_it_lives(first)), code="duplicate")
    owner = opportunity.owner if opportunity.location == "library" else None
    if owner is not None:
        library.require_room(session, owner, "restore", company=opportunity.company)
    _restore_mobile_keys(session, opportunity)
    opportunity.deleted_at, opportunity.deleted_by_id = None, None
    audit.record(session, actor, "opportunity_restored", target=opportunity, details={"company": opportunity.company})
    session.flush()
    return opportunity


def _restore_mobile_keys(session, opportunity):
    """Write again the mobile keys that `delete` dropped, from the numbers the record kept.

    The check above refuses a live duplicate first; the unique index has the last word when
    the check missed its holder (too many candidates): a refusal naming the number, not a 500.
    """
    keys = checking.record_keys_of(opportunity)
    rows = [row for row in checking.phone_rows(opportunity.id, keys) if row["kind"] == "mobile"]
    if not rows:
        return
    _written, taken = unless_mobile_taken(session, lambda: session.execute(insert(OpportunityPhone), rows))
    if taken:
        held = session.scalar(select(OpportunityPhone.local).where(
            OpportunityPhone.kind == "mobile", OpportunityPhone.local.in_([row["local"] for row in rows])).limit(1))
        raise RuleViolation(_l("%(company)s cannot be restored: its mobile %(number)s now belongs to another "
                               "customer.", company=opportunity.company, number=held or rows[0]["local"]),
                            code="duplicate") from None
