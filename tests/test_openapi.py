"""The committed OpenAPI document is the interface: it must match the app and be complete."""

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from fastapi.testclient import TestClient

from api.cli import load_demo_if_empty
from api.core.settings import Settings
from api.openapi import render_openapi

COMMITTED = Path(__file__).resolve().parents[1] / "openapi" / "openapi.json"


def test_committed_openapi_is_current():
    assert COMMITTED.exists(), "run `masthead openapi` and commit openapi/openapi.json"
    assert COMMITTED.read_text() == render_openapi(), (
        "openapi/openapi.json is stale: run `make openapi` (masthead openapi) and commit it"
    )


def _schemas_missing_descriptions(document: dict) -> list[str]:
    missing = []
    for name, schema in document["components"]["schemas"].items():
        for field, spec in schema.get("properties", {}).items():
            if not spec.get("description"):
                missing.append(f"{name}.{field}")
    return missing


def test_every_field_and_parameter_is_described():
    document = json.loads(render_openapi())
    assert document["openapi"].startswith("3.1")
    assert _schemas_missing_descriptions(document) == []
    shared = document["components"].get("parameters", {})
    undocumented = [
        f"{method.upper()} {path} ?{param['name']}"
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        for param in (
            shared[p["$ref"].rsplit("/", 1)[1]] if "$ref" in p else p
            for p in operation.get("parameters", [])
        )
        if not param.get("description")
    ]
    assert undocumented == []


def test_every_operation_declares_its_errors_as_problems():
    document = json.loads(render_openapi())
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if path in ("/", "/healthz", "/metrics"):  # cannot fail on input
                continue
            errors = {code: r for code, r in operation["responses"].items() if code[0] in "45"}
            assert errors, f"{method.upper()} {path} declares no error response"
            for code, response in errors.items():
                content = response.get("content", {})
                assert "application/problem+json" in content, f"{method.upper()} {path} {code}"


# --- Exact default shapes, checked against live answers of the demo content ---------------

DEMO_ARTICLE = "demonstrations-in-london-as-russia-refuses-to-act-over-chechnya"
# (document path, URL): the default shape of every public resource, one item and a list.
PUBLIC_READS = [
    ("/v1/articles", "/v1/articles"),
    ("/v1/articles/{slug}", f"/v1/articles/{DEMO_ARTICLE}"),
    ("/v1/articles/{slug}/related", f"/v1/articles/{DEMO_ARTICLE}/related"),
    ("/v1/pages", "/v1/pages"),
    ("/v1/pages/{slug}", "/v1/pages/about"),
    ("/v1/site", "/v1/site"),
    ("/v1/tags", "/v1/tags"),
    ("/v1/tags/{slug}", "/v1/tags/chechen-anti-gay-purge"),
    ("/v1/sources", "/v1/sources"),
    ("/v1/sources/{slug}", "/v1/sources/human-rights-watch"),
    ("/v1/actions", "/v1/actions"),
    ("/v1/actions/{slug}", "/v1/actions/stop-the-persecution-in-chechnya-petition"),
    ("/v1/authors", "/v1/authors"),
    ("/v1/authors/{slug}", "/v1/authors/accidentally-alex"),
    ("/v1/search", "/v1/search?q=chechnya"),
    ("/v1/sync", "/v1/sync"),
    ("/", "/"),
]
ADMIN_READS = [
    ("/v1/admin/articles", "/v1/admin/articles"),
    ("/v1/admin/articles/{article_id}", "/v1/admin/articles/{article}"),
    ("/v1/admin/tags", "/v1/admin/tags"),
    ("/v1/admin/sources", "/v1/admin/sources"),
    ("/v1/admin/actions", "/v1/admin/actions"),
    ("/v1/admin/authors", "/v1/admin/authors"),
    ("/v1/admin/site", "/v1/admin/site"),
]


def _strict(node: Any) -> Any:
    """The schema with `additionalProperties: false` on every object that lists its
    properties and says nothing else: an undeclared key in an answer fails too."""
    if isinstance(node, dict):
        out = {key: _strict(value) for key, value in node.items()}
        if "properties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        return out
    if isinstance(node, list):
        return [_strict(value) for value in node]
    return node


def _exact_schema(document: dict, path: str, method: str = "get") -> dict:
    """The 200 answer's default (first) schema, resolvable on its own."""
    schema = document["paths"][path][method]["responses"]["200"]["content"]["application/json"]
    schema = schema["schema"]
    default = schema["anyOf"][0] if "anyOf" in schema else schema
    return {**default, "components": _strict(document["components"])}


def _problems(schema: dict, instance: Any) -> list[str]:
    validator = jsonschema_rs.validator_for(schema)
    return [f"{list(e.instance_path)}: {e.message}" for e in validator.iter_errors(instance)]


@pytest.fixture
def demo(client: TestClient, settings: Settings) -> TestClient:
    assert load_demo_if_empty(settings)
    return client


