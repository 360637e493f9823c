"""Google sign-in: single-use nonces and linked provider identities

Revision ID: 0003_google
Revises: 0002_sync
"""
from alembic import op
import sqlalchemy as sa


revision = '0003_google'
down_revision = '0002_sync'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('google_nonces',
    sa.Column('nonce_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('nonce_hash')
    )
    with op.batch_alter_table('google_nonces', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_google_nonces_expires_at'), ['expires_at'], unique=False)

    op.create_table('external_identities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('provider', 'subject')
    )
    with op.batch_alter_table('external_identities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_external_identities_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('external_identities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_external_identities_user_id'))
    op.drop_table('external_identities')
    with op.batch_alter_table('google_nonces', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_google_nonces_expires_at'))
    op.drop_table('google_nonces')
