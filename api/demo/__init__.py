"""The demo publication `masthead serve` loads into an empty database: the seed page's
article with its authors, tags, sources and actions, the About and privacy-policy pages
(`seed.json`, a content bundle) and the site settings (`site.json`)."""

from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine

from api.core.db import make_sessionmaker, utcnow
from api.site.models import SITE_ID, Site
from api.site.schemas import SiteWrite
from api.site.service import save_site

DEMO = Path(__file__).parent
DEMO_BUNDLE = DEMO / "seed.json"
DEMO_SITE = DEMO / "site.json"


def demo_bundle() -> dict[str, Any]:
    bundle: dict[str, Any] = orjson.loads(DEMO_BUNDLE.read_bytes())
    return bundle


def save_demo_site(engine: Engine) -> bool:
    """Save the demo's site settings unless some are saved already; True when saved."""
    settings = SiteWrite.model_validate(orjson.loads(DEMO_SITE.read_bytes()))
    with make_sessionmaker(engine)() as session, session.begin():
        if session.get(Site, SITE_ID) is not None:
            return False
        save_site(session, settings, utcnow())
    return True
