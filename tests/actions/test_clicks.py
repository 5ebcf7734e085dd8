from tests.articles.test_public import seed_basic


def test_admin_sees_clicks_per_action_and_article(client, engine, tokens):
    seed_basic(engine)
    for query in ("?from=published-one", "?from=published-one", ""):
        client.get(f"/v1/actions/petition/go{query}", follow_redirects=False)
    action_id = client.get("/v1/actions/petition").json()["data"]["id"]
    path = f"/v1/admin/actions/{action_id}/clicks"
    assert client.get(path).status_code == 401
    assert (
        client.get(path, headers={"Authorization": f"Bearer {tokens['contributor']}"}).status_code
        == 403
    )
    response = client.get(path, headers={"Authorization": f"Bearer {tokens['editor']}"})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "private, no-store"
    body = response.json()
    assert body["total"] == 3
    assert body["by_article"][0]["article_slug"] == "published-one"
    assert body["by_article"][0]["clicks"] == 2
    assert body["by_article"][1] == {"article_id": None, "article_slug": None, "clicks": 1}
    missing = client.get(
        "/v1/admin/actions/" + "0" * 32 + "/clicks",
        headers={"Authorization": f"Bearer {tokens['editor']}"},
    )
    assert missing.status_code == 404
