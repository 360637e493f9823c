"""Published workspaces (public or private dashboards of the app)

Revision ID: 0004_workspaces
Revises: 0003_google
"""
from alembic import op
import sqlalchemy as sa


revision = '0004_workspaces'
down_revision = '0003_google'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('published_workspaces',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('visibility', sa.String(length=8), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('data', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('user_id', 'name', name='uq_published_workspaces_user_name')
    )
    with op.batch_alter_table('published_workspaces', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_published_workspaces_user_id'), ['user_id'], unique=False)
        batch_op.create_index('ix_published_workspaces_public', ['visibility', 'updated_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('published_workspaces', schema=None) as batch_op:
        batch_op.drop_index('ix_published_workspaces_public')
        batch_op.drop_index(batch_op.f('ix_published_workspaces_user_id'))
    op.drop_table('published_workspaces')
