"""kb_query.asked_by indexed: the how-to skill looks up the guide last given to the person who asks

Revision ID: 0014
Revises: 0009
Create Date: 2026-12-07 08:05:00
"""

from __future__ import annotations

from alembic import op

revision = '0014'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('kb_query', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kb_query_asked_by'), ['asked_by'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('kb_query', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kb_query_asked_by'))
