"""Duplicates already inside (重复客户): a scan of every opportunity an admin administers.

The same engine as the entry check judges every pair (`normalize.compare`, the newer record
as the query, the older as the stored one: what the check would say were the newer entered
today), but pairs come from the keys in bulk, never from one check per record:

- the same phone, fax or mobile number, or WeChat ID (opportunity_phone, read once in number order);
- the same trade name (name_core, read once in name order), or the same without generic words (stem);
- one-edit neighbours (瑞丽服装 / 瑞丰服装) and a trade name inside another's of at least half
  its length (瑞丽服装 / 瑞丽服装制造): the `d:` and `n:` terms of the index, computed from the
  cores read above and grouped in memory;
- the same 字号 in one city whatever the trade is called (豪腾印刷 / 豪腾彩色印刷): the `z:` terms.

The engine refuses only what two real companies could not both be (issue 20): sound-alike names
(杭州明晖灯饰 / 杭州明辉灯饰) are reviews, never in a duplicate group.

A key held by more than KEY_LIMIT records (a switchboard typed for every branch, a bare
industry word) pairs nothing: the check itself treats such terms as too common. Records joined
by `duplicate` pairs form a group (connected components); `review` pairs that no duplicate group
already holds form groups of their own, for a person to judge. Pairs an admin dismissed as
"not duplicates" (DuplicateDismissal) are left out before grouping.
"""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import NamedTuple

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, delete, func, insert, select, text

from models import (
    ContactNote,
    Department,
    DuplicateDismissal,
    DuplicateGroup,
    DuplicateGroupMember,
    DuplicateScan,
    Opportunity,
    ResourceRules,
)

from .. import audit, checking, clock, jobs, people
from ..errors import RuleViolation

KEY_LIMIT = 50  # records sharing one key beyond which the key pairs nothing (too common to tell)
REVIEW_GROUP_LIMIT = 12  # a chain of similar names longer than this is shown as its pairs
BATCH = 5000  # rows written per statement
SCAN_STATUSES = ("queued", "running", "done", "failed")  # DuplicateScan.status, in the order a scan lives them

NOT_ADMIN = _l("Only admins look for and merge duplicates.")


@dataclass
class Found:
    """A group found by a scan: the records (oldest first), the verdict, the strongest reasons."""

    verdict: str
    ids: list
    score: float
    reasons: list = field(default_factory=list)


# --- reading the records in bulk ----------------------------------------------------------

def _scope_sql(department):
    """(SQL condition on o, params): the records of an agent company and the public pool's (a company's
    customers may duplicate the pool's, which every company shares), or all (None)."""
    if department is None:
        return "", {}
    return (" AND (o.department_id IN (SELECT id FROM department WHERE path LIKE :prefix)"
            " OR o.location = 'public_pool')", {"prefix": department.path + "%"})


def _read_pool(session, department):
    """The ids of the public pool's records when scanning an agent company (else none): the scan pairs
    them with the company's records only, the pool's duplicates among themselves are not the company's."""
    if department is None:
        return frozenset()
    return frozenset(session.scalars(text("SELECT o.id FROM opportunity o WHERE o.deleted_at IS NULL"
                                          " AND o.location = 'public_pool'")))


class _Phone(NamedTuple):
    """A stored number as `normalize.compare` reads it (a PhoneKey's fields it uses), small in memory."""

    local: str
    area_code: str | None
    kind: str


def _read_names(session, scope, params):
    """{id: (core, province, city, district)}, read in one pass: tuples, not keys, to stay small."""
    sql = text("SELECT o.id, o.name_core, o.norm_province, o.norm_city, o.norm_district"
               " FROM opportunity o WHERE o.deleted_at IS NULL" + scope)
    intern = _Interned()  # a million records name a few thousand places: keep each name once
    return {i: (core, intern(province), intern(city), intern(district))
            for i, core, province, city, district in session.execute(sql, params).yield_per(20000)}


