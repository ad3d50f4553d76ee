"""slack messages posted under a reply key

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql import sqltypes

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('slack_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sqltypes.AutoString(length=200), nullable=False),
    sa.Column('channel_id', sqltypes.AutoString(length=50), nullable=False),
    sa.Column('ts', sqltypes.AutoString(length=32), nullable=False),
    sa.Column('posted_at', sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('slack_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_slack_message_key'), ['key'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('slack_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_slack_message_key'))

    op.drop_table('slack_message')
