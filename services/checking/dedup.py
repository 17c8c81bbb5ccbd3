"""The one duplicate-check engine (撞单检测): keys -> candidates from the index -> verdict.

The check page, the entry form, the API, imports and web leads all call `check`.
Candidates come from exact lookups of hashed terms in the database index
(`opportunity_term`), never from a scan, so a check costs the same at a thousand
customers and at a million; `normalize.compare` then judges each candidate.
"""
import functools
import hashlib
import json
from dataclasses import dataclass, field
from typing import NamedTuple

from sqlalchemy import BigInteger, bindparam, select, text

from models import OpportunityTerm

from . import normalize, reasons

POSTINGS_LIMIT = 5000  # a term with more postings than this is too common to narrow anything
CANDIDATE_LIMIT = 400  # candidates judged per check; beyond it the answer says "refine"
# Of which found only by containing a keyword's bigrams (瑞丽 in 10,000 names): the answer is
# "refine" anyway, and each judged hit is a loaded record (p95 of a check at a million).
KEYWORD_LIMIT = 100
_ORDER = {normalize.DUPLICATE: 0, normalize.REVIEW: 1}
FIRST_COUNT_CAP = 501  # bigram postings counted first: enough to find the rarest, usually
CHECK_BATCH = 1000  # rows of check_many whose lookups share statements
MAX_PARAMS = 30000  # bound values per statement: SQLite takes 32766, psycopg 65535


def term_hash(term):
    """A signed 64-bit hash of an index term (fits BIGINT on both databases)."""
    return int.from_bytes(hashlib.blake2b(term.encode(), digest_size=8).digest(), "big", signed=True)


def query_keys(company=None, province=None, city=None, phone=None, fax=None, mobile=None, wechat=None, qq=None):
    phones = "/".join(p for p in (phone, mobile) if p and p.strip())
    return normalize.record_keys(company=company, province=province, city=city, phone=phones or None, fax=fax,
                                 wechat=wechat, qq=qq)


def record_keys_of(record):
    """`query_keys` of anything with the record's fields (an Opportunity, an import's row, a result row)."""
    return query_keys(record.company, record.province, record.city, record.phone, record.fax, record.mobile,
                      getattr(record, "wechat", None), getattr(record, "qq", None))


# which list of a record's keys each opportunity_phone.field holds (a WeChat ID's kind is `mobile`, as
# the unique index of personal numbers keeps it)
KEY_LISTS = {"phone": "phone_keys", "fax": "fax_keys", normalize.WECHAT_FIELD: "wechat_keys"}


def stored_keys(opportunity):
    """The comparable keys of a stored opportunity, read from its columns (no re-parsing)."""
    key = normalize.CompanyKey(
        folded=opportunity.name_folded, core=opportunity.name_core, province=opportunity.norm_province,
        city=opportunity.norm_city, district=opportunity.norm_district,
    )
    keys = {"company_key": key, "phone_keys": [], "fax_keys": [], "wechat_keys": []}
    for row in opportunity.phones:
        phone_key = normalize.PhoneKey(local=row.local, area_code=row.area_code or None, kind=row.kind)
        keys[KEY_LISTS.get(row.field, "phone_keys")].append(phone_key)
    return keys


def index_rows(opportunity_id, keys):
    """The index terms of a record, as rows for `opportunity_term`."""
    return [{"term": term_hash(t), "opportunity_id": opportunity_id} for t in normalize.index_terms(keys)]


def phone_rows(opportunity_id, keys):
    """The rows of `opportunity_phone` for a record, each once: a number typed twice in a field
    (once with an extension, which the row does not keep) would collide with itself on the
    unique index of mobiles."""
    rows = {}
    for field_name, list_name in KEY_LISTS.items():
        for key in keys.get(list_name) or ():
            row = (field_name, key.kind, key.local, key.area_code or "")
            rows[row] = {"opportunity_id": opportunity_id, "field": field_name, "kind": key.kind,
                         "local": key.local, "area_code": key.area_code or ""}
    return list(rows.values())


