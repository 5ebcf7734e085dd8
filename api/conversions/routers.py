"""The conversions' routes, mounted by `create_app` in one include: the inbound hooks and
the editors' reports."""

from fastapi import APIRouter

from api.conversions.admin import router as reports_router
from api.conversions.hooks import router as hooks_router

router = APIRouter()
router.include_router(hooks_router)
router.include_router(reports_router)
