"""Merging duplicates already inside into one record, and undoing it (issue 11).

`merge` keeps one opportunity, gives it field by field the values the admin chose, moves to it
everything that points at the merged records (contact notes, history, web leads, review
confirmations, notices), rebuilds its duplicate-check keys from its final values, and soft-deletes
the merged records with a pointer to the kept one (`merged_into_id`). The Merge row keeps every
field of every record before, and the ids of every row moved, so `undo` puts all back exactly.

Both run under the library lock (the first statement of the transaction), as entries and claims
do: a merge racing a claim, an entry or another merge sees the state the other one committed.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, insert, select, update

from models import (
    ContactNote,
    Merge,
    Notice,
    Opportunity,
    OpportunityEvent,
    OpportunityPhone,
    OpportunityTerm,
    ReviewConfirmation,
    User,
    UTCDateTime,
    WebLead,
)

from .. import audit, checking, clock, library, people
from ..errors import RuleViolation

UNDO_DAYS = 30
MAX_MERGED = 20  # records merged into one at a time
# The fields an admin chooses, record by record; "owner" is where the customer lives (location,
# owner, department), taken together.
FIELDS = ("company", "province", "city", "district", "town", "address", "contact", "phone", "mobile", "wechat", "qq",
          "fax", "email", "industry", "source", "key_customer", "maturity", "owner")
_COLUMNS = {"source": ("source_id",), "owner": ("location", "owner_id", "department_id")}
# What moves to the kept record: (model, its column pointing at the opportunity).
MOVED = {"notes": ContactNote, "events": OpportunityEvent, "leads": WebLead, "confirmations": ReviewConfirmation,
         "notices": Notice}
NOT_FOUND = _l("This customer does not exist or is out of your reach.")
# The public pool is shared by every agent company: merging one of its records changes what all of them see.
POOL_REFUSED = _l("This group includes a public pool customer: merging it needs a subsystem admin.")


def _columns(field_name):
    return _COLUMNS.get(field_name, (field_name,))


def _empty(value):
    return value is None or value == "" or value is False


def field_value(opportunity, field_name):
    values = tuple(getattr(opportunity, c) for c in _columns(field_name))
    return values if len(values) > 1 else values[0]


# --- the records as they were ---------------------------------------------------------------

def _plain(value):
    return value.isoformat() if isinstance(value, datetime) else value


def _unplain(column, value):
    if value is not None and isinstance(column.type, UTCDateTime):
        return datetime.fromisoformat(value)
    return value


def snapshot_of(opportunity):
    """Every column of a record, as JSON-able values."""
    return {c.name: _plain(getattr(opportunity, c.name)) for c in Opportunity.__table__.columns if c.name != "id"}


def _put_back(opportunity, values, only=None):
    for column in Opportunity.__table__.columns:
        if column.name in values and (only is None or column.name in only):
            setattr(opportunity, column.name, _unplain(column, values[column.name]))


# --- merging ------------------------------------------------------------------------------------

def _administered(session, actor, ids):
    """The live records of `ids` that the admin may merge, in that order; not_found if any is not."""
    if not people.is_admin(actor):
        raise RuleViolation(_l("Only admins look for and merge duplicates."), code="forbidden")
    found = {o.id: o for o in session.scalars(select(Opportunity).where(
        Opportunity.id.in_(ids), people.opportunity_clause(actor), people.may_delete_opportunity_clause(actor)))}
    missing = [i for i in ids if i not in found]
    if missing and not people.may_merge_public_pool(actor) and session.scalar(select(Opportunity.id).where(
            Opportunity.id.in_(missing), people.public_pool_clause()).limit(1)):
        raise RuleViolation(POOL_REFUSED, code="public_pool_merge", field="merge")  # the pool is seen by all
    if missing:
        raise RuleViolation(NOT_FOUND, code="not_found", field="merge")
    return [found[i] for i in ids]


def _check_request(keep_id, merge_ids, values):
    if not merge_ids or keep_id in merge_ids or len(set(merge_ids)) != len(merge_ids):
        raise RuleViolation(_l("Choose the record to keep and at least one other record to merge into it."),
                            field="merge")
    if len(merge_ids) > MAX_MERGED:
        raise RuleViolation(_l("At most %(n)d records are merged at a time.", n=MAX_MERGED), field="merge")
    unknown = [name for name in values if name not in FIELDS]
    if unknown:
        raise RuleViolation(_l("Unknown field: %(name)s.", name=unknown[0]), field="values")
    foreign = [name for name, source in values.items() if source != keep_id and source not in merge_ids]
    if foreign:
        raise RuleViolation(_l("The value of %(name)s must come from one of the merged records.", name=foreign[0]),
                            field="values")


def chosen_values(kept, others, values):
    """{field: value} of the kept record after the merge: the record named in `values`, else its own,
    else the first non-empty of the others."""
    records = {o.id: o for o in [kept, *others]}
    out = {}
    for name in FIELDS:
        if name in values:
            out[name] = field_value(records[values[name]], name)
            continue
        own = field_value(kept, name)
        if name != "owner" and _empty(own):
            own = next((field_value(o, name) for o in others if not _empty(field_value(o, name))), own)
        out[name] = own
    return out


def _apply(kept, chosen):
    for name, value in chosen.items():
        for column, part in zip(_columns(name), value if name == "owner" else (value,)):
            setattr(kept, column, part)


def _validate(session, kept, chosen):
    """The merged values must make a record the entry form would take (a province and a city of another
    record's may not agree)."""
    data = library.OpportunityInput.from_mapping({
        **{name: chosen[name] for name in ("company", "province", "city", "district", "town", "address", "contact", "phone",
                                          "mobile", "wechat", "qq", "fax", "email", "industry")},
        "key_customer": chosen["key_customer"]})
    problems = library.validate(data)
    if problems:
        field_name, message = next(iter(problems.items()))
        raise RuleViolation(message, field=field_name)


def _dates(kept, others):
    """The kept record's contact dates: the latest contacts, the nearest next contact."""
    records = [kept, *others]
    for name in ("last_contact_at", "last_valid_contact_at"):
        known = [getattr(o, name) for o in records if getattr(o, name) is not None]
        setattr(kept, name, max(known) if known else None)
    if kept.next_contact_at is None:
        known = [o.next_contact_at for o in others if o.next_contact_at is not None]
        kept.next_contact_at = min(known) if known else None


def rebuild_keys(session, opportunity):
    """The record's normalised name, place, phone rows and index terms, from its current values."""
    keys = checking.record_keys_of(opportunity)
    company_key = keys["company_key"]
    opportunity.name_folded, opportunity.name_core = company_key.folded[:200], company_key.core[:200]
    opportunity.norm_province, opportunity.norm_city = company_key.province, company_key.city
    opportunity.norm_district = company_key.district
    _drop_keys(session, [opportunity.id])
    session.flush()
    phones = checking.phone_rows(opportunity.id, keys)
    if phones:
        session.execute(insert(OpportunityPhone), phones)
    session.execute(insert(OpportunityTerm), checking.index_rows(opportunity.id, keys))


def _drop_keys(session, ids):
    session.execute(delete(OpportunityPhone).where(OpportunityPhone.opportunity_id.in_(ids)))
    session.execute(delete(OpportunityTerm).where(OpportunityTerm.opportunity_id.in_(ids)))


def _move(session, from_ids, to_id):
    """Point every row of MOVED at `to_id`; {kind: {from id: [row ids]}} for the undo."""
    moved = {}
    for kind, model in MOVED.items():
        rows = session.execute(select(model.id, model.opportunity_id).where(model.opportunity_id.in_(from_ids))).all()
        moved[kind] = {}
        for row_id, owner_id in rows:
            moved[kind].setdefault(str(owner_id), []).append(row_id)
        if rows:
            session.execute(update(model).where(model.id.in_([r[0] for r in rows])).values(opportunity_id=to_id))
    return moved


def _check_cap(session, kept, before_owner_id):
    """A record moved into another library by the merge must fit under that library's cap."""
    if kept.location != "library" or kept.owner_id == before_owner_id:
        return
    owner = session.get(User, kept.owner_id)
    session.flush()
    library.require_room(session, owner, "merge", adding=0)  # the merged record is in it already


def merge(session, actor, keep_id, merge_ids, values=None):
    """Merge `merge_ids` into `keep_id`; the Merge. Raises RuleViolation with the reason when refused."""
    values = dict(values or {})
    _check_request(keep_id, merge_ids, values)
    library.take_lock(session)
    kept, *others = _administered(session, actor, [keep_id, *merge_ids])
    before = {str(o.id): snapshot_of(o) for o in [kept, *others]}
    chosen = chosen_values(kept, others, values)
    _validate(session, kept, chosen)
    _apply(kept, chosen)
    _dates(kept, others)
    now = clock.now()
    other_ids = [o.id for o in others]
    _drop_keys(session, other_ids)  # first: the kept record may take a merged record's mobile
    for other in others:
        other.deleted_at, other.deleted_by_id, other.merged_into_id = now, actor.id, kept.id
    moved = _move(session, other_ids, kept.id)
    rebuild_keys(session, kept)
    _check_cap(session, kept, before[str(kept.id)]["owner_id"])
    item = Merge(kept_id=kept.id, actor_id=actor.id, created_at=now, snapshot="{}")
    session.add(item)
    session.flush()
    library.record_event(session, kept, "merge", actor, reason=f"#{item.id}")
    session.flush()
    item.snapshot = json.dumps({"before": before, "after": snapshot_of(kept), "moved": moved, "merged": other_ids},
                               ensure_ascii=False)
    _tell_owners(session, item, others, now)
    audit.record(session, actor, "merge", target=kept, details=_audit_details(before, kept, others))
    return item


def _audit_details(before, kept, others):
    after = snapshot_of(kept)
    changed = {name: [before[str(kept.id)].get(name), after.get(name)] for name in after
               if before[str(kept.id)].get(name) != after.get(name)}
    return {"kept": kept.id, "company": kept.company, "merged": [{"id": o.id, "company": o.company,
                                                                  "fields": before[str(o.id)]} for o in others],
            "changed": changed}


def _tell_owners(session, item, others, now):
    owners = {o.owner_id for o in others if o.owner_id is not None}
    rows = [{"key": f"merged:{item.id}:{uid}", "user_id": uid, "kind": "merged", "opportunity_id": item.kept_id,
             "created_at": now} for uid in sorted(owners)]
    if rows:
        session.execute(insert(Notice), rows)


# --- undoing ----------------------------------------------------------------------------------

def find(session, actor, merge_id):
    """The merge, if the admin may see its kept record (live or merged away again); else not_found."""
    item = session.get(Merge, merge_id)
    if item is None or not people.is_admin(actor):
        raise RuleViolation(_l("This merge does not exist or is out of your reach."), code="not_found")
    reachable = session.scalar(select(Opportunity.id).where(Opportunity.id == item.kept_id,
                                                            people.may_delete_opportunity_clause(actor)))
    if reachable is None:
        raise RuleViolation(_l("This merge does not exist or is out of your reach."), code="not_found")
    return item


def undo(session, actor, merge_id):
    """Put every record back as it was before the merge; the Merge. Refused, with the reason, when it
    was undone already, is older than UNDO_DAYS, or a later change makes it impossible."""
    library.take_lock(session)
    item = find(session, actor, merge_id)
    data = json.loads(item.snapshot)
    if not people.may_merge_public_pool(actor) and any(
            before.get("location") == "public_pool" for before in data["before"].values()):
        raise RuleViolation(POOL_REFUSED, code="public_pool_merge")  # it would put a record back in the pool
    kept = session.get(Opportunity, item.kept_id)
    merged = [session.get(Opportunity, i) for i in data["merged"]]
    _may_undo(session, item, kept, merged)
    _put_back_kept(kept, data["before"][str(kept.id)], data["after"])
    for other in merged:
        _put_back(other, data["before"][str(other.id)])
    for kind, by_record in data["moved"].items():
        model = MOVED[kind]
        for record_id, row_ids in by_record.items():
            session.execute(update(model).where(model.id.in_(row_ids), model.opportunity_id == kept.id)
                            .values(opportunity_id=int(record_id)))
    session.flush()
    rebuild_keys(session, kept)
    for other in merged:
        _rebuild_or_refuse(session, other)
    _check_caps(session, merged)
    item.undone_at, item.undone_by_id = clock.now(), actor.id
    library.record_event(session, kept, "unmerge", actor, reason=f"#{item.id}")
    audit.record(session, actor, "merge_undone", target=kept,
                 details={"merge": item.id, "kept": kept.id, "restored": [o.id for o in merged],
                          "companies": [o.company for o in merged]})
    return item


def _may_undo(session, item, kept, merged):
    if item.undone_at is not None:
        raise RuleViolation(_l("This merge was undone already."), code="conflict")
    if clock.now() - item.created_at > timedelta(days=UNDO_DAYS):
        raise RuleViolation(_l("A merge can be undone within %(n)d days; this one is older.", n=UNDO_DAYS),
                            code="conflict")
    if kept is None or kept.deleted_at is not None:
        raise RuleViolation(_l("The kept customer was deleted or merged again since; restore it or undo that "
                               "first."), code="conflict")
    for other in merged:
        if other is None or other.merged_into_id != kept.id or other.deleted_at is None:
            raise RuleViolation(_l("%(company)s was restored or changed since the merge.",
                                   company=other.company if other else "?"), code="conflict")


def _put_back_kept(kept, before, after):
    """The kept record's own values again, except those changed since the merge (the later change stays)."""
    for column in Opportunity.__table__.columns:
        name = column.name
        if name in ("id", "deleted_at", "deleted_by_id", "merged_into_id") or name not in before:
            continue
        current = _plain(getattr(kept, name))
        if current == after.get(name):
            setattr(kept, name, _unplain(column, before[name]))


def _rebuild_or_refuse(session, other):
    """A merged record's keys again; refused when its mobile now belongs to another customer."""
    _written, taken = library.unless_mobile_taken(session, lambda: rebuild_keys(session, other))
    if taken:
        raise RuleViolation(_l("The merge cannot be undone: the mobile %(number)s of %(company)s now belongs to "
                               "another customer.", number=other.mobile, company=other.company), code="conflict")


def _check_caps(session, merged):
    session.flush()
    for owner_id in {o.owner_id for o in merged if o.location == "library" and o.owner_id}:
        owner = session.get(User, owner_id)
        library.require_room(session, owner, "undo_merge", adding=0)  # the records are back in it already


def merged_into(session, actor, opportunity_id):
    """The live record a merged one went into, if the actor may see it (for old links and ids); else None."""
    target_id = session.scalar(select(Opportunity.merged_into_id).where(Opportunity.id == opportunity_id))
    seen = set()
    while target_id is not None and target_id not in seen:  # merged, then merged again
        seen.add(target_id)
        row = session.execute(select(Opportunity.id, Opportunity.deleted_at, Opportunity.merged_into_id)
                              .where(Opportunity.id == target_id)).first()
        if row is None:
            return None
        if row.deleted_at is None:
            visible = session.scalar(select(Opportunity).where(Opportunity.id == row.id,
                                                               people.opportunity_clause(actor)))
            return visible
        target_id = row.merged_into_id
    return None


def merges_of(session, actor, limit=50):
    """The latest merges the admin may see, newest first."""
    query = (select(Merge).join(Opportunity, Opportunity.id == Merge.kept_id)
             .where(people.may_delete_opportunity_clause(actor)).order_by(Merge.id.desc()).limit(limit))
    return session.scalars(query).all()


# --- read helpers of the /duplicates/ pages ------------------------------------------------------

def default_sources(kept, others):
    """{field: id} of the record whose value `merge` keeps when the admin chooses nothing (as
    `chosen_values`): the kept record's own, else the first of the others that has one."""
    out = {}
    for name in FIELDS:
        out[name] = kept.id
        if name != "owner" and _empty(field_value(kept, name)):
            out[name] = next((o.id for o in others if not _empty(field_value(o, name))), kept.id)
    return out


def is_empty(opportunity, field_name):
    return field_name != "owner" and _empty(field_value(opportunity, field_name))


def merged_companies(item):
    """[(id, company)] of the records merged away, as they were before the merge."""
    data = json.loads(item.snapshot)
    return [(i, data["before"].get(str(i), {}).get("company")) for i in data.get("merged", [])]


def of_history(session, events):
    """{event id: (the Merge, [(id, company)] merged)} for the merge and unmerge lines of a record's history,
    whose `reason` names the merge ("#12"): the history says which companies and links to the merge."""
    wanted = {}
    for event in events:
        if event.kind in ("merge", "unmerge") and (event.reason or "").startswith("#") and event.reason[1:].isdigit():
            wanted[event.id] = int(event.reason[1:])
    items = {m.id: m for m in session.scalars(select(Merge).where(Merge.id.in_(set(wanted.values()))))} \
        if wanted else {}
    return {event_id: (items[merge_id], merged_companies(items[merge_id]))
            for event_id, merge_id in wanted.items() if merge_id in items}


def undoable(item):
    """Whether the page offers 撤销合并: not undone and young enough (`undo` checks the rest)."""
    return item.undone_at is None and clock.now() - item.created_at <= timedelta(days=UNDO_DAYS)
