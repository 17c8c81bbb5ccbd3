"""the rest of a customer's life in an import: imported records and notes, people's names

- opportunity.imported: brought in by an import, so it counts in nobody's daily new key customers.
- contact_note.imported: a remark brought over by an import (导入的备注), which is no contact; its
  author (the importer) may be none when the command line imported it, so author_id may be null.
- user.display_name: the name colleagues write (张伟), which an import's 业务负责人 column may name.

Existing rows are neither imported nor named. Downgrading deletes the notes that have no author.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 18:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('opportunity', schema=None) as batch_op:
        batch_op.add_column(sa.Column('imported', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('contact_note', schema=None) as batch_op:
        batch_op.add_column(sa.Column('imported', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.alter_column('author_id', existing_type=sa.Integer(), nullable=True)
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('display_name', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('display_name')
    op.execute(sa.text('DELETE FROM contact_note WHERE author_id IS NULL'))
    with op.batch_alter_table('contact_note', schema=None) as batch_op:
        batch_op.alter_column('author_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('imported')
    with op.batch_alter_table('opportunity', schema=None) as batch_op:
        batch_op.drop_column('imported')
