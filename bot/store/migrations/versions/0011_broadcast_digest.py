"""announcement.approved_digest: what a second technician approved, compared before a broadcast goes out

Revision ID: 0011
Revises: 0008
Create Date: 2026-12-06 17:10:00
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql import sqltypes

revision = '0011'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('announcement', schema=None) as batch_op:
        batch_op.add_column(sa.Column('approved_digest', sqltypes.AutoString(length=64), nullable=True))
    _digest_what_was_approved()


_CONTENT = ("kind", "title", "body", "systems", "starts_at", "ends_at", "ack_required", "allow_mentions")


def _plain(value: object) -> str:
    if isinstance(value, datetime):
        utc = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        return utc.isoformat()
    raise TypeError(f"cannot digest {type(value).__name__}")


def content_digest(row: Any) -> str:
    """``bot.services.broadcast_approval.content_digest`` as it was at this revision (a migration keeps its
    own copy: the store sits below the services, and a migration must not change when they do)."""
    audience = {key: value for key, value in row.audience.items() if key != "origin"}
    content: dict[str, Any] = {name: getattr(row, name) for name in _CONTENT}
    content["audience"] = audience
    canonical = json.dumps(content, sort_keys=True, default=_plain, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _digest_what_was_approved() -> None:
    """Notices approved before this revision keep their approval: their digest is what they say now."""
    announcement = sa.table(
        'announcement', sa.column('id', sa.Integer), sa.column('status', sa.String),
        sa.column('approved_by', sa.String), sa.column('approved_digest', sa.String),
        *(sa.column(name, sa.JSON) for name in ('systems', 'audience')),
        *(sa.column(name, sa.DateTime) for name in ('starts_at', 'ends_at')),
        *(sa.column(name, sa.Boolean) for name in ('ack_required', 'allow_mentions')),
        *(sa.column(name, sa.String) for name in ('kind', 'title', 'body')),
    )
    connection = op.get_bind()
    approved = connection.execute(sa.select(announcement).where(
        announcement.c.approved_by.is_not(None), announcement.c.status.in_(('scheduled', 'recurring')))).all()
    for row in approved:
        connection.execute(announcement.update().where(announcement.c.id == row.id)
                           .values(approved_digest=content_digest(row)))


def downgrade() -> None:
    with op.batch_alter_table('announcement', schema=None) as batch_op:
        batch_op.drop_column('approved_digest')
