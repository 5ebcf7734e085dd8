"""What the guards in front of every route answer is declared in the served document.

`RequestLimits` refuses a NUL character anywhere in the URL (400) or in a JSON string (422)
before routing. The OpenAPI document says so: a 400 on every operation, and a pattern on
every string that nothing else confines (schemathesis found both missing).
"""

import re
from typing import Any

import pytest

from api.core.limits import NO_NUL
from tests.core.problems import assert_problem, error_locations

METHODS = ("get", "put", "post", "patch", "delete")


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def resolved(document: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    """A parameter, or the component its `$ref` names."""
    ref = item.get("$ref", "")
    if ref.startswith("#/components/"):
        _, _, kind, name = ref.split("/")
        return resolved(document, document["components"][kind][name])
    return item


def unconfined_strings(schema: Any, where: str, components: dict[str, Any], seen: set) -> list:
    """Places in a request's schema where any string, NUL included, would be valid."""
    if not isinstance(schema, dict):
        return []
    ref = schema.get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        name = ref.rsplit("/", 1)[1]
        if name in seen:
            return []
        seen.add(name)
        return unconfined_strings(components[name], name, components, seen)
    found = []
    if schema.get("type") == "string" and not {"pattern", "format", "enum", "const"} & set(schema):
        found.append(where)
    for name, prop in (schema.get("properties") or {}).items():
        found += unconfined_strings(prop, f"{where}.{name}", components, seen)
    for key in ("anyOf", "oneOf", "allOf"):
        for index, branch in enumerate(schema.get(key) or ()):
            found += unconfined_strings(branch, f"{where}|{index}", components, seen)
    found += unconfined_strings(schema.get("items"), f"{where}[]", components, seen)
    return found


def test_every_operation_declares_the_400_and_every_body_the_413_and_422(client):
    document = client.get("/openapi.json").json()
    missing = []
    for method, path, operation in operations(document):
        expected = {"400", "413", "422"} if "requestBody" in operation else {"400"}
        missing += [f"{method} {path} {code}" for code in expected - set(operation["responses"])]
    assert missing == []


def test_no_string_a_request_can_carry_admits_nul(client):
    document = client.get("/openapi.json").json()
    components, seen = document["components"]["schemas"], set()
    loose = []
    for method, path, operation in operations(document):
        for parameter in map(lambda p: resolved(document, p), operation.get("parameters", ())):
            if parameter["in"] in ("path", "query"):
                where = f"{method} {path} ?{parameter['name']}"
                loose += unconfined_strings(parameter["schema"], where, components, seen)
        for media in operation.get("requestBody", {}).get("content", {}).values():
            loose += unconfined_strings(media["schema"], f"{method} {path}", components, seen)
    assert loose == []
    assert "TagCreate" in seen  # the bodies' components were reached


def test_the_no_nul_pattern_means_what_it_says():
    assert re.fullmatch(NO_NUL, "") and re.fullmatch(NO_NUL, "any text, ünïcode too")
    assert not re.fullmatch(NO_NUL, "a\x00b")


@pytest.mark.parametrize(
    ("path", "operation"),
    [
        ("/healthz?probe=%00", ("get", "/healthz")),
        ("/v1/tags/rights?fields=%00", ("get", "/v1/tags/{slug}")),
        ("/v1/articles/story/related?include=%00", ("get", "/v1/articles/{slug}/related")),
        ("/feeds/rss.xml?source=%00", ("get", "/feeds/rss.xml")),
        ("/v1/actions/%00/go", ("get", "/v1/actions/{slug}/go")),
    ],
)
def test_nul_in_the_url_is_the_declared_400(client, path, operation):
    assert_problem(client.get(path), 400)
    method, template = operation
    assert "400" in client.get("/openapi.json").json()["paths"][template][method]["responses"]


def test_nul_in_a_body_string_is_a_422_pointing_at_it(client, as_):
    response = client.post("/v1/admin/tags", json={"name": "a\x00b"}, headers=as_("editor"))
    assert error_locations(assert_problem(response, 422)) == [["body", "name"]]


def test_a_nul_key_quoted_in_the_problem_matches_the_documented_problem(client, as_):
    """The problem's `loc` quotes the key as sent, NUL included: response schemas do not
    get the pattern (schemathesis found the Problem schema contradicting its own answer)."""
    import jsonschema_rs

    document = client.get("/openapi.json").json()
    response = client.post("/v1/admin/tags", json={"name": {"a\x00": 1}}, headers=as_("editor"))
    problem = assert_problem(response, 422)
    assert problem["errors"][0]["loc"] == ["body", "name", "a\x00"]
    schema = {"$ref": "#/components/schemas/Problem", "components": document["components"]}
    assert jsonschema_rs.is_valid(schema, problem)
