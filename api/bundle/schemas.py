"""The content bundle (CONTRACT §7): one JSON document carrying every resource."""

import contextlib
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from api.actions.models import ActionKind
from api.actions.tracking import ActionTracking
from api.core.languages import canonical_tag
from api.core.text import Line
from api.core.timestamps import RANGE as TIME_RANGE
from api.core.timestamps import Timestamp
from api.core.urls import HttpUrlStr
from api.corrections.schemas import MAX_PER_ARTICLE, CorrectionItem
from api.editorial.schemas import describe
from api.sources.models import SourceKind

# ISO 3166-1 alpha-2, as assigned (tzdata iso3166.tab), plus XK (Kosovo), the user-assigned
# code in common use; "UK" or "EU" are not countries here.
COUNTRY_CODES = frozenset(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO
    BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ
    DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP
    GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG
    KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML
    MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE
    PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL
    SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM
    US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
    XK
    """.split()  # noqa: SIM905  (one block reads better than 250 quoted strings)
)


def _assigned_country(code: str) -> str:
    if code not in COUNTRY_CODES:
        raise ValueError("must be an ISO 3166-1 alpha-2 country code in capitals, e.g. GB")
    return code


Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=200)]
Name = Annotated[str, Line(200)]
Country = Annotated[str, AfterValidator(_assigned_country)]
# Stored in BCP 47's case (`en-GB`), so a language preference matches it exactly.
Lang = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$", max_length=35),
    AfterValidator(canonical_tag),
]
Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
# An item named by id or by slug.
Reference = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,200}$")]


class BundleItem(BaseModel):
    """Fields every bundle item may carry; export writes them, import keeps them."""

    model_config = ConfigDict(extra="forbid")

    id: Id | None = None
    slug: Slug | None = None
    created_at: Timestamp | None = None
    updated_at: Timestamp | None = None


class AuthorItem(BundleItem):
    name: Name
    bio: str | None = Field(None, max_length=5000)
    url: HttpUrlStr | None = None


Hashtag = Annotated[str, StringConstraints(pattern=r"^#\w{1,200}$")]


class TagItem(BundleItem):
    name: Name
    hashtag: Hashtag | None = None
    description: str | None = Field(None, max_length=5000)


class SourceItem(BundleItem):
    name: Name
    kind: SourceKind = SourceKind.other
    url: HttpUrlStr | None = None
    country: Country | None = None
    description: str | None = Field(None, max_length=5000)


class ActionItem(ActionTracking, BundleItem):
    kind: ActionKind = ActionKind.other
    title: Annotated[str, Line(300)]
    description: str | None = Field(None, max_length=5000)
    url: HttpUrlStr
    organisation: str | None = Field(None, max_length=200)
    starts_at: Timestamp | None = None
    ends_at: Timestamp | None = None

    @model_validator(mode="after")
    def window_in_order(self) -> "ActionItem":
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class FeatureImageItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: HttpUrlStr
    alt: str | None = Field(None, max_length=500)
    caption: str | None = Field(None, max_length=1000)


class CitationItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: Slug
    cited_url: HttpUrlStr | None = None
    context: str | None = Field(None, max_length=500)


class ArticleItem(BundleItem):
    # Pages travel with articles (one slug namespace); bundles without `kind` are articles.
    kind: Literal["article", "page"] = "article"
    title: Annotated[str, Line(300)]
    subtitle: str | None = Field(None, max_length=500)
    excerpt: str | None = Field(None, max_length=2000)
    body_html: str | None = Field(None, max_length=2_000_000)
    body_markdown: str | None = Field(None, max_length=2_000_000)
    lang: Lang = "en"
    status: Literal["draft", "published", "scheduled"] = "draft"
    published_at: Timestamp | None = None
    deleted_at: Timestamp | None = None
    canonical_url: HttpUrlStr | None = None
    feature_image: FeatureImageItem | None = None
    authors: list[Slug] = Field(default_factory=list, max_length=50)
    tags: list[Slug] = Field(default_factory=list, max_length=50)
    sources: list[CitationItem] = Field(default_factory=list, max_length=500)
    actions: list[Slug] = Field(default_factory=list, max_length=50)
    # Absent (bundles from before corrections, other tools' exports): the stored ones stay.
    corrections: list[CorrectionItem] | None = Field(None, max_length=MAX_PER_ARTICLE)
    translation_of: Reference | None = None

    @model_validator(mode="after")
    def one_body(self) -> "ArticleItem":
        if self.body_html is not None and self.body_markdown is not None:
            raise ValueError("give body_html or body_markdown, not both")
        for name in ("authors", "tags", "actions"):
            values = getattr(self, name)
            if len(set(values)) != len(values):
                raise ValueError(f"{name} lists a slug twice")
        return self


class Bundle(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: Literal["masthead-bundle"]
    version: Literal[1]
    authors: list[AuthorItem] = Field(default_factory=list)
    tags: list[TagItem] = Field(default_factory=list)
    sources: list[SourceItem] = Field(default_factory=list)
    actions: list[ActionItem] = Field(default_factory=list)
    articles: list[ArticleItem] = Field(default_factory=list)


# The bundle's own documentation (POST /v1/admin/import); the admin write models built on
# these items describe their fields again, for editors.
TIME = f"RFC 3339 with an offset, {TIME_RANGE} in UTC"
ITEM = {
    "id": "The item's stable id; kept on import when given, made when absent.",
    "slug": "Unique per kind (`[a-z0-9-]`); made from the name or title when absent. Import "
    "matches stored items by slug.",
    "created_at": f"When it was created ({TIME}); kept on import.",
    "updated_at": f"Last change ({TIME}); kept on import.",
}
TEXT = "Plain text."
describe(
    AuthorItem,
    {**ITEM, "name": "Display name.", "bio": TEXT, "url": "Profile page (absolute http(s) URL)."},
)
describe(
    TagItem,
    {
        **ITEM,
        "name": "Display name.",
        "hashtag": "e.g. `#ChechenAntiGayPurge`.",
        "description": TEXT,
    },
)
describe(
    SourceItem,
    {
        **ITEM,
        "name": "Display name.",
        "kind": "What kind of source it is.",
        "url": "Home page (absolute http(s) URL).",
        "country": "ISO 3166-1 alpha-2 code.",
        "description": TEXT,
    },
)
describe(
    ActionItem,
    {
        **ITEM,
        "kind": "What the reader is asked to do.",
        "title": "The call to action.",
        "description": TEXT,
        "url": "Where the action happens (absolute http(s) URL).",
        "organisation": "Who runs it.",
        "starts_at": f"Start of the window ({TIME}).",
        "ends_at": "End of the window, after `starts_at`; null = open-ended.",
    },
)
describe(
    FeatureImageItem,
    {
        "url": "Image address (absolute http(s) URL).",
        "alt": "Alternative text.",
        "caption": "Caption.",
    },
)
describe(
    CitationItem,
    {
        "source": "The cited source's slug (a source of the bundle).",
        "cited_url": "The exact page cited (absolute http(s) URL), or null.",
        "context": "One line: what was taken from it.",
    },
)
describe(
    ArticleItem,
    {
        **ITEM,
        "kind": "`article`, or `page` (outside the article lists).",
        "title": "Headline.",
        "subtitle": "Standfirst.",
        "excerpt": "Summary; made from the body when absent.",
        "body_html": "Body as HTML (sanitised); give this or `body_markdown`, not both.",
        "body_markdown": "Body as Markdown.",
        "lang": "BCP 47 language tag.",
        "status": "`draft`, `published` or `scheduled`.",
        "published_at": f"Publication time ({TIME}).",
        "deleted_at": "When it was (soft) deleted; null while it exists.",
        "canonical_url": "The canonical web page (absolute http(s) URL).",
        "feature_image": "Lead image, or null.",
        "authors": "Author slugs (authors of the bundle).",
        "tags": "Tag slugs (tags of the bundle).",
        "sources": "Citations, in order.",
        "actions": "Action slugs (actions of the bundle).",
        "corrections": "Corrections, clarifications and retractions, oldest first; when "
        "given, the article's notes become exactly these (matched by `id`); when absent, "
        "its stored notes stay as they are.",
        "translation_of": "The slug (or id) of another article of the same kind, in the "
        "bundle or stored, whose translation this is: they share a translation group, one "
        "version per language. Absent: the item's stored group stays as it is.",
    },
)
describe(Bundle, {"format": "Always `masthead-bundle`.", "version": "Always 1.",
         "authors": "Authors.", "tags": "Tags.", "sources": "Sources.", "actions": "Actions.",
         "articles": "Articles and pages; they refer to the other items by slug."})  # fmt: skip


def describe_location(raw: Any, loc: tuple[Any, ...]) -> str:
    """`articles[3] (slug 'x'): sources[0].cited_url`, naming the item a person can find."""
    if len(loc) >= 2 and isinstance(loc[1], int):
        kind, index = loc[0], loc[1]
        slug = None
        with contextlib.suppress(KeyError, IndexError, TypeError, AttributeError):
            slug = raw[kind][index].get("slug")
        rest = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc[2:]).lstrip(".")
        label = f"{kind}[{index}]" + (f" (slug {slug!r})" if slug else "")
        return f"{label}: {rest}" if rest else label
    return ".".join(str(p) for p in loc) or "bundle"
