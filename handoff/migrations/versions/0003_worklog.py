"""worklog: the supervisor's note per day for the daily work log (R21)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 17:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import handoff.store.types

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('worklog_notes',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', handoff.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('day')
    )


def downgrade() -> None:
    op.drop_table('worklog_notes')
