"""The one duplicate-check engine (撞单检测): keys -> candidates from the index -> verdict.

The check page, the entry form, the API, imports and web leads all call `check`.
Candidates come from exact lookups of hashed terms in the database index
(`opportunity_term`), never from a scan, so a check costs the same at a thousand
customers and at a million; `normalize.compare` then judges each candidate.
"""
import functools
import hashlib
from dataclasses import dataclass, field
from typing import NamedTuple

from sqlalchemy import BigInteger, bindparam, select, text

from models import OpportunityTerm

from . import normalize

POSTINGS_LIMIT = 5000  # a term with more postings than this is too common to narrow anything
CANDIDATE_LIMIT = 400  # candidates judged per check; beyond it the answer says "refine"
# Of which found only by containing a keyword's bigrams (瑞丽 in 10,000 names): the answer is
# "refine" anyway, and each judged hit is a loaded record (p95 of a check at a million).
KEYWORD_LIMIT = 100
_ORDER = {normalize.DUPLICATE: 0, normalize.REVIEW: 1}


def term_hash(term):
    """A signed 64-bit hash of an index term (fits BIGINT on both databases)."""
    return int.from_bytes(hashlib.blake2b(term.encode(), digest_size=8).digest(), "big", signed=True)


def query_keys(company=None, province=None, city=None, phone=None, fax=None, mobile=None):
    phones = "/".join(p for p in (phone, mobile) if p and p.strip())
    return normalize.record_keys(company=company, province=province, city=city, phone=phones or None, fax=fax)


def stored_keys(opportunity):
    """The comparable keys of a stored opportunity, read from its columns (no re-parsing)."""
    key = normalize.CompanyKey(
        folded=opportunity.name_folded, core=opportunity.name_core, province=opportunity.norm_province,
        city=opportunity.norm_city, district=opportunity.norm_district,
    )
    phones, faxes = [], []
    for row in opportunity.phones:
        phone_key = normalize.PhoneKey(local=row.local, area_code=row.area_code or None, kind=row.kind)
        (faxes if row.field == "fax" else phones).append(phone_key)
    return {"company_key": key, "phone_keys": phones, "fax_keys": faxes}


def index_rows(opportunity_id, keys):
    """The index terms of a record, as rows for `opportunity_term`."""
    return [{"term": term_hash(t), "opportunity_id": opportunity_id} for t in normalize.index_terms(keys)]


