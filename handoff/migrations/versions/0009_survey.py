"""issue 17 items 3, 5, 7, 9: the post-consultation survey, duty check-ins, LINE's daily follower insight and
referrals to municipal offices and agencies

Revision ID: 0009_survey
Revises: 0008_broadcasts (re-chained by the lead at merge)
Create Date: 2026-12-02 13:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import handoff.store.types

revision: str = '0009_survey'
down_revision: str | None = '0008_broadcasts'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('surveys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=True),
    sa.Column('sent_at', handoff.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('step', sa.String(length=16), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('comment_message_id', sa.Integer(), nullable=True),
    sa.Column('answered_at', handoff.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('chosen', sa.Boolean(), nullable=False),
    sa.Column('after_crisis', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['comment_message_id'], ['messages.id'], ),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], ),
    sa.ForeignKeyConstraint(['record_id'], ['records.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_surveys_conversation_id', 'surveys', ['conversation_id'], unique=False)
    op.create_index('ix_surveys_sent_at', 'surveys', ['sent_at'], unique=False)
    op.create_table('duty_shifts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('started_at', handoff.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', handoff.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_duty_shifts_user_id', 'duty_shifts', ['user_id'], unique=False)
    op.create_index('ix_duty_shifts_started_at', 'duty_shifts', ['started_at'], unique=False)
    op.create_table('line_follower_insights',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('followers', sa.Integer(), nullable=True),
    sa.Column('targeted_reaches', sa.Integer(), nullable=True),
    sa.Column('blocks', sa.Integer(), nullable=True),
    sa.Column('fetched_at', handoff.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('day')
    )
    op.create_table('referrals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('created_at', handoff.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('service_kind', sa.String(length=64), nullable=False),
    sa.Column('recipient', sa.String(length=200), nullable=False),
    sa.Column('municipality', sa.String(length=32), nullable=True),
    sa.Column('consent_at', handoff.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('shared', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('outcome_note', sa.Text(), nullable=False),
    sa.Column('outcome_at', handoff.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('outcome_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], ),
    sa.ForeignKeyConstraint(['outcome_by'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_referrals_conversation_id', 'referrals', ['conversation_id'], unique=False)
    op.create_index('ix_referrals_created_at', 'referrals', ['created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_referrals_created_at', table_name='referrals')
    op.drop_index('ix_referrals_conversation_id', table_name='referrals')
    op.drop_table('referrals')
    op.drop_table('line_follower_insights')
    op.drop_index('ix_duty_shifts_started_at', table_name='duty_shifts')
    op.drop_index('ix_duty_shifts_user_id', table_name='duty_shifts')
    op.drop_table('duty_shifts')
    op.drop_index('ix_surveys_sent_at', table_name='surveys')
    op.drop_index('ix_surveys_conversation_id', table_name='surveys')
    op.drop_table('surveys')
