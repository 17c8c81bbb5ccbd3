"""Mobiles, the one key the database itself keeps unique (uq_opportunity_phone_mobile, migration 0006):
a row whose mobile another customer holds is reported as a duplicate rather than failing the import."""
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from models import Opportunity, OpportunityPhone, User

from .. import checking
from .report import report_line, report_row


def mobile_pairs(phone_keys, fax_keys, wechat_keys=()):
    """The (field, local) of a record's mobile numbers and WeChat ID: the unique index's key."""
    return {(field_name, k.local) for field_name, keys in (("phone", phone_keys), ("fax", fax_keys),
                                                           (checking.WECHAT_FIELD, wechat_keys))
            for k in keys if k.kind == "mobile"}


def held_mobiles(session, pairs):
    """{(field, local): the holder as a match of the report} of those pairs the database holds."""
    pairs = set(pairs)
    numbers = sorted({local for _field, local in pairs})
    held = {}
    for start in range(0, len(numbers), 5000):  # under every driver's limit of bound parameters
        for field_name, local, oid, company, location, owner in session.execute(
                select(OpportunityPhone.field, OpportunityPhone.local, Opportunity.id, Opportunity.company,
                       Opportunity.location, User.login)
                .join(Opportunity, Opportunity.id == OpportunityPhone.opportunity_id)
                .outerjoin(User, User.id == Opportunity.owner_id)
                .where(OpportunityPhone.kind == "mobile", OpportunityPhone.local.in_(numbers[start:start + 5000]))):
            if (field_name, local) in pairs:
                held[field_name, local] = {"opportunity_id": oid, "company": company, "location": location,
                                           "owner": owner}
    return held


def held_reason(number):
    return str(_l("mobile %(number)s belongs to another customer already", number=number))


class MobileKeys:
    """The fast path's check of mobiles, the one rule it keeps: the unique index would fail the
    whole import on a mobile held already, so such a row is reported as a duplicate instead.

    Mobiles of the rows taken are kept in a dict (field, local) -> row; when the database held
    any mobile at the start, each chunk's are also looked up there, in one query (no one else
    writes one meanwhile: entries, leads and restores wait for the LibraryLock the import holds).
    A load into an empty table (a migration) never asks the database.
    """

    def __init__(self, session):
        self.session = session
        self.taken = {}
        self.held = {}
        self.look_up_held = session.scalar(
            select(OpportunityPhone.id).where(OpportunityPhone.kind == "mobile").limit(1)) is not None

    def look_up(self, results):
        """The database's holders of the mobiles of a chunk of prepared rows."""
        if self.look_up_held:
            self.held = held_mobiles(self.session, {
                (field_name, local) for _number, _problems, _company, _row, phones, *_rest in results if phones
                for field_name, kind, local, _area_code in phones if kind == "mobile"})

    def refusal(self, number, company, phones):
        """The report row of a row whose mobile is taken (by an earlier row or in the database), or None."""
        for field_name, kind, local, _area_code in phones:
            if kind != "mobile":
                continue
            row = self.taken.get((field_name, local))
            if row is not None:
                return report_row(number, checking.DUPLICATE, str(_l(
                    "mobile %(number)s is on row %(row)d of this file already", number=local, row=report_line(row))), company)
            holder = self.held.get((field_name, local))
            if holder is not None:
                return report_row(number, checking.DUPLICATE, held_reason(local), company, [holder])
        return None

    def take(self, number, phones):
        """Mark the row's mobiles taken; its phones, each once (a number typed twice in a field)."""
        mobile = False
        for field_name, kind, local, _area_code in phones:
            if kind == "mobile":
                self.taken[field_name, local] = number
                mobile = True
        return list(dict.fromkeys(phones)) if mobile else phones
