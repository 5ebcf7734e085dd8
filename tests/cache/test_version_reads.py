"""The content version check behind every cache hit: cheap, shared, and never older than
the database at the moment a request arrived."""

import asyncio
import threading

from api.core.cache import SharedVersionReader, SQLiteVersionReader, sqlite_path
from api.core.db import content_version
from tests.factories import bundle, load, tag


def version_of(engine):
    with engine.connect() as connection:
        return content_version(connection)


class CountingReader(SharedVersionReader):
    """The shared reader, counting its real database reads; the first may be held open."""

    def __init__(self, engine, hold_first=None):
        super().__init__(lambda: engine)
        self.reads = 0
        self.hold_first = hold_first
        self.first_started = threading.Event()

    def _read(self):
        self.reads += 1
        if self.reads == 1 and self.hold_first is not None:
            self.first_started.set()
            self.hold_first.wait(timeout=10)
        return super()._read()


def test_concurrent_requests_share_reads(engine):
    load(engine, bundle(tags=[tag("rights")]))
    reader = CountingReader(engine)

    async def burst():
        return await asyncio.gather(*(reader.read() for _ in range(50)))

    versions = asyncio.run(burst())
    assert versions == [version_of(engine)] * 50
    assert 1 <= reader.reads < 50


def test_a_request_arriving_during_a_read_waits_for_a_later_one(engine):
    """A read already under way may predate a write the request must see."""
    load(engine, bundle(tags=[tag("rights")]))
    before = version_of(engine)
    release = threading.Event()
    reader = CountingReader(engine, hold_first=release)

    async def scenario():
        early = asyncio.ensure_future(reader.read())
        await asyncio.to_thread(reader.first_started.wait, 10)
        # The first read has started; a write commits; then a request arrives.
        await asyncio.to_thread(load, engine, bundle(tags=[tag("rights"), tag("press")]))
        late = asyncio.ensure_future(reader.read())
        await asyncio.sleep(0)
        release.set()
        return await early, await late

    early, late = asyncio.run(scenario())
    assert late > before
    assert late == version_of(engine)
    assert early in (before, late)
    assert reader.reads == 2


def test_a_failed_read_fails_every_waiter_and_the_next_read_recovers(engine):
    reader = SharedVersionReader(lambda: engine)
    reader._read = lambda: 1 / 0  # the database is away for this read

    async def burst():
        return await asyncio.gather(*(reader.read() for _ in range(5)), return_exceptions=True)

    assert all(isinstance(r, ZeroDivisionError) for r in asyncio.run(burst()))
    del reader._read
    assert asyncio.run(reader.read()) == version_of(engine)


def test_the_sqlite_reader_sees_each_commit(engine):
    path = sqlite_path(engine)
    if path is None:
        assert engine.dialect.name != "sqlite"
        return
    reader = SQLiteVersionReader(path)
    first = reader.read()
    assert first == version_of(engine)
    load(engine, bundle(tags=[tag("rights")]))
    assert reader.read() == version_of(engine) > first