class _Interned(dict):
    def __call__(self, text_):
        return self.setdefault(text_, text_) if text_ is not None else None


_NO_NUMBERS = ((), (), ())
_LIST_OF = {"phone": 0, "fax": 1, checking.WECHAT_FIELD: 2}  # opportunity_phone.field -> its place in _NO_NUMBERS


def _read_phones(session, scope, params):
    """({id: (phone keys, fax keys, WeChat keys)}, [[ids sharing a number or a WeChat ID], ...]) in one
    pass in number order."""
    sql = text("SELECT p.opportunity_id, p.field, p.kind, p.local, p.area_code FROM opportunity_phone p"
               " JOIN opportunity o ON o.id = p.opportunity_id WHERE o.deleted_at IS NULL" + scope +
               " ORDER BY p.kind, p.local")
    phones, shared = {}, []
    run_key, run = None, []
    intern = _Interned()
    for opportunity_id, field_name, kind, local, area_code in session.execute(sql, params).yield_per(20000):
        key = _Phone(local, intern(area_code or None), intern(kind))
        lists = list(phones.get(opportunity_id, _NO_NUMBERS))
        lists[_LIST_OF.get(field_name, 0)] += (key,)
        phones[opportunity_id] = tuple(lists)
        if (kind, local) != run_key:
            _close_run(run, shared)
            run_key, run = (kind, local), []
        run.append(opportunity_id)
    _close_run(run, shared)
    return phones, shared


def _close_run(run, shared):
    ids = set(run)
    if 1 < len(ids) <= KEY_LIMIT:
        shared.append(sorted(ids))


def _name_groups(names):
    """Groups of ids whose names may resemble: the same core, one-edit neighbours, a core inside another's."""
    by_core = defaultdict(list)
    for opportunity_id, (core, *_place) in names.items():
        if core:
            by_core[core].append(opportunity_id)
    groups = [ids for ids in by_core.values() if 1 < len(ids) <= KEY_LIMIT]
    groups.extend(_stem_groups(by_core))
    groups.extend(_neighbour_groups(by_core))
    groups.extend(_containment_groups(by_core))
    groups.extend(_trade_name_groups(names))
    return groups


def _trade_name_groups(names):
    """Names of one 字号 in one city whatever their trade (the check's `z:` terms): 豪腾印刷 / 豪腾彩色印刷 is one
    company, 亿达电器 / 亿达房地产 a resemblance (issue 20)."""
    by_zihao = defaultdict(list)
    for opportunity_id, (core, _province, city, *_rest) in names.items():
        if core and city:
            trade = checking.trade_name(checking.stem(core))
            if trade.family:
                by_zihao[(trade.zihao, city)].append(opportunity_id)
    for ids in by_zihao.values():
        if 1 < len(ids) <= KEY_LIMIT and len({names[i][0] for i in ids}) > 1:
            yield ids


def _stem_groups(by_core):
    """Cores of one stem (中天科技, 中天实业, 中天): generic business words make no other company."""
    by_stem = defaultdict(list)
    for core in by_core:
        by_stem[checking.stem(core)].append(core)
    for cores in by_stem.values():
        if len(cores) > 1:
            ids = [i for core in cores for i in by_core[core]]
            if len(ids) <= KEY_LIMIT:
                yield ids


def _neighbour_groups(by_core):
    """Cores one edit apart, as the index's `d:` terms find them: a core and the others' cores with one
    character deleted (瑞丽服装 / 瑞丰服装 share 瑞服装; 瑞丽华服装 less 华 is 瑞丽服装). One length of
    these keys at a time, so that only a part of the cores' deletions is held at once."""
    by_length = defaultdict(list)
    for core in by_core:
        by_length[len(core)].append(core)
    for length in range(1, max(by_length, default=0)):  # keys of each length, whether or not a core has it
        keys = {}
        for core in by_length.get(length + 1, ()):
            for variant in checking.name_neighbours(core):
                _hold(keys, hash(variant), core)
        for core in by_length.get(length, ()) if length >= 2 else ():
            _hold(keys, hash(core), core)
        for held in keys.values():
            if isinstance(held, list):
                ids = [i for core in held for i in by_core[core]]
                if len(ids) <= KEY_LIMIT:
                    yield ids


