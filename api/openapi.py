"""The committed OpenAPI document, rendered deterministically from the app."""

import json

from api.core.settings import load_settings
from api.main import create_app


def render_openapi() -> str:
    app = create_app(load_settings(database_url="sqlite://"))
    return json.dumps(app.openapi(), indent=2, sort_keys=False, ensure_ascii=False) + "\n"