def test_default_shapes_are_exact(demo: TestClient, as_: Any) -> None:
    """Every public read's default answer is valid against the declared default schema,
    with every key declared; so is an editor's view of the same content and a preview."""
    document = json.loads(render_openapi())
    failures = {}
    for path, url in PUBLIC_READS:
        response = demo.get(url)
        assert response.status_code == 200, (url, response.text)
        body = response.json()
        if isinstance(body.get("data"), list) and not path.endswith("/related"):
            assert body["data"], f"{url}: the demo content shows nothing here"
        failures[url] = _problems(_exact_schema(document, path), body)
    article = demo.get("/v1/admin/articles?limit=100", headers=as_("admin")).json()["data"]
    article_id = next(a["id"] for a in article if a["slug"] == DEMO_ARTICLE)
    for path, url in ADMIN_READS:
        url = url.replace("{article}", article_id)
        response = demo.get(url, headers=as_("admin"))
        assert response.status_code == 200, (url, response.text)
        failures[url] = _problems(_exact_schema(document, path), response.json())
    link = demo.post(f"/v1/admin/articles/{article_id}/preview", headers=as_("editor"), json={})
    assert link.status_code == 201, link.text
    preview = demo.get(f"/v1/preview/{link.json()['data']['token']}")
    failures["preview"] = _problems(_exact_schema(document, "/v1/preview/{token}"), preview.json())
    assert {url: found for url, found in failures.items() if found} == {}


def test_default_article_fields_are_required_and_not_null() -> None:
    """What a typed client sees: `title`, `tags`... always there; only optional values nullable."""
    schemas = json.loads(render_openapi())["components"]["schemas"]
    article = schemas["Article"]
    nullable = {
        name
        for name, spec in article["properties"].items()
        if any(option.get("type") == "null" for option in spec.get("anyOf", []))
    }
    assert nullable == {"subtitle", "excerpt", "feature_image"}
    assert set(article["required"]) == set(article["properties"]) - {"jsonld"}
    assert "body_html" not in schemas["ArticleSummary"]["required"]
    assert schemas["ArticlePartial"]["required"] == ["id"]
    assert schemas["ArticleList"]["properties"]["data"]["items"] == {
        "$ref": "#/components/schemas/ArticleSummary"
    }


def test_sparse_fields_answer_the_partial_schema(demo: TestClient) -> None:
    document = json.loads(render_openapi())
    body = demo.get("/v1/articles?fields=slug,title").json()
    declared = document["paths"]["/v1/articles"]["get"]["responses"]["200"]["content"]
    branches = declared["application/json"]["schema"]["anyOf"]
    assert branches == [
        {"$ref": "#/components/schemas/ArticleList"},
        {"$ref": "#/components/schemas/ArticlePartialList"},
    ]
    components = _strict(document["components"])
    full, partial = ({**branch, "components": components} for branch in branches)
    assert _problems(partial, body) == []
    assert _problems(full, body) != []  # the default schema does not describe it


def test_schema_names_are_readable() -> None:
    names = json.loads(render_openapi())["components"]["schemas"]
    assert {"Article", "ArticleList", "ArticleResponse", "Problem", "Tag"} <= set(names)
    assert [name for name in names if "_" in name] == []


def test_declared_304s_and_headers_are_answered(demo: TestClient) -> None:
    """Every read that declares 304 answers `If-None-Match` with it, and sends the headers
    its 200 declares (Link only while there is a next page)."""
    document = json.loads(render_openapi())
    for path, url in PUBLIC_READS:
        operation = document["paths"][path]["get"]
        assert "304" in operation["responses"], path
        assert {"$ref": "#/components/parameters/IfNoneMatch"} in operation["parameters"]
        first = demo.get(url)
        declared = {name.lower() for name in operation["responses"]["200"]["headers"]}
        missing = declared - {"link"} - set(first.headers.keys())
        assert not missing, (url, missing)
        again = demo.get(url, headers={"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304, url
    paged = demo.get("/v1/sources?limit=2")
    assert 'rel="next"' in paged.headers["Link"]
    for path in ("/feeds/rss.xml", "/feeds/atom.xml", "/feeds/feed.json"):
        content = document["paths"][path]["get"]["responses"]["200"]["content"]
        [(media, body)] = content.items()
        # JSON Feed is JSON: its schema describes the parsed object, as validators read it.
        kind = "object" if media.endswith("+json") else "string"
        assert body["schema"]["type"] == kind, path
        response = demo.get(path)
        assert response.headers["content-type"].startswith(media), path
        assert (
            demo.get(path, headers={"If-None-Match": response.headers["ETag"]}).status_code == 304
        )


def test_security_schemes_are_applied_per_operation() -> None:
    document = json.loads(render_openapi())
    schemes = document["components"]["securitySchemes"]
    assert schemes["adminBearer"] == {**schemes["adminBearer"], "type": "http", "scheme": "bearer"}
    assert schemes["contentKeyQuery"]["name"] == "key"
    assert schemes["contentKeyHeader"]["name"] == "X-Masthead-Key"
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if path.startswith("/v1/admin/"):
                assert operation["security"] == [{"adminBearer": []}], (method, path)
            elif path.startswith("/v1/"):
                assert {"contentKeyHeader": []} in operation["security"], (method, path)
            if "428" in operation["responses"]:
                assert {"$ref": "#/components/parameters/IfMatch"} in operation["parameters"]


def test_the_committed_document_passes_redocly_and_spectral() -> None:
    """`make lint-openapi`: Redocly's `recommended` and Spectral's `spectral:oas` rules, 0
    errors and 0 warnings (the pinned linters, installed into .cache/ on first use)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed to run the OpenAPI linters")
    script = COMMITTED.parents[1] / "tools" / "openapi-lint" / "run.sh"
    done = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
