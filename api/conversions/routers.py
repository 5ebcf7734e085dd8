"""The inbound hooks, mounted by `create_app` in one include (the editors' reports are an
admin router: `api.editorial.routers.ADMIN_ROUTERS`)."""

from fastapi import APIRouter

from api.conversions.hooks import router as hooks_router

router = APIRouter()
router.include_router(hooks_router)
