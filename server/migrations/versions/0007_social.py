"""Social: profiles, follows, blocks, reports, published paper trades, the activity feed

Revision ID: 0007_social
Revises: 0006_billing
"""
from alembic import op
import sqlalchemy as sa


revision = '0007_social'
down_revision = '0006_billing'
branch_labels = None
depends_on = None


def _user_fk(column: str = 'user_id') -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], ['users.id'], ondelete='CASCADE')


def upgrade() -> None:
    op.create_table('social_profiles',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('bio', sa.Text(), nullable=False),
    sa.Column('avatar', sa.LargeBinary(), nullable=True),
    sa.Column('avatar_type', sa.String(length=16), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    _user_fk(), sa.PrimaryKeyConstraint('user_id'))

    op.create_table('social_follows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('follower_id', sa.Integer(), nullable=False),
    sa.Column('leader_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    _user_fk('follower_id'), _user_fk('leader_id'), sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('follower_id', 'leader_id', name='uq_social_follows_pair'))
    op.create_index('ix_social_follows_follower_id', 'social_follows', ['follower_id'])
    op.create_index('ix_social_follows_leader_id', 'social_follows', ['leader_id'])

    op.create_table('social_blocks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('blocked_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    _user_fk(), _user_fk('blocked_id'), sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('user_id', 'blocked_id', name='uq_social_blocks_pair'))
    op.create_index('ix_social_blocks_user_id', 'social_blocks', ['user_id'])
    op.create_index('ix_social_blocks_blocked_id', 'social_blocks', ['blocked_id'])

    op.create_table('social_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    _user_fk(), _user_fk('target_id'), sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_social_reports_user_id', 'social_reports', ['user_id'])
    op.create_index('ix_social_reports_target_id', 'social_reports', ['target_id'])

    op.create_table('published_trades',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('symbol', sa.String(length=32), nullable=False),
    sa.Column('side', sa.String(length=4), nullable=False),
    sa.Column('qty', sa.Integer(), nullable=False),
    sa.Column('price', sa.String(length=32), nullable=False),
    sa.Column('position_after', sa.BigInteger(), nullable=False),
    sa.Column('equity_cents', sa.BigInteger(), nullable=True),
    sa.Column('strategy_id', sa.Integer(), nullable=True),
    sa.Column('time_ms', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    _user_fk(), sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('user_id', 'key', name='uq_published_trades_user_key'))
    op.create_index('ix_published_trades_user_id_id', 'published_trades', ['user_id', 'id'])
    op.create_index('ix_published_trades_strategy_id_id', 'published_trades', ['strategy_id', 'id'])
    op.create_index('ix_published_trades_created_at', 'published_trades', ['created_at'])

    op.create_table('social_activity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('ref_id', sa.Integer(), nullable=False),
    sa.Column('summary', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    _user_fk(), sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_social_activity_user_id_id', 'social_activity', ['user_id', 'id'])


def downgrade() -> None:
    for table in ('social_activity', 'published_trades', 'social_reports', 'social_blocks',
                  'social_follows', 'social_profiles'):
        op.drop_table(table)