def _hold(keys, key, core):
    """keys[key] is a core, or the list of cores when several share the key (most keys have one)."""
    held = keys.get(key)
    if held is None:
        keys[key] = core
    elif isinstance(held, list):
        if held[-1] != core:
            held.append(core)
    elif held != core:
        keys[key] = [held, core]


def _containment_groups(by_core):
    """A core and the stored cores inside it of at least half its length (the check's `n:` substrings)."""
    for core, ids in by_core.items():
        for inner in checking.name_substrings(core):
            held = by_core.get(inner)
            if held and len(held) + len(ids) <= KEY_LIMIT:
                yield ids + held


# --- judging the pairs ---------------------------------------------------------------------

_SHIFT = 32  # a pair (older, newer) is kept as one int: older << 32 | newer (ids are 32-bit)


def _pairs(phone_groups, name_groups, names, dismissed, pool=frozenset()):
    """Every pair (older, newer) of the candidate groups once, as ints, without the dismissed ones nor
    those of two `pool` records.

    A pair found by name only is skipped when both records name other cities and other trade names:
    the engine reviews similar names only in a compatible place (a shared number is found by phone).
    """
    seen = set()
    for ids in phone_groups:
        _add_pairs(seen, ids, None)
    for ids in name_groups:
        _add_pairs(seen, ids, names)
    seen.difference_update((low << _SHIFT) | high for low, high in dismissed)
    if pool:
        mask = (1 << _SHIFT) - 1
        seen = {pair for pair in seen if (pair >> _SHIFT) not in pool or (pair & mask) not in pool}
    return seen


def _add_pairs(seen, ids, names):
    ordered = sorted(set(ids))
    for i, low in enumerate(ordered):
        low_core, low_province, low_city = names[low][:3] if names is not None else (None, None, None)
        for high in ordered[i + 1:]:
            if names is not None and low_city:
                core, province, city = names[high][:3]
                if city and city != low_city and core != low_core:
                    continue
            seen.add((low << _SHIFT) | high)


def _company_key(place):
    core, province, city, district = place
    return checking.CompanyKey(folded="", core=core, province=province, city=city, district=district)


def _keys(names, phones, opportunity_id):
    phone_keys, fax_keys, wechat_keys = phones.get(opportunity_id, _NO_NUMBERS)
    return {"company_key": _company_key(names[opportunity_id]), "phone_keys": phone_keys, "fax_keys": fax_keys,
            "wechat_keys": wechat_keys}


def judge(pairs, names, phones, progress=None):
    """{(older, newer): Match} of the pairs the engine finds alike (pairs as ints or tuples)."""
    found = {}
    mask = (1 << _SHIFT) - 1
    for n, pair in enumerate(pairs):
        older, newer = pair if isinstance(pair, tuple) else (pair >> _SHIFT, pair & mask)
        match = checking.compare(_keys(names, phones, newer), _keys(names, phones, older))
        if match is not None:
            found[(older, newer)] = match
        if progress is not None and n % 20000 == 0:
            progress(n)
    return found


# --- grouping ------------------------------------------------------------------------------

class _Components:
    """Union-find over record ids."""

    def __init__(self):
        self.parent = {}

    def find(self, x):
        root = x
        while self.parent.get(root, root) != root:
            root = self.parent[root]
        while self.parent.get(x, x) != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a, b):
        ra, rb = self.find(a), self.find(b)
        self.parent.setdefault(ra, ra)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)

    def groups(self):
        out = defaultdict(list)
        for x in list(self.parent):
            out[self.find(x)].append(x)
        return [sorted(ids) for ids in out.values() if len(ids) > 1]


