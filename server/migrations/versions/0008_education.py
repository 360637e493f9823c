"""education: content (courses, glossary terms, tours) seeded from resources and editable by
admins, enrollments, and each user's progress (quiz scores computed by the service)

Revision ID: 0008_education
Revises: 0007_social
"""
import sqlalchemy as sa
from alembic import op

revision = "0008_education"
down_revision = "0007_social"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "edu_content",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("edited_by", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "key", name="uq_edu_content_kind_key"),
    )
    op.create_index("ix_edu_content_updated", "edu_content", ["updated_at", "id"])
    op.create_table(
        "edu_enrollments",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "course_id"),
    )
    op.create_table(
        "edu_progress",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.String(length=64), nullable=False),
        sa.Column("material_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("answers", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "course_id", "material_id", "kind"),
    )


def downgrade() -> None:
    op.drop_table("edu_progress")
    op.drop_table("edu_enrollments")
    op.drop_index("ix_edu_content_updated", table_name="edu_content")
    op.drop_table("edu_content")
