"""Tables of the channel CRM and the invariants the database itself keeps.

The rules of the manual live in `services/`; this module only says what is
stored and which constraints back those rules up (unique login keys, one
department name per parent, hashed tokens).
"""
import os
import sqlite3
from datetime import datetime, timezone

from flask_login import UserMixin
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, event, false, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

# Named constraints, so that Alembic migrations work the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)


def utcnow():
    return datetime.now(timezone.utc)


class UTCDateTime(db.TypeDecorator):
    """Timestamps stored in UTC and always read back timezone-aware (SQLite drops the offset)."""

    impl = db.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(timezone.utc) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


ROLES = ("salesperson", "supervisor", "manager", "agent_admin", "subsystem_admin")


class Department(db.Model):
    """A node of the department tree: head office (depth 0), agent company (1), departments below.

    `path` is the chain of ids from the root ("/00000001/00000005/"): a subtree is one
    indexed prefix query, and sorting by path lists the tree depth-first.
    """

    __tablename__ = "department"
    __table_args__ = (db.UniqueConstraint("parent_id", "short_name", name="uq_department_parent_short_name"),)

    id = db.Column(db.Integer, primary_key=True)
    short_name = db.Column(db.String(64), nullable=False)  # as the admin typed it
    name = db.Column(db.String(200), nullable=False)  # displayed: carries the company prefix
    parent_id = db.Column(db.Integer, db.ForeignKey("department.id"), index=True)
    path = db.Column(db.String(400), nullable=False, default="", index=True)
    depth = db.Column(db.Integer, nullable=False, default=0)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    parent = db.relationship("Department", remote_side=[id], backref="children")

    @property
    def is_head_office(self):
        return self.depth == 0

    @property
    def is_company(self):
        return self.depth == 1

    @property
    def company_id(self):
        """The agent company this node belongs to (None for the head office)."""
        return self.company_id_of(self.path)

    @property
    def scope_id(self):
        """Whose records these are: the agent company's id, or the head office's own for its departments (the
        audit log and the imports are kept per company, the head office being one)."""
        return self.company_id or self.id

    @staticmethod
    def company_id_of(path):
        """The agent company's id in a department path ("/1/7/12/" -> 7), None for the head office ("/1/")."""
        ids = [int(part) for part in path.strip("/").split("/") if part]
        return ids[1] if len(ids) > 1 else None

    def __str__(self):
        return self.name


managed_department = db.Table(
    "managed_department",
    db.Column("user_id", db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    db.Column("department_id", db.Integer, db.ForeignKey("department.id", ondelete="CASCADE"), primary_key=True),
)


class User(UserMixin, db.Model):
    __tablename__ = "user"

    id = db.Column(db.Integer, primary_key=True)
    login = db.Column(db.String(32), nullable=False)
    # casefolded login: the unique key, so "ZhangSan" and "zhangsan" are one account
    login_key = db.Column(db.String(32), nullable=False, unique=True)
    # the person's name as colleagues write it (张伟): an import's 业务负责人 column may name it; not unique
    display_name = db.Column(db.String(64))
    password_hash = db.Column(db.String(255), nullable=False)
    must_change_password = db.Column(db.Boolean, nullable=False, default=True)
    temp_password_expires_at = db.Column(UTCDateTime)
    role = db.Column(db.String(20), nullable=False, default="salesperson")
    department_id = db.Column(db.Integer, db.ForeignKey("department.id"), nullable=False, index=True)
    email = db.Column(db.String(254))
    locale = db.Column(db.String(16))
    active = db.Column(db.Boolean, nullable=False, default=True)  # False = deactivated
    locked_at = db.Column(UTCDateTime)
    lock_reason = db.Column(db.String(20))  # "inactive" or "admin"
    last_seen_at = db.Column(UTCDateTime)
    # bumped to end every session of the user (reset, password change, lock)
    session_version = db.Column(db.Integer, nullable=False, default=1)
    deleted_at = db.Column(UTCDateTime)  # soft delete: hidden everywhere, restorable by an admin
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    # the kinds of email the user switched off on their own page, comma-separated (services/notices/preferences.py)
    mail_off = db.Column(db.String(200), nullable=False, default="", server_default="")

    department = db.relationship("Department", foreign_keys=[department_id])
    managed_departments = db.relationship(
        "Department", secondary=managed_department, order_by="Department.path"
    )

    def get_id(self):
        # The session carries the version: a bumped version logs the cookie out.
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self):
        return self.active

    def __str__(self):
        return self.login