class Found(NamedTuple):
    """An existing opportunity as the check shows it: name, place and owner, never its
    contact details or notes (load the Opportunity by `id` to act on it)."""
    id: int
    company: str
    province: str | None
    city: str | None
    location: str
    owner_id: int | None
    owner_login: str | None


@dataclass
class Hit:
    opportunity: Found
    match: normalize.Match


@dataclass
class CheckResult:
    verdict: str
    hits: list = field(default_factory=list)
    truncated: bool = False  # more candidates than were judged: the keyword is too common

    @property
    def total(self):
        return len(self.hits)


def _postings(session, term, limit=POSTINGS_LIMIT + 1):
    return session.scalars(
        select(OpportunityTerm.opportunity_id).where(OpportunityTerm.term == term_hash(term)).limit(limit)
    ).all()


# The candidate queries as SQL text with bound parameters: a check runs several, and
# building them as expressions (an IN of hundreds of literals, an EXISTS per bigram) cost
# more than running them. Portable between SQLite and PostgreSQL.
# Ordered as the primary key: which postings a row beyond POSTINGS_LIMIT reads is then the
# same whatever the plan (PostgreSQL's prepared generic plan read other rows than its custom one).
_EXACT_SQL = text(
    "SELECT opportunity_id FROM opportunity_term WHERE term IN :terms ORDER BY term, opportunity_id LIMIT :limit"
).bindparams(bindparam("terms", expanding=True, type_=BigInteger))
_LOGINS_SQL = text('SELECT id, login FROM "user" WHERE id IN :ids').bindparams(bindparam("ids", expanding=True))
# Each candidate's normalised keys, and what a hit may show of it (name, place, owner),
# in one statement: plain rows, no ORM objects (a keyword check judges a hundred).
_JUDGE_SQL = text(
    "SELECT o.id, o.company, o.province, o.city, o.location, o.owner_id,"
    " o.name_folded, o.name_core, o.norm_province, o.norm_city, o.norm_district,"
    " p.field, p.kind, p.local, p.area_code"
    " FROM opportunity o LEFT OUTER JOIN opportunity_phone p ON p.opportunity_id = o.id"
    " WHERE o.id IN :ids AND o.deleted_at IS NULL ORDER BY o.id, p.id"  # deleted ones are not checked against
).bindparams(bindparam("ids", expanding=True))


@functools.lru_cache(maxsize=64)
def _counts_sql(n):
    """How many postings each of n terms has, each counted up to :cap, in one row."""
    parts = [f"(SELECT count(*) FROM (SELECT 1 FROM opportunity_term WHERE term = :t{i} LIMIT :cap) AS c{i})"
             for i in range(n)]
    return text("SELECT " + ", ".join(parts)).bindparams(
        *[bindparam(f"t{i}", type_=BigInteger) for i in range(n)])


@functools.lru_cache(maxsize=64)
def _keyword_sql(n):
    """The first postings (:base of them) of the rarest term :t0 that the n-1 others also hold."""
    # Correlated scalar subqueries, not EXISTS: PostgreSQL turns EXISTS into semi-joins and
    # then searches the join orders of n tables (10 ms of planning for a 0.4 ms query);
    # these stay one index probe per posting, tested in the order given, as in SQLite.
    exists_parts = "".join(
        f" AND (SELECT 1 FROM opportunity_term t{i} WHERE t{i}.term = :t{i}"
        f" AND t{i}.opportunity_id = b.opportunity_id) = 1" for i in range(1, n))
    return text(
        "SELECT b.opportunity_id FROM (SELECT opportunity_id FROM opportunity_term WHERE term = :t0"
        " ORDER BY opportunity_id LIMIT :base) AS b WHERE 1 = 1" + exists_parts +
        " ORDER BY b.opportunity_id LIMIT :limit"
    ).bindparams(*[bindparam(f"t{i}", type_=BigInteger) for i in range(n)])


def _exact_hashes(keys):
    """The hashes of the terms a check looks up exactly: trade name, neighbours, names inside it, phones."""
    return list({term_hash(t) for t in normalize.lookup_terms(keys)})


