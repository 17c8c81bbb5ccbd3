"""the duplicate check's keys rebuilt: towns, bare legal forms, generic words (issue 12)

Names are now parsed down to towns and streets (中山市小榄镇华锐五金 → 华锐五金 of 中山市), with
bare and informal legal forms (公司, 有限, 企业, 店), and indexed without generic business words
too (金源五金实业 is found by 金源五金). The keys of records entered before are rebuilt so that
they are found as new ones are (services/checking/rekey.py). No schema change.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 15:10:00

"""
from alembic import op

from services.checking.rekey import print_progress, rekey

# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    rekey(op.get_bind(), print_progress)


def downgrade():
    pass  # the keys of the rules before are rebuilt by the code of that version (flask opportunities rekey)
