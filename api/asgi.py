"""The ASGI entry point uvicorn imports: `api.asgi:app`."""

import gc

from api.main import create_app

app = create_app()
# Everything loaded so far lives as long as the process: keep it out of the collector's
# scans, which otherwise show up as latency spikes (tens of ms) under load.
gc.collect()
gc.freeze()
