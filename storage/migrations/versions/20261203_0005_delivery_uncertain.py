"""delivery uncertain

A delivery whose message data went out without the server's "250" (or whose run died
while sending) is `uncertain`: the CHECK of digest_deliveries.status admits it. Each
claim records when and by whom (`claimed_at`, `claimed_by` = "host:pid"), so a row left
`sending` by a dead run is told from one a live run is sending now.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 09:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

OLD_STATUSES = ('pending', 'sending', 'sent', 'outbox', 'failed')
NEW_STATUSES = (*OLD_STATUSES, 'uncertain')


revision: str = '0005'
down_revision: str | Sequence[str] | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # SQLite cannot alter a constraint: batch mode copies the table.
    with op.batch_alter_table('digest_deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=200), nullable=True))
        batch_op.drop_constraint('delivery_status', type_='check')
        batch_op.create_check_constraint('delivery_status', sa.column('status').in_(NEW_STATUSES))


def downgrade() -> None:
    # Before 0005 a row whose fate is unknown stayed `sending` (never re-sent automatically).
    op.execute("UPDATE digest_deliveries SET status = 'sending' WHERE status = 'uncertain'")
    with op.batch_alter_table('digest_deliveries', schema=None) as batch_op:
        batch_op.drop_constraint('delivery_status', type_='check')
        batch_op.create_check_constraint('delivery_status', sa.column('status').in_(OLD_STATUSES))
        batch_op.drop_column('claimed_by')
        batch_op.drop_column('claimed_at')
