"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22 10:00:35.918877
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql import sqltypes

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('approval',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('skill', sqltypes.AutoString(length=64), nullable=False),
    sa.Column('action', sqltypes.AutoString(length=64), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('requester', sqltypes.AutoString(length=320), nullable=False),
    sa.Column('requester_channel', sqltypes.AutoString(length=20), nullable=False),
    sa.Column('requester_conversation', sqltypes.AutoString(length=200), nullable=False),
    sa.Column('target', sqltypes.AutoString(length=320), nullable=False),
    sa.Column('approver_role', sqltypes.AutoString(length=32), nullable=False),
    sa.Column('status', sqltypes.AutoString(length=16), nullable=False),
    sa.Column('decided_by', sqltypes.AutoString(length=320), nullable=True),
    sa.Column('decided_at', sqltypes.UTCDateTime(), nullable=True),
    sa.Column('created_at', sqltypes.UTCDateTime(), nullable=False),
    sa.Column('expires_at', sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('approval', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_approval_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_approval_requester'), ['requester'], unique=False)
        batch_op.create_index(batch_op.f('ix_approval_status'), ['status'], unique=False)

    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sqltypes.UTCDateTime(), nullable=False),
    sa.Column('actor', sqltypes.AutoString(length=320), nullable=False),
    sa.Column('action', sqltypes.AutoString(length=64), nullable=False),
    sa.Column('target', sqltypes.AutoString(length=320), nullable=False),
    sa.Column('outcome', sqltypes.AutoString(length=32), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)

    op.create_table('chat_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sqltypes.AutoString(length=20), nullable=False),
    sa.Column('user_id', sqltypes.AutoString(length=200), nullable=False),
    sa.Column('email', sqltypes.AutoString(length=320), nullable=False),
    sa.Column('private_conversation', sqltypes.AutoString(length=200), nullable=True),
    sa.Column('updated_at', sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('channel', 'user_id')
    )
    with op.batch_alter_table('chat_account', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chat_account_email'), ['email'], unique=False)

    op.create_table('conversation_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sqltypes.AutoString(length=20), nullable=False),
    sa.Column('conversation_id', sqltypes.AutoString(length=200), nullable=False),
    sa.Column('user_id', sqltypes.AutoString(length=200), nullable=False),
    sa.Column('pending', sa.JSON(), nullable=False),
    sa.Column('last_intent', sqltypes.AutoString(length=64), nullable=True),
    sa.Column('misses', sa.Integer(), nullable=False),
    sa.Column('updated_at', sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('channel', 'conversation_id', 'user_id')
    )
    op.create_table('employee',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sqltypes.AutoString(length=320), nullable=False),
    sa.Column('display_name', sqltypes.AutoString(length=200), nullable=False),
    sa.Column('department', sqltypes.AutoString(length=200), nullable=False),
    sa.Column('created_at', sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('employee', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_employee_email'), ['email'], unique=True)

    op.create_table('notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sqltypes.AutoString(length=32), nullable=False),
    sa.Column('title', sqltypes.AutoString(length=255), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('systems', sa.JSON(), nullable=False),
    sa.Column('status', sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_by', sqltypes.AutoString(length=320), nullable=False),
    sa.Column('created_at', sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notice_status'), ['status'], unique=False)

    op.create_table('processed_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sqltypes.AutoString(length=20), nullable=False),
    sa.Column('event_id', sqltypes.AutoString(length=200), nullable=False),
    sa.Column('received_at', sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('channel', 'event_id')
    )
    op.create_table('ticket',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sqltypes.AutoString(length=32), nullable=False),
    sa.Column('reporter', sqltypes.AutoString(length=320), nullable=False),
    sa.Column('summary', sqltypes.AutoString(length=255), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('system', sqltypes.AutoString(length=64), nullable=False),
    sa.Column('urgency', sqltypes.AutoString(length=16), nullable=False),
    sa.Column('status', sqltypes.AutoString(length=32), nullable=False),
    sa.Column('assignee', sqltypes.AutoString(length=320), nullable=True),
    sa.Column('created_at', sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_key'), ['key'], unique=True)
        batch_op.create_index(batch_op.f('ix_ticket_reporter'), ['reporter'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticket_status'), ['status'], unique=False)

    op.create_table('ticket_comment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('author', sqltypes.AutoString(length=320), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ticket_comment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_comment_ticket_id'), ['ticket_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('ticket_comment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_comment_ticket_id'))

    op.drop_table('ticket_comment')
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_status'))
        batch_op.drop_index(batch_op.f('ix_ticket_reporter'))
        batch_op.drop_index(batch_op.f('ix_ticket_key'))

    op.drop_table('ticket')
    op.drop_table('processed_event')
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notice_status'))

    op.drop_table('notice')
    with op.batch_alter_table('employee', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_employee_email'))

    op.drop_table('employee')
    op.drop_table('conversation_state')
    with op.batch_alter_table('chat_account', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chat_account_email'))

    op.drop_table('chat_account')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))

    op.drop_table('audit_log')
    with op.batch_alter_table('approval', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_approval_status'))
        batch_op.drop_index(batch_op.f('ix_approval_requester'))
        batch_op.drop_index(batch_op.f('ix_approval_expires_at'))

    op.drop_table('approval')
