"""Contacts hidden in the public pool: with the company's `mask_pool_contacts` (pool_rules.py), a salesperson (any
role that keeps a library) sees the phone, mobile, fax and email of a pool customer masked until they claim it;
admins see them whole. The pool's search still finds a record by its full number (the check's phone index,
opportunities.search_clause): the number is then shown as matched, never in clear.

Masked like 0571-8***4321: the area code and the first digit of the local number stay (a landline's town, a
mobile's network: 138****5678), and the last four; the duplicate check's reading of numbers (libphonenumber)
tells the area code.
"""
from .. import checking, people
from . import pool_rules

MASKED_FIELDS = ("phone", "mobile", "fax", "email", "wechat", "qq")
# a WeChat ID or a QQ number is a way to reach the customer as much as a phone is
HANDLES = ("wechat", "qq")


def masks_pool(session, actor):
    """Whether `actor` sees the pool's contacts masked (its company's rule; never an admin)."""
    return actor is not None and not people.is_admin(actor) and pool_rules.for_user(session, actor).mask_pool_contacts


def applies(opportunity, masking):
    return masking and opportunity.location == "public_pool"


def mask_number(value):
    """0571-87654321 -> 0571-8***4321, 13812345678 -> 138****5678, read as the duplicate check reads numbers
    (normalize.phone_keys, libphonenumber); several numbers in one field are masked each, an extension dropped.
    What it cannot read keeps its first 3 and last 4 characters (only stars when it is that short)."""
    text = (value or "").strip()
    keys = checking.phone_keys(text) if text else []
    if not keys:
        return text[:3] + "*" * max(len(text) - 7, 4) + text[-4:] if len(text) > 8 else "*" * len(text)
    return " / ".join(_masked_key(key) for key in keys)


def _masked_key(key):
    local = key.local
    if len(local) < 7:
        return "*" * len(local)
    if key.kind == "mobile":
        return local[:3] + "*" * (len(local) - 7) + local[-4:]
    masked = f"{local[0]}{'*' * (len(local) - 5)}{local[-4:]}"
    return f"{key.area_code}-{masked}" if key.area_code else masked


def mask_email(value):
    """wang.li@example.com -> w***@example.com."""
    name, at, domain = (value or "").partition("@")
    return f"{name[:1]}***{at}{domain}" if at else ("***" if value else value)


def mask_handle(value):
    """wangli_tea88 -> wa***88, 12345678 -> 12***78; a WeChat ID that is a mobile number is masked as one."""
    text = (value or "").strip()
    if text.isdigit() and len(text) == 11:
        return mask_number(text)
    return f"{text[:2]}***{text[-2:]}" if len(text) > 5 else "*" * len(text)


def masked_value(opportunity, name, masking):
    """The field `name` of `opportunity` as `masking` lets the viewer see it."""
    value = getattr(opportunity, name)
    if not value or name not in MASKED_FIELDS or not applies(opportunity, masking):
        return value
    if name in HANDLES:
        return mask_handle(value)
    return mask_email(value) if name == "email" else mask_number(value)