def group(matches, placed=frozenset()):
    """[Found]: duplicate groups, then review groups (the review pairs between records of different
    duplicate groups), strongest first.

    Duplicate groups are the components of the duplicate pairs, except that a name without a place
    does not bridge two places: 瑞丽服装 (no place) is a duplicate of 上海瑞丽服装厂 and of 北京瑞丽服装厂
    alike, but those two are other companies. Such a record (not in `placed`) joins a group only when
    every placed record it names belongs to that one group; otherwise its pairs are for review.
    """
    duplicates = _Components()
    bridges = defaultdict(list)  # a placeless record -> the placed records it matches by name only
    for (a, b), match in matches.items():
        if match.verdict != checking.DUPLICATE:
            continue
        if match.placeless_name and (a in placed) != (b in placed):
            loose, fixed = (b, a) if a in placed else (a, b)
            bridges[loose].append(fixed)
        else:
            duplicates.union(a, b)
    ambiguous = set()
    for loose, fixed in bridges.items():
        roots = {duplicates.find(i) for i in fixed}
        if len(roots) == 1 and duplicates.find(loose) in roots | {loose}:
            duplicates.union(loose, fixed[0])
        else:
            ambiguous.update((min(loose, i), max(loose, i)) for i in fixed)
    out = [_found(checking.DUPLICATE, ids, matches) for ids in duplicates.groups()]
    review_pairs = [(a, b) for (a, b), m in matches.items()
                    if (m.verdict == checking.REVIEW or (a, b) in ambiguous) and duplicates.find(a) != duplicates.find(b)]
    similar = _Components()
    for a, b in review_pairs:
        similar.union(a, b)
    chains = set()
    for ids in similar.groups():
        if len(ids) <= REVIEW_GROUP_LIMIT:
            out.append(_found(checking.REVIEW, ids, matches))
        else:
            chains.update(ids)
    out.extend(_found(checking.REVIEW, [a, b], matches) for a, b in review_pairs if a in chains)
    out.sort(key=lambda f: (f.verdict != checking.DUPLICATE, -f.score, f.ids[0]))
    return out


def _found(verdict, ids, matches):
    inside = set(ids)
    pairs = ((a, b) for i, a in enumerate(ids) for b in ids[i + 1:]) if len(ids) < 50 else \
        (pair for pair in matches if pair[0] in inside and pair[1] in inside)
    strongest = sorted((matches[pair] for pair in pairs if pair in matches),
                       key=lambda m: (m.verdict != verdict, -m.score))
    reasons = []
    for match in strongest:
        for reason in match.reasons:
            if reason not in reasons:
                reasons.append(reason)
    return Found(verdict, ids, strongest[0].score if strongest else 0.0, reasons[:3])


# --- the scan ------------------------------------------------------------------------------

def _dismissed(session, scope, params):
    sql = text("SELECT d.low_id, d.high_id FROM duplicate_dismissal d JOIN opportunity o ON o.id = d.low_id"
               " WHERE o.deleted_at IS NULL" + scope)
    return {(low, high) for low, high in session.execute(sql, params)}


def find(session, department=None, progress=None):
    """(records scanned, pairs judged, [Found]) for the records of `department` (an agent company: its
    records among themselves and against the public pool's; the records counted are its own) or all."""
    scope, params = _scope_sql(department)
    names = _read_names(session, scope, params)
    phones, shared = _read_phones(session, scope, params)
    pool = _read_pool(session, department)
    pairs = _pairs(shared, _name_groups(names), names, _dismissed(session, scope, params), pool)
    if progress is not None:
        progress(0, len(pairs))
    matches = judge(pairs, names, phones, progress=(lambda n: progress(n, len(pairs))) if progress else None)
    placed = {i for i, (_core, province, city, _district) in names.items() if province or city}
    return len(names) - len(pool & names.keys()), len(pairs), group(matches, placed)


