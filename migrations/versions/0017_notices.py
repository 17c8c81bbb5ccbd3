"""notices delivered by mail, group robots and signed webhooks

`delivery`: one row per event and recipient (a unique key), with its status, attempts and backoff;
`webhook`: a company's robots and webhooks; the user's kinds of mail switched off; the lead warning's hours
and the morning digest in the resource rules; a notice's and a lead's marks of what the worker has done.
The notices and leads already there are marked done: the worker does not mail the past.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 18:00:00

"""
import sqlalchemy as sa
from alembic import op

import models

# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'webhook',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('department_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('url', sa.String(length=1000), nullable=False),
        sa.Column('secret', sa.String(length=200), nullable=True),
        sa.Column('events', sa.String(length=300), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_webhook_created_by_id_user')),
        sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_webhook_department_id_department')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook')),
    )
    with op.batch_alter_table('webhook', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_department_id'), ['department_id'], unique=False)
    op.create_table(
        'delivery',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=250), nullable=False),
        sa.Column('event_id', sa.String(length=36), nullable=False),
        sa.Column('event', sa.String(length=32), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('webhook_id', sa.Integer(), nullable=True),
        sa.Column('department_id', sa.Integer(), nullable=True),
        sa.Column('recipient', sa.String(length=254), nullable=False),
        sa.Column('subject', sa.String(length=200), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('data', sa.Text(), nullable=False),
        sa.Column('occurred_at', models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_try_at', models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('claimed_at', models.UTCDateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.String(length=500), nullable=True),
        sa.Column('sent_at', models.UTCDateTime(timezone=True), nullable=True),
        sa.Column('created_at', models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['department_id'], ['department.id'],
                                name=op.f('fk_delivery_department_id_department')),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_delivery_user_id_user'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['webhook_id'], ['webhook.id'], name=op.f('fk_delivery_webhook_id_webhook'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery')),
        sa.UniqueConstraint('key', name=op.f('uq_delivery_key')),
    )
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.create_index('ix_delivery_status_next_try', ['status', 'next_try_at'], unique=False)
        batch_op.create_index('ix_delivery_department_created', ['department_id', 'created_at'], unique=False)
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mail_off', sa.String(length=200), nullable=False, server_default=''))
    with op.batch_alter_table('resource_rules', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lead_warn_hours', sa.Integer(), nullable=False, server_default='2'))
        batch_op.add_column(sa.Column('digest_enabled', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('digest_hour', sa.Integer(), nullable=False, server_default='8'))
    with op.batch_alter_table('web_lead', schema=None) as batch_op:
        batch_op.add_column(sa.Column('warned_at', models.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fanned_out_at', models.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_notice_fanned_out_at'), ['fanned_out_at'], unique=False)
    # the past is not mailed: what exists was shown on the dashboard already
    op.execute(sa.text("UPDATE notice SET fanned_out_at = created_at"))
    op.execute(sa.text("UPDATE web_lead SET warned_at = received_at"))


def downgrade():
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notice_fanned_out_at'))
        batch_op.drop_column('fanned_out_at')
    with op.batch_alter_table('web_lead', schema=None) as batch_op:
        batch_op.drop_column('warned_at')
    with op.batch_alter_table('resource_rules', schema=None) as batch_op:
        batch_op.drop_column('digest_hour')
        batch_op.drop_column('digest_enabled')
        batch_op.drop_column('lead_warn_hours')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('mail_off')
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.drop_index('ix_delivery_department_created')
        batch_op.drop_index('ix_delivery_status_next_try')
    op.drop_table('delivery')
    with op.batch_alter_table('webhook', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_department_id'))
    op.drop_table('webhook')
