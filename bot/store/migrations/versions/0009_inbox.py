"""inbox: incoming events, clicks and activities, written before they are acknowledged

Revision ID: 0009
Revises: 0013
Create Date: 2026-12-06 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql import sqltypes

revision = '0009'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'inbox',
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('channel', sqltypes.AutoString(length=20), nullable=False),
        sa.Column('key', sqltypes.AutoString(length=200), nullable=False),
        sa.Column('kind', sqltypes.AutoString(length=32), nullable=False),
        sa.Column('state', sqltypes.AutoString(length=16), nullable=False),
        sa.Column('claimed_by', sqltypes.AutoString(length=100), nullable=False),
        sa.Column('claimed_at', sqltypes.UTCDateTime(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('received_at', sqltypes.UTCDateTime(), nullable=False),
        sa.Column('finished_at', sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('channel', 'key'),
    )
    op.create_index('ix_inbox_state_claimed', 'inbox', ['state', 'claimed_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_inbox_state_claimed', table_name='inbox')
    op.drop_table('inbox')
