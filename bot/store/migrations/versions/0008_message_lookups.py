"""slack_message.thread_ts, and indexes for finding keyed messages by where they were posted

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 22:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql import sqltypes

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('slack_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('thread_ts', sqltypes.AutoString(length=32), nullable=True))
        batch_op.create_index('ix_slack_message_channel_ts', ['channel_id', 'ts'], unique=False)
        batch_op.create_index('ix_slack_message_channel_thread', ['channel_id', 'thread_ts'], unique=False)
    with op.batch_alter_table('teams_message', schema=None) as batch_op:
        batch_op.create_index('ix_teams_message_conversation_activity', ['conversation_id', 'activity_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('teams_message', schema=None) as batch_op:
        batch_op.drop_index('ix_teams_message_conversation_activity')
    with op.batch_alter_table('slack_message', schema=None) as batch_op:
        batch_op.drop_index('ix_slack_message_channel_thread')
        batch_op.drop_index('ix_slack_message_channel_ts')
        batch_op.drop_column('thread_ts')
