"""announcements, deliveries, acknowledgements, outage reports, scheduler jobs and claims

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 18:47:10.526001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql import sqltypes

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('acknowledgement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('announcement_id', sa.Integer(), nullable=False),
    sa.Column('email', sqltypes.AutoString(length=320), nullable=False),
    sa.Column('at', sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('announcement_id', 'email')
    )
    with op.batch_alter_table('acknowledgement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_acknowledgement_announcement_id'), ['announcement_id'], unique=False)

    op.create_table('announcement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sqltypes.AutoString(length=32), nullable=False),
    sa.Column('title', sqltypes.AutoString(length=255), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('systems', sa.JSON(), nullable=False),
    sa.Column('audience', sa.JSON(), nullable=False),
    sa.Column('schedule', sqltypes.AutoString(length=200), nullable=False),
    sa.Column('cron', sqltypes.AutoString(length=200), nullable=True),
    sa.Column('send_at', sqltypes.UTCDateTime(), nullable=True),
    sa.Column('starts_at', sqltypes.UTCDateTime(), nullable=True),
    sa.Column('ends_at', sqltypes.UTCDateTime(), nullable=True),
    sa.Column('ack_required', sa.Boolean(), nullable=False),
    sa.Column('allow_mentions', sa.Boolean(), nullable=False),
    sa.Column('status', sqltypes.AutoString(length=20), nullable=False),
    sa.Column('created_by', sqltypes.AutoString(length=320), nullable=False),
    sa.Column('approved_by', sqltypes.AutoString(length=320), nullable=True),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('series_id', sa.Integer(), nullable=True),
    sa.Column('occurrence_at', sqltypes.UTCDateTime(), nullable=True),
    sa.Column('notice_id', sa.Integer(), nullable=True),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('sent', sa.Integer(), nullable=False),
    sa.Column('failed', sa.Integer(), nullable=False),
    sa.Column('created_at', sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqltypes.UTCDateTime(), nullable=False),
    sa.Column('sent_at', sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('series_id', 'occurrence_at')
    )
    with op.batch_alter_table('announcement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_announcement_notice_id'), ['notice_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_announcement_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_announcement_series_id'), ['series_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_announcement_status'), ['status'], unique=False)

    op.create_table('apscheduler_jobs',
    sa.Column('id', sa.Unicode(length=191), nullable=False),
    sa.Column('next_run_time', sa.Float(precision=25), nullable=True),
    sa.Column('job_state', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('apscheduler_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_apscheduler_jobs_next_run_time'), ['next_run_time'], unique=False)

    op.create_table('delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('announcement_id', sa.Integer(), nullable=False),
    sa.Column('recipient', sqltypes.AutoString(length=400), nullable=False),
    sa.Column('status', sqltypes.AutoString(length=16), nullable=False),
    sa.Column('claim', sqltypes.AutoString(length=64), nullable=True),
    sa.Column('claimed_at', sqltypes.UTCDateTime(), nullable=True),
    sa.Column('sent_at', sqltypes.UTCDateTime(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sqltypes.AutoString(length=500), nullable=False),
    sa.Column('reminded_at', sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('announcement_id', 'recipient')
    )
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delivery_announcement_id'), ['announcement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_delivery_status'), ['status'], unique=False)

    op.create_table('job_claim',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sqltypes.AutoString(length=191), nullable=False),
    sa.Column('run_time', sqltypes.UTCDateTime(), nullable=False),
    sa.Column('claimed_by', sqltypes.AutoString(length=100), nullable=False),
    sa.Column('outcome', sqltypes.AutoString(length=16), nullable=False),
    sa.Column('claimed_at', sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('job_id', 'run_time')
    )
    op.create_table('outage_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('system', sqltypes.AutoString(length=64), nullable=False),
    sa.Column('reporter', sqltypes.AutoString(length=320), nullable=False),
    sa.Column('ticket_key', sqltypes.AutoString(length=32), nullable=False),
    sa.Column('alerted', sa.Boolean(), nullable=False),
    sa.Column('reported_at', sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('outage_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outage_report_reported_at'), ['reported_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outage_report_system'), ['system'], unique=False)

    op.create_table('outage_subscription',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('system', sqltypes.AutoString(length=64), nullable=False),
    sa.Column('email', sqltypes.AutoString(length=320), nullable=False),
    sa.Column('created_at', sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('system', 'email')
    )


def downgrade() -> None:
    op.drop_table('outage_subscription')
    with op.batch_alter_table('outage_report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outage_report_system'))
        batch_op.drop_index(batch_op.f('ix_outage_report_reported_at'))

    op.drop_table('outage_report')
    op.drop_table('job_claim')
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delivery_status'))
        batch_op.drop_index(batch_op.f('ix_delivery_announcement_id'))

    op.drop_table('delivery')
    with op.batch_alter_table('apscheduler_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_apscheduler_jobs_next_run_time'))

    op.drop_table('apscheduler_jobs')
    with op.batch_alter_table('announcement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_announcement_status'))
        batch_op.drop_index(batch_op.f('ix_announcement_series_id'))
        batch_op.drop_index(batch_op.f('ix_announcement_parent_id'))
        batch_op.drop_index(batch_op.f('ix_announcement_notice_id'))

    op.drop_table('announcement')
    with op.batch_alter_table('acknowledgement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_acknowledgement_announcement_id'))

    op.drop_table('acknowledgement')