class LoginThrottle(db.Model):
    """Consecutive failed logins per login key, whether or not the account exists.

    Kept in the database so that every worker process and server sees the same count.
    """

    __tablename__ = "login_throttle"

    login_key = db.Column(db.String(64), primary_key=True)
    failures = db.Column(db.Integer, nullable=False, default=0)
    blocked_until = db.Column(UTCDateTime)


class ApiToken(db.Model):
    """An API token; only its SHA-256 is stored, the token itself is shown once."""

    __tablename__ = "api_token"

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"), nullable=False, index=True)
    token_hash = db.Column(db.String(64), nullable=False, unique=True)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    last_used_at = db.Column(UTCDateTime)

    user = db.relationship("User")


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    """SQLite: enforce foreign keys, let readers and one writer work at once, wait on locks."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        # a writer waits this long for another's transaction, then the request fails cleanly (503)
        cursor.execute(f"PRAGMA busy_timeout={int(os.environ.get('CRM_SQLITE_BUSY_TIMEOUT_MS', '10000'))}")
        cursor.close()


# --- opportunities (manual §三, §四) -------------------------------------------

LOCATIONS = ("library", "public_pool", "agent_admin_pool", "telesales", "industry")


class _Choice:
    """An entry of a short list the admins keep: a unique name, switched off rather than deleted."""

    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(64), nullable=False, unique=True)
    active = db.Column(db.Boolean, nullable=False, default=True)

    def __str__(self):
        return self.name


class InfoSource(_Choice, db.Model):
    """Where a customer came from (信息来源)."""

    __tablename__ = "info_source"


class Opportunity(db.Model):
    """One customer company in exactly one place: a user's library, a pool or another division.

    The normalised keys (name_core, the region, and the phone keys in OpportunityPhone,
    the hashed terms in OpportunityTerm) are what the duplicate check searches; they are
    written in the same transaction as the row, so every process sees them at once.
    """

    __tablename__ = "opportunity"
    __table_args__ = (
        db.CheckConstraint(
            "(location = 'library' AND owner_id IS NOT NULL) OR (location <> 'library' AND owner_id IS NULL)",
            name="owner_iff_library",
        ),
        db.Index("ix_opportunity_owner_next_contact", "owner_id", "next_contact_at"),
        db.Index("ix_opportunity_location_entered", "location", "entered_at"),
        db.Index("ix_opportunity_entered_at", "entered_at"),
    )

    id = db.Column(db.Integer, primary_key=True)
    company = db.Column(db.String(200), nullable=False)
    province = db.Column(db.String(32))
    city = db.Column(db.String(32))
    district = db.Column(db.String(32))
    town = db.Column(db.String(32))  # 乡镇/街道, below the district (or the city, in 东莞市 and 中山市)
    address = db.Column(db.String(300))
    contact = db.Column(db.String(64))
    phone = db.Column(db.String(100))
    mobile = db.Column(db.String(64))
    fax = db.Column(db.String(100))
    email = db.Column(db.String(254))
    # 微信号, folded (services/checking/wechat.py: a mobile number used as the ID is kept here as its 11
    # digits and keyed as that mobile); its key is an opportunity_phone row, unique among live customers
    wechat = db.Column(db.String(32))
    qq = db.Column(db.String(16))  # shown and searched, never matched
    industry = db.Column(db.String(64))
    source_id = db.Column(db.Integer, db.ForeignKey("info_source.id"))
    key_customer = db.Column(db.Boolean, nullable=False, default=False)
    maturity = db.Column(db.Integer)
    location = db.Column(db.String(20), nullable=False)
    owner_id = db.Column(db.Integer, db.ForeignKey("user.id"), index=True)
    # the department whose people may see it: the owner's, or the agent company of its pool
    department_id = db.Column(db.Integer, db.ForeignKey("department.id"), index=True)
    entered_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    created_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    last_contact_at = db.Column(UTCDateTime)
    next_contact_at = db.Column(UTCDateTime)
    # the last valid contact (有效联系) while in its current library: what returning to the pool measures
    last_valid_contact_at = db.Column(UTCDateTime)
    deleted_at = db.Column(UTCDateTime)  # soft delete: hidden everywhere, restorable by an admin
    deleted_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    # merged into another record (and soft-deleted): where an old link or id is sent; undone by the Merge
    merged_into_id = db.Column(db.Integer, db.ForeignKey("opportunity.id"), index=True)
    # a row of a browser import still running (DataImport.id; soft-deleted meanwhile, so hidden everywhere):
    # the import commits in short batches and shows its rows all at once at its end (services/imports/staging.py)
    pending_import_id = db.Column(db.Integer, index=True)
    # 锁定: the owner who locked it (no foreign key, so that SQLite adds the column in place). A lock is in force
    # only while that person still owns it, so every way out of the library ends it without touching it here.
    locked_by_id = db.Column(db.Integer)
    locked_at = db.Column(UTCDateTime)
    # brought in by an import, not entered by a person: it counts in nobody's daily new key customers
    imported = db.Column(db.Boolean, nullable=False, default=False, server_default=false())
    # normalised keys of the duplicate check
    name_folded = db.Column(db.String(200), nullable=False, index=True)
    name_core = db.Column(db.String(200), nullable=False, index=True)
    norm_province = db.Column(db.String(32))
    norm_city = db.Column(db.String(32))
    norm_district = db.Column(db.String(32))

    owner = db.relationship("User", foreign_keys=[owner_id])
    created_by = db.relationship("User", foreign_keys=[created_by_id])
    department = db.relationship("Department")
    source = db.relationship("InfoSource")
    phones = db.relationship("OpportunityPhone", cascade="all, delete-orphan", back_populates="opportunity")
    terms = db.relationship("OpportunityTerm", cascade="all, delete-orphan")

    def __str__(self):
        return self.company


class OpportunityPhone(db.Model):
    """A normalised phone, mobile or fax of an opportunity: the local number is the search key."""

    __tablename__ = "opportunity_phone"
    __table_args__ = (
        db.Index("ix_opportunity_phone_local", "local", "area_code"),
        # The database's backstop under the duplicate check (migration 0006): a mobile is
        # personal and needs no area code, so one exact key is the whole rule; a WeChat ID too
        # (field wechat, kind mobile: the same index keeps it unique among live customers). Landlines are
        # left to the check under the LibraryLock (an area code may be missing on one side,
        # and a landline also matches the other's fax). A soft-deleted record holds no mobile row.
        db.Index("uq_opportunity_phone_mobile", "field", "local", unique=True,
                 sqlite_where=text("kind = 'mobile'"), postgresql_where=text("kind = 'mobile'")),
    )

    id = db.Column(db.Integer, primary_key=True)
    opportunity_id = db.Column(db.Integer, db.ForeignKey("opportunity.id", ondelete="CASCADE"), nullable=False,
                               index=True)
    # phone (landlines and mobiles), fax, or wechat (a WeChat ID, kind mobile: personal, so unique as a mobile)
    field = db.Column(db.String(8), nullable=False)
    kind = db.Column(db.String(8), nullable=False)  # landline or mobile
    local = db.Column(db.String(20), nullable=False)
    area_code = db.Column(db.String(6), nullable=False, default="")

    opportunity = db.relationship("Opportunity", back_populates="phones")


class OpportunityTerm(db.Model):
    """The duplicate check's inverted index: one row per search term of an opportunity.

    Terms (trade name, its one-edit neighbours, its bigrams, phone numbers; see
    services/normalize.index_terms) are stored as 64-bit hashes: a compact index that
    SQLite and PostgreSQL search alike. A hash collision only adds a candidate, which
    the comparison then rejects.
    """

    __tablename__ = "opportunity_term"

    term = db.Column(db.BigInteger, primary_key=True, autoincrement=False)
    opportunity_id = db.Column(db.Integer, db.ForeignKey("opportunity.id", ondelete="CASCADE"), primary_key=True,
                               autoincrement=False, index=True)


class LibraryLock(db.Model):
    """One row whose update serialises the writes that the duplicate check and the cap decide.

    Fuzzy matching cannot be a unique constraint: an entry takes this lock first, then
    checks, then writes, so two spellings of one company entered at once cannot both pass.
    """

    __tablename__ = "library_lock"

    id = db.Column(db.Integer, primary_key=True)
    counter = db.Column(db.BigInteger, nullable=False, default=0)


class ReviewConfirmation(db.Model):
    """An entry that resembled existing records and was confirmed anyway: who, when, and what it resembled."""

    __tablename__ = "review_confirmation"

    id = db.Column(db.Integer, primary_key=True)
    # indexed: the duplicate check asks whether a hit was confirmed as another company than its namesake
    opportunity_id = db.Column(db.Integer, db.ForeignKey("opportunity.id", ondelete="CASCADE"), nullable=False,
                               index=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    resembled = db.Column(db.Text, nullable=False)  # JSON list of {opportunity_id, company, score}
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)


# --- contact notes and abandoning (manual §四, §五) ---------------------------------

NOTE_METHODS = ("phone", "visit", "email", "im", "other")


class ContactNote(db.Model):
    """A logged contact with a customer (联系小记). Never edited: a correction is a new note.

    `valid` (有效联系) is decided once, when the note is written (services.library.notes.is_valid_contact),
    and stored, so that the daily count of valid contacts is one indexed query.
    """

    __tablename__ = "contact_note"
    __table_args__ = (
        db.Index("ix_contact_note_author_created", "author_id", "created_at"),
        db.Index("ix_contact_note_opportunity_created", "opportunity_id", "created_at"),
    )

    id = db.Column(db.Integer, primary_key=True)
    opportunity_id = db.Column(db.Integer, db.ForeignKey("opportunity.id", ondelete="CASCADE"), nullable=False)
    # an imported note's author is the importer; none when the command line imported it
    author_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    method = db.Column(db.String(8), nullable=False)
    content = db.Column(db.Text, nullable=False)
    maturity = db.Column(db.Integer, nullable=False)
    unreachable = db.Column(db.Boolean, nullable=False, default=False)
    busy = db.Column(db.Boolean, nullable=False, default=False)
    valid = db.Column(db.Boolean, nullable=False)
    next_contact_at = db.Column(UTCDateTime)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    # a remark brought over by an import (导入的备注): no contact, so no valid contact, no last contact, no clock
    imported = db.Column(db.Boolean, nullable=False, default=False, server_default=false())

    author = db.relationship("User")
    opportunity = db.relationship("Opportunity")


class AbandonReason(_Choice, db.Model):
    """Why a salesperson gives a customer up (放弃原因)."""

    __tablename__ = "abandon_reason"


class OpportunityEvent(db.Model):
    """The history of where an opportunity went: abandoned, reassigned, released; who, when and why."""

    __tablename__ = "opportunity_event"
    __table_args__ = (db.Index("ix_opportunity_event_opportunity_created", "opportunity_id", "created_at"),)

    id = db.Column(db.Integer, primary_key=True)
    opportunity_id = db.Column(db.Integer, db.ForeignKey("opportunity.id", ondelete="CASCADE"), nullable=False)
    kind = db.Column(db.String(16), nullable=False)  # abandon, reassign, release, return, lead
    actor_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    from_owner_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    to_owner_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    reason = db.Column(db.String(64))
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    actor = db.relationship("User", foreign_keys=[actor_id])
    from_owner = db.relationship("User", foreign_keys=[from_owner_id])
    to_owner = db.relationship("User", foreign_keys=[to_owner_id])


# --- resource rules, web leads and notices (manual §九) ------------------------------

class ResourceRules(db.Model):
    """The resource rules (资源规则) a subsystem admin sets: one row, id 1, seeded by the migration.

    Rule 1 (the cap) is enforced; the quotas and the lead deadline are measured and shown.
    Returning to the public pool (回收) is off until an admin has seen its dry run and switched it on.
    """

    __tablename__ = "resource_rules"

    id = db.Column(db.Integer, primary_key=True)
    cap_salesperson = db.Column(db.Integer, nullable=False, default=130)
    cap_supervisor = db.Column(db.Integer, nullable=False, default=130)
    cap_manager = db.Column(db.Integer, nullable=False, default=130)
    quota_key_customers = db.Column(db.Integer, nullable=False, default=3)
    quota_valid_contacts = db.Column(db.Integer, nullable=False, default=35)
    lead_deadline_hours = db.Column(db.Integer, nullable=False, default=24)
    return_enabled = db.Column(db.Boolean, nullable=False, default=False)
    return_after_days = db.Column(db.Integer, nullable=False, default=30)  # with no valid contact
    return_warn_days = db.Column(db.Integer, nullable=False, default=3)  # the owner is warned this much before
    return_exempt_key_customers = db.Column(db.Boolean, nullable=False, default=True)
    return_exempt_note_days = db.Column(db.Integer, nullable=False, default=0)  # any note this recent exempts; 0 = off
    daily_check_limit = db.Column(db.Integer, nullable=False, default=500)  # duplicate checks per user and day
    duplicate_scan_nightly = db.Column(db.Boolean, nullable=False, default=False)  # `rules run` scans for duplicates
    lead_warn_hours = db.Column(db.Integer, nullable=False, default=2)  # a lead's owner is mailed this long before; 0 = off
    digest_enabled = db.Column(db.Boolean, nullable=False, default=False)  # the morning mail of the day's due contacts
    digest_hour = db.Column(db.Integer, nullable=False, default=8)  # its hour in CRM_TIMEZONE, read by the worker each time
    updated_at = db.Column(UTCDateTime)
    updated_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))


class PoolRules(db.Model):
    """The public pool's rules of one agent company (公海规则); the head office's row is the default of every
    company without its own, and code defaults (all off) stand in while the head office has none."""

    __tablename__ = "pool_rules"

    id = db.Column(db.Integer, primary_key=True)
    department_id = db.Column(db.Integer, db.ForeignKey("department.id", ondelete="CASCADE"), nullable=False,
                              unique=True)
    daily_claim_limit = db.Column(db.Integer, nullable=False, default=0)  # claims per person and day; 0 = none
    reclaim_cooldown_days = db.Column(db.Integer, nullable=False, default=0)  # former owners wait this long
    new_arrival_embargo_hours = db.Column(db.Integer, nullable=False, default=0)  # new arrivals wait this long
    lock_limit = db.Column(db.Integer, nullable=False, default=0)  # customers each library may lock
    mask_pool_contacts = db.Column(db.Boolean, nullable=False, default=False)
    updated_at = db.Column(UTCDateTime)
    updated_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))

    department = db.relationship("Department")


class WebLead(db.Model):
    """A member who registered on the platform's website (网上注册会员), posted by an admin's integration.

    Always tied to an opportunity: the existing one (`existing`) or the one it created.
    It is followed up (`met_at`) by the first valid contact note after it arrived, before `due_at`.
    `idempotency_key` makes the same lead posted twice one record.
    """

    __tablename__ = "web_lead"
    __table_args__ = (
        db.Index("ix_web_lead_open_due", "met_at", "due_at"),
        db.Index("ix_web_lead_assigned_received", "assigned_to_id", "received_at"),
    )

    id = db.Column(db.Integer, primary_key=True)
    idempotency_key = db.Column(db.String(128), nullable=False, unique=True)
    opportunity_id = db.Column(db.Integer, db.ForeignKey("opportunity.id", ondelete="CASCADE"), nullable=False,
                               index=True)
    existing = db.Column(db.Boolean, nullable=False, default=False)  # the company was already in the CRM
    company = db.Column(db.String(200), nullable=False)
    phone = db.Column(db.String(100))
    contact = db.Column(db.String(64))
    email = db.Column(db.String(254))
    payload = db.Column(db.Text)  # the posted JSON as received, for the record
    department_id = db.Column(db.Integer, db.ForeignKey("department.id"))  # where it was sent
    assigned_to_id = db.Column(db.Integer, db.ForeignKey("user.id"))  # who got it on arrival (None: pool)
    posted_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    received_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    due_at = db.Column(UTCDateTime, nullable=False)
    met_at = db.Column(UTCDateTime)  # the first valid contact after arrival
    overdue_notified_at = db.Column(UTCDateTime)  # set once by `rules run`
    warned_at = db.Column(UTCDateTime)  # its owner told that the deadline nears (services/notices/producing.py)

    opportunity = db.relationship("Opportunity")
    department = db.relationship("Department")
    assigned_to = db.relationship("User", foreign_keys=[assigned_to_id])
    posted_by = db.relationship("User", foreign_keys=[posted_by_id])


class Notice(db.Model):
    """Something a user is told: a lead on a customer of theirs, an overdue lead, a customer about to return.

    `key` is unique, so a rule that runs twice (or on two servers at once) tells once.
    """

    __tablename__ = "notice"
    __table_args__ = (db.Index("ix_notice_user_read", "user_id", "read_at"),)

    id = db.Column(db.Integer, primary_key=True)
    key = db.Column(db.String(128), nullable=False, unique=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"), nullable=False)
    kind = db.Column(db.String(20), nullable=False)  # lead, lead_overdue, return_warning, returned
    opportunity_id = db.Column(db.Integer, db.ForeignKey("opportunity.id", ondelete="CASCADE"))
    lead_id = db.Column(db.Integer, db.ForeignKey("web_lead.id", ondelete="CASCADE"))
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    read_at = db.Column(UTCDateTime)
    # when the worker turned it into deliveries (mail, robots, webhooks); None: not yet
    fanned_out_at = db.Column(UTCDateTime, index=True)

    user = db.relationship("User")
    opportunity = db.relationship("Opportunity")
    lead = db.relationship("WebLead")


# --- notices delivered by mail, group robots and webhooks ------------------------------------

WEBHOOK_KINDS = ("generic", "wecom", "dingtalk", "feishu")
WEBHOOK_EVENTS = ("lead_assigned", "lead_overdue", "recycle_warning", "recycled", "abandoned", "quota_summary")


class Webhook(db.Model):
    """A group robot (企业微信, 钉钉, 飞书) or a generic signed webhook of one agent company (or the head office).

    `department_id` is the company's node (its `scope_id`): it receives the events of that company's people.
    """

    __tablename__ = "webhook"

    id = db.Column(db.Integer, primary_key=True)
    department_id = db.Column(db.Integer, db.ForeignKey("department.id"), nullable=False, index=True)
    kind = db.Column(db.String(16), nullable=False)
    url = db.Column(db.String(1000), nullable=False)
    secret = db.Column(db.String(200))  # the generic hook's HMAC key; 钉钉's and 飞书's signing secret
    events = db.Column(db.String(300), nullable=False, default="")  # the ticked events, comma-separated
    active = db.Column(db.Boolean, nullable=False, default=True)
    created_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    department = db.relationship("Department")

    @property
    def event_list(self):
        return [e for e in (self.events or "").split(",") if e]


class Delivery(db.Model):
    """One event sent to one recipient over one channel: a mail to a user, a post to a webhook.

    `key` is unique (event and recipient), so an event is delivered once whoever records it twice; a worker
    takes a row by a conditional UPDATE of its status (pending -> sending), so at most one attempt is in
    flight. A failure waits for `next_try_at` (backoff) until a day has passed, then the row is `failed`.
    """

    __tablename__ = "delivery"
    __table_args__ = (db.Index("ix_delivery_status_next_try", "status", "next_try_at"),
                      db.Index("ix_delivery_department_created", "department_id", "created_at"))

    id = db.Column(db.Integer, primary_key=True)
    key = db.Column(db.String(250), nullable=False, unique=True)
    event_id = db.Column(db.String(36), nullable=False)  # the same for every recipient of one event
    event = db.Column(db.String(32), nullable=False)
    channel = db.Column(db.String(16), nullable=False)  # mail or a webhook kind
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"))
    webhook_id = db.Column(db.Integer, db.ForeignKey("webhook.id", ondelete="SET NULL"))
    department_id = db.Column(db.Integer, db.ForeignKey("department.id"))  # whose log shows it (a company's node)
    recipient = db.Column(db.String(254), nullable=False)  # the address, or the hook's host, as the log shows it
    subject = db.Column(db.String(200), nullable=False)
    body = db.Column(db.Text, nullable=False)
    data = db.Column(db.Text, nullable=False)  # the event's JSON `data`
    occurred_at = db.Column(UTCDateTime, nullable=False)
    status = db.Column(db.String(12), nullable=False, default="pending")  # pending, sending, sent, failed
    attempts = db.Column(db.Integer, nullable=False, default=0)
    next_try_at = db.Column(UTCDateTime, nullable=False)
    claimed_at = db.Column(UTCDateTime)
    last_error = db.Column(db.String(500))
    sent_at = db.Column(UTCDateTime)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    user = db.relationship("User")
    webhook = db.relationship("Webhook")


class AuditEntry(db.Model):
    """The audit log: who did what, when, to what. Append-only: written by services.audit.record,
    never updated (a database trigger refuses UPDATE), read by admins within their scope.

    `department_id` is the department the entry belongs to (the actor's, or the target's
    when an admin acts), so that an agent admin sees its own company's entries.
    """

    __tablename__ = "audit_entry"
    __table_args__ = (
        db.Index("ix_audit_entry_created", "created_at"),
        db.Index("ix_audit_entry_action_created", "action", "created_at"),
        db.Index("ix_audit_entry_actor_created", "actor_id", "created_at"),
    )

    id = db.Column(db.Integer, primary_key=True)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    # plain ids, no foreign keys: an entry outlives what it names, and a key's ON DELETE would
    # have to UPDATE the entry, which the log refuses
    actor_id = db.Column(db.Integer)
    actor_login = db.Column(db.String(32))  # as it was, also for failed logins of unknown names
    action = db.Column(db.String(32), nullable=False)
    target_type = db.Column(db.String(20))  # opportunity, user, department, rules, export...
    target_id = db.Column(db.Integer)
    department_id = db.Column(db.Integer, index=True)
    details = db.Column(db.Text)  # JSON: what collided, how many rows, which values changed
    ip = db.Column(db.String(45))

    actor = db.relationship("User", primaryjoin="foreign(AuditEntry.actor_id) == User.id", viewonly=True)
    department = db.relationship("Department", primaryjoin="foreign(AuditEntry.department_id) == Department.id",
                                 viewonly=True)


class Job(db.Model):
    """A piece of background work (an import's check or run, later scans and deliveries).

    The queue (services/jobs.py, huey) only carries the job's id; its state and progress
    live here, so that every server shows them. `worker` is "host:pid" of the process
    running it and `heartbeat_at` its last sign of life: a job whose worker died is marked
    failed (services.jobs.reap), never left "running".
    """

    __tablename__ = "job"
    __table_args__ = (db.Index("ix_job_status_heartbeat", "status", "heartbeat_at"),)

    id = db.Column(db.Integer, primary_key=True)
    kind = db.Column(db.String(32), nullable=False)  # a handler registered in services.jobs
    ref_id = db.Column(db.Integer)  # what it works on (an import's id), by kind
    status = db.Column(db.String(16), nullable=False, default="queued")  # queued running done failed
    done = db.Column(db.Integer, nullable=False, default=0)
    total = db.Column(db.Integer)
    message = db.Column(db.Text)  # why it failed, for the person who started it
    worker = db.Column(db.String(160))
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    started_at = db.Column(UTCDateTime)
    heartbeat_at = db.Column(UTCDateTime)
    finished_at = db.Column(UTCDateTime)


class DataImport(db.Model):
    """A customer list uploaded in the browser (or the API): kept, checked row by row, then run.

    `status` goes checking -> ready -> importing -> done, or failed / cancelled. The
    column mapping (`columns`, {header: field or null}) and the mapping of list values
    (`value_map`, {field: {given: chosen}}) are the admin's choices; `counts` and
    `unknown_values` are what the last check found. Filed under `department_id`, the
    agent company (or head office) whose admins see it.
    """

    __tablename__ = "data_import"
    __table_args__ = (db.Index("ix_data_import_department_created", "department_id", "created_at"),)

    id = db.Column(db.Integer, primary_key=True)
    created_by_id = db.Column(db.Integer, db.ForeignKey("user.id"), nullable=False)
    department_id = db.Column(db.Integer, db.ForeignKey("department.id"), nullable=False)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    file_name = db.Column(db.String(255), nullable=False)  # as uploaded, shown
    file_size = db.Column(db.Integer, nullable=False)
    status = db.Column(db.String(16), nullable=False, default="checking")
    target = db.Column(db.String(20), nullable=False)  # public_pool agent_admin_pool library round_robin
    owner_id = db.Column(db.Integer, db.ForeignKey("user.id"))  # target library
    target_department_id = db.Column(db.Integer, db.ForeignKey("department.id"))  # pool's company / round robin
    header_line = db.Column(db.Integer)
    headers = db.Column(db.Text)  # JSON list of the header row's texts
    columns = db.Column(db.Text)  # JSON {header: field or null}
    value_map = db.Column(db.Text)  # JSON {field: {given: chosen or ""}}
    unknown_values = db.Column(db.Text)  # JSON {field: [value, ...]}
    counts = db.Column(db.Text)  # JSON {new, review, duplicate, invalid}
    rows_total = db.Column(db.Integer)
    imported = db.Column(db.Integer)
    not_imported = db.Column(db.Integer)
    message = db.Column(db.Text)  # why it failed
    job_id = db.Column(db.Integer, db.ForeignKey("job.id"))  # the current (or last) job
    finished_at = db.Column(UTCDateTime)

    created_by = db.relationship("User", foreign_keys=[created_by_id])
    owner = db.relationship("User", foreign_keys=[owner_id])
    department = db.relationship("Department", foreign_keys=[department_id])
    target_department = db.relationship("Department", foreign_keys=[target_department_id])
    job = db.relationship("Job")


class DataImportFile(db.Model):
    """An import's uploaded file and its report, in the database: any server's worker reads
    them, and nothing lies in the web root. Deleted after the retention period."""

    __tablename__ = "data_import_file"
    __table_args__ = (db.UniqueConstraint("import_id", "kind", name="uq_data_import_file_import_kind"),)

    id = db.Column(db.Integer, primary_key=True)
    import_id = db.Column(db.Integer, db.ForeignKey("data_import.id", ondelete="CASCADE"), nullable=False)
    kind = db.Column(db.String(10), nullable=False)  # upload, report
    name = db.Column(db.String(255), nullable=False)
    data = db.Column(db.LargeBinary, nullable=False)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)


class DataImportRow(db.Model):
    """One data row of an import as the last check saw it: values, verdict, why."""

    __tablename__ = "data_import_row"
    __table_args__ = (
        db.UniqueConstraint("import_id", "row", name="uq_data_import_row_import_row"),
        db.Index("ix_data_import_row_import_verdict_row", "import_id", "verdict", "row"),
    )

    id = db.Column(db.Integer, primary_key=True)
    import_id = db.Column(db.Integer, db.ForeignKey("data_import.id", ondelete="CASCADE"), nullable=False)
    row = db.Column(db.Integer, nullable=False)  # data row number, 1-based
    line = db.Column(db.Integer)  # the spreadsheet's line
    verdict = db.Column(db.String(16), nullable=False)  # new review duplicate invalid
    company = db.Column(db.String(200))
    values = db.Column(db.Text, nullable=False)  # JSON {field: text}
    matches = db.Column(db.Text)  # JSON, as the duplicate check's answer
    errors = db.Column(db.Text)  # JSON {field: message}
    include = db.Column(db.Boolean, nullable=False, default=False)  # a review row the admin ticked


class DuplicateScan(db.Model):
    """A search for duplicates already inside (重复客户), run on the worker.

    `department_id` is the agent company scanned, its records against each other and the
    public pool's (None: every opportunity, a subsystem admin's or the nightly scan). The
    groups found are kept until the next scan of the same scope; a list shows the newest
    finished scan of the reader's own scope, and `records` counts that scope's own records.
    """

    __tablename__ = "duplicate_scan"
    __table_args__ = (db.Index("ix_duplicate_scan_department_status", "department_id", "status", "id"),)

    id = db.Column(db.Integer, primary_key=True)
    department_id = db.Column(db.Integer, db.ForeignKey("department.id"))
    requested_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))  # None: the CLI or `rules run`
    status = db.Column(db.String(16), nullable=False, default="queued")  # queued running done failed
    message = db.Column(db.Text)
    records = db.Column(db.Integer)  # opportunities scanned
    pairs = db.Column(db.Integer)  # candidate pairs judged
    groups_duplicate = db.Column(db.Integer)
    groups_review = db.Column(db.Integer)
    job_id = db.Column(db.Integer, db.ForeignKey("job.id"))
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    finished_at = db.Column(UTCDateTime)

    department = db.relationship("Department")
    job = db.relationship("Job")


class DuplicateGroup(db.Model):
    """Records a scan found to be one company: `duplicate` (the entry check would refuse one of
    them) or `review` (similar names, for a person to judge); `reason` in the engine's words."""

    __tablename__ = "duplicate_group"
    __table_args__ = (db.Index("ix_duplicate_group_scan_verdict", "scan_id", "verdict", "id"),)

    id = db.Column(db.Integer, primary_key=True)
    scan_id = db.Column(db.Integer, db.ForeignKey("duplicate_scan.id", ondelete="CASCADE"), nullable=False)
    verdict = db.Column(db.String(16), nullable=False)
    score = db.Column(db.Float, nullable=False)
    reason = db.Column(db.Text, nullable=False)  # JSON list of the engine's reasons


