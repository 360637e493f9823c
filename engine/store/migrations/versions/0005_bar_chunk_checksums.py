"""bar chunk checksums: ``bar_chunks.crc`` holds the CRC-32 of ``data``, verified on load

Revision ID: 0005
Revises: 0004

A flipped byte inside a blob passes SQLite's page checks (the page is intact, only the
floats are wrong), so every chunk carries ``zlib.crc32(data)``. Chunks stored before this
revision get theirs computed here, in the same transaction as the new column.
"""
import zlib

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("bar_chunks", sa.Column("crc", sa.BigInteger, nullable=True))
    bind = op.get_bind()
    rows = bind.exec_driver_sql("SELECT series_id, seq FROM bar_chunks").fetchall()
    for sid, seq in rows:  # one blob at a time: a big store need not fit in memory
        data = bind.exec_driver_sql(
            "SELECT data FROM bar_chunks WHERE series_id=? AND seq=?", (sid, seq)
        ).scalar_one()
        bind.exec_driver_sql(
            "UPDATE bar_chunks SET crc=? WHERE series_id=? AND seq=?", (zlib.crc32(data), sid, seq)
        )


def downgrade() -> None:
    op.drop_column("bar_chunks", "crc")
