"""teams conversation references and keyed messages

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 19:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql import sqltypes

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('teams_conversation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sqltypes.AutoString(length=400), nullable=False),
    sa.Column('kind', sqltypes.AutoString(length=20), nullable=False),
    sa.Column('user_id', sqltypes.AutoString(length=200), nullable=True),
    sa.Column('email', sqltypes.AutoString(length=320), nullable=True),
    sa.Column('team_id', sqltypes.AutoString(length=400), nullable=True),
    sa.Column('service_url', sqltypes.AutoString(length=500), nullable=False),
    sa.Column('tenant_id', sqltypes.AutoString(length=100), nullable=True),
    sa.Column('reference', sa.JSON(), nullable=False),
    sa.Column('updated_at', sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('teams_conversation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_teams_conversation_conversation_id'), ['conversation_id'], unique=True)
        batch_op.create_index(batch_op.f('ix_teams_conversation_email'), ['email'], unique=False)
        batch_op.create_index(batch_op.f('ix_teams_conversation_user_id'), ['user_id'], unique=False)

    op.create_table('teams_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sqltypes.AutoString(length=200), nullable=False),
    sa.Column('conversation_id', sqltypes.AutoString(length=400), nullable=False),
    sa.Column('activity_id', sqltypes.AutoString(length=200), nullable=False),
    sa.Column('created_at', sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('teams_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_teams_message_key'), ['key'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('teams_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_teams_message_key'))

    op.drop_table('teams_message')
    with op.batch_alter_table('teams_conversation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_teams_conversation_user_id'))
        batch_op.drop_index(batch_op.f('ix_teams_conversation_email'))
        batch_op.drop_index(batch_op.f('ix_teams_conversation_conversation_id'))

    op.drop_table('teams_conversation')
