"""trainers' review (issue 14 item 7, issue 12): the intent NLU read each user turn as, and trainers' labels

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 03:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import handoff.store.types

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('nlu_intent', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('nlu_confidence', sa.Float(), nullable=True))
    op.create_table('nlu_labels',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('intent', sa.String(length=64), nullable=False),
    sa.Column('predicted', sa.String(length=64), nullable=True),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('author', sa.String(length=64), nullable=False),
    sa.Column('at', handoff.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('message_id')
    )


def downgrade() -> None:
    op.drop_table('nlu_labels')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('nlu_confidence')
        batch_op.drop_column('nlu_intent')
