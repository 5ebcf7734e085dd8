from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, Index, String, Text, text
from sqlmodel import Field, Relationship, SQLModel

from api.actions.models import Action
from api.authors.models import Author
from api.citations.models import CitedLink, LinkStatus
from api.core.db import UTCDateTime, new_id, utcnow
from api.corrections.models import Correction
from api.sources.models import Source
from api.tags.models import Tag


class ArticleStatus(StrEnum):
    draft = "draft"
    published = "published"


class ArticleKind(StrEnum):
    """What an article row is. Pages (About, the privacy policy) share the table, the
    editing workflow and the slug namespace of articles, and appear in no article read."""

    article = "article"
    page = "page"


ARTICLE_KINDS = tuple(ArticleKind)


def _fk(target: str) -> Column[str]:
    return Column(String(32), ForeignKey(target, ondelete="CASCADE"), primary_key=True)


class ArticleTag(SQLModel, table=True):
    __tablename__ = "article_tags"
    __table_args__ = (
        Index("ix_article_tags_tag_id", "tag_id", "article_id"),
        # One tag's articles newest first, without visiting the others (`?tag=`).
        Index("ix_article_tags_tag_published", "tag_id", "published_at", "article_id"),
    )

    article_id: str = Field(sa_column=_fk("articles.id"))
    tag_id: str = Field(sa_column=_fk("tags.id"))
    position: int = 0
    # The article's published_at, copied by database triggers (migration 0008) on every
    # insert here and every change there: no write path can leave it stale.
    published_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class ArticleAuthor(SQLModel, table=True):
    __tablename__ = "article_authors"
    __table_args__ = (Index("ix_article_authors_author_id", "author_id", "article_id"),)

    article_id: str = Field(sa_column=_fk("articles.id"))
    author_id: str = Field(sa_column=_fk("authors.id"))
    position: int = 0


class ArticleAction(SQLModel, table=True):
    __tablename__ = "article_actions"
    __table_args__ = (Index("ix_article_actions_action_id", "action_id", "article_id"),)

    article_id: str = Field(sa_column=_fk("articles.id"))
    action_id: str = Field(sa_column=_fk("actions.id"))
    position: int = 0


UNLINKED = text("link_id IS NULL AND cited_url IS NOT NULL")
# A translation group's live members: one per language (`api.articles.translations`).
LIVE_TRANSLATION = text("translation_group IS NOT NULL AND deleted_at IS NULL")
TRANSLATED = text("translation_group IS NOT NULL")


