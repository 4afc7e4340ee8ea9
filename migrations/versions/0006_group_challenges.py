"""group challenges: group_chats, challenges, challenge_members; users.board_name

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-20 09:00:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import walkbot.store.types


revision: str = '0006'
down_revision: Union[str, None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('group_chats',
    sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=128), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=True),
    sa.Column('post_time', sa.Time(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', walkbot.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', walkbot.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_group_chats'))
    )

    # chat_id has no foreign key: a group that becomes a supergroup moves by an UPDATE.
    op.create_table('challenges',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('thread_id', sa.Integer(), nullable=True),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('measure', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('most_improved', sa.Boolean(), nullable=False),
    sa.Column('target', sa.Integer(), nullable=True),
    sa.Column('days', sa.Integer(), nullable=False),
    sa.Column('starts_at', walkbot.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ends_at', walkbot.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('zone', sa.String(length=64), nullable=False),
    sa.Column('created_by', sa.BigInteger(), nullable=True),
    sa.Column('created_at', walkbot.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', walkbot.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('card_message_id', sa.Integer(), nullable=True),
    sa.Column('board_edit_at', walkbot.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('board_edited_at', walkbot.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('next_board_at', walkbot.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_call_at', walkbot.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('results_at', walkbot.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_challenges')),
    sa.UniqueConstraint('code', name=op.f('uq_challenges_code'))
    )
    with op.batch_alter_table('challenges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_challenges_chat_id'), ['chat_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_challenges_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_challenges_board_edit_at'), ['board_edit_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_challenges_next_board_at'), ['next_board_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_challenges_last_call_at'), ['last_call_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_challenges_results_at'), ['results_at'], unique=False)

    op.create_table('challenge_members',
    sa.Column('challenge_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('user_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('joined_at', walkbot.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', walkbot.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['challenge_id'], ['challenges.id'], name=op.f('fk_challenge_members_challenge_id_challenges'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.telegram_id'], name=op.f('fk_challenge_members_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('challenge_id', 'user_id', name=op.f('pk_challenge_members'))
    )
    with op.batch_alter_table('challenge_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_challenge_members_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('board_name', sa.String(length=8), server_default='name', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('board_name')

    with op.batch_alter_table('challenge_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_challenge_members_user_id'))
    op.drop_table('challenge_members')

    with op.batch_alter_table('challenges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_challenges_results_at'))
        batch_op.drop_index(batch_op.f('ix_challenges_last_call_at'))
        batch_op.drop_index(batch_op.f('ix_challenges_next_board_at'))
        batch_op.drop_index(batch_op.f('ix_challenges_board_edit_at'))
        batch_op.drop_index(batch_op.f('ix_challenges_status'))
        batch_op.drop_index(batch_op.f('ix_challenges_chat_id'))
    op.drop_table('challenges')
    op.drop_table('group_chats')
