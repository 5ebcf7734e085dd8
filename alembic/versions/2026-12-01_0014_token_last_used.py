"""token last use: `api_tokens.last_used_at`, for `masthead tokens list` and the admin API

Set when a token authenticates (admin tokens, at most once a minute per token, after the
answer) or opens the public API (content keys, in the statement that counts their use).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("api_tokens", sa.Column("last_used_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    op.drop_column("api_tokens", "last_used_at")
