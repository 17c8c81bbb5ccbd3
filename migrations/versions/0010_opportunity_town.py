"""the town of an opportunity (乡镇/街道), below its district

A nullable text column: existing records have none, and nothing is derived for them.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 14:20:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('opportunity', schema=None) as batch_op:
        batch_op.add_column(sa.Column('town', sa.String(length=32), nullable=True))


def downgrade():
    with op.batch_alter_table('opportunity', schema=None) as batch_op:
        batch_op.drop_column('town')
