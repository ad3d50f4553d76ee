"""tickets

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 18:40:48.827360
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql import sqltypes

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ticket_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sqltypes.AutoString(length=64), nullable=False),
    sa.Column('backend', sqltypes.AutoString(length=16), nullable=False),
    sa.Column('request_id', sqltypes.AutoString(length=64), nullable=True),
    sa.Column('reporter', sqltypes.AutoString(length=320), nullable=False),
    sa.Column('system', sqltypes.AutoString(length=64), nullable=False),
    sa.Column('status', sqltypes.AutoString(length=64), nullable=False),
    sa.Column('last_comment_id', sqltypes.AutoString(length=64), nullable=True),
    sa.Column('created_at', sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ticket_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_link_key'), ['key'], unique=True)
        batch_op.create_index(batch_op.f('ix_ticket_link_reporter'), ['reporter'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticket_link_request_id'), ['request_id'], unique=True)

    op.create_table('ticket_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sqltypes.AutoString(length=64), nullable=False),
    sa.Column('reporter', sqltypes.AutoString(length=320), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('state', sqltypes.AutoString(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sqltypes.UTCDateTime(), nullable=False),
    sa.Column('ticket_key', sqltypes.AutoString(length=64), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('created_at', sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ticket_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_outbox_next_attempt_at'), ['next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticket_outbox_reporter'), ['reporter'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticket_outbox_request_id'), ['request_id'], unique=True)
        batch_op.create_index(batch_op.f('ix_ticket_outbox_state'), ['state'], unique=False)

    op.create_table('ticket_sync',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqltypes.AutoString(length=64), nullable=False),
    sa.Column('checked_at', sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )


def downgrade() -> None:
    op.drop_table('ticket_sync')
    with op.batch_alter_table('ticket_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_outbox_state'))
        batch_op.drop_index(batch_op.f('ix_ticket_outbox_request_id'))
        batch_op.drop_index(batch_op.f('ix_ticket_outbox_reporter'))
        batch_op.drop_index(batch_op.f('ix_ticket_outbox_next_attempt_at'))

    op.drop_table('ticket_outbox')
    with op.batch_alter_table('ticket_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_link_request_id'))
        batch_op.drop_index(batch_op.f('ix_ticket_link_reporter'))
        batch_op.drop_index(batch_op.f('ix_ticket_link_key'))

    op.drop_table('ticket_link')