def _exact_candidates(session, keys):
    hashes = _exact_hashes(keys)
    if not hashes:
        return set()
    return set(session.scalars(_EXACT_SQL, {"terms": hashes, "limit": POSTINGS_LIMIT}))


def _gram_hashes(core):
    return list(dict.fromkeys(term_hash("g:" + g) for g in normalize.name_grams(core)))


def _keyword_candidates(session, core, limit=CANDIDATE_LIMIT):
    """Names that contain every bigram of the keyword, the first `limit` by id, and whether
    there were more (or the rarest bigram was too common to look at whole).

    Two statements whatever the keyword's length: the bigrams' posting counts (capped),
    then the rarest bigram's postings (its first POSTINGS_LIMIT) that every other bigram
    also holds, tested rarest first by index lookups, in the database.
    """
    hashes = _gram_hashes(core)
    if not hashes:
        return set(), False
    if len(hashes) == 1:
        counts = [0]  # no need to count: its postings are the answer
    else:
        # Counted up to FIRST_COUNT_CAP first (enough to find the rarest, usually); only when
        # every bigram has more, up to POSTINGS_LIMIT + 1, to know whether the rarest is too common.
        params = {f"t{i}": h for i, h in enumerate(hashes)}
        counts = []
        for cap in (FIRST_COUNT_CAP, POSTINGS_LIMIT + 1):
            counts = list(session.execute(_counts_sql(len(hashes)), {**params, "cap": cap}).one())
            if min(counts) < cap:
                break
        if min(counts) == 0:
            return set(), False
    return _keyword_ids(session, hashes, counts, limit)


def _keyword_ids(session, hashes, counts, limit):
    """The keyword's candidates and whether there were more, given its bigrams' capped counts."""
    order = sorted(range(len(hashes)), key=counts.__getitem__)
    truncated = counts[order[0]] > POSTINGS_LIMIT
    params = {f"t{i}": hashes[j] for i, j in enumerate(order)}
    params.update(base=POSTINGS_LIMIT, limit=limit + 1)
    ids = session.scalars(_keyword_sql(len(hashes)), params).all()
    if len(ids) > limit:
        ids, truncated = ids[:limit], True
    return set(ids), truncated


def _stored(session, ids):
    """{id: (what a hit shows of it, its keys)} of the candidates not deleted, in id order."""
    stored = {}
    for chunk in _padded_chunks(sorted(ids)):
        for row in session.execute(_JUDGE_SQL, {"ids": chunk}).all():
            entry = stored.get(row[0])
            if entry is None:
                folded, core, province, city, district = row[6:11]
                entry = stored[row[0]] = (row[:6], {
                    "company_key": normalize.CompanyKey(folded=folded, core=core, province=province, city=city,
                                                        district=district),
                    "phone_keys": [], "fax_keys": [], "wechat_keys": []})
            field_name, kind, local, area_code = row[11:]
            if local is not None:
                entry[1][KEY_LISTS.get(field_name, "phone_keys")].append(
                    normalize.PhoneKey(local=local, area_code=area_code or None, kind=kind))
    return stored


def _matched(keys, ids, stored):
    """[(shown, Match)] of the candidates `ids` that `compare` finds in common with the query, by id."""
    matched = []
    for opportunity_id in sorted(ids):
        entry = stored.get(opportunity_id)
        if entry is not None:
            match = normalize.compare(keys, entry[1])
            if match is not None:
                matched.append((entry[0], match))
    return matched


def _logins(session, owners):
    logins = {}
    for chunk in _padded_chunks(sorted(set(owners) - {None})):
        logins.update(session.execute(_LOGINS_SQL, {"ids": chunk}).all())
    return logins


IN_CHUNK = 2048  # values of an IN list per statement


def _padded_chunks(values, size=IN_CHUNK):
    """`values` in lists of `size`, the last one padded to a `_bucket` size by repeating its
    last value (an IN list does not mind): a few statement texts, each prepared once. Each
    text a driver prepares stays in its cache (SQLite's 128 statements a connection), and
    an IN list of tens of thousands is megabytes there."""
    for start in range(0, len(values), size):
        chunk = values[start:start + size]
        yield chunk + chunk[-1:] * (_bucket(len(chunk)) - len(chunk))


