"""Who may call which admin route: every route, every kind of caller."""

import re

import pytest
from fastapi import APIRouter
from fastapi.routing import APIRoute

from api.auth.dependencies import AdminRouter, UnguardedRoute, require_role, required_role
from api.auth.models import Role
from api.core.settings import load_settings
from api.editorial.routers import ADMIN_ROUTERS
from api.main import create_app
from tests.auth.tokens import bearer

ALLOWED = {
    Role.contributor: {"contributor", "editor", "admin"},
    Role.editor: {"editor", "admin"},
    Role.admin: {"admin"},
}
CALLERS = ["none", "bad", "revoked", "expired", "content", "contributor", "editor", "admin"]


def admin_routes() -> list[tuple[str, str, Role]]:
    found = []
    for route in (r for router in ADMIN_ROUTERS for r in router.routes):
        if isinstance(route, APIRoute):
            role = required_role(route)
            assert role is not None, route.path
            for method in sorted(route.methods):
                found.append((method, route.path, role))
    return found


ROUTES = admin_routes()


def test_every_admin_route_is_in_the_matrix():
    assert len(ROUTES) >= 30
    assert all(role in ALLOWED for _m, _p, role in ROUTES)


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(("method", "path", "role"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_role_matrix(client, tokens, caller, method, path, role):
    url = re.sub(r"\{number\}", "1", re.sub(r"\{\w+_id\}", "0" * 32, path))
    headers = {} if caller == "none" else bearer(tokens[caller])
    kwargs = {"json": {}} if method in ("POST", "PATCH") else {}
    response = client.request(method, url, headers=headers, **kwargs)
    assert response.headers["content-type"].startswith(
        ("application/json", "application/problem", "text/csv")
    )
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["ETag"]
    if caller in ("none", "bad", "revoked", "expired"):
        assert response.status_code == 401, response.text
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    elif caller == "content" or caller not in ALLOWED[role]:
        assert response.status_code == 403, response.text
    else:
        assert response.status_code not in (401, 403), response.text


def test_a_route_without_a_role_cannot_be_declared():
    router = AdminRouter(prefix="/v1/admin/oops")
    with pytest.raises(UnguardedRoute):

        @router.get("")
        def unguarded() -> None:
            pass

    assert router.routes == []

    @router.get("/fine", dependencies=[require_role(Role.editor)])
    def guarded() -> None:
        pass

    assert len(router.routes) == 1


def test_every_admin_path_in_the_app_comes_from_a_guarded_router():
    document = create_app(load_settings(database_url="sqlite://")).openapi()
    mounted = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        if path.startswith("/v1/admin")
        for method in operations
    }
    assert mounted == {(m, p) for m, p, _role in ROUTES}
    assert all(isinstance(router, AdminRouter) for router in ADMIN_ROUTERS)


def test_including_an_unguarded_router_into_an_admin_router_fails():
    plain = APIRouter()

    @plain.get("/x")
    def unguarded() -> None:
        pass

    with pytest.raises(UnguardedRoute):
        AdminRouter(prefix="/v1/admin/more").include_router(plain)


def test_admin_responses_are_private(client, as_):
    for path in ("/v1/admin/articles", "/v1/admin/tags", "/v1/admin/tokens", "/v1/admin/audit"):
        response = client.get(path, headers=as_("admin"))
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "private, no-store"
        assert response.headers["ETag"].startswith('"')
