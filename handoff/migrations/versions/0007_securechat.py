"""secure chat off LINE (issue 16): the channel of every turn and conversation, one-time links, browser sessions

Revision ID: 0007_securechat
Revises: 0006
Create Date: 2026-12-02 13:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import handoff.store.types

revision: str = '0007_securechat'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sa.String(length=8), nullable=False, server_default='line'))
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sa.String(length=8), nullable=False, server_default='line'))
        batch_op.add_column(sa.Column('notice_silent', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('notice_at', handoff.store.types.UTCDateTime(timezone=True), nullable=True))
    op.create_table('secure_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', handoff.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', handoff.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('spent_at', handoff.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', handoff.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_index('ix_secure_links_contact_id', 'secure_links', ['contact_id'], unique=False)
    op.create_table('secure_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('link_id', sa.Integer(), nullable=False),
    sa.Column('session_hash', sa.String(length=64), nullable=False),
    sa.Column('device_hash', sa.String(length=64), nullable=False),
    sa.Column('csrf_token', sa.String(length=64), nullable=False),
    sa.Column('created_at', handoff.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', handoff.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', handoff.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], ),
    sa.ForeignKeyConstraint(['link_id'], ['secure_links.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('session_hash')
    )
    op.create_index('ix_secure_sessions_contact_id', 'secure_sessions', ['contact_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_secure_sessions_contact_id', table_name='secure_sessions')
    op.drop_table('secure_sessions')
    op.drop_index('ix_secure_links_contact_id', table_name='secure_links')
    op.drop_table('secure_links')
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_column('notice_at')
        batch_op.drop_column('notice_silent')
        batch_op.drop_column('channel')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('channel')
