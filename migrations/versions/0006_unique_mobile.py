"""unique mobile numbers: the database's backstop under the duplicate check

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 00:00:00.000000

A partial unique index on opportunity_phone (field, local) for kind 'mobile'. Imports
with `--skip-check` may have stored the same mobile on several records: before the index,
each mobile keeps the phone row of its oldest live record (earliest created_at, then
lowest id) and loses the others. The customers and the numbers as typed stay; only the
later records' search key goes, and the oldest still makes the check refuse new entries.
A soft-deleted record holds no mobile key (services.library.opportunities.delete drops it and
restore writes it again), so its keys go first: a deleted record does not block a live one.
"""
import logging

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

_DELETED_KEYS = sa.text(
    "DELETE FROM opportunity_phone WHERE kind = 'mobile' AND opportunity_id IN "
    "(SELECT id FROM opportunity WHERE deleted_at IS NOT NULL)")
# Every mobile row but the first of its (field, local), the oldest record first (created_at
# is NOT NULL: no NULL ordering to differ between SQLite and PostgreSQL); p.id breaks the tie
# of one record holding a number twice (once with an extension).
_LATER_HOLDERS = sa.text(
    "DELETE FROM opportunity_phone WHERE id IN (SELECT id FROM ("
    " SELECT p.id, ROW_NUMBER() OVER (PARTITION BY p.field, p.local ORDER BY o.created_at, o.id, p.id) AS n"
    " FROM opportunity_phone p JOIN opportunity o ON o.id = p.opportunity_id"
    " WHERE p.kind = 'mobile') AS ranked WHERE n > 1)")


def upgrade():
    bind = op.get_bind()
    deleted = bind.execute(_DELETED_KEYS).rowcount
    later = bind.execute(_LATER_HOLDERS).rowcount
    if deleted or later:
        log.info("opportunity_phone: %s mobile keys of deleted customers and %s of later holders of a mobile "
                 "removed before uq_opportunity_phone_mobile", deleted, later)
    op.create_index("uq_opportunity_phone_mobile", "opportunity_phone", ["field", "local"], unique=True,
                    sqlite_where=sa.text("kind = 'mobile'"), postgresql_where=sa.text("kind = 'mobile'"))


def downgrade():
    # The removed keys are not written back: every record still has its numbers as typed,
    # and the oldest holder of each mobile still makes the check refuse a new entry.
    op.drop_index("uq_opportunity_phone_mobile", table_name="opportunity_phone")
