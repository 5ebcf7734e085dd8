"""The committed OpenAPI document is the interface: it must match the app and be complete."""

import json
from pathlib import Path

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
    undocumented = [
        f"{method.upper()} {path} ?{param['name']}"
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        for param in operation.get("parameters", [])
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