def _judge(session, keys, ids):
    """[Hit] of the candidates that `compare` finds in common with the query, compared from
    their normalised columns and phone rows."""
    matched = _matched(keys, ids, _stored(session, ids))
    logins = _logins(session, (shown[5] for shown, _match in matched))
    return [Hit(Found(*shown, logins.get(shown[5])), match) for shown, match in matched]


def _choose(exact, keyword, truncated, exclude=frozenset()):
    """The candidates to judge, at most CANDIDATE_LIMIT (the exact ones first, then keyword
    ones by id), and whether some were left out."""
    exact, keyword = exact - exclude, keyword - exclude
    if len(exact) > CANDIDATE_LIMIT:
        exact, truncated = set(sorted(exact)[:CANDIDATE_LIMIT]), True
    extra = sorted(keyword - exact)
    room = CANDIDATE_LIMIT - len(exact)
    if len(extra) > room:
        extra, truncated = extra[:room], True
    return exact.union(extra), truncated


_CONFIRMED_SQL = text(
    "SELECT r.opportunity_id, r.resembled FROM review_confirmation r WHERE r.opportunity_id IN :ids"
).bindparams(bindparam("ids", expanding=True))
_CORES_SQL = text("SELECT id, name_core FROM opportunity WHERE id IN :ids").bindparams(
    bindparam("ids", expanding=True))


def _namesakes_confirmed(session, ids):
    """{id: the trade names (cores) of the records it was confirmed distinct from}, of those `ids` entered
    with a confirmed resemblance (ReviewConfirmation)."""
    resembled = {}
    for chunk in _padded_chunks(sorted(ids)):
        for opportunity_id, text_ in session.execute(_CONFIRMED_SQL, {"ids": chunk}):
            found = {r.get("opportunity_id") for r in json.loads(text_)} - {None}  # an import's file rows have none
            resembled.setdefault(opportunity_id, set()).update(found)
    others = set().union(*resembled.values()) if resembled else set()
    cores = {}
    for chunk in _padded_chunks(sorted(others)):
        cores.update(session.execute(_CORES_SQL, {"ids": chunk}).all())
    return {i: {cores.get(o) for o in found} for i, found in resembled.items()}


def _demote_confirmed(session, keys_of_rows, hits_of_rows):
    """A placeless query's name duplicate of a record confirmed as another company than a namesake
    becomes a resemblance (issue 14: 瑞丽服装 after 杭州瑞丽服装厂 was confirmed distinct from
    上海瑞丽服装厂). Asked only when such a hit exists: most checks pay nothing."""
    ids = {h.opportunity.id for hits in hits_of_rows for h in hits if h.match.placeless_name}
    if not ids:
        return
    confirmed = _namesakes_confirmed(session, ids)
    for keys, hits in zip(keys_of_rows, hits_of_rows):
        core = keys["company_key"].core
        for hit in hits:
            if hit.match.placeless_name and core in confirmed.get(hit.opportunity.id, ()):
                hit.match = normalize.namesake(hit.match, core)


def _result(hits, truncated):
    hits.sort(key=lambda h: (*rank(h.match.verdict, h.match.score), h.opportunity.id))
    return CheckResult(verdict=normalize.verdict(h.match for h in hits), hits=hits, truncated=truncated)


def check(session, company=None, province=None, city=None, phone=None, fax=None, mobile=None, exclude_id=None,
          wechat=None):
    """The duplicate-check result for these details: verdict and every hit, worst first.

    Candidates: every record sharing an exact term (trade name, one-edit neighbour, name
    inside the query's, phone), then up to KEYWORD_LIMIT names containing the keyword, at
    most CANDIDATE_LIMIT in all; the exact ones are never the ones left out.
    """
    keys = query_keys(company, province, city, phone, fax, mobile, wechat)
    exact = _exact_candidates(session, keys)
    keyword, truncated = _keyword_candidates(session, keys["company_key"].core, limit=KEYWORD_LIMIT)
    ids, truncated = _choose(exact, keyword, truncated, {exclude_id})
    hits = _judge(session, keys, ids) if ids else []
    _demote_confirmed(session, [keys], [hits])
    return _result(hits, truncated)


