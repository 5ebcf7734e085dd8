"""The OpenAPI document's finishing pass, after FastAPI has generated it.

The response models describe every shape a response may take, sparse fieldsets included,
so each field but `id` is optional there. A frontend needs the shape it gets by default:
`SHAPES` says, per resource, which fields the default shape (no `fields=`) may leave out
and which may be null; everything else is required and never null. Operations that take
`fields` answer `anyOf` the exact envelope and a partial one (`ArticlePartial`: any
subset, `id` always there). `tests/test_openapi.py` checks the default shapes against live
responses of the demo content.

The pass also gives schemas readable names (`ArticleList`, not `ListEnvelope_ArticlePublic_`),
declares response headers, `304`, `If-None-Match` / `If-Match`, the security schemes (bearer
token, content key), media types and string schemas of feeds and other non-JSON bodies, the
global tags, license and servers, and examples from the demo content (`api/demo/seed.json`).
"""

import copy
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMAS = "#/components/schemas/"
SEED = Path(__file__).resolve().parents[1] / "demo" / "seed.json"
ADMIN_PREFIX = "/v1/admin/"
METHODS = ("get", "put", "post", "patch", "delete", "head", "options")

# Security schemes. The fuzzing harness looks for the `http`/`bearer` one by its type.
BEARER = "adminBearer"
KEY_HEADER = "contentKeyHeader"
KEY_QUERY = "contentKeyQuery"
METRICS = "metricsToken"
SECURITY_SCHEMES = {
    BEARER: {
        "type": "http",
        "scheme": "bearer",
        "description": "An editorial token (`contributor`, `editor` or `admin`) from "
        "`masthead tokens create` or `POST /v1/admin/tokens`: "
        "`Authorization: Bearer <token>`. Content keys are refused here.",
    },
    KEY_HEADER: {
        "type": "apiKey",
        "in": "header",
        "name": "X-Masthead-Key",
        "description": "A content key (role `content`), needed on `/v1` only when the "
        "deployment sets `MASTHEAD_CONTENT_KEYS_REQUIRED=true`.",
    },
    KEY_QUERY: {
        "type": "apiKey",
        "in": "query",
        "name": "key",
        "description": "The content key as `?key=`, for clients that cannot send headers.",
    },
    METRICS: {
        "type": "http",
        "scheme": "bearer",
        "description": "`MASTHEAD_METRICS_TOKEN`, when the deployment sets one.",
    },
}

TAGS = {
    "articles": "Published articles: lists with filters and sparse fieldsets, one article "
    "with its body and every relation, related articles.",
    "pages": "Published pages (About, privacy policy): the article shape under `/v1/pages`.",
    "site": "The publication's settings a frontend needs: title, navigation, URL templates.",
    "tags": "Tags with the number of published articles carrying them.",
    "sources": "The outlets, organisations and people articles cite.",
    "actions": "Calls to action (petitions, donations) and their tracked redirect.",
    "authors": "Bylines.",
    "search": "Ranked full-text search over published articles.",
    "sync": "Delta sync for offline clients: what changed since a token.",
    "feeds": "RSS 2.0, Atom 1.0 and JSON Feed 1.1 of the latest articles.",
    "subscriptions": "Newsletter sign-up with double opt-in, confirmation and one-click "
    "unsubscribe.",
    "previews": "Signed links that show a draft or scheduled item to whoever holds them.",
    "operations": "Liveness, readiness, metrics and the index of entry points.",
    "admin: articles": "Editors' article workflow: drafts, publishing, revisions, previews.",
    "admin: pages": "Editors' page workflow (the article workflow, for pages).",
    "admin: site": "The site settings, as editors change them.",
    "admin: tags": "Create, read, update and delete tags.",
    "admin: sources": "Create, read, update and delete sources.",
    "admin: actions": "Create, read, update and delete actions; their click counts.",
    "admin: authors": "Create, read, update and delete authors.",
    "admin: tokens": "API tokens and content keys (admins only).",
    "admin: operations": "The audit log, bundle export and import.",
    "admin: subscribers": "Newsletter subscribers and their consent records (admins only).",
    "admin: webhooks": "Webhooks and their deliveries (admins only).",
}
OTHER_TAG = "Other routes."

