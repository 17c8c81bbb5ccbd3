"""duplicates found inside, merges and their undo

The scans of duplicates already inside (duplicate_scan, its groups and their members), the pairs
an admin dismissed as "not duplicates", the merges with what undoing them needs, the pointer of
a merged opportunity to the one kept, and the switch of the nightly scan.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 10:56:10.505860

"""
import sqlalchemy as sa
from alembic import op

import models

# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('duplicate_scan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('records', sa.Integer(), nullable=True),
    sa.Column('pairs', sa.Integer(), nullable=True),
    sa.Column('groups_duplicate', sa.Integer(), nullable=True),
    sa.Column('groups_review', sa.Integer(), nullable=True),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('created_at', models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_duplicate_scan_department_id_department')),
    sa.ForeignKeyConstraint(['job_id'], ['job.id'], name=op.f('fk_duplicate_scan_job_id_job')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['user.id'], name=op.f('fk_duplicate_scan_requested_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_duplicate_scan'))
    )
    with op.batch_alter_table('duplicate_scan', schema=None) as batch_op:
        batch_op.create_index('ix_duplicate_scan_department_status', ['department_id', 'status', 'id'], unique=False)

    op.create_table('duplicate_dismissal',
    sa.Column('low_id', sa.Integer(), nullable=False),
    sa.Column('high_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['high_id'], ['opportunity.id'], name=op.f('fk_duplicate_dismissal_high_id_opportunity'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['low_id'], ['opportunity.id'], name=op.f('fk_duplicate_dismissal_low_id_opportunity'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_duplicate_dismissal_user_id_user')),
    sa.PrimaryKeyConstraint('low_id', 'high_id', name=op.f('pk_duplicate_dismissal'))
    )
    with op.batch_alter_table('duplicate_dismissal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_duplicate_dismissal_high_id'), ['high_id'], unique=False)

    op.create_table('duplicate_group',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scan_id', sa.Integer(), nullable=False),
    sa.Column('verdict', sa.String(length=16), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['scan_id'], ['duplicate_scan.id'], name=op.f('fk_duplicate_group_scan_id_duplicate_scan'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_duplicate_group'))
    )
    with op.batch_alter_table('duplicate_group', schema=None) as batch_op:
        batch_op.create_index('ix_duplicate_group_scan_verdict', ['scan_id', 'verdict', 'id'], unique=False)

    op.create_table('merge',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kept_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('created_at', models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('snapshot', sa.Text(), nullable=False),
    sa.Column('undone_at', models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('undone_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['user.id'], name=op.f('fk_merge_actor_id_user')),
    sa.ForeignKeyConstraint(['kept_id'], ['opportunity.id'], name=op.f('fk_merge_kept_id_opportunity'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['undone_by_id'], ['user.id'], name=op.f('fk_merge_undone_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_merge'))
    )
    with op.batch_alter_table('merge', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_merge_kept_id'), ['kept_id'], unique=False)

    op.create_table('duplicate_group_member',
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('opportunity_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['duplicate_group.id'], name=op.f('fk_duplicate_group_member_group_id_duplicate_group'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['opportunity_id'], ['opportunity.id'], name=op.f('fk_duplicate_group_member_opportunity_id_opportunity'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('group_id', 'opportunity_id', name=op.f('pk_duplicate_group_member'))
    )
    with op.batch_alter_table('duplicate_group_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_duplicate_group_member_opportunity_id'), ['opportunity_id'], unique=False)

    # Not a batch (a copy of the table) on SQLite: dropping the old opportunity table would delete, by
    # ON DELETE CASCADE, every note and index row that points at it. A column added in place keeps them.
    fk = 'fk_opportunity_merged_into_id_opportunity'
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(f'ALTER TABLE opportunity ADD COLUMN merged_into_id INTEGER CONSTRAINT {fk} REFERENCES opportunity (id)')
    else:
        op.add_column('opportunity', sa.Column('merged_into_id', sa.Integer(), nullable=True))
        op.create_foreign_key(fk, 'opportunity', 'opportunity', ['merged_into_id'], ['id'])
    op.create_index('ix_opportunity_merged_into_id', 'opportunity', ['merged_into_id'], unique=False)
    op.add_column('resource_rules', sa.Column('duplicate_scan_nightly', sa.Boolean(), nullable=False,
                                              server_default=sa.false()))



def downgrade():
    with op.batch_alter_table('resource_rules', schema=None) as batch_op:
        batch_op.drop_column('duplicate_scan_nightly')
    op.drop_index('ix_opportunity_merged_into_id', table_name='opportunity')
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE opportunity DROP COLUMN merged_into_id')
    else:
        op.drop_constraint('fk_opportunity_merged_into_id_opportunity', 'opportunity', type_='foreignkey')
        op.drop_column('opportunity', 'merged_into_id')

    with op.batch_alter_table('duplicate_group_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_duplicate_group_member_opportunity_id'))

    op.drop_table('duplicate_group_member')
    with op.batch_alter_table('merge', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_merge_kept_id'))

    op.drop_table('merge')
    with op.batch_alter_table('duplicate_group', schema=None) as batch_op:
        batch_op.drop_index('ix_duplicate_group_scan_verdict')

    op.drop_table('duplicate_group')
    with op.batch_alter_table('duplicate_dismissal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_duplicate_dismissal_high_id'))

    op.drop_table('duplicate_dismissal')
    with op.batch_alter_table('duplicate_scan', schema=None) as batch_op:
        batch_op.drop_index('ix_duplicate_scan_department_status')

    op.drop_table('duplicate_scan')
