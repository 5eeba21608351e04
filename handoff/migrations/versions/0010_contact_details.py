"""contact details asked for in a crisis, sealed at rest (issue 16.4)

Revision ID: 0010_contact_details
Revises: 0009_survey
Create Date: 2026-12-02 14:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import handoff.store.types

revision: str = '0010_contact_details'
down_revision: str | None = '0009_survey'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('contact_details',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('requested_by', sa.Integer(), nullable=True),
    sa.Column('requested_at', handoff.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('submitted_at', handoff.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sealed', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], ),
    sa.ForeignKeyConstraint(['requested_by'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('contact_details', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_details_conversation_id'), ['conversation_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('contact_details', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_details_conversation_id'))
    op.drop_table('contact_details')
