"""update_inbox: every update stored before it is acknowledged; replaces processed_updates

Revision ID: 0007_update_inbox
Revises: 0006
Create Date: 2026-12-06 03:10:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import walkbot.store.types


revision: str = '0007_update_inbox'
down_revision: Union[str, None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('update_inbox',
    sa.Column('update_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=True),
    sa.Column('body', sa.JSON(), nullable=True),
    sa.Column('received_at', walkbot.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('done_at', walkbot.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('update_id', name=op.f('pk_update_inbox'))
    )
    with op.batch_alter_table('update_inbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_update_inbox_received_at'), ['received_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_update_inbox_user_id'), ['user_id'], unique=False)

    # The ids handled in the last two days keep telling a redelivery from a new update.
    op.execute(
        "INSERT INTO update_inbox (update_id, received_at, done_at) "
        "SELECT update_id, received_at, received_at FROM processed_updates"
    )
    with op.batch_alter_table('processed_updates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_processed_updates_received_at'))
    op.drop_table('processed_updates')


def downgrade() -> None:
    op.create_table('processed_updates',
    sa.Column('update_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('received_at', walkbot.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('update_id', name=op.f('pk_processed_updates'))
    )
    with op.batch_alter_table('processed_updates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_processed_updates_received_at'), ['received_at'], unique=False)
    op.execute(
        "INSERT INTO processed_updates (update_id, received_at) "
        "SELECT update_id, received_at FROM update_inbox"
    )
    with op.batch_alter_table('update_inbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_update_inbox_user_id'))
        batch_op.drop_index(batch_op.f('ix_update_inbox_received_at'))
    op.drop_table('update_inbox')
