"""account requests (password resets and unlocks)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 18:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql import sqltypes

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('account_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('requester', sqltypes.AutoString(length=320), nullable=False),
    sa.Column('target', sqltypes.AutoString(length=320), nullable=False),
    sa.Column('action', sqltypes.AutoString(length=32), nullable=False),
    sa.Column('method', sqltypes.AutoString(length=16), nullable=False),
    sa.Column('status', sqltypes.AutoString(length=16), nullable=False),
    sa.Column('approval_id', sa.Integer(), nullable=True),
    sa.Column('approved_by', sqltypes.AutoString(length=700), nullable=False),
    sa.Column('code_hash', sqltypes.AutoString(length=128), nullable=True),
    sa.Column('code_salt', sqltypes.AutoString(length=64), nullable=True),
    sa.Column('code_expires_at', sqltypes.UTCDateTime(), nullable=True),
    sa.Column('code_attempts', sa.Integer(), nullable=False),
    sa.Column('failure', sqltypes.AutoString(length=32), nullable=False),
    sa.Column('created_at', sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('account_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_request_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_account_request_requester'), ['requester'], unique=False)
        batch_op.create_index(batch_op.f('ix_account_request_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_account_request_target'), ['target'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('account_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_request_target'))
        batch_op.drop_index(batch_op.f('ix_account_request_status'))
        batch_op.drop_index(batch_op.f('ix_account_request_requester'))
        batch_op.drop_index(batch_op.f('ix_account_request_created_at'))

    op.drop_table('account_request')
