"""background jobs and browser imports

The job table keeps the state and progress of background work (services/jobs.py: the
queue only carries ids); data_import, its rows and its files hold the imports made in
the browser: the uploaded file and its report (in the database, so any server's worker
reads them), every data row as the check saw it, and the admin's mappings.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 06:27:18.781192

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('job',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('ref_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('worker', sa.String(length=160), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job'))
    )
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.create_index('ix_job_status_heartbeat', ['status', 'heartbeat_at'], unique=False)

    op.create_table('data_import',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('file_size', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('target', sa.String(length=20), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('target_department_id', sa.Integer(), nullable=True),
    sa.Column('header_line', sa.Integer(), nullable=True),
    sa.Column('headers', sa.Text(), nullable=True),
    sa.Column('columns', sa.Text(), nullable=True),
    sa.Column('value_map', sa.Text(), nullable=True),
    sa.Column('unknown_values', sa.Text(), nullable=True),
    sa.Column('counts', sa.Text(), nullable=True),
    sa.Column('rows_total', sa.Integer(), nullable=True),
    sa.Column('imported', sa.Integer(), nullable=True),
    sa.Column('not_imported', sa.Integer(), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_data_import_created_by_id_user')),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_data_import_department_id_department')),
    sa.ForeignKeyConstraint(['job_id'], ['job.id'], name=op.f('fk_data_import_job_id_job')),
    sa.ForeignKeyConstraint(['owner_id'], ['user.id'], name=op.f('fk_data_import_owner_id_user')),
    sa.ForeignKeyConstraint(['target_department_id'], ['department.id'], name=op.f('fk_data_import_target_department_id_department')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_import'))
    )
    with op.batch_alter_table('data_import', schema=None) as batch_op:
        batch_op.create_index('ix_data_import_department_created', ['department_id', 'created_at'], unique=False)

    op.create_table('data_import_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['data_import.id'], name=op.f('fk_data_import_file_import_id_data_import'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_import_file')),
    sa.UniqueConstraint('import_id', 'kind', name='uq_data_import_file_import_kind')
    )
    op.create_table('data_import_row',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('row', sa.Integer(), nullable=False),
    sa.Column('line', sa.Integer(), nullable=True),
    sa.Column('verdict', sa.String(length=16), nullable=False),
    sa.Column('company', sa.String(length=200), nullable=True),
    sa.Column('values', sa.Text(), nullable=False),
    sa.Column('matches', sa.Text(), nullable=True),
    sa.Column('errors', sa.Text(), nullable=True),
    sa.Column('include', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['data_import.id'], name=op.f('fk_data_import_row_import_id_data_import'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_import_row')),
    sa.UniqueConstraint('import_id', 'row', name='uq_data_import_row_import_row')
    )
    with op.batch_alter_table('data_import_row', schema=None) as batch_op:
        batch_op.create_index('ix_data_import_row_import_verdict_row', ['import_id', 'verdict', 'row'], unique=False)



def downgrade():
    with op.batch_alter_table('data_import_row', schema=None) as batch_op:
        batch_op.drop_index('ix_data_import_row_import_verdict_row')

    op.drop_table('data_import_row')
    op.drop_table('data_import_file')
    with op.batch_alter_table('data_import', schema=None) as batch_op:
        batch_op.drop_index('ix_data_import_department_created')

    op.drop_table('data_import')
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.drop_index('ix_job_status_heartbeat')

    op.drop_table('job')
