"""console security (issue 12): API tokens belong to a user; wrong passwords are throttled per (name, source)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 23:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import handoff.store.types

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('api_tokens') as batch:
        batch.add_column(sa.Column('user_id', sa.Integer(), nullable=True))
        batch.create_index('ix_api_tokens_user_id', ['user_id'])
        batch.create_foreign_key('fk_api_tokens_user_id_users', 'users', ['user_id'], ['id'])
    op.create_table('console_login_throttle',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failed_at', handoff.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('retry_at', handoff.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', 'source')
    )
    op.create_index('ix_console_login_throttle_last_failed_at', 'console_login_throttle', ['last_failed_at'])


def downgrade() -> None:
    op.drop_index('ix_console_login_throttle_last_failed_at', table_name='console_login_throttle')
    op.drop_table('console_login_throttle')
    with op.batch_alter_table('api_tokens') as batch:
        batch.drop_constraint('fk_api_tokens_user_id_users', type_='foreignkey')
        batch.drop_index('ix_api_tokens_user_id')
        batch.drop_column('user_id')
