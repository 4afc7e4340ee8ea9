"""live screen: users.live_voice, live_tones, live_warning; walks.live_seen_at

Revision ID: 0008_live_screen
Revises: 0006
Create Date: 2026-12-06 03:10:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import walkbot.store.types


revision: str = '0008_live_screen'
down_revision: Union[str, None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        for name in ('live_voice', 'live_tones', 'live_warning'):
            batch_op.add_column(
                sa.Column(name, sa.Boolean(), server_default=sa.true(), nullable=False)
            )
    with op.batch_alter_table('walks', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('live_seen_at', walkbot.store.types.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table('walks', schema=None) as batch_op:
        batch_op.drop_column('live_seen_at')
    with op.batch_alter_table('users', schema=None) as batch_op:
        for name in ('live_warning', 'live_tones', 'live_voice'):
            batch_op.drop_column(name)
