"""Contacts hidden in the public pool: with the company's `mask_pool_contacts` (pool_rules.py), a salesperson (any
role that keeps a library) sees the phone, mobile, fax and email of a pool customer masked until they claim it;
admins see them whole. The pool's search still finds a record by its full number (the check's phone index,
opportunities.search_clause): the number is then shown as matched, never in clear.

Masked like 0571-8***4321: the area code and the first digit of the local number stay (a landline's town, a
mobile's network: 138****5678), and the last four; libphonenumber tells the area code's length.
"""
import phonenumbers

from ..people.access import is_admin
from . import pool_rules

MASKED_FIELDS = ("phone", "mobile", "fax", "email")


def masks_pool(session, actor):
    """Whether `actor` sees the pool's contacts masked (its company's rule; never an admin)."""
    return actor is not None and not is_admin(actor) and pool_rules.for_user(session, actor).mask_pool_contacts


def applies(opportunity, masking):
    return masking and opportunity.location == "public_pool"


def mask_number(value):
    """0571-87654321 -> 0571-8***4321, 13812345678 -> 138****5678; what no parser reads keeps its first 3 and last
    4 characters (or only stars when it is that short). Several numbers in one field are masked as one."""
    text = (value or "").strip()
    if not text:
        return value
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        number = None
    national = phonenumbers.national_significant_number(number) if number is not None else ""
    if number is None or len(national) < 7 or not phonenumbers.is_possible_number(number):
        return text[:3] + "*" * max(len(text) - 7, 4) + text[-4:] if len(text) > 8 else "*" * len(text)
    area = phonenumbers.length_of_geographical_area_code(number)
    if area:
        local = national[area:]
        return f"0{national[:area]}-{local[0]}{'*' * (len(local) - 5)}{local[-4:]}"
    return national[:3] + "*" * (len(national) - 7) + national[-4:]


def mask_email(value):
    """wang.li@example.com -> w***@example.com."""
    name, at, domain = (value or "").partition("@")
    return f"{name[:1]}***{at}{domain}" if at else ("***" if value else value)


def masked_value(opportunity, name, masking):
    """The field `name` of `opportunity` as `masking` lets the viewer see it."""
    value = getattr(opportunity, name)
    if not value or name not in MASKED_FIELDS or not applies(opportunity, masking):
        return value
    return mask_email(value) if name == "email" else mask_number(value)
