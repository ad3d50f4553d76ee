"""conversation: one employee's request and its outcome, for the manager's dashboard; ticket_link.created_at
indexed for its ticket figures

Revision ID: 0010
Revises: 0013
Create Date: 2026-12-06 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql import sqltypes

revision = '0010'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'conversation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('email', sqltypes.AutoString(length=320), nullable=False),
        sa.Column('channel', sqltypes.AutoString(length=20), nullable=False),
        sa.Column('department', sqltypes.AutoString(length=200), nullable=False),
        sa.Column('skill', sqltypes.AutoString(length=64), nullable=False),
        sa.Column('intent', sqltypes.AutoString(length=64), nullable=False),
        sa.Column('topic', sqltypes.AutoString(length=200), nullable=False),
        sa.Column('first_text', sqltypes.AutoString(length=500), nullable=False),
        sa.Column('missed_text', sqltypes.AutoString(length=500), nullable=True),
        sa.Column('outcome', sqltypes.AutoString(length=20), nullable=False),
        sa.Column('escalation', sqltypes.AutoString(length=16), nullable=True),
        sa.Column('started_at', sqltypes.UTCDateTime(), nullable=False),
        sa.Column('updated_at', sqltypes.UTCDateTime(), nullable=False),
        sa.Column('answered_at', sqltypes.UTCDateTime(), nullable=True),
        sa.Column('ended_at', sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.create_index('ix_conversation_email_id', ['email', 'id'], unique=False)
        batch_op.create_index('ix_conversation_outcome_updated', ['outcome', 'updated_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_conversation_started_at'), ['started_at'], unique=False)
    with op.batch_alter_table('ticket_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_link_created_at'), ['created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ticket_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_link_created_at'))
    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conversation_started_at'))
        batch_op.drop_index('ix_conversation_outcome_updated')
        batch_op.drop_index('ix_conversation_email_id')
    op.drop_table('conversation')
