"""The `masthead` command."""

import gc
import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from api.auth.cli import tokens_app
from api.core import migrations
from api.core.db import make_engine, make_sessionmaker, refresh_planner_statistics, utcnow
from api.core.settings import Settings, SettingsError, load_settings
from api.importers import ImportSource

app = typer.Typer(help="Masthead: a headless JSON content API.", no_args_is_help=True)
db_app = typer.Typer(help="Database migrations (Alembic).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(tokens_app, name="tokens")
err = Console(stderr=True)
DEMO_BUNDLE = Path(__file__).parent / "demo" / "seed.json"


def fail(message: str, code: int) -> typer.Exit:
    """Print `masthead: message` as one line on stderr (never wrapped to the terminal's width)."""
    err.print(f"masthead: {message}", highlight=False, markup=False, soft_wrap=True)
    return typer.Exit(code)


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        raise fail(str(exc), 2) from None


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Bring the database to the newest (or given) migration."""
    engine = make_engine(settings_or_exit())
    migrations.upgrade(engine, revision)
    typer.echo(f"database at {migrations.current_revision(engine)}")


@db_app.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision, e.g. base.")],
) -> None:
    """Step the database back to REV."""
    engine = make_engine(settings_or_exit())
    migrations.downgrade(engine, revision)
    typer.echo(f"database at {migrations.current_revision(engine)}")


@db_app.command("current")
def db_current() -> None:
    """Print the database's current migration."""
    engine = make_engine(settings_or_exit())
    current = migrations.current_revision(engine)
    head = migrations.head_revision(engine)
    typer.echo(f"{current or 'empty'}{' (head)' if current == head else f' (head is {head})'}")


IMPORT_CACHE_KIB = 1024 * 1024  # SQLite's page cache during an import: up to 1 GiB


def run_import(
    settings: Settings, raw: object, *, show_progress: bool
) -> dict[str, dict[str, int]]:
    from api.bundle.validation import parse_bundle

    engine = make_engine(settings)
    migrations.upgrade(engine)
    bundle = parse_bundle(raw)
    # The parsed bundle is millions of long-lived objects: without this, every full
    # collection of the cyclic GC walks all of them again, and an import's time grows
    # faster than its size.
    gc.collect()
    gc.freeze()
    try:
        return _import_in_one_transaction(engine, bundle, show_progress)
    finally:
        gc.unfreeze()
        refresh_planner_statistics(engine)
        engine.dispose()


def _import_in_one_transaction(
    engine: Any, bundle: Any, show_progress: bool
) -> dict[str, dict[str, int]]:
    from api.bundle.importing import import_bundle

    with make_sessionmaker(engine, lock_first=True)() as session, session.begin():
        if engine.dialect.name == "sqlite":
            # Ids are random, so inserts land all over every index: with SQLite's default
            # 2 MB page cache a large import rereads and respills pages for each row.
            session.connection().exec_driver_sql(f"PRAGMA cache_size = -{IMPORT_CACHE_KIB}")
        if not show_progress:
            return import_bundle(session, bundle, utcnow()).as_dict()
        with Progress(
            TextColumn("{task.description:>14}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            console=err,
        ) as bar:
            tasks: dict[str, TaskID] = {}

            def progress(kind: str, done: int, total: int) -> None:
                if kind not in tasks:
                    tasks[kind] = bar.add_task(kind, total=total)
                bar.update(tasks[kind], completed=done, total=total)

            return import_bundle(session, bundle, utcnow(), progress).as_dict()


@app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="Bundle file (JSON), or - for standard input.")],
    source: Annotated[
        ImportSource | None,
        typer.Option("--from", help="FILE is a Ghost (JSON) or WordPress (WXR) export."),
    ] = None,
    site_url: Annotated[
        str | None, typer.Option(help="The old Ghost site's address (its export lacks it).")
    ] = None,
) -> None:
    """Import a content bundle, or a Ghost or WordPress export: idempotent, all or nothing."""
    from api.core.errors import ProblemError

    settings = settings_or_exit()
    if source is not None:
        from api.importers.cli import import_export

        try:
            report = import_export(settings, source, file, site_url=site_url, console=err)
        except ProblemError as exc:
            raise fail(exc.detail, 1) from None
        typer.echo(json.dumps(report, sort_keys=True))
        return
    try:
        data = sys.stdin.buffer.read() if str(file) == "-" else file.read_bytes()
        raw = orjson.loads(data)
    except (OSError, orjson.JSONDecodeError) as exc:
        raise fail(f"cannot read bundle: {exc}", 1) from None
    try:
        report = run_import(settings, raw, show_progress=err.is_terminal)
    except ProblemError as exc:
        raise fail(exc.detail, 1) from None
    typer.echo(json.dumps(report, sort_keys=True))


@app.command("export")
def export_command(
    file: Annotated[
        Path | None, typer.Argument(help="Output file; standard output if absent.")
    ] = None,
) -> None:
    """Export every item as a content bundle."""
    from api.bundle.exporting import export_bundle

    engine = make_engine(settings_or_exit())
    with make_sessionmaker(engine)() as session:
        data = orjson.dumps(
            export_bundle(session),
            option=orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC | orjson.OPT_INDENT_2,
        )
    if file is None:
        sys.stdout.buffer.write(data + b"\n")
    else:
        file.write_bytes(data + b"\n")
        err.print(f"wrote {file}")


def load_demo_if_empty(settings: Settings) -> bool:
    """Load the seed page's content when the database has no articles at all."""
    from sqlalchemy import func, select

    from api.articles.models import Article

    engine = make_engine(settings)
    with make_sessionmaker(engine)() as session:
        if session.scalar(select(func.count()).select_from(Article)):
            return False
    run_import(settings, orjson.loads(DEMO_BUNDLE.read_bytes()), show_progress=False)
    return True


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
    demo: Annotated[
        bool, typer.Option("--demo/--no-demo", help="Load demo content if empty.")
    ] = True,
    examples: Annotated[
        bool, typer.Option("--examples", help="Also serve examples/ at /examples/.")
    ] = False,
) -> None:
    """Migrate the database, load the demo content when empty, and serve the API."""
    import uvicorn

    from api.core.wire import HTTP_PROTOCOL

    settings = settings_or_exit()
    engine = make_engine(settings)
    migrations.upgrade(engine)
    refresh_planner_statistics(engine)
    engine.dispose()
    if demo and load_demo_if_empty(settings):
        err.print("loaded the demo content (seed page)")
    if examples:
        from api.examples import EXAMPLES

        if not EXAMPLES.is_dir():
            raise fail(f"--examples: {EXAMPLES} does not exist; run from a checkout", 2)
        # The app reads its settings from the environment (api.asgi), in every worker.
        os.environ["MASTHEAD_EXAMPLES"] = "true"
        err.print(f"the seed page, built on the API: http://{host}:{port}/examples/seed-page/")
    uvicorn.run(
        "api.asgi:app",
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level,
        proxy_headers=False,
        # uvicorn's own 400 (a request it cannot parse) as a problem document too.
        http=HTTP_PROTOCOL,
        # A loaded small host can take longer than uvicorn's 5 s to answer the supervisor.
        timeout_worker_healthcheck=settings.worker_healthcheck_seconds,
    )


@app.command("openapi")
def openapi_command(
    output: Annotated[Path, typer.Option(help="Where to write it.")] = Path("openapi/openapi.json"),
) -> None:
    """Write the OpenAPI document generated from the app."""
    from api.openapi import render_openapi

    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render_openapi())
    typer.echo(f"wrote {output}")


if __name__ == "__main__":
    app()
