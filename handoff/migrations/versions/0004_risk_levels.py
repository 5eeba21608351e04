"""risk levels (issue 13): conversation risk and reason, the flag on each message, escalation level and message,
and the counsellors' feedback on flags

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 23:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import handoff.store.types

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('risk', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('risk_reason', sa.String(length=32), nullable=True))
    # Conversations already at crisis keep it, with no category known.
    op.execute("UPDATE conversations SET risk = 'crisis' WHERE crisis")
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('risk_level', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('risk_category', sa.String(length=32), nullable=True))
    op.execute("UPDATE messages SET risk_level = 'crisis' WHERE crisis")
    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('level', sa.String(length=16), nullable=False, server_default='crisis'))
        batch_op.add_column(sa.Column('message_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_escalations_message_id', 'messages', ['message_id'], ['id'])
    op.create_table('safety_feedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('escalation_id', sa.Integer(), nullable=True),
    sa.Column('flagged_level', sa.String(length=16), nullable=False),
    sa.Column('flagged_category', sa.String(length=32), nullable=True),
    sa.Column('level', sa.String(length=16), nullable=True),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('note', sa.String(length=255), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('author', sa.String(length=64), nullable=False),
    sa.Column('at', handoff.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], ),
    sa.ForeignKeyConstraint(['escalation_id'], ['escalations.id'], ),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('safety_feedback', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_safety_feedback_conversation_id'), ['conversation_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('safety_feedback', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_safety_feedback_conversation_id'))
    op.drop_table('safety_feedback')
    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.drop_constraint('fk_escalations_message_id', type_='foreignkey')
        batch_op.drop_column('message_id')
        batch_op.drop_column('level')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('risk_category')
        batch_op.drop_column('risk_level')
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_column('risk_reason')
        batch_op.drop_column('risk')
