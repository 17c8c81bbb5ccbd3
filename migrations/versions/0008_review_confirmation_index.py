"""an index on review_confirmation.opportunity_id

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 07:40:00.000000

The duplicate check asks, for a hit on a name given without a place, whether that record was
confirmed as another company than its namesake (services/checking/dedup.py): one lookup by opportunity
per such hit, which without this index scanned every confirmation.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('review_confirmation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_confirmation_opportunity_id'), ['opportunity_id'], unique=False)


def downgrade():
    with op.batch_alter_table('review_confirmation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_confirmation_opportunity_id'))
