"""the public pool's rules per agent company (pool_rules) and locked customers (opportunity.locked_*)

pool_rules holds, per agent company (the head office's row being everyone's default), the daily claim
limit, the former owners' cooling-off, the new arrivals' embargo, the lock limit and the masking of
contacts. No row is written: with none, every rule is off, as the pool was before. A customer's arrival
in the pool needs no column: every way into the pool already sets entered_at (the pool page's "in the pool
since"). opportunity.locked_by_id / locked_at: who locked it and when; no foreign key, so that SQLite adds
the columns without copying the table.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 18:10:00.000000

"""
import sqlalchemy as sa
from alembic import op

import models

# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'pool_rules',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('department_id', sa.Integer(), nullable=False),
        sa.Column('daily_claim_limit', sa.Integer(), nullable=False),
        sa.Column('reclaim_cooldown_days', sa.Integer(), nullable=False),
        sa.Column('new_arrival_embargo_hours', sa.Integer(), nullable=False),
        sa.Column('lock_limit', sa.Integer(), nullable=False),
        sa.Column('mask_pool_contacts', sa.Boolean(), nullable=False),
        sa.Column('updated_at', models.UTCDateTime(timezone=True), nullable=True),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['department_id'], ['department.id'],
                                name=op.f('fk_pool_rules_department_id_department'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['updated_by_id'], ['user.id'], name=op.f('fk_pool_rules_updated_by_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_pool_rules')),
        sa.UniqueConstraint('department_id', name=op.f('uq_pool_rules_department_id')),
    )
    op.add_column('opportunity', sa.Column('locked_by_id', sa.Integer(), nullable=True))
    op.add_column('opportunity', sa.Column('locked_at', models.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('opportunity', schema=None) as batch_op:
        batch_op.drop_column('locked_at')
        batch_op.drop_column('locked_by_id')
    op.drop_table('pool_rules')