def scope_of(session, actor):
    """The agent company (a department of depth 1) an admin scans; None: everything, a subsystem admin's."""
    if actor is None or actor.role == "subsystem_admin":
        return None
    path = people.company_path(actor.department) if actor.role == "agent_admin" else ""
    if not path:
        raise RuleViolation(NOT_ADMIN, code="forbidden")
    return session.scalar(select(Department).where(Department.path == path))


def start_scan(session, actor):
    """A new scan of the actor's scope, queued on the worker; the one waiting or running if there is one
    that still may end (`_live`)."""
    return _start(session, scope_of(session, actor), actor.id if actor else None)


def _start(session, department, requested_by_id):
    running = session.scalar(select(DuplicateScan).where(
        _scan_scope(department), DuplicateScan.status.in_(("queued", "running")))
        .order_by(DuplicateScan.id.desc()).limit(1))
    if running is not None and _live(session, running):
        return running
    scan = DuplicateScan(department_id=department.id if department is not None else None,
                         requested_by_id=requested_by_id, status="queued", created_at=clock.now())
    session.add(scan)
    session.flush()
    scan.job_id = jobs.start(session, "duplicate_scan", scan.id, undo=_forget).id
    return scan


def _live(session, scan):
    """Whether a waiting or running scan may still end, so a new one should wait for it. Not when its
    worker died (reaped), its job ended without it (failed with the job's message), or its job has
    waited for a worker longer than CRM_JOB_WAIT_SECONDS (withdrawn, so no worker takes it later)."""
    jobs.reap(session)
    session.refresh(scan)
    job = scan.job
    if scan.status not in ("queued", "running"):
        return False
    if job is not None and job.status == "running":
        return True
    if job is not None and job.status == "queued":
        if not jobs.waited_too_long(job) or not jobs.withdraw(session, job.id, jobs.WAITED):
            return True
        message = str(jobs.WAITED)
    else:
        message = (job.message if job is not None else None) or str(jobs.FAILED)
    jobs.mark_failed(session, DuplicateScan, scan.id, message, while_in=("queued", "running"))
    return False


def _forget(session, job_id):
    """A scan whose job the queue refused: not kept."""
    session.execute(delete(DuplicateScan).where(DuplicateScan.job_id == job_id))


def start_nightly(session):
    """`rules run`: a scan of everything on the worker, when the resource rules say so, and one of each agent
    company that has scanned before (an agent admin reads his company's scans only); the scan of everything
    or None."""
    if not session.scalar(select(ResourceRules.duplicate_scan_nightly).limit(1)):
        return None
    scan = _start(session, None, None)
    companies = session.scalars(select(Department).where(Department.id.in_(
        select(DuplicateScan.department_id).where(DuplicateScan.department_id.is_not(None)))).order_by(Department.id))
    for department in companies:
        _start(session, department, None)
    return scan


def _failed(session, scan_id, message, job_id=None):
    jobs.mark_failed(session, DuplicateScan, scan_id, message, while_in=("queued", "running"), job_id=job_id)


@jobs.handler("duplicate_scan", failed=_failed)
def run_scan(session, scan_id, progress):
    """The job: find the groups and keep them, replacing the scope's older results."""
    scan = session.get(DuplicateScan, scan_id)
    if scan is None or scan.job_id != progress.job_id or scan.status != "queued":
        raise jobs.JobFailed(jobs.FAILED)  # stopped meanwhile (it waited too long): nothing of it written
    scan.status = "running"
    department = scan.department
    session.commit()
    records, pairs, found = find(session, department, progress)
    save(session, scan_id, records, pairs, found)