# ---------------------------------------------------------------------------
# Many rows at once (a file's check): the same answers as `check`, in few statements

def check_many(session, queries, exclude_ids=None, counts=None):
    """[check(session, **query)] of each query ({company, province, city, phone, fax,
    mobile, wechat}, any of them None or missing), the same results, asked in batches of
    CHECK_BATCH rows. `exclude_ids`: ids left out of every row's candidates, as `check`'s
    exclude_id (after the lookups: they still count towards the limits).

    `counts`: a dict the caller keeps between calls that read the same data (a file's
    check, in one transaction), where the bigrams' posting counts are kept: every batch
    asks for the same common ones (服装, 科技), and counting them is most of a keyword's cost.
    (On PostgreSQL, where each statement sees the latest commits, a kept count may be older
    than the row's check, as a check a row made earlier in the file would be.)
    """
    exclude = frozenset(exclude_ids or ())
    counts = {} if counts is None else counts
    results = []
    for start in range(0, len(queries), CHECK_BATCH):
        results += _check_batch(session, queries[start:start + CHECK_BATCH], exclude, counts)
    return results


def _check_batch(session, queries, exclude, counts):
    """A few statements per step for the whole batch: the exact terms' postings, the
    bigrams' counts, the keyword intersections (the names of one length together), the
    candidates' keys, the owners' logins; then `compare` row by row."""
    keys = [query_keys(**{name: q.get(name) for name in _QUERY_FIELDS}) for q in queries]
    exact = _exact_many(session, [_exact_hashes(k) for k in keys])
    keyword = _keyword_many(session, {k["company_key"].core for k in keys} - {""}, KEYWORD_LIMIT, counts)
    chosen = [_choose(found, *keyword.get(k["company_key"].core, (frozenset(), False)), exclude)
              for k, found in zip(keys, exact)]
    stored = _stored(session, set().union(*(ids for ids, _truncated in chosen)))
    matched = [_matched(k, ids, stored) for k, (ids, _truncated) in zip(keys, chosen)]
    logins = _logins(session, (shown[5] for row in matched for shown, _match in row))
    hits = [[Hit(Found(*shown, logins.get(shown[5])), match) for shown, match in row] for row in matched]
    _demote_confirmed(session, keys, hits)
    return [_result(row, truncated) for row, (_ids, truncated) in zip(hits, chosen)]


_QUERY_FIELDS = ("company", "province", "city", "phone", "fax", "mobile", "wechat")


def _exact_many(session, rows):
    """`_exact_candidates` of each row's hashes. A row whose terms have at most
    POSTINGS_LIMIT postings in all gets every one of them, as `check`'s statement returns
    them; a row with more (whose statement stops at the limit, in the database's order)
    runs that statement itself."""
    wanted = {h for hashes in rows for h in hashes}
    postings = _postings_of(session, wanted, BATCH_POSTINGS)
    if postings is None:  # some terms are very common: count first, read only the ones a check reads whole
        counts = _counts(session, wanted, POSTINGS_LIMIT + 1)
        postings = _postings_of(session, {h for h in wanted if counts[h] <= POSTINGS_LIMIT})
    out = []
    for hashes in rows:
        read = [postings.get(h) for h in hashes]
        if all(ids is not None for ids in read) and sum(map(len, read)) <= POSTINGS_LIMIT:
            out.append(set().union(*read))
        else:
            out.append(set(session.scalars(_EXACT_SQL, {"terms": hashes, "limit": POSTINGS_LIMIT})))
    return out


