"""delivery nothing to send

A subscriber whose places had no meeting in a week gets no mail (unless they asked for
empty weeks); the ledger records that decision as `nothing_to_send`, so a re-run of the
week sends nothing and says why.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 10:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

OLD_STATUSES = ('pending', 'sending', 'sent', 'outbox', 'failed', 'uncertain')
NEW_STATUSES = (*OLD_STATUSES, 'nothing_to_send')


revision: str = '0006'
down_revision: str | Sequence[str] | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # SQLite cannot alter a constraint: batch mode copies the table.
    with op.batch_alter_table('digest_deliveries', schema=None) as batch_op:
        batch_op.drop_constraint('delivery_status', type_='check')
        batch_op.create_check_constraint('delivery_status', sa.column('status').in_(NEW_STATUSES))


def downgrade() -> None:
    # Before 0006 an empty week was mailed: a row that sent nothing is claimable again.
    op.execute("UPDATE digest_deliveries SET status = 'pending' WHERE status = 'nothing_to_send'")
    with op.batch_alter_table('digest_deliveries', schema=None) as batch_op:
        batch_op.drop_constraint('delivery_status', type_='check')
        batch_op.create_check_constraint('delivery_status', sa.column('status').in_(OLD_STATUSES))
