"""The ASGI entry point uvicorn imports: `api.asgi:app`."""

from api.main import create_app

app = create_app()
