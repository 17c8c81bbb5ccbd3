"""the duplicate check's keys rebuilt: trade names (字号) and places that never eat them (issue 20)

A name's 字号 is indexed in its city (`z:<字号>:<city>`), so that the same 字号 in the same trade however
written (豪腾印刷 / 豪腾彩色印刷) and in another trade are found; and names are parsed anew: at the start of
a name only a town's full name is a place (彩虹森林电子 keeps 彩虹), districts since abolished only from a
list (东八时区五金 keeps 东八时区). The keys of records entered before are rebuilt so that they are found as
new ones are (services/checking/rekey.py). No schema change.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 04:30:00

"""
from alembic import op

from services.checking.rekey import print_progress, rekey

# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    rekey(op.get_bind(), print_progress)


def downgrade():
    pass  # the keys of the rules before are rebuilt by the code of that version (flask opportunities rekey)
