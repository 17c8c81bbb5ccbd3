"""Tables of the channel CRM and the invariants the database itself keeps.

The rules of the manual live in `services/`; this module only says what is
stored and which constraints back those rules up (unique login keys, one
department name per parent, hashed tokens).
"""
import sqlite3
from datetime import datetime, timezone

from flask_login import UserMixin
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, event
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
        ids = [int(part) for part in self.path.strip("/").split("/") if part]
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
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

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
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()
