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
