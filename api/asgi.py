"""The ASGI entry point uvicorn imports: `api.asgi:app`."""

import gc

from api.core.settings import get_settings
from api.main import create_app
from api.subscriptions.outbox import refuse_to_lose_mail

if problem := refuse_to_lose_mail(get_settings()):  # `masthead serve` says so before this
    raise SystemExit(f"masthead: {problem}")
app = create_app()
# Everything loaded so far lives as long as the process: keep it out of the collector's
# scans, which otherwise show up as latency spikes (tens of ms) under load.
gc.collect()
gc.freeze()
