"""education: local learning progress and the education content pulled from the service

Revision ID: 0015_education
Revises: 0014_copy

``education_progress``: one row per (course, material, kind) the user has touched — kind
``read`` (an article or video opened), ``quiz`` (the last submission: ``score`` and
``passed``; ``verified`` once the service scored it), ``exercise`` (checked done) or ``tour``
(a feature tour seen; ``course_id`` empty). ``detail`` is JSON (a quiz's answers).
``education_content``: the service's copy of courses, glossary and tours (``kind``, ``key``),
with its version and the service's time, readable offline; newer than the bundled files wins.
"""
import sqlalchemy as sa
from alembic import op

revision = "0015_education"
down_revision = "0014_copy"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "education_progress",
        sa.Column("course_id", sa.String(64), primary_key=True),
        sa.Column("material_id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("done", sa.Integer, nullable=False, server_default="0"),
        sa.Column("score", sa.Float, nullable=True),
        sa.Column("passed", sa.Integer, nullable=False, server_default="0"),
        sa.Column("verified", sa.Integer, nullable=False, server_default="0"),
        sa.Column("detail", sa.Text, nullable=False, server_default="{}"),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_table(
        "education_content",
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("updated_at", sa.String(40), nullable=False, server_default=""),
    )


def downgrade() -> None:
    op.drop_table("education_content")
    op.drop_table("education_progress")
