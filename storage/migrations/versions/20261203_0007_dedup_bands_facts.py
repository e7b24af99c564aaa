"""dedup bands and facts

The near-duplicate index in the database: `article_bands` holds one row per LSH band of
each article's MinHash signature (band number, the band's 32 bytes, the article's date),
so a store step looks its candidates up with a query instead of every process loading
every signature; and
`articles.facts` keeps each text's figures and names, so a candidate is checked without
reading its text again.

The bands of the articles already stored are cut from their stored signatures here (a
band is bytes 32*b .. 32*b+31 of `minhash`). Their facts stay NULL: the store step
computes them from the text the first time such an article is a candidate, and keeps them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | Sequence[str] | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BANDS, BAND_BYTES = 16, 32  # bantin.dedup: 16 bands of 8 uint32 values, signatures of 512 bytes


def upgrade() -> None:
    op.create_table('article_bands',
    sa.Column('band', sa.SmallInteger(), nullable=False),
    sa.Column('bucket', sa.LargeBinary(), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_article_bands__article_id__articles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('band', 'bucket', 'published_at', 'article_id', name=op.f('pk_article_bands')),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('article_bands', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_article_bands__article_id'), ['article_id'], unique=False)

    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('facts', sa.JSON(), nullable=True))

    # substr() on a blob (SQLite) or bytea (PostgreSQL) counts bytes, from 1.
    bands = " UNION ALL ".join(f"SELECT {b} AS band" for b in range(BANDS))
    op.execute(
        "INSERT INTO article_bands (band, bucket, published_at, article_id) "
        f"SELECT n.band, substr(a.minhash, {BAND_BYTES} * n.band + 1, {BAND_BYTES}), "
        "COALESCE(a.published_at, a.first_seen_at), a.id "
        f"FROM articles AS a CROSS JOIN ({bands}) AS n "
        f"WHERE a.minhash IS NOT NULL AND length(a.minhash) = {BANDS * BAND_BYTES}"
    )


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN (SQLite >= 3.35), not a copy of the table: with foreign
    # keys on, dropping the old copy would delete the meetings and snapshots (ON DELETE CASCADE).
    with op.batch_alter_table('articles', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('facts')

    with op.batch_alter_table('article_bands', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_article_bands__article_id'))

    op.drop_table('article_bands')