def phone_rows(opportunity_id, keys):
    """The rows of `opportunity_phone` for a record, each once: a number typed twice in a field
    (once with an extension, which the row does not keep) would collide with itself on the
    unique index of mobiles."""
    rows = {}
    for field_name, key_list in (("phone", keys["phone_keys"]), ("fax", keys["fax_keys"])):
        for key in key_list:
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
_EXACT_SQL = text(
    "SELECT opportunity_id FROM opportunity_term WHERE term IN :terms LIMIT :limit"
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


def _exact_candidates(session, keys):
    core = keys["company_key"].core
    terms = [t for t in normalize.index_terms(keys) if t[:2] in ("n:", "d:", "p:")]
    terms += ["n:" + piece for piece in normalize.name_substrings(core)] if core else []
    if not terms:
        return set()
    hashes = list({term_hash(t) for t in terms})
    return set(session.scalars(_EXACT_SQL, {"terms": hashes, "limit": POSTINGS_LIMIT}))


def _keyword_candidates(session, core, limit=CANDIDATE_LIMIT):
    """Names that contain every bigram of the keyword, the first `limit` by id, and whether
    there were more (or the rarest bigram was too common to look at whole).

    Two statements whatever the keyword's length: the bigrams' posting counts (capped),
    then the rarest bigram's postings (its first POSTINGS_LIMIT) that every other bigram
    also holds, tested rarest first by index lookups, in the database.
    """
    grams = ["g:" + g for g in normalize.name_grams(core)]
    if not grams:
        return set(), False
    hashes = list(dict.fromkeys(term_hash(g) for g in grams))
    if len(hashes) == 1:
        counts = [0]  # no need to count: its postings are the answer
    else:
        # Counted up to 500 first (enough to find the rarest, usually); only when every
        # bigram has more, up to POSTINGS_LIMIT + 1, to know whether the rarest is too common.
        params = {f"t{i}": h for i, h in enumerate(hashes)}
        counts = []
        for cap in (501, POSTINGS_LIMIT + 1):
            counts = list(session.execute(_counts_sql(len(hashes)), {**params, "cap": cap}).one())
            if min(counts) < cap:
                break
        if min(counts) == 0:
            return set(), False
    order = sorted(range(len(hashes)), key=counts.__getitem__)
    truncated = counts[order[0]] > POSTINGS_LIMIT
    params = {f"t{i}": hashes[j] for i, j in enumerate(order)}
    params.update(base=POSTINGS_LIMIT, limit=limit + 1)
    ids = session.scalars(_keyword_sql(len(hashes)), params).all()
    if len(ids) > limit:
        ids, truncated = ids[:limit], True
    return set(ids), truncated


def _judge(session, keys, ids):
    """[Hit] of the candidates that `compare` finds in common with the query, compared from
    their normalised columns and phone rows."""
    stored = {}
    for row in session.execute(_JUDGE_SQL, {"ids": list(ids)}):
        entry = stored.get(row[0])
        if entry is None:
            folded, core, province, city, district = row[6:11]
            entry = stored[row[0]] = (row[:6], {
                "company_key": normalize.CompanyKey(folded=folded, core=core, province=province, city=city,
                                                    district=district),
                "phone_keys": [], "fax_keys": []})
        field_name, kind, local, area_code = row[11:]
        if local is not None:
            entry[1]["fax_keys" if field_name == "fax" else "phone_keys"].append(
                normalize.PhoneKey(local=local, area_code=area_code or None, kind=kind))
    matched = []
    for shown, candidate in stored.values():
        match = normalize.compare(keys, candidate)
        if match is not None:
            matched.append((shown, match))
    owners = {shown[5] for shown, _match in matched} - {None}
    logins = dict(session.execute(_LOGINS_SQL, {"ids": list(owners)}).all()) if owners else {}
    return [Hit(Found(*shown, logins.get(shown[5])), match) for shown, match in matched]


def check(session, company=None, province=None, city=None, phone=None, fax=None, mobile=None, exclude_id=None):
    """The duplicate-check result for these details: verdict and every hit, worst first.

    Candidates: every record sharing an exact term (trade name, one-edit neighbour, name
    inside the query's, phone), then up to KEYWORD_LIMIT names containing the keyword, at
    most CANDIDATE_LIMIT in all; the exact ones are never the ones left out.
    """
    keys = query_keys(company, province, city, phone, fax, mobile)
    exact = _exact_candidates(session, keys)
    keyword, truncated = _keyword_candidates(session, keys["company_key"].core, limit=KEYWORD_LIMIT)
    exact.discard(exclude_id)
    keyword.discard(exclude_id)
    if len(exact) > CANDIDATE_LIMIT:
        exact, truncated = set(sorted(exact)[:CANDIDATE_LIMIT]), True
    extra = sorted(keyword - exact)
    room = CANDIDATE_LIMIT - len(exact)
    if len(extra) > room:
        extra, truncated = extra[:room], True
    ids = exact.union(extra)
    hits = _judge(session, keys, ids) if ids else []
    hits.sort(key=lambda h: (_ORDER[h.match.verdict], -h.match.score, h.opportunity.id))
    return CheckResult(verdict=normalize.verdict(h.match for h in hits), hits=hits, truncated=truncated)


def hit_json(hit):
    """A hit as the API and the CLI show it: name, place and owner only, never contact details."""
    opportunity = hit.opportunity
    return {
        "opportunity_id": opportunity.id,
        "company": opportunity.company,
        "location": opportunity.location,
        "owner": opportunity.owner_login,
        "matched_on": list(hit.match.matched_on),
        "score": round(hit.match.score, 2),
        "verdict": hit.match.verdict,
        "reasons": list(hit.match.reasons),
    }


def result_json(result):
    return {"verdict": result.verdict, "matches": [hit_json(h) for h in result.hits]}
