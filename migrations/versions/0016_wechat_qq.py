"""微信 and QQ of a customer: the opportunity's `wechat` and `qq` columns

A WeChat ID's key is a row of opportunity_phone (field `wechat`, kind `mobile`), so the unique index of
mobiles (uq_opportunity_phone_mobile, migration 0006) keeps it unique among live customers with no index
of its own; an ID that is a mobile number is keyed as that mobile (services/checking/wechat.py). No record
has either before this revision: no keys to build.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 18:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("opportunity") as batch:
        batch.add_column(sa.Column("wechat", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("qq", sa.String(length=16), nullable=True))


def downgrade():
    # the WeChat keys go with the column they were made from; a mobile-number ID's key is a mobile's row
    # (field phone) and stays: the version before reads it as a mobile of the record, which it was
    op.execute("DELETE FROM opportunity_phone WHERE field = 'wechat'")
    with op.batch_alter_table("opportunity") as batch:
        batch.drop_column("qq")
        batch.drop_column("wechat")
