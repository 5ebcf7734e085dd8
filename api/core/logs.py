"""Logging, configured once per process: one handler on the root logger, readable text by
default or one JSON object a line (`MASTHEAD_LOG_FORMAT=json`), for the access lines and
every application event alike (start-up, migrations, email, webhooks, uvicorn's own lines).

Nothing personal is logged: the access line names the route template (never the path, which
may hold a preview token, nor the query, which may hold a confirmation token), the client
address is cut to its /24 or /48, and text that may quote one (exception messages) goes
through `redact`. (Outgoing email shown in development goes to standard output, not here.)
"""

import ipaddress
import logging
import re
import sys
import time
from contextvars import ContextVar
from typing import Any

import orjson

from api.core.settings import Settings

# The request being answered, for problem documents and every line logged while answering.
REQUEST_ID: ContextVar[str | None] = ContextVar("masthead_request_id", default=None)
ACCESS_LOGGER = "masthead.access"
access_log = logging.getLogger(ACCESS_LOGGER)
log = logging.getLogger("masthead")

# Third-party loggers that name URLs with their queries at INFO (webhook targets, and in
# tests every request); they speak from WARNING up.
QUIET_LOGGERS = ("httpx", "httpcore", "hpack", "aiosmtplib", "alembic", "sqlalchemy")
# The attributes every LogRecord has; anything else came in `extra=` and is structured data.
# (uvicorn adds `color_message`, its message with terminal colours.)
RECORD_ATTRIBUTES = frozenset(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "color_message",
}
ACCESS_IN_MESSAGE = frozenset({"method", "route", "status", "duration_ms", "bytes"})
EMAIL = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}")
SECRETS = re.compile(r"\b(?:mh|whsec)_[A-Za-z0-9_+/=-]{8,}")


def redact(text: str) -> str:
    """`text` with email addresses and Masthead secrets replaced (for messages we do not
    write ourselves, such as an SMTP server's refusal)."""
    return SECRETS.sub("<secret>", EMAIL.sub("<email>", text))


def client_network(host: str | None) -> str | None:
    """The client address cut to its /24 (IPv4) or /48 (IPv6), or None (not an address)."""
    if not host:
        return None
    head, dot, last = host.rpartition(".")
    if dot and last.isdigit() and head.count(".") == 2:
        return f"{head}.0/24"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


_second: list[Any] = [None, ""]  # the last second formatted, and its text


def _timestamp(record: logging.LogRecord) -> str:
    seconds = int(record.created)
    if _second[0] != seconds:
        _second[:] = [seconds, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))]
    return f"{_second[1]}.{int(record.msecs):03d}Z"


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    """The record's structured fields: `fields` of an access line, else whatever came in
    `extra=`."""
    fields: dict[str, Any] | None = record.__dict__.get("fields")
    if fields is not None:
        return dict(fields)
    return {k: v for k, v in record.__dict__.items() if k not in RECORD_ATTRIBUTES}


class TextFormatter(logging.Formatter):
    """`time LEVEL logger message key=value…` on one line (tracebacks follow, indented)."""

    def format(self, record: logging.LogRecord) -> str:
        line = f"{_timestamp(record)} {record.levelname} {record.name} {record.getMessage()}"
        extra = _fields(record)
        if record.name == ACCESS_LOGGER:  # the message says these already
            extra = {k: v for k, v in extra.items() if k not in ACCESS_IN_MESSAGE}
        if "request_id" not in extra:
            extra["request_id"] = REQUEST_ID.get()
        shown = " ".join(f"{k}={v}" for k, v in extra.items() if v is not None)
        if shown:
            line += " " + shown
        if record.exc_info:
            line += "\n" + redact(self.formatException(record.exc_info))
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object a line: `time`, `level`, `logger`, `message`, the record's structured
    fields (an access line's `method`, `route`, `status`…), `request_id`, `exception`."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "time": _timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        document.update(_fields(record))
        if "request_id" not in document:
            request_id = REQUEST_ID.get()
            if request_id:
                document["request_id"] = request_id
        if record.exc_info:
            document["exception"] = redact(self.formatException(record.exc_info))
        return orjson.dumps(document, default=str).decode()


class MastheadHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The process's one handler (a type of its own, so configuring again replaces it)."""


def configure_logging(settings: Settings) -> None:
    """Send every log line of the process through one handler in the configured format.

    Idempotent: a second call (another app in the same process, a test) replaces the handler.
    Uvicorn's loggers lose their own handlers and propagate here; its access log is turned
    off (uvicorn skips it when no handler would receive it), the access line is ours."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, MastheadHandler):
            root.removeHandler(handler)
    handler = MastheadHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else TextFormatter())
    root.addHandler(handler)
    level = settings.log_level.upper()
    root.setLevel(max(logging.WARNING, logging.getLevelName(level)))
    for name in ("masthead", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.handlers.clear()
        logger.propagate = True
    uvicorn_access = logging.getLogger("uvicorn.access")
    uvicorn_access.handlers.clear()
    uvicorn_access.propagate = False
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    # No format of ours shows them, and every record would look them up (the logging
    # HOWTO's "Optimization"): the access line is on every request's path.
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False


def log_access(
    method: str,
    route: str,
    status: int,
    seconds: float,
    size: int,
    request_id: str,
    client: str | None,
) -> None:
    """The access line of one request. The record is made here rather than by
    `Logger.info`, which would walk the stack to name the caller: a third of the cost."""
    if not access_log.isEnabledFor(logging.INFO):
        return
    duration_ms = round(seconds * 1000, 2)
    record = logging.LogRecord(
        ACCESS_LOGGER,
        logging.INFO,
        __file__,
        0,
        "%s %s %s %sms %sB",
        (method, route, status, duration_ms, size),
        None,
    )
    record.fields = {
        "method": method,
        "route": route,
        "status": status,
        "duration_ms": duration_ms,
        "bytes": size,
        "client": client,
        "request_id": request_id,
    }
    access_log.handle(record)
