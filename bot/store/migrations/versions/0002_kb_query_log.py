"""kb query log

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 10:20:40.807856
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql import sqltypes

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('kb_query',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('article_id', sqltypes.AutoString(length=200), nullable=True),
    sa.Column('asked_by', sqltypes.AutoString(length=320), nullable=False),
    sa.Column('outcome', sqltypes.AutoString(length=16), nullable=False),
    sa.Column('asked_at', sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('kb_query', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kb_query_outcome'), ['outcome'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('kb_query', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kb_query_outcome'))

    op.drop_table('kb_query')