HEADERS: dict[str, dict[str, Any]] = {
    "ETag": {
        "description": "Strong validator of this representation: send it back as "
        "`If-None-Match` to revalidate a read, or as `If-Match` to update an admin item.",
        "schema": {"type": "string", "example": '"5d41402abc4b2a76b9719d911017c592"'},
    },
    "Last-Modified": {
        "description": "When the newest item shown last changed (HTTP date); answers "
        "`If-Modified-Since`.",
        "schema": {"type": "string", "example": "Fri, 14 Apr 2017 09:00:00 GMT"},
    },
    "Cache-Control": {
        "description": "Public reads: `public, max-age=…, stale-while-revalidate=…` "
        "(settings); admin answers and previews: `private, no-store`.",
        "schema": {"type": "string", "example": "public, max-age=60, stale-while-revalidate=300"},
    },
    "Link": {
        "description": 'RFC 8288 links: `<…>; rel="next"` while there is a next page.',
        "schema": {"type": "string"},
    },
    "Surrogate-Key": {
        "description": "Space-separated keys of the entities in the response (e.g. "
        "`articles article:<id> tag:<id>`), for precise CDN purges.",
        "schema": {"type": "string", "example": "tags tag:789e24c87090422081aa5fed98470aa5"},
    },
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer", "minimum": 0, "example": 1},
    },
    "X-Request-ID": {
        "description": "This request's id (the caller's, from a trusted proxy, or a new one); "
        "log lines and problem documents name it.",
        "schema": {"type": "string", "example": "5a69c127cfb39678b1a833ed441de940"},
    },
}

PARAMETERS: dict[str, dict[str, Any]] = {
    "IfNoneMatch": {
        "name": "If-None-Match",
        "in": "header",
        "required": False,
        "description": "An `ETag` from an earlier answer: 304 Not Modified, without a body, "
        "while it is still current.",
        "schema": {"type": "string"},
    },
    "IfMatch": {
        "name": "If-Match",
        "in": "header",
        "required": True,
        "description": "The `ETag` of your last read of the item: 428 without it, 412 when "
        "the item changed since.",
        "schema": {"type": "string"},
    },
}

LICENSE = {"name": "MIT", "url": "https://opensource.org/license/mit"}
SERVERS = [
    {"url": "http://127.0.0.1:8000", "description": "A local `masthead serve` (`make run`)."}
]
CONTACT = {"name": "Masthead maintainers"}


@dataclass(frozen=True)
class Shape:
    """A resource's default shape, made from the schema `model` FastAPI generated."""

    name: str  # the component's name in the finished document
    model: str  # the component FastAPI generated (every field but `id` optional)
    absent: frozenset[str] = frozenset()  # may be missing from the default shape
    nullable: frozenset[str] = frozenset()  # present, but may be null
    partial: str | None = None  # the name of the sparse-fieldset variant, if any


def _shape(
    name: str, model: str, absent: str = "", nullable: str = "", partial: bool = False
) -> Shape:
    return Shape(
        name,
        model,
        frozenset(absent.split()),
        frozenset(nullable.split()),
        f"{name.removesuffix('Summary')}Partial" if partial else None,
    )


