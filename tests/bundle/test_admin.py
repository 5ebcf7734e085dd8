import pytest

from tests.core.problems import assert_problem, error_locations
from tests.factories import action, article, author, bundle, load, source, tag


def test_export_then_import_again_changes_nothing(client, engine, as_):
    load(
        engine,
        bundle(
            authors=[author("alex")],
            tags=[tag("rights")],
            sources=[source("hrw")],
            actions=[action("petition")],
            articles=[article("story", authors=["alex"], tags=["rights"], actions=["petition"],
                              sources=[{"source": "hrw", "context": "Report"}])],
        ),
    )  # fmt: skip
    before = client.get("/v1/articles/story").json()
    exported = client.get("/v1/admin/export", headers=as_("editor"))
    assert exported.status_code == 200
    assert exported.headers["Cache-Control"] == "private, no-store"
    data = exported.json()
    assert data["format"] == "masthead-bundle"
    again = client.post("/v1/admin/import", json=data, headers=as_("editor"))
    assert again.status_code == 200, again.text
    assert sum(again.json()["data"]["created"].values()) == 0
    assert sum(again.json()["data"]["updated"].values()) == 0
    assert client.get("/v1/articles/story").json() == before


def test_bad_bundle_is_422_naming_the_item_and_changes_nothing(client, as_):
    bad = bundle(tags=[tag("ok")], articles=[article("story", tags=["missing"])])
    response = client.post("/v1/admin/import", json=bad, headers=as_("editor"))
    assert response.status_code == 422
    assert "story" in response.json()["detail"]
    assert client.get("/v1/tags").json()["data"] == []


def test_import_needs_editor(client, as_):
    body = bundle(tags=[tag("ok")])
    assert client.post("/v1/admin/import", json=body, headers=as_("contributor")).status_code == 403
    assert client.post("/v1/admin/import", json=body, headers=as_("editor")).status_code == 200
    assert client.get("/v1/tags/ok").status_code == 200


def test_the_import_body_is_documented_as_a_bundle(client):
    """It was an untyped object in the document, so no client or fuzzer could know its shape."""
    operation = client.get("/openapi.json").json()["paths"]["/v1/admin/import"]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert schema["$ref"] == "#/components/schemas/Bundle"


def test_a_bundle_off_its_schema_is_422_at_the_place(client, as_):
    bad = bundle(tags=[tag("ok"), {"slug": "nameless"}])
    response = client.post("/v1/admin/import", json=bad, headers=as_("editor"))
    assert ["body", "tags", 1, "name"] in error_locations(assert_problem(response, 422))
    assert client.get("/v1/tags").json()["data"] == []


@pytest.mark.parametrize(
    ("content", "loc"),
    [
        (bundle(tags=[tag("ok")], articles=[article("story", tags=["missing"])]),
         ["body", "articles", 0, "tags"]),
        (bundle(tags=[tag("ok"), tag("ok")]), ["body", "tags", 1, "slug"]),
    ],
    ids=["unknown reference", "slug twice"],
)  # fmt: skip
def test_a_bundle_refused_for_its_references_points_at_the_item(client, as_, content, loc):
    response = client.post("/v1/admin/import", json=content, headers=as_("editor"))
    assert error_locations(assert_problem(response, 422)) == [loc]