class Citation(SQLModel, table=True):
    """An article citing a source: the exact page and what was taken from it."""

    __tablename__ = "citations"
    __table_args__ = (
        Index("ix_citations_article_id", "article_id", "position"),
        Index("ix_citations_source_id", "source_id", "article_id"),
        # A cited link's citations (its articles; whether it is still cited at all).
        Index("ix_citations_link_id", "link_id", "article_id"),
        # Citations written before links existed, or by a path that did not link them: the
        # link checker links them (`api.citations.links`). Empty but for those.
        Index("ix_citations_unlinked", "id", sqlite_where=UNLINKED, postgresql_where=UNLINKED),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    article_id: str = Field(
        sa_column=Column(String(32), ForeignKey("articles.id", ondelete="CASCADE"), nullable=False)
    )
    source_id: str = Field(
        sa_column=Column(String(32), ForeignKey("sources.id", ondelete="CASCADE"), nullable=False)
    )
    cited_url: str | None = Field(default=None, sa_column=Column(String(2048)))
    context: str | None = Field(default=None, max_length=500)
    position: int = 0
    # The cited URL's checks: the id of its `cited_links` row (a hash of the normalised
    # `cited_url`), set when the citation is written. Not a foreign key: SQLite cannot add
    # one to an existing table without rebuilding it, which would drop its triggers.
    link_id: str | None = Field(default=None, sa_column=Column(String(32)))

    source: Source = Relationship(sa_relationship_kwargs={"lazy": "joined", "viewonly": True})
    link: CitedLink | None = Relationship(
        sa_relationship_kwargs={
            "primaryjoin": "foreign(Citation.link_id) == CitedLink.id",
            "lazy": "joined",
            "viewonly": True,
        }
    )

    @property
    def link_status(self) -> str:
        """`ok`, `broken` or `unchecked` (also when there is no URL to check)."""
        return self.link.status if self.link is not None else LinkStatus.unchecked

    @property
    def archived_url(self) -> str | None:
        return self.link.archived_url if self.link is not None else None


class Article(SQLModel, table=True):
    __tablename__ = "articles"
    __table_args__ = (
        # Every list reads one kind: `kind` leads each list index (an equality), then the
        # sort key, so a page of articles never walks the pages and the reverse.
        Index("ix_articles_published", "kind", "published_at", "id"),
        Index("ix_articles_updated", "kind", "updated_at", "id"),
        Index("ix_articles_title", "kind", "title", "id"),
        Index("ix_articles_visibility", "kind", "status", "deleted_at", "published_at"),
        # Covers "is this article visible?" by id, so counting a tag's or a source's
        # articles never reads the (large) article rows.
        Index("ix_articles_visible_id", "id", "kind", "status", "published_at", "deleted_at"),
        # One live member per language in a translation group; also how a list finds a
        # story's other versions (`api.articles.translations`).
        Index(
            "ix_articles_translation_lang",
            "translation_group",
            "lang",
            unique=True,
            sqlite_where=LIVE_TRANSLATION,
            postgresql_where=LIVE_TRANSLATION,
        ),
        # "Is a better version of this story visible?" per listed row: the group's members
        # by their visibility, so the planner prefers it to the visibility index (which
        # would walk every visible article for each row listed).
        Index(
            "ix_articles_translation_visible",
            "translation_group",
            "kind",
            "status",
            "deleted_at",
            "published_at",
            sqlite_where=TRANSLATED,
            postgresql_where=TRANSLATED,
        ),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    # One slug namespace for articles and pages (as in Ghost): a frontend serving both at
    # `/{slug}/` never finds two.
    slug: str = Field(max_length=200, unique=True)
    kind: str = Field(
        default=ArticleKind.article,
        sa_column=Column(String(16), nullable=False, server_default=ArticleKind.article.value),
    )
    title: str = Field(max_length=300)
    subtitle: str | None = Field(default=None, max_length=500)
    excerpt: str | None = Field(default=None, sa_column=Column(Text))
    body_html: str = Field(default="", sa_column=Column(Text, nullable=False))
    body_markdown: str | None = Field(default=None, sa_column=Column(Text))
    body_text: str = Field(default="", sa_column=Column(Text, nullable=False))
    lang: str = Field(default="en", max_length=35, index=True)
    # The translation group: an opaque id its members share (null: no translations).
    translation_group: str | None = Field(default=None, sa_column=Column(String(32)))
    status: str = Field(default=ArticleStatus.draft, max_length=16)
    published_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    deleted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    word_count: int = 0
    reading_time: int = 0
    canonical_url: str | None = Field(default=None, sa_column=Column(String(2048)))
    feature_image_url: str | None = Field(default=None, sa_column=Column(String(2048)))
    feature_image_alt: str | None = Field(default=None, max_length=500)
    feature_image_caption: str | None = Field(default=None, max_length=1000)

    tags: list[Tag] = Relationship(
        link_model=ArticleTag,
        sa_relationship_kwargs={"order_by": "ArticleTag.position", "viewonly": True},
    )
    authors: list[Author] = Relationship(
        link_model=ArticleAuthor,
        sa_relationship_kwargs={"order_by": "ArticleAuthor.position", "viewonly": True},
    )
    actions: list[Action] = Relationship(
        link_model=ArticleAction,
        sa_relationship_kwargs={"order_by": "ArticleAction.position", "viewonly": True},
    )
    citations: list[Citation] = Relationship(
        sa_relationship_kwargs={"order_by": "Citation.position", "viewonly": True}
    )
    # Oldest first, as the public article lists them.
    corrections: list[Correction] = Relationship(
        sa_relationship_kwargs={
            "order_by": "(Correction.published_at, Correction.id)",
            "viewonly": True,
        }
    )