ARTICLE_NULLABLE = "subtitle excerpt feature_image"
SHAPES = {
    shape.name: shape
    for shape in (
        # One article or page: its body and every relation; `jsonld` with include=jsonld.
        _shape("Article", "ArticlePublic", "jsonld", ARTICLE_NULLABLE, partial=True),
        # In lists: no body, `tags` and `authors` embedded; `include=` adds the others.
        _shape("ArticleSummary", "ArticlePublic", "body_html sources actions jsonld",
               ARTICLE_NULLABLE, partial=True),
        # A preview shows drafts, which have no publication time yet.
        # Previews, hits and editors' views name no translations (`translation_group` does).
        _shape("ArticlePreview", "ArticlePublic", "jsonld translations",
               f"{ARTICLE_NULLABLE} published_at"),
        _shape("SearchHit", "SearchHit", "body_html sources actions jsonld translations",
               ARTICLE_NULLABLE, partial=True),
        _shape("ArticleAdmin", "ArticleAdmin", "jsonld translations", f"{ARTICLE_NULLABLE} "
               "published_at canonical_url body_markdown deleted_at translation_group"),
        _shape("Tag", "TagPublic", "", "hashtag description", partial=True),
        _shape("TagAdmin", "TagAdmin", "", "hashtag description"),
        _shape("Source", "SourcePublic", "", "url country description", partial=True),
        _shape("SourceAdmin", "SourceAdmin", "", "url country description"),
        _shape("Action", "ActionPublic", "", "description organisation starts_at ends_at goal "
               "progress", partial=True),
        _shape("ActionAdmin", "ActionAdmin", "", "description organisation starts_at ends_at "
               "goal progress attribution_template progress_override"),
        _shape("Author", "AuthorPublic", "", "bio url", partial=True),
        _shape("AuthorAdmin", "AuthorAdmin", "", "bio url"),
    )
}  # fmt: skip
# Which shape a response of a generated schema takes: in lists, and as one item.
LIST_SHAPE = {"ArticlePublic": "ArticleSummary"}
ITEM_SHAPE = {"ArticlePublic": "Article"}
# Everywhere else (embedded, sync, admin answers) a generated model takes this shape.
DEFAULT_SHAPE = {"ArticlePublic": "Article"} | {
    s.model: s.name for s in SHAPES.values() if s.model != "ArticlePublic"
}
# Inside a preview's envelope.
PREVIEW = {"PreviewEnvelope": "ArticlePreview"}

RENAMES = {
    "SitePublic": "Site",
    "PreviewLinkPublic": "PreviewLink",
    "TokenPublic": "Token",
    "WebhookPublic": "Webhook",
    "DeliveryPublic": "WebhookDelivery",
    "AuditEntryPublic": "AuditEntry",
    "RevisionPublic": "Revision",
    "NavigationPublic": "NavigationLink",
    "PreviewEnvelope": "PreviewResponse",
}
GENERIC = re.compile(r"^(ListEnvelope|ItemEnvelope|Changes)_(list_)?(\w+?)_+$")


