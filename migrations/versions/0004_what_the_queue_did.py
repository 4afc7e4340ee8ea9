"""what the queue did: the local day of the last nudge and snooze, the last summarised week

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 08:00:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0004'
down_revision: Union[str, None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('nudged_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('snoozed_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('summarised_week', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('summarised_week')
        batch_op.drop_column('snoozed_on')
        batch_op.drop_column('nudged_on')
