"""broadcasts: information deliveries to friends and their multicast batches (issue 17 item 1)

Revision ID: 0008_broadcasts
Revises: 0007_securechat
Create Date: 2026-12-02 13:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import handoff.store.types

revision: str = '0008_broadcasts'
down_revision: str | None = '0007_securechat'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('broadcasts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('segment', sa.JSON(), nullable=False),
    sa.Column('silent', sa.Boolean(), nullable=False),
    sa.Column('send_at', handoff.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('recipients', sa.Integer(), nullable=False),
    sa.Column('sent', sa.Integer(), nullable=False),
    sa.Column('skipped', sa.Integer(), nullable=False),
    sa.Column('failed', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', handoff.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.String(length=255), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('author', sa.String(length=64), nullable=False),
    sa.Column('created_at', handoff.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_at', handoff.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', handoff.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_broadcasts_due', 'broadcasts', ['status', 'next_attempt_at'], unique=False)
    op.create_table('broadcast_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('broadcast_id', sa.Integer(), nullable=False),
    sa.Column('recipients', sa.JSON(), nullable=False),
    sa.Column('retry_key', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_status', sa.Integer(), nullable=True),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.Column('sent_at', handoff.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['broadcast_id'], ['broadcasts.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_broadcast_batches_broadcast_id'), 'broadcast_batches', ['broadcast_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_broadcast_batches_broadcast_id'), table_name='broadcast_batches')
    op.drop_table('broadcast_batches')
    op.drop_index('ix_broadcasts_due', table_name='broadcasts')
    op.drop_table('broadcasts')