def finish_document(document: dict[str, Any]) -> dict[str, Any]:
    """The finished document (changed in place and returned)."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    generated = copy.deepcopy(schemas)
    _exact_shapes(document, generated)
    _rename(document)
    _non_json_bodies(document)
    _http(document)
    _security(document)
    _drop_unused(document)
    _examples(document)
    document["info"]["license"] = LICENSE
    document["info"]["contact"] = CONTACT
    document["servers"] = SERVERS
    for _path, _method, operation in _operations(document):
        if not operation.get("description") and operation.get("summary"):
            operation["description"] = f"{operation['summary']}."
    used = {tag for _p, _m, op in _operations(document) for tag in op.get("tags", [])}
    document["tags"] = [
        {"name": tag, "description": TAGS.get(tag, OTHER_TAG)}
        for tag in [*TAGS, *sorted(used - set(TAGS))]
        if tag in used
    ]
    return document


# --- Shapes -------------------------------------------------------------------------------


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def _ref(name: str) -> dict[str, str]:
    return {"$ref": SCHEMAS + name}


def _ref_name(schema: dict[str, Any]) -> str | None:
    ref = schema.get("$ref", "")
    return ref.removeprefix(SCHEMAS) if ref.startswith(SCHEMAS) else None


def _not_null(spec: dict[str, Any]) -> dict[str, Any]:
    """`spec` without its `null` alternative (and without a `null` default)."""
    spec = dict(spec)
    options = [o for o in spec.get("anyOf", []) if o.get("type") != "null"]
    if "anyOf" in spec and len(options) != len(spec["anyOf"]):
        del spec["anyOf"]
        if len(options) == 1:
            spec = {**options[0], **spec}
        else:
            spec["anyOf"] = options
    if spec.get("default", 0) is None:
        del spec["default"]
    return spec


def _exact(shape: Shape, generated: dict[str, Any]) -> dict[str, Any]:
    model = generated[shape.model]
    properties = model["properties"]
    # Names the model does not have (yet, or any more) are ignored: the live check in
    # tests/test_openapi.py is what keeps these lists true.
    exact = {k: v for k, v in model.items() if k not in ("properties", "required", "title")}
    exact["title"] = shape.name
    exact["properties"] = {
        name: spec if name in shape.nullable else _not_null(spec)
        for name, spec in properties.items()
    }
    exact["required"] = [name for name in properties if name not in shape.absent]
    return exact


def _partial(shape: Shape, exact: dict[str, Any]) -> dict[str, Any]:
    base = shape.name.removesuffix("Summary")
    return {
        **exact,
        "title": shape.partial,
        "required": ["id"],
        "description": f"A sparse `{base}` (with `fields=`, or an `include=` that leaves out "
        "a relation): the fields asked for, with the types they have in the default shape; "
        "`id` is always there.",
    }


def _envelope(generated: dict[str, Any], envelope: str, item: str, title: str) -> dict[str, Any]:
    out = copy.deepcopy(generated[envelope])
    data = out["properties"]["data"]
    if data.get("type") == "array":
        data["items"] = _ref(item)
    else:
        data.pop("$ref", None)
        data.update(_ref(item))
    out["title"] = title
    return out


def _exact_shapes(document: dict[str, Any], generated: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for shape in SHAPES.values():
        if shape.model not in generated:
            continue
        exact = _exact(shape, generated)
        schemas.pop(shape.model, None)
        schemas[shape.name] = exact
        if shape.partial:
            schemas[shape.partial] = _partial(shape, exact)
    for _path, _method, operation in _operations(document):
        params = {p.get("name") for p in operation.get("parameters", [])}
        for code, response in operation.get("responses", {}).items():
            content = response.get("content", {}).get("application/json")
            if not code.startswith("2") or not content:
                continue
            envelope = _ref_name(content.get("schema", {}))
            match = GENERIC.match(envelope or "")
            if envelope is None or match is None or match.group(1) == "Changes":
                continue
            kind, model = match.group(1), match.group(3)
            listed = kind == "ListEnvelope"
            table = LIST_SHAPE if listed else ITEM_SHAPE
            name = table.get(model) or DEFAULT_SHAPE.get(model)
            if name is None or match.group(2):
                continue
            shape = SHAPES[name]
            base = shape.name.removesuffix("Summary")
            full = f"{base}List" if listed else f"{base}Response"
            schemas.setdefault(full, _envelope(generated, envelope, shape.name, full))
            if "fields" in params and shape.partial:
                sparse = f"{shape.partial}List" if listed else f"{shape.partial}Response"
                schemas.setdefault(sparse, _envelope(generated, envelope, shape.partial, sparse))
                content["schema"] = {
                    "anyOf": [_ref(full), _ref(sparse)],
                    "description": f"`{full}` by default; `{sparse}` with `fields=` (or an "
                    "`include=` that leaves out a default relation).",
                }
            else:
                content["schema"] = _ref(full)
    for envelope, name in PREVIEW.items():
        data = schemas.get(envelope, {}).get("properties", {}).get("data")
        if data is not None:
            data.pop("$ref", None)
            data.update(_ref(name))
    # Any other reference to a generated model (embedded, sync): its default shape.
    _rewrite_refs(document, DEFAULT_SHAPE)


def _rewrite_refs(node: Any, names: dict[str, str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(SCHEMAS):
            old = ref.removeprefix(SCHEMAS)
            if old in names:
                node["$ref"] = SCHEMAS + names[old]
        for value in node.values():
            _rewrite_refs(value, names)
    elif isinstance(node, list):
        for value in node:
            _rewrite_refs(value, names)


def _readable(name: str) -> str:
    """`ListEnvelope_TagAdmin_` → `TagAdminList`; `ItemEnvelope_list_TokenPublic__` →
    `TokensResponse`; `Changes_TagPublic_` → `TagChanges`; `SitePublic` → `Site`."""
    match = GENERIC.match(name)
    if match is None:
        return RENAMES.get(name) or DEFAULT_SHAPE.get(name) or name
    kind, many, model = match.groups()
    base = _readable(model)
    if kind == "ListEnvelope":
        return f"{base}List"
    if kind == "Changes":
        return f"{base}Changes"
    return f"{base}sResponse" if many else f"{base}Response"


def _rename(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    names = {name: _readable(name) for name in schemas}
    names = {old: new for old, new in names.items() if old != new}
    renamed: dict[str, Any] = {}
    for name, schema in schemas.items():
        new = names.get(name, name)
        if new != name and (new in renamed or (new in schemas and new not in names)):
            if GENERIC.match(name):  # an envelope the shapes pass made anew
                continue
            raise ValueError(f"two schemas would be named {new}: {name} and another")
        if new != name and isinstance(schema.get("title"), str):
            schema["title"] = new
        renamed[new] = schema
    document["components"]["schemas"] = renamed
    _rewrite_refs(document, names)


# --- Bodies, headers, parameters ----------------------------------------------------------


def _non_json_bodies(document: dict[str, Any]) -> None:
    """Feeds, metrics, CSV: a string schema for each media type (generators drop bodies
    without one)."""
    for _path, _method, operation in _operations(document):
        for response in operation.get("responses", {}).values():
            for media, body in response.get("content", {}).items():
                if not body.get("schema") and "json" not in media:
                    body["schema"] = {"type": "string"}
                elif not body.get("schema"):
                    body["schema"] = {"type": "object", "additionalProperties": True}


def _cacheable(path: str, method: str, operation: dict[str, Any]) -> bool:
    """Public GETs answered by `api.core.http.public_response` (ETag, 304, Cache-Control)."""
    if method != "get" or path.startswith(("/v1/admin", "/v1/preview", "/v1/subscriptions")):
        return False
    if path in ("/healthz", "/readyz", "/metrics"):
        return False
    return "200" in operation.get("responses", {})


def _header_refs(*names: str) -> dict[str, dict[str, str]]:
    return {name: {"$ref": f"#/components/headers/{name}"} for name in names}


def _http(document: dict[str, Any]) -> None:
    components = document["components"]
    components["headers"] = copy.deepcopy(HEADERS)
    components["parameters"] = copy.deepcopy(PARAMETERS)
    for path, method, operation in _operations(document):
        responses = operation.setdefault("responses", {})
        params = operation.setdefault("parameters", [])
        names = {p.get("name") for p in params}
        admin = path.startswith(ADMIN_PREFIX)
        if _cacheable(path, method, operation):
            params.append({"$ref": "#/components/parameters/IfNoneMatch"})
            # Every read names the entities it shows; the index of entry points shows none.
            ok = ["ETag", "Cache-Control"] + (["Surrogate-Key"] if path != "/" else [])
            not_modified = _header_refs(*ok)
            if "cursor" in names:
                ok.append("Link")
            if path.startswith(("/feeds/", "/sitemap")):
                ok.append("Last-Modified")
            responses["200"].setdefault("headers", {}).update(_header_refs(*ok))
            responses.setdefault(
                "304",
                {
                    "description": "Not modified: the `If-None-Match` ETag is current.",
                    "headers": not_modified,
                },
            )
        if "428" in responses and "If-Match" not in names:
            params.append({"$ref": "#/components/parameters/IfMatch"})
        for code, response in responses.items():
            headers = response.setdefault("headers", {})
            headers.update(_header_refs("X-Request-ID"))
            if code in ("429", "503"):
                headers.update(_header_refs("Retry-After"))
            if admin or path.startswith("/v1/preview"):
                headers.update(_header_refs("Cache-Control"))
                if code.startswith("2") and code != "204":
                    headers.update(_header_refs("ETag"))
        if not params:
            del operation["parameters"]


def _security(document: dict[str, Any]) -> None:
    document["components"]["securitySchemes"] = copy.deepcopy(SECURITY_SCHEMES)
    for path, _method, operation in _operations(document):
        if path.startswith(ADMIN_PREFIX):
            operation["security"] = [{BEARER: []}]
        elif path.startswith("/v1/"):
            # Open unless the deployment requires content keys.
            operation["security"] = [{}, {KEY_HEADER: []}, {KEY_QUERY: []}]
        elif path == "/metrics":
            operation["security"] = [{}, {METRICS: []}]
        else:
            operation["security"] = []


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield ref
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _drop_unused(document: dict[str, Any]) -> None:
    """Components nothing in the paths reaches (the generated models the shapes replaced)."""
    components = document["components"]
    seen: set[str] = set()
    todo = list(_refs(document["paths"]))
    while todo:
        ref = todo.pop()
        if ref in seen or not ref.startswith("#/components/"):
            continue
        seen.add(ref)
        _, _, section, name = ref.split("/", 3)
        todo.extend(_refs(components.get(section, {}).get(name, {})))
    for section in ("schemas", "headers", "parameters"):
        entries = components.get(section, {})
        for name in list(entries):
            if f"#/components/{section}/{name}" not in seen:
                del entries[name]


# --- Examples -----------------------------------------------------------------------------


def _examples(document: dict[str, Any]) -> None:
    """Examples on the main schemas, from the demo content."""
    schemas = document["components"]["schemas"]
    for name, example in demo_examples().items():
        if name in schemas:
            schemas[name]["examples"] = [_complete(example, schemas[name], schemas)]


def _complete(example: Any, schema: dict[str, Any], schemas: dict[str, Any]) -> Any:
    """`example` with what the demo content has for required fields it does not name (an
    empty list, `false` or null: the demo article has no corrections, for instance), and
    without fields the schema does not have."""
    name = _ref_name(schema)
    if name is not None:
        return _complete(example, schemas[name], schemas)
    if isinstance(example, list) and "items" in schema:
        return [_complete(item, schema["items"], schemas) for item in example]
    if not isinstance(example, dict) or "properties" not in schema:
        return example
    out = {}
    for field, spec in schema["properties"].items():  # nothing the schema does not declare
        if field in example:
            out[field] = _complete(example[field], spec, schemas)
        elif field in schema.get("required", []):
            out[field] = _empty(spec)
    return out


def _empty(spec: dict[str, Any]) -> Any:
    types = {spec.get("type")} | {o.get("type") for o in spec.get("anyOf", [])}
    if "array" in types:
        return []
    if "null" in types:
        return None
    if "boolean" in types:
        return False
    raise ValueError(f"the demo example has no value for a required {spec}")


def demo_examples() -> dict[str, dict[str, Any]]:
    seed = json.loads(SEED.read_text())
    ids = iter(f"{n:032x}" for n in range(1, 10_000))
    base = "http://127.0.0.1:8000"
    author = {**_pick(seed["authors"][0], "slug name bio url"), "id": next(ids)}
    tags = [
        {**_pick(t, "slug name"), "hashtag": t.get("hashtag"), "id": next(ids)}
        for t in seed["tags"]
    ]
    tag = {**tags[0], "description": seed["tags"][0].get("description"), "article_count": 1}
    source = seed["sources"][0]
    source_ref = {**_pick(source, "slug name kind"), "url": source.get("url"), "id": next(ids)}
    raw_action = seed["actions"][0]
    action = {
        "id": next(ids),
        **_pick(raw_action, "slug kind title url"),
        **{k: raw_action.get(k) for k in ("description", "organisation", "starts_at", "ends_at")},
        "active": True,
        "go_url": f"{base}/v1/actions/{raw_action['slug']}/go",
        "goal": None,
        "progress": None,
    }
    raw = next(a for a in seed["articles"] if a.get("kind", "article") == "article")
    citation = raw.get("sources", [{}])[0]
    summary = {
        "id": next(ids),
        **_pick(raw, "slug title"),
        "subtitle": raw.get("subtitle"),
        "excerpt": raw.get("excerpt"),
        "lang": raw.get("lang", "en"),
        "published_at": raw.get("published_at", "2017-04-14T09:00:00Z"),
        "updated_at": raw.get("published_at", "2017-04-14T09:00:00Z"),
        "reading_time": 2,
        "word_count": 458,
        "canonical_url": f"https://accidentallyalex.example/articles/{raw['slug']}",
        "feature_image": None,
        "links": {"self": f"{base}/v1/articles/{raw['slug']}"},
        "authors": [author],
        "tags": tags,
    }
    article = {
        **summary,
        "body_html": "<p>Russian opposition newspaper Novaya Gazeta has exposed a campaign "
        "against men suspected of being gay in Chechnya.</p>",
        "sources": [
            {
                "source": source_ref,
                "cited_url": citation.get("cited_url"),
                "context": citation.get("context"),
                "position": 0,
                "status": "ok",
                "archived_url": None,
            }
        ],
        "actions": [{**action, "go_url": f"{action['go_url']}?from={raw['slug']}"}],
    }
    return {
        "Article": article,
        "ArticleSummary": summary,
        "ArticlePartial": {k: summary[k] for k in ("id", "slug", "title", "excerpt")},
        "Tag": tag,
        "Source": {
            **source_ref,
            "country": source.get("country"),
            "description": source.get("description"),
            "article_count": 1,
        },
        "Action": action,
        "Author": author,
    }


def _pick(item: dict[str, Any], names: str) -> dict[str, Any]:
    return {name: item[name] for name in names.split()}
