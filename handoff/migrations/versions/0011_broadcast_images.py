"""broadcast_images: the optional image of an information delivery and its preview (issue 17 item 1)

Revision ID: 0011_broadcast_images
Revises: 0009_follow_ups
Create Date: 2026-12-02 14:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import handoff.store.types

revision: str = '0011_broadcast_images'
down_revision: str | None = '0009_follow_ups'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('broadcast_images',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('broadcast_id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=16), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('preview', sa.LargeBinary(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('original_url', sa.String(length=2000), nullable=False),
    sa.Column('preview_url', sa.String(length=2000), nullable=False),
    sa.Column('created_at', handoff.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['broadcast_id'], ['broadcasts.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('broadcast_id'),
    sa.UniqueConstraint('token')
    )


def downgrade() -> None:
    op.drop_table('broadcast_images')