def save(session, scan_id, records, pairs, found):
    """Write the groups of a finished scan, and delete the groups of the same scope's older scans."""
    scan = session.get(DuplicateScan, scan_id)
    for start in range(0, len(found), BATCH):
        chunk = found[start:start + BATCH]
        ids = session.scalars(insert(DuplicateGroup).returning(DuplicateGroup.id, sort_by_parameter_order=True), [
            {"scan_id": scan_id, "verdict": f.verdict, "score": f.score,
             "reason": json.dumps(checking.reasons_stored(f.reasons), ensure_ascii=False)} for f in chunk]).all()
        session.execute(insert(DuplicateGroupMember), [
            {"group_id": group_id, "opportunity_id": i} for group_id, f in zip(ids, chunk) for i in f.ids])
    older = select(DuplicateScan.id).where(
        DuplicateScan.id < scan_id,
        DuplicateScan.department_id.is_(None) if scan.department_id is None
        else DuplicateScan.department_id == scan.department_id)
    session.execute(delete(DuplicateGroup).where(DuplicateGroup.scan_id.in_(older)))
    scan.status, scan.finished_at, scan.records, scan.pairs = "done", clock.now(), records, pairs
    scan.groups_duplicate = sum(f.verdict == checking.DUPLICATE for f in found)
    scan.groups_review = len(found) - scan.groups_duplicate


def scan_now(session, actor=None):
    """Scan at once, in this process (the CLI): the scan, with its groups saved."""
    department = scope_of(session, actor)
    scan = DuplicateScan(department_id=department.id if department is not None else None,
                         requested_by_id=actor.id if actor else None, status="running", created_at=clock.now())
    session.add(scan)
    session.flush()
    records, pairs, found = find(session, department)
    save(session, scan.id, records, pairs, found)
    return scan, found


# --- reading the results -------------------------------------------------------------------

def last_scan(session, actor, finished=False):
    """The newest scan of the actor's scope (finished only: the one whose groups are shown). An agent
    admin reads its company's scans only: a subsystem-wide scan's figures count every company, and its
    groups join records through other companies' (whose reasons would name them)."""
    department = scope_of(session, actor)
    query = select(DuplicateScan).where(_scan_scope(department))
    if finished:
        query = query.where(DuplicateScan.status == "done")
    return session.scalar(query.order_by(DuplicateScan.id.desc()).limit(1))


def _scan_scope(department):
    """SQL condition on DuplicateScan: the scans of one scope (an agent company, or everything: None)."""
    if department is None:
        return DuplicateScan.department_id.is_(None)
    return DuplicateScan.department_id == department.id


def _visible_members(actor):
    """Members of a group that the actor sees: live, in its reach (an agent admin's company, and the
    public pool), not yet merged; `own` is 1 for the records it may merge."""
    own = and_(people.opportunity_clause(actor), people.may_delete_opportunity_clause(actor))
    return select(DuplicateGroupMember.group_id, DuplicateGroupMember.opportunity_id,
                  case((own, 1), else_=0).label("own")).join(
        Opportunity, Opportunity.id == DuplicateGroupMember.opportunity_id).where(
        people.duplicate_reach_clause(actor))


def _shown(members):
    """HAVING of a group shown: two records or more, one at least of the actor's own (two of the public pool
    left, when its record was merged or claimed away, are not an agent admin's group)."""
    return and_(func.count() > 1, func.max(members.c.own) == 1)


def groups(session, actor, verdict=None, page=1, per_page=20):
    """([(DuplicateGroup, [Opportunity...])], total, scan) of the actor's last finished scan: the groups
    with two or more records still live and in the actor's reach (a merge or a delete takes a record
    out; a dismissed group is gone), duplicates first, strongest first."""
    scan = last_scan(session, actor, finished=True)
    if scan is None:
        return [], 0, None
    members = _visible_members(actor).subquery()
    query = (select(DuplicateGroup.id).join(members, members.c.group_id == DuplicateGroup.id)
             .where(DuplicateGroup.scan_id == scan.id).group_by(DuplicateGroup.id).having(_shown(members)))
    if verdict in (checking.DUPLICATE, checking.REVIEW):
        query = query.where(DuplicateGroup.verdict == verdict)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    order = (DuplicateGroup.verdict != checking.DUPLICATE, DuplicateGroup.score.desc(), DuplicateGroup.id)
    ids = session.scalars(query.order_by(*order).offset((max(page, 1) - 1) * per_page).limit(per_page)).all()
    items = session.scalars(select(DuplicateGroup).where(DuplicateGroup.id.in_(ids)).order_by(*order)).all() \
        if ids else []
    records = _records_of(session, actor, ids)
    return [(item, records[item.id]) for item in items], total, scan


