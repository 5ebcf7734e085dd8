"""pages and site: articles get a kind ('article' or 'page'); the site settings row;
a sign-up's consent names the privacy-policy page revision in force

Pages (About, the privacy policy) are article rows with `kind = 'page'`: one editing
workflow, one slug namespace. Every list index now leads with `kind`, so a list of one
kind is an equality then the sort key's range, and a page of articles never walks pages.

`site` holds one row (id 1) or none (every default). Writes to it are logged as entity
`site` by the same triggers as content (0003), so the content version moves and cached
answers that show the site (its own, the feeds) are renewed.

Plain ALTER TABLE on `articles` (no batch): rebuilding it would drop its triggers.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# name -> (columns before, columns now)
ARTICLE_INDEXES = {
    "ix_articles_published": (["published_at", "id"], ["kind", "published_at", "id"]),
    "ix_articles_updated": (["updated_at", "id"], ["kind", "updated_at", "id"]),
    "ix_articles_title": (["title", "id"], ["kind", "title", "id"]),
    "ix_articles_visibility": (
        ["status", "deleted_at", "published_at"],
        ["kind", "status", "deleted_at", "published_at"],
    ),
    "ix_articles_visible_id": (
        ["id", "status", "published_at", "deleted_at"],
        ["id", "kind", "status", "published_at", "deleted_at"],
    ),
}
EVENTS = ("INSERT", "UPDATE", "DELETE")


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _trigger_name(event: str) -> str:
    return f"trg_site_{event.lower()}_log"


def upgrade() -> None:
    op.add_column(
        "articles",
        sa.Column("kind", sa.String(length=16), server_default="article", nullable=False),
    )
    for name, (_before, now) in ARTICLE_INDEXES.items():
        op.drop_index(name, table_name="articles")
        op.create_index(name, "articles", now)

    op.create_table(
        "site",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("url", sa.String(length=2048), nullable=True),
        sa.Column("language", sa.String(length=35), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("logo_url", sa.String(length=2048), nullable=True),
        sa.Column("icon_url", sa.String(length=2048), nullable=True),
        sa.Column("navigation", sa.JSON(), nullable=False),
        sa.Column("secondary_navigation", sa.JSON(), nullable=False),
        sa.Column("social", sa.JSON(), nullable=False),
        sa.Column("article_url_template", sa.String(length=500), nullable=False),
        sa.Column("page_url_template", sa.String(length=500), nullable=False),
        sa.Column("tag_url_template", sa.String(length=500), nullable=False),
        sa.Column("author_url_template", sa.String(length=500), nullable=False),
        sa.Column("preview_url_template", sa.String(length=500), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_site_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site")),
    )
    for event in EVENTS:
        if _sqlite():
            row = "OLD" if event == "DELETE" else "NEW"
            kind = "delete" if event == "DELETE" else "upsert"
            op.execute(
                f"CREATE TRIGGER {_trigger_name(event)} AFTER {event} ON site BEGIN "
                "UPDATE content_version SET version = version + 1 WHERE id = 1; "
                "INSERT INTO change_log (version, entity, entity_id, op, changed_at) VALUES ("
                "(SELECT version FROM content_version WHERE id = 1), "
                f"'site', {row}.id, '{kind}', strftime('%Y-%m-%d %H:%M:%f', 'now')); END"
            )
        else:
            transition = "OLD TABLE AS old_rows" if event == "DELETE" else "NEW TABLE AS new_rows"
            op.execute(
                f"CREATE TRIGGER {_trigger_name(event)} AFTER {event} ON site "
                f"REFERENCING {transition} FOR EACH STATEMENT EXECUTE FUNCTION "
                "masthead_log_changes('site', 'id', 'self')"
            )

    # subscription_consents has no triggers: a batch (a rebuild on SQLite) keeps nothing from it.
    with op.batch_alter_table("subscription_consents") as batch:
        batch.add_column(sa.Column("policy_page_id", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("policy_page_revision", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_subscription_consents_policy_page_id_articles"),
            "articles",
            ["policy_page_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index("ix_subscription_consents_policy_page", ["policy_page_id"])


def downgrade() -> None:
    with op.batch_alter_table("subscription_consents") as batch:
        batch.drop_index("ix_subscription_consents_policy_page")
        batch.drop_constraint(
            op.f("fk_subscription_consents_policy_page_id_articles"), type_="foreignkey"
        )
        batch.drop_column("policy_page_revision")
        batch.drop_column("policy_page_id")

    for event in EVENTS:
        op.execute(
            f"DROP TRIGGER IF EXISTS {_trigger_name(event)}" + ("" if _sqlite() else " ON site")
        )
    op.drop_table("site")

    # Pages become nothing the previous revision could show apart: they are removed.
    op.execute("DELETE FROM articles WHERE kind = 'page'")
    for name, (before, _now) in ARTICLE_INDEXES.items():
        op.drop_index(name, table_name="articles")
        op.create_index(name, "articles", before)
    op.drop_column("articles", "kind")