class DuplicateGroupMember(db.Model):
    __tablename__ = "duplicate_group_member"

    group_id = db.Column(db.Integer, db.ForeignKey("duplicate_group.id", ondelete="CASCADE"), primary_key=True)
    opportunity_id = db.Column(db.Integer, db.ForeignKey("opportunity.id", ondelete="CASCADE"), primary_key=True,
                               index=True)


class DuplicateDismissal(db.Model):
    """Two records an admin judged "not duplicates": no scan pairs them again."""

    __tablename__ = "duplicate_dismissal"

    low_id = db.Column(db.Integer, db.ForeignKey("opportunity.id", ondelete="CASCADE"), primary_key=True)
    high_id = db.Column(db.Integer, db.ForeignKey("opportunity.id", ondelete="CASCADE"), primary_key=True,
                        index=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)


class Merge(db.Model):
    """Records merged into one (`kept_id`), with everything needed to undo it: `snapshot` holds
    (JSON) every field of every record before, the kept record's values after, and the ids of
    the notes, events, leads, confirmations and notices moved from each merged record."""

    __tablename__ = "merge"

    id = db.Column(db.Integer, primary_key=True)
    kept_id = db.Column(db.Integer, db.ForeignKey("opportunity.id", ondelete="CASCADE"), nullable=False, index=True)
    actor_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    snapshot = db.Column(db.Text, nullable=False)
    undone_at = db.Column(UTCDateTime)
    undone_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))

    kept = db.relationship("Opportunity", foreign_keys=[kept_id])
    actor = db.relationship("User", foreign_keys=[actor_id])
