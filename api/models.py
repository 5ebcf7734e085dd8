"""Every table, imported in one place so Alembic and the app see the whole schema."""

from api.actions.models import (
    Action,
    ActionClick,
    AttributionCode,
    ReaderSalt,
    ReaderSighting,
)
from api.articles.models import (
    Article,
    ArticleAction,
    ArticleAuthor,
    ArticleTag,
    Citation,
)
from api.auth.models import ApiToken
from api.authors.models import Author
from api.changes.models import Change, ContentVersion
from api.citations.models import CitedLink
from api.consent.models import ConsentEvent, ConsentWording
from api.conversions.models import ActionConversion, ConversionEvent
from api.core.db import metadata
from api.corrections.models import Correction
from api.editorial.models import ArticleRevision, AuditEntry, EntityVersion
from api.events.models import OutboxEvent
from api.previews.models import PreviewGeneration
from api.site.models import Site
from api.sources.models import Source
from api.subscriptions.models import (
    OutboxMessage,
    Subscriber,
    SubscriptionConsent,
)
from api.tags.models import Tag
from api.webhooks.models import (
    Webhook,
    WebhookArticleState,
    WebhookCursor,
    WebhookDelivery,
)
from api.websub.models import WebSubArticleTopic, WebSubCursor, WebSubPing

__all__ = [
    "Action",
    "ActionClick",
    "ActionConversion",
    "ApiToken",
    "Article",
    "ArticleAction",
    "ArticleAuthor",
    "ArticleRevision",
    "ArticleTag",
    "AttributionCode",
    "AuditEntry",
    "Author",
    "Change",
    "Citation",
    "CitedLink",
    "ConsentEvent",
    "ConsentWording",
    "ContentVersion",
    "ConversionEvent",
    "Correction",
    "EntityVersion",
    "OutboxEvent",
    "OutboxMessage",
    "PreviewGeneration",
    "ReaderSalt",
    "ReaderSighting",
    "Site",
    "Source",
    "Subscriber",
    "SubscriptionConsent",
    "Tag",
    "WebSubArticleTopic",
    "WebSubCursor",
    "WebSubPing",
    "Webhook",
    "WebhookArticleState",
    "WebhookCursor",
    "WebhookDelivery",
    "metadata",
]
