"""preview rows bounded, and deleted with their file (issue 19)

A preview row now keeps at most CRM_IMPORT_PREVIEW_ROW_BYTES (4096) of values, matches and errors
(services/imports/previews.py), and a cancelled import, or one whose file the retention deleted, keeps no
preview rows. The rows stored before: those of cancelled imports (and their files) and of imports whose
file is gone are deleted; the others beyond the cap are cut as a new check would cut them, one row at a
time (a row could hold hundreds of megabytes). No schema change. On SQLite the WAL is written back when
the last connection closes (`flask db upgrade` ends), or by the next hourly purge.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 03:30:00

"""
import sqlalchemy as sa
from alembic import op
from flask import current_app, has_app_context

from services.imports import previews

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

data_import = sa.table("data_import", sa.column("id"), sa.column("status"))
data_import_file = sa.table("data_import_file", sa.column("import_id"), sa.column("kind"))
data_import_row = sa.table("data_import_row", sa.column("id"), sa.column("import_id"), sa.column("values"),
                           sa.column("matches"), sa.column("errors"))


def _limit():
    config = current_app.config if has_app_context() else {}
    return max(int(config.get("CRM_IMPORT_PREVIEW_ROW_BYTES", previews.DEFAULT_ROW_BYTES)), previews.MIN_ROW_BYTES)


def _bytes(bind, column):
    """The stored bytes of a text column (SQLite's length() counts characters, of a blob bytes)."""
    if bind.dialect.name == "sqlite":
        return sa.func.coalesce(sa.func.length(sa.cast(column, sa.LargeBinary)), 0)
    return sa.func.coalesce(sa.func.octet_length(column), 0)


def upgrade():
    bind = op.get_bind()
    has_upload = sa.exists().where(data_import_file.c.import_id == data_import.c.id,
                                   data_import_file.c.kind == "upload")
    gone = sa.select(data_import.c.id).where(sa.or_(
        data_import.c.status == "cancelled",
        sa.and_(data_import.c.status.not_in(("checking", "importing")), ~has_upload)))
    bind.execute(sa.delete(data_import_row).where(data_import_row.c.import_id.in_(gone)))
    cancelled = sa.select(data_import.c.id).where(data_import.c.status == "cancelled")
    bind.execute(sa.delete(data_import_file).where(data_import_file.c.import_id.in_(cancelled)))
    limit = _limit()
    stored = sum((_bytes(bind, data_import_row.c[name]) for name in ("values", "matches", "errors")), sa.literal(0))
    large = bind.execute(sa.select(data_import_row.c.id).where(stored > limit).order_by(data_import_row.c.id))
    for row_id in large.scalars().all():
        row = bind.execute(sa.select(data_import_row.c["values"], data_import_row.c.matches, data_import_row.c.errors)
                           .where(data_import_row.c.id == row_id)).one()
        cut = previews.bound_json(*row, limit=limit)
        if cut:
            bind.execute(sa.update(data_import_row).where(data_import_row.c.id == row_id)
                         .values({"values": cut[0], "matches": cut[1], "errors": cut[2]}))


def downgrade():
    pass  # what was cut or deleted is not kept anywhere: the files were read again by every run anyway
