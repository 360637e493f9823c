"""Strategies: shared strategies, reviews and the precomputed leaderboard

Revision ID: 0005_strategies
Revises: 0004_workspaces
"""
from alembic import op
import sqlalchemy as sa


revision = '0005_strategies'
down_revision = '0004_workspaces'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('strategies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('rules', sa.Text(), nullable=False),
    sa.Column('visibility', sa.String(length=16), nullable=False),
    sa.Column('share_token_hash', sa.String(length=64), nullable=True),
    sa.Column('share_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('clone_count', sa.Integer(), nullable=False),
    sa.Column('followers', sa.Integer(), nullable=False),
    sa.Column('results', sa.Text(), nullable=False),
    sa.Column('trades', sa.Integer(), nullable=False),
    sa.Column('score_is', sa.Float(), nullable=True),
    sa.Column('score_oos', sa.Float(), nullable=True),
    sa.Column('rank_score', sa.Float(), nullable=True),
    sa.Column('scorecard', sa.Text(), nullable=False),
    sa.Column('rating_count', sa.Integer(), nullable=False),
    sa.Column('rating_sum', sa.Integer(), nullable=False),
    sa.Column('scored_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['strategies.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('share_token_hash')
    )
    with op.batch_alter_table('strategies', schema=None) as batch_op:
        batch_op.create_index('ix_strategies_user', ['user_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_strategies_parent_id'), ['parent_id'], unique=False)

    op.create_table('strategy_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('strategy_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['strategy_id'], ['strategies.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('strategy_id', 'user_id', name='uq_strategy_reviews_strategy_user')
    )
    with op.batch_alter_table('strategy_reviews', schema=None) as batch_op:
        batch_op.create_index('ix_strategy_reviews_strategy', ['strategy_id', 'updated_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_strategy_reviews_user_id'), ['user_id'], unique=False)

    op.create_table('strategy_rankings',
    sa.Column('strategy_id', sa.Integer(), nullable=False),
    sa.Column('timeframe', sa.String(length=8), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['strategy_id'], ['strategies.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('strategy_id', 'timeframe')
    )
    with op.batch_alter_table('strategy_rankings', schema=None) as batch_op:
        batch_op.create_index('ix_strategy_rankings_board', ['timeframe', 'category', 'score', 'strategy_id'], unique=False)
        batch_op.create_index('ix_strategy_rankings_all', ['timeframe', 'score', 'strategy_id'], unique=False)


def downgrade() -> None:
    op.drop_table('strategy_rankings')
    op.drop_table('strategy_reviews')
    op.drop_table('strategies')
