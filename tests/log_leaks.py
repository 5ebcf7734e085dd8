"""Nothing personal is ever logged (issue 13): every record logged during the test session,
by any logger, passes a handler on the root logger that looks for email addresses, Masthead
secrets (API tokens, webhook secrets), signed email-link tokens and full IPv4 client
addresses (loopback and unspecified addresses name no one). A phase of a test (setup, call
or teardown) during which one was logged fails, naming the logger and the line.

A plugin of the root conftest; the cost is one regular expression search per record.
(Outgoing email shown in development goes to standard output, not to the log.)
"""

import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest

from api.core.logs import RECORD_ATTRIBUTES

PERSONAL = re.compile(
    r"(?P<email>[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,})"
    r"|(?P<secret>\b(?:mh|whsec)_[A-Za-z0-9_+/=-]{8,})"
    r"|(?P<signed>\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{4,})"
    r"|(?P<address>\b(?!127\.|0\.0\.0\.0\b)(?:\d{1,3}\.){3}\d{1,3}\b(?![/\d]))"
)
COUNTS_KEY = "masthead_log_records"


class LeakWatch(logging.Handler):
    """Collects the records that name a person or hold a secret."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.found: list[str] = []
        self.records = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.records += 1
        try:
            text = record.getMessage()
        except Exception:  # a malformed record is the logging module's to report
            return
        extra = [str(v) for k, v in record.__dict__.items() if k not in RECORD_ATTRIBUTES]
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        for part in (text, *extra):
            match = PERSONAL.search(part)
            if match:
                self.found.append(
                    f"{record.name} {record.levelname}: {match.lastgroup} in {part!r}"
                )
                return

    def take(self) -> list[str]:
        found, self.found = self.found, []
        return found


WATCH = LeakWatch()


def pytest_configure(config: pytest.Config) -> None:
    logging.getLogger().addHandler(WATCH)


def pytest_unconfigure(config: pytest.Config) -> None:
    logging.getLogger().removeHandler(WATCH)


def fail_on_leaks() -> Iterator[None]:
    WATCH.take()
    try:
        yield
    except BaseException as error:
        found = WATCH.take()
        if found:
            error.add_note("Personal data or secrets logged:\n" + "\n".join(found))
        raise
    found = WATCH.take()
    if found:
        pytest.fail("Personal data or secrets were logged:\n\n" + "\n".join(found), pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    return (yield from fail_on_leaks())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    return (yield from fail_on_leaks())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    return (yield from fail_on_leaks())


def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: hand the count to the controller
        workeroutput[COUNTS_KEY] = WATCH.records


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    WATCH.records += getattr(node, "workeroutput", {}).get(COUNTS_KEY, 0)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if WATCH.records:
        terminalreporter.write_line(
            f"{WATCH.records} log records checked for email addresses, secrets and client "
            "addresses (a test during which one was logged has failed)"
        )