def _keyword_many(session, cores, limit, known):
    """{core: _keyword_candidates(session, core, limit)}: the bigrams' counts of every core
    in a few statements (capped as `check` caps them; those in `known` not again), then
    the intersections of the cores whose bigrams all have postings, many cores a statement."""
    grams = {core: _gram_hashes(core) for core in cores}
    first = _known_counts(session, {h for hashes in grams.values() if len(hashes) > 1 for h in hashes},
                          FIRST_COUNT_CAP, known)
    common = [hashes for hashes in grams.values()
              if len(hashes) > 1 and min(first[h] for h in hashes) >= FIRST_COUNT_CAP]
    second = _known_counts(session, {h for hashes in common for h in hashes}, POSTINGS_LIMIT + 1, known)
    out, asked = {}, []
    for core, hashes in grams.items():
        if len(hashes) == 1:
            counts = [0]  # as in `check`: its postings are the answer
        else:
            counts = [first[h] for h in hashes]
            if min(counts) >= FIRST_COUNT_CAP:
                counts = [second[h] for h in hashes]
            if min(counts) == 0:
                out[core] = (frozenset(), False)
                continue
        order = sorted(range(len(hashes)), key=counts.__getitem__)
        asked.append((core, [hashes[j] for j in order], counts[order[0]] > POSTINGS_LIMIT))
    found = _intersections(session, [ordered for _core, ordered, _truncated in asked], limit + 1)
    for (core, _ordered, truncated), ids in zip(asked, found):
        out[core] = (set(ids[:limit]), truncated or len(ids) > limit)
    return out


