"""queue records any chat: failed_deliveries gets chat_id; user_id may be empty (group posts)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-10 09:00:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0005'
down_revision: Union[str, None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('failed_deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chat_id', sa.BigInteger(), nullable=True))
    # Every record so far was about a person, sent to their private chat (id = user id).
    op.execute('UPDATE failed_deliveries SET chat_id = user_id')
    with op.batch_alter_table('failed_deliveries', schema=None) as batch_op:
        batch_op.alter_column('chat_id', existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column('user_id', existing_type=sa.BigInteger(), nullable=True)
        batch_op.alter_column(
            'kind',
            existing_type=sa.String(length=16),
            type_=sa.String(length=32),
            existing_nullable=False,
        )


def downgrade() -> None:
    # Records of messages to groups have no person to belong to in the older schema.
    op.execute('DELETE FROM failed_deliveries WHERE user_id IS NULL')
    op.execute('UPDATE failed_deliveries SET kind = substr(kind, 1, 16)')
    with op.batch_alter_table('failed_deliveries', schema=None) as batch_op:
        batch_op.alter_column(
            'kind',
            existing_type=sa.String(length=32),
            type_=sa.String(length=16),
            existing_nullable=False,
        )
        batch_op.alter_column('user_id', existing_type=sa.BigInteger(), nullable=False)
        batch_op.drop_column('chat_id')
