"""`masthead backup` and `masthead restore` for SQLite, through SQLite's online backup API.

A backup is one read transaction on a running database (WAL: writers go on meanwhile), so it
is a consistent snapshot. A restore copies the backup into the live database file through the
same API, in one step: other connections see the old content or the new, never a mixture.
PostgreSQL has its own tools (`pg_dump`, `pg_restore`); Masthead does not wrap them.
"""

import os
import sqlite3
import tempfile
from contextlib import closing
from pathlib import Path

from sqlalchemy.engine import make_url

PG_TOOLS = (
    "on PostgreSQL use its own tools: `pg_dump --format=custom --file=PATH DBNAME` "
    "while the server runs, `pg_restore --clean --if-exists --dbname=DBNAME PATH` to restore"
)


class BackupError(Exception):
    """The backup or restore cannot be done; the message says why in one line."""


def sqlite_path(database_url: str) -> Path:
    """The database file named by MASTHEAD_DATABASE_URL, or BackupError (PostgreSQL, memory)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        raise BackupError(PG_TOOLS)
    if not url.database or url.database == ":memory:":
        raise BackupError("MASTHEAD_DATABASE_URL names an in-memory database: nothing to copy")
    return Path(url.database)


def _copy(source: Path, target: Path) -> None:
    """Every page of `source` into the new file `target` in one step (one consistent
    snapshot), left in rollback-journal mode: a single self-contained file."""
    with (
        closing(sqlite3.connect(source, timeout=30)) as src,
        closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")


def _check_masthead_database(path: Path, what: str) -> int:
    """Refuse a file that is not a Masthead SQLite database; return its content version."""
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
            tables = {
                name
                for (name,) in connection.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'"
                )
            }
            if not {"alembic_version", "content_version"} <= tables:
                raise BackupError(f"{what} {path} is not a Masthead database (no migrations)")
            row = connection.execute("SELECT version FROM content_version WHERE id = 1").fetchone()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{what} {path} is not an SQLite database: {exc}") from None
    return int(row[0]) if row else 0


def _current_version(path: Path) -> int:
    """The content version of the database about to be replaced (0 if it has none)."""
    if not path.exists():
        return 0
    try:
        with closing(sqlite3.connect(path, timeout=30)) as connection:
            row = connection.execute("SELECT version FROM content_version WHERE id = 1").fetchone()
    except sqlite3.DatabaseError:
        return 0
    return int(row[0]) if row else 0


def _temporary_next_to(path: Path) -> Path:
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    return Path(name)


def backup(database_url: str, destination: Path, *, force: bool = False) -> Path:
    """Copy the live database to `destination` (written aside, then renamed into place)."""
    source = sqlite_path(database_url)
    if not source.exists():
        raise BackupError(f"no database at {source} (MASTHEAD_DATABASE_URL)")
    if destination.exists() and not force:
        raise BackupError(f"{destination} exists: pick another PATH, or pass --force")
    if not destination.parent.is_dir():
        raise BackupError(f"no directory {destination.parent} for PATH")
    _check_masthead_database(source, "MASTHEAD_DATABASE_URL's database")
    partial = _temporary_next_to(destination)
    try:
        _copy(source, partial)
        partial.replace(destination)
    finally:
        partial.unlink(missing_ok=True)
    return destination


def restore(database_url: str, backup_file: Path, *, force: bool = False) -> Path:
    """Replace the configured database's content with `backup_file`'s, atomically.

    The restored content version is set above both databases' versions, so a running
    server's response caches (tagged with the version) drop everything they hold."""
    target = sqlite_path(database_url)
    if not backup_file.is_file():
        raise BackupError(f"no backup file {backup_file} (the PATH argument)")
    restored_version = _check_masthead_database(backup_file, "backup file")
    if target.exists() and target.stat().st_size > 0 and not force:
        raise BackupError(
            f"{target} (MASTHEAD_DATABASE_URL) exists: pass --force to replace its content"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    current_version = _current_version(target)
    staged = _temporary_next_to(target)
    try:
        _copy(backup_file, staged)
        with closing(sqlite3.connect(staged)) as connection, connection:
            connection.execute(
                "UPDATE content_version SET version = ? WHERE id = 1",
                (max(current_version, restored_version) + 1,),
            )
        with (
            closing(sqlite3.connect(staged)) as src,
            closing(sqlite3.connect(target, timeout=30)) as dst,
        ):
            src.backup(dst)
    finally:
        staged.unlink(missing_ok=True)
    return target