def _records_of(session, actor, group_ids):
    out = defaultdict(list)
    if not group_ids:
        return out
    visible = _visible_members(actor).where(DuplicateGroupMember.group_id.in_(group_ids)).subquery()
    query = select(visible.c.group_id, Opportunity).join(Opportunity, Opportunity.id == visible.c.opportunity_id)
    for group_id, opportunity in session.execute(query.order_by(Opportunity.id)):
        out[group_id].append(opportunity)
    return out


def group_of(session, actor, group_id):
    """(DuplicateGroup, [Opportunity]) of the actor's reach, or raises not_found: of a scan of its scope
    (a subsystem admin: any), with two records or more in its reach, one at least its own."""
    item = session.get(DuplicateGroup, group_id)
    records = _records_of(session, actor, [group_id]).get(group_id, []) if item is not None else []
    if item is not None and not people.may_merge_public_pool(actor):
        in_scope = session.scalar(select(DuplicateScan.id).where(
            DuplicateScan.id == item.scan_id, _scan_scope(scope_of(session, actor))))
        records = records if in_scope and any(not in_public_pool(o) for o in records) else []
    if item is None or len(records) < 2:
        raise RuleViolation(_l("This group of duplicates no longer exists or is out of your reach."),
                            code="not_found")
    return item, records


def dismiss(session, actor, group_id):
    """"Not duplicates": every pair of the group's records is remembered, so no scan groups them again."""
    item, records = group_of(session, actor, group_id)
    ids = sorted(o.id for o in records)
    pairs = {(a, b) for i, a in enumerate(ids) for b in ids[i + 1:]}
    pairs -= set(session.execute(select(DuplicateDismissal.low_id, DuplicateDismissal.high_id).where(
        DuplicateDismissal.low_id.in_(ids), DuplicateDismissal.high_id.in_(ids))).tuples())
    now = clock.now()
    if pairs:
        session.execute(insert(DuplicateDismissal), [
            {"low_id": a, "high_id": b, "user_id": actor.id, "created_at": now} for a, b in sorted(pairs)])
    session.delete(item)  # the group leaves the list now; the pairs keep it out of the next scans
    audit.record(session, actor, "duplicates_dismissed", target=records[0],
                 details={"opportunities": ids, "companies": [o.company for o in records]})


def in_public_pool(opportunity):
    return opportunity.location == "public_pool"


def merge_refused(actor, records):
    """Whether the actor may not merge these records: one is the public pool's, shared by every company,
    and the actor is not a subsystem admin."""
    return not people.may_merge_public_pool(actor) and any(in_public_pool(o) for o in records)


def reasons(item):
    """A group's reasons as stored: `Reason.as_json` objects, or plain texts (scans before reasons had
    codes), for `reasons.say`."""
    return json.loads(item.reason or "[]")


def scan_progress(session, scan):
    """(done, total) of a scan's job, after marking failed what a dead worker left."""
    jobs.reap(session)
    job = scan.job
    return (job.done or 0, job.total) if job is not None else (0, None)


def note_counts(session, ids):
    """{opportunity id: number of contact notes}, for the cards of a page."""
    if not ids:
        return {}
    rows = session.execute(select(ContactNote.opportunity_id, func.count()).where(
        ContactNote.opportunity_id.in_(ids)).group_by(ContactNote.opportunity_id))
    return dict(rows.all())
