"""follow-ups: a counsellor's one check-in message per conversation, and silent pushes (issue 17 item 8)

Revision ID: 0009_follow_ups
Revises: 0010_contact_details
Create Date: 2026-12-02 14:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import handoff.store.types

revision: str = '0009_follow_ups'
down_revision: str | None = '0010_contact_details'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('follow_ups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('silent', sa.Boolean(), nullable=False),
    sa.Column('send_at', handoff.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('author', sa.String(length=64), nullable=False),
    sa.Column('created_at', handoff.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', handoff.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('answered_at', handoff.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], ),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_follow_ups_conversation', 'follow_ups', ['conversation_id', 'status'], unique=False)
    op.create_index('ix_follow_ups_due', 'follow_ups', ['status', 'send_at'], unique=False)
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('silent', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('silent')
    op.drop_index('ix_follow_ups_due', table_name='follow_ups')
    op.drop_index('ix_follow_ups_conversation', table_name='follow_ups')
    op.drop_table('follow_ups')
