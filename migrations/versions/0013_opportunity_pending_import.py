"""the browser import a hidden opportunity waits for (pending_import_id)

An import commits its rows in short batches, soft-deleted and marked with its DataImport id,
and shows them all at once at its end (services/imports/staging.py). A nullable integer
with an index: existing records have none. No foreign key, so that SQLite adds the column
without copying the table.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 03:30:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('opportunity', sa.Column('pending_import_id', sa.Integer(), nullable=True))
    op.create_index('ix_opportunity_pending_import_id', 'opportunity', ['pending_import_id'], unique=False)


def downgrade():
    op.drop_index('ix_opportunity_pending_import_id', table_name='opportunity')
    with op.batch_alter_table('opportunity', schema=None) as batch_op:
        batch_op.drop_column('pending_import_id')
