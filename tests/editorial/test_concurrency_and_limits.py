import threading
from typing import Any

from fastapi.testclient import TestClient

from api.main import create_app
from tests.conftest import FIXED_NOW


def test_two_concurrent_patches_with_the_same_if_match_exactly_one_wins(client, as_):
    created = client.post("/v1/admin/articles", json={"title": "Race"}, headers=as_("editor"))
    url = f"/v1/admin/articles/{created.json()['data']['id']}"
    headers = {**as_("editor"), "If-Match": created.headers["ETag"]}
    barrier = threading.Barrier(2)
    results: dict[str, Any] = {}

    def save(title: str) -> None:
        barrier.wait()
        results[title] = client.patch(url, json={"title": title}, headers=headers)

    threads = [threading.Thread(target=save, args=(t,)) for t in ("Alpha", "Beta")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(r.status_code for r in results.values())
    assert statuses == [200, 412], {t: r.text for t, r in results.items()}
    winner = next(t for t, r in results.items() if r.status_code == 200)
    current = client.get(url, headers=as_("editor")).json()["data"]
    assert current["title"] == winner
    assert current["version"] == 2
    revisions = client.get(f"{url}/revisions", headers=as_("editor")).json()["data"]
    assert [r["number"] for r in revisions] == [2, 1]


def test_oversized_body_is_413_before_parsing(settings, engine, tokens):
    app = create_app(settings.model_copy(update={"max_body_bytes": 2048}), engine=engine)
    app.state.clock = lambda: FIXED_NOW
    headers = {"Authorization": f"Bearer {tokens['editor']}"}
    with TestClient(app, raise_server_exceptions=False) as small:
        big = '{"title": "' + "x" * 5000 + '"}'
        response = small.post(
            "/v1/admin/articles",
            content=big,
            headers={**headers, "Content-Type": "application/json"},
        )
        assert response.status_code == 413
        assert response.headers["content-type"] == "application/problem+json"
        assert small.get("/v1/admin/articles", headers=headers).json()["data"] == []


def test_oversized_chunked_body_is_413(settings, engine, tokens):
    app = create_app(settings.model_copy(update={"max_body_bytes": 2048}), engine=engine)
    headers = {"Authorization": f"Bearer {tokens['editor']}"}
    with TestClient(app, raise_server_exceptions=False) as small:

        def chunks():
            yield b'{"title": "'
            yield b"y" * 5000
            yield b'"}'

        streamed = small.post(
            "/v1/admin/articles",
            content=chunks(),
            headers={**headers, "Content-Type": "application/json"},
        )
        assert streamed.status_code == 413
        assert small.get("/v1/admin/articles", headers=headers).json()["data"] == []