def _intersections(session, term_lists, limit):
    """[the first `limit` ids, by id, of the first POSTINGS_LIMIT postings of each list's first
    term that hold all its other terms]: `_keyword_sql` of many lists, the lists of one
    length in one statement (a row of terms each, the ids aggregated per row)."""
    by_length = {}
    for j, terms in enumerate(term_lists):
        by_length.setdefault(len(terms), []).append(j)
    found = [[] for _ in term_lists]
    aggregate = _ID_LIST[session.get_bind().dialect.name]
    for n, numbers in by_length.items():
        per_statement = min(_INTERSECTION_ROWS, 1 << ((MAX_PARAMS // (n + 1)).bit_length() - 1))
        for start in range(0, len(numbers), per_statement):
            chunk = numbers[start:start + per_statement]
            size = _bucket(len(chunk))
            padded = chunk + chunk[-1:] * (size - len(chunk))  # a repeated row gives its answer twice
            params = {"base": POSTINGS_LIMIT, "limit": limit}
            for r, j in enumerate(padded):
                params[f"v{r}_0"] = j
                params.update((f"v{r}_{i + 1}", h) for i, h in enumerate(term_lists[j]))
            for j, ids in session.execute(_intersections_sql(size, n, aggregate), params):
                found[j] = sorted(map(int, ids.split(","))) if ids else []
    return found


_INTERSECTION_ROWS = 256  # keyword rows per statement (a power of two: `_bucket` stays within it)
# The ids found for one row, as text (a scalar subquery gives one value)
_ID_LIST = {"sqlite": "group_concat(q.opportunity_id)",
            "postgresql": "string_agg(CAST(q.opportunity_id AS TEXT), ',')"}


def _bucket(count):
    """The statement size for `count` rows: a few sizes, so each is built (and prepared) once."""
    return max(16, 1 << (count - 1).bit_length())


@functools.lru_cache(maxsize=64)
def _intersections_sql(rows, n, aggregate):
    """`_keyword_sql` for `rows` lists of n terms given as VALUES rows (number, t0, ..., tn-1);
    the same index probes, correlated to each row."""
    others = "".join(f" AND (SELECT 1 FROM opportunity_term t{i} WHERE t{i}.term = v.column{i + 2}"
                     f" AND t{i}.opportunity_id = b.opportunity_id) = 1" for i in range(1, n))
    values = ", ".join("(" + ", ".join(f":v{r}_{i}" for i in range(n + 1)) + ")" for r in range(rows))
    return text(
        f"SELECT v.column1, (SELECT {aggregate} FROM (SELECT b.opportunity_id FROM (SELECT opportunity_id"
        " FROM opportunity_term WHERE term = v.column2 ORDER BY opportunity_id LIMIT :base) AS b"
        f" WHERE 1 = 1{others} ORDER BY b.opportunity_id LIMIT :limit) AS q) FROM (VALUES {values}) AS v"
    ).bindparams(*[bindparam(f"v{r}_{i}", type_=BigInteger) for r in range(rows) for i in range(n + 1)])


@functools.lru_cache(maxsize=16)
def _capped_counts_sql(n):
    """(term, its postings counted up to :cap) of n terms, one row each."""
    values = ", ".join(f"(:h{i})" for i in range(n))
    return text(
        "SELECT v.column1, (SELECT count(*) FROM (SELECT 1 FROM opportunity_term WHERE term = v.column1"
        " LIMIT :cap) AS c) FROM (VALUES " + values + ") AS v"
    ).bindparams(*[bindparam(f"h{i}", type_=BigInteger) for i in range(n)])


_COUNT_CHUNK = 2048  # terms counted per statement (a power of two: `_bucket` stays within it)


def _known_counts(session, hashes, cap, known):
    """`_counts`, the ones in `known` ({(hash, cap): count}) taken from there, the others added to it."""
    missing = {h for h in hashes if (h, cap) not in known}
    known.update(((h, cap), count) for h, count in _counts(session, missing, cap).items())
    return {h: known[h, cap] for h in hashes}


def _counts(session, hashes, cap):
    """{term hash: postings counted up to cap}. The terms go in statements of a few sizes
    (the last one padded by repeating a term), so each size's statement is built once."""
    hashes = list(hashes)
    out = {}
    for start in range(0, len(hashes), _COUNT_CHUNK):
        chunk = hashes[start:start + _COUNT_CHUNK]
        size = _bucket(len(chunk))
        params = {f"h{i}": h for i, h in enumerate(chunk + chunk[-1:] * (size - len(chunk)))}
        out.update(session.execute(_capped_counts_sql(size), {**params, "cap": cap}).all())
    return out


_POSTINGS_SQL = text(
    "SELECT term, opportunity_id FROM opportunity_term WHERE term IN :terms LIMIT :limit"
).bindparams(bindparam("terms", expanding=True, type_=BigInteger))
BATCH_POSTINGS = 200_000  # postings read for a batch's exact terms before counting them first


def _postings_of(session, hashes, limit=None):
    """{term hash: [opportunity ids]} of every hash asked (empty lists included), or None
    when there are more than `limit` (then ask with counted terms, limit None)."""
    hashes = list(hashes)
    out = {h: [] for h in hashes}
    room = limit
    for chunk in _padded_chunks(hashes):
        cap = room + 1 if limit is not None else 1 << 62
        rows = session.execute(_POSTINGS_SQL, {"terms": chunk, "limit": cap}).all()
        if limit is not None:
            if len(rows) > room:
                return None
            room -= len(rows)
        for term, opportunity_id in rows:
            out[term].append(opportunity_id)
    return out


def rank(verdict, score):
    """The one order of hits and matches: duplicates first, then the likest; callers break ties."""
    return _ORDER[verdict], -score


def verdict_of(verdicts):
    """The verdict of a check from its hits' verdicts: the worst of them, `new` without any."""
    verdicts = set(verdicts)
    if normalize.DUPLICATE in verdicts:
        return normalize.DUPLICATE
    return normalize.REVIEW if verdicts else normalize.NEW


def match_json(match, words=False):
    """What a hit or a file's match says of the match itself. Its reasons are `Reason`s (the English
    text in JSON: the command line, logs) unless `words`: then in the reader's language, with their
    codes beside them (`reason_codes`, for integrations)."""
    out = {"matched_on": list(match.matched_on), "score": round(match.score, 2), "verdict": match.verdict,
           "reasons": list(match.reasons)}
    if words:
        out["reasons"] = reasons.said(match.reasons)
        out["reason_codes"] = reasons.codes(match.reasons)
    return out


def hit_json(hit, words=False):
    """A hit as everyone shows it (the one serialiser: the API, the CLI, an import's preview, the
    pages): name, place and owner only, never contact details."""
    opportunity = hit.opportunity
    return {
        "opportunity_id": opportunity.id,
        "company": opportunity.company,
        "location": opportunity.location,
        "owner": opportunity.owner_login,
        **match_json(hit.match, words),
    }


def result_json(result, words=False):
    return {"verdict": result.verdict, "matches": [hit_json(h, words) for h in result.hits]}
