"""The one duplicate-check engine (撞单检测): keys -> candidates from the index -> verdict.

The check page, the entry form, the API, imports and web leads all call `check`.
Candidates come from exact lookups of hashed terms in the database index
(`opportunity_term`), never from a scan, so a check costs the same at a thousand
customers and at a million; `normalize.compare` then judges each candidate.
"""
import hashlib
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from models import Opportunity, OpportunityPhone, OpportunityTerm

from . import normalize

POSTINGS_LIMIT = 5000  # a term with more postings than this is too common to narrow anything
CANDIDATE_LIMIT = 400  # candidates judged per check; beyond it the answer says "refine"
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
    rows = []
    for field_name, key_list in (("phone", keys["phone_keys"]), ("fax", keys["fax_keys"])):
        for key in key_list:
            rows.append({"opportunity_id": opportunity_id, "field": field_name, "kind": key.kind,
                         "local": key.local, "area_code": key.area_code or ""})
    return rows


@dataclass
class Hit:
    opportunity: Opportunity
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


def _exact_candidates(session, keys):
    core = keys["company_key"].core
    terms = [t for t in normalize.index_terms(keys) if t[:2] in ("n:", "d:", "p:")]
    terms += ["n:" + piece for piece in normalize.name_substrings(core)] if core else []
    if not terms:
        return set()
    hashes = list({term_hash(t) for t in terms})
    return set(session.scalars(
        select(OpportunityTerm.opportunity_id).where(OpportunityTerm.term.in_(hashes)).limit(POSTINGS_LIMIT)
    ))


def _keyword_candidates(session, core):
    """Names that contain every bigram of the keyword: start from the rarest bigram."""
    grams = ["g:" + g for g in normalize.name_grams(core)]
    if not grams:
        return set(), False
    lists = sorted((_postings(session, g) for g in grams), key=len)
    smallest = lists[0]
    truncated = len(smallest) > POSTINGS_LIMIT
    ids = set(smallest[:POSTINGS_LIMIT])
    for gram in grams[1:] if len(grams) > 1 else []:
        if not ids:
            break
        ids &= set(session.scalars(
            select(OpportunityTerm.opportunity_id).where(
                OpportunityTerm.term == term_hash(gram), OpportunityTerm.opportunity_id.in_(list(ids)))
        ))
    return ids, truncated


def check(session, company=None, province=None, city=None, phone=None, fax=None, mobile=None, exclude_id=None):
    """The duplicate-check result for these details: verdict and every hit, worst first."""
    keys = query_keys(company, province, city, phone, fax, mobile)
    ids = _exact_candidates(session, keys)
    keyword_ids, truncated = _keyword_candidates(session, keys["company_key"].core)
    ids |= keyword_ids
    ids.discard(exclude_id)
    if len(ids) > CANDIDATE_LIMIT:
        ids, truncated = set(sorted(ids)[:CANDIDATE_LIMIT]), True
    hits = []
    if ids:
        candidates = session.scalars(
            select(Opportunity).where(Opportunity.id.in_(list(ids)))
            .options(selectinload(Opportunity.phones), selectinload(Opportunity.owner))
        ).all()
        for candidate in candidates:
            match = normalize.compare(keys, stored_keys(candidate))
            if match is not None:
                hits.append(Hit(candidate, match))
    hits.sort(key=lambda h: (_ORDER[h.match.verdict], -h.match.score, h.opportunity.id))
    return CheckResult(verdict=normalize.verdict(h.match for h in hits), hits=hits, truncated=truncated)


def hit_json(hit):
    """A hit as the API and the CLI show it: name, place and owner only, never contact details."""
    opportunity = hit.opportunity
    return {
        "opportunity_id": opportunity.id,
        "company": opportunity.company,
        "location": opportunity.location,
        "owner": opportunity.owner.login if opportunity.owner else None,
        "matched_on": list(hit.match.matched_on),
        "score": round(hit.match.score, 2),
        "verdict": hit.match.verdict,
        "reasons": list(hit.match.reasons),
    }


def result_json(result):
    return {"verdict": result.verdict, "matches": [hit_json(h) for h in result.hits]}
