"""The `masthead` command.

An operator's mistake (a bad setting or argument, a database out of reach, a bad migration
revision) ends in one line on stderr naming the cause and what to fix, and a non-zero exit;
tracebacks only with `masthead --debug` or MASTHEAD_LOG_LEVEL=debug.
"""

import contextlib
import gc
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from typer._click.exceptions import NoArgsIsHelpError, UsageError  # typer's own click
from typer.exceptions import Abort, TyperException

from api.auth.cli import tokens_app
from api.consent.cli import consent_app
from api.core import migrations
from api.core.db import make_engine, make_sessionmaker, refresh_planner_statistics, utcnow
from api.core.settings import Settings, SettingsError, load_settings
from api.importers import ImportSource

err = Console(stderr=True)


def say(message: str) -> None:
    """One line on stderr, as written (never wrapped to the terminal's width, no markup)."""
    err.print(message, highlight=False, markup=False, soft_wrap=True)


def fail(message: str, code: int) -> typer.Exit:
    """Print `masthead: message` as one line on stderr and exit with `code`."""
    say(f"masthead: {message}")
    return typer.Exit(code)


def debugging() -> bool:
    return DEBUG["on"] or os.environ.get("MASTHEAD_LOG_LEVEL", "").lower() == "debug"


DEBUG = {"on": False}


def describe_failure(exc: BaseException) -> str:
    """An exception that escaped a command, as one line for an operator."""
    from alembic.util import CommandError
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import DBAPIError

    if isinstance(exc, CommandError):
        return (
            f"migration: {exc} (the REVISION argument: a revision listed by "
            "`masthead db history`, `head`, `base`, or a step such as -1)"
        )
    if isinstance(exc, DBAPIError):
        cause = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        try:
            url = make_url(load_settings().database_url).render_as_string(hide_password=True)
        except SettingsError:
            url = "?"
        if exc.statement is None or exc.connection_invalidated:
            return f"cannot reach the database {url}: {cause} (check MASTHEAD_DATABASE_URL)"
        return f"the database {url} failed: {cause} (MASTHEAD_DATABASE_URL)"
    if isinstance(exc, OSError) and exc.filename:
        try:
            database = load_settings().database_url
        except SettingsError:
            database = ""
        hint = " (check MASTHEAD_DATABASE_URL)" if str(exc.filename) in database else ""
        return f"{exc.strerror or type(exc).__name__}: {exc.filename}{hint}"
    detail = str(exc).strip().splitlines()
    return (
        f"{type(exc).__name__}: {detail[0] if detail else 'no detail'} "
        "(run `masthead --debug ...` for the traceback)"
    )


class MastheadCommand(typer.Typer):
    """A Typer app whose errors are one line each (see the module's docstring)."""

    def __call__(self, args: list[str] | None = None, prog_name: str | None = None) -> Any:
        command = typer.main.get_command(self)
        try:
            code = command.main(args, prog_name, standalone_mode=False)
        except NoArgsIsHelpError as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except UsageError as exc:
            where = exc.ctx.command_path if exc.ctx else "masthead"
            message = " ".join(exc.format_message().split()).rstrip(".")
            say(f"masthead: {message} (see `{where} --help`)")
            sys.exit(exc.exit_code)
        except TyperException as exc:
            say(f"masthead: {exc.format_message()}")
            sys.exit(exc.exit_code)
        except Abort:
            say("masthead: aborted")
            sys.exit(1)
        except Exception as exc:
            if debugging():
                raise
            say(f"masthead: {describe_failure(exc)}")
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


app = MastheadCommand(help="Masthead: a headless JSON content API.", no_args_is_help=True)
db_app = typer.Typer(help="Database migrations (Alembic).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(tokens_app, name="tokens")
app.add_typer(consent_app, name="consent")
DEMO_BUNDLE = Path(__file__).parent / "demo" / "seed.json"


@app.callback()
def main(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the traceback of an unexpected failure.")
    ] = False,
) -> None:
    """Masthead: a headless JSON content API."""
    DEBUG["on"] = debug


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


@db_app.command("history")
def db_history() -> None:
    """List the migrations, oldest first (their ids are what `db downgrade` takes)."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrations.alembic_config("sqlite://"))
    for revision in reversed(list(script.walk_revisions())):
        head = " (head)" if revision.is_head else ""
        typer.echo(f"{revision.revision}\t{(revision.doc or '').splitlines()[0]}{head}")


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
    except OSError as exc:
        raise fail(f"cannot read the bundle FILE {file}: {exc.strerror or exc}", 1) from None
    try:
        raw = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise fail(f"the bundle FILE {file} is not JSON: {exc}", 1) from None
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


@app.command("backup")
def backup_command(
    path: Annotated[Path, typer.Argument(help="Where to write the copy (one SQLite file).")],
    force: Annotated[bool, typer.Option(help="Replace PATH if it exists.")] = False,
) -> None:
    """Copy the SQLite database, consistently, while the server runs (SQLite only)."""
    from api.core.backup import BackupError, backup

    settings = settings_or_exit()
    try:
        written = backup(settings.database_url, path, force=force)
    except BackupError as exc:
        raise fail(str(exc), 1) from None
    say(f"backed up to {written} ({written.stat().st_size} bytes)")


@app.command("restore")
def restore_command(
    path: Annotated[Path, typer.Argument(help="A file written by `masthead backup`.")],
    force: Annotated[
        bool, typer.Option(help="Replace the content of an existing database.")
    ] = False,
) -> None:
    """Replace the SQLite database's content with a backup's, in one step (SQLite only)."""
    from api.core.backup import BackupError, restore

    settings = settings_or_exit()
    try:
        target = restore(settings.database_url, path, force=force)
    except BackupError as exc:
        raise fail(str(exc), 1) from None
    engine = make_engine(settings)
    try:
        migrations.upgrade(engine)
        say(f"restored {path} into {target} (migration {migrations.current_revision(engine)})")
    finally:
        engine.dispose()


def load_demo_if_empty(settings: Settings) -> bool:
    """Load the seed page's content when the database has no articles at all."""
    from sqlalchemy import func, select

    from api.articles.models import Article

    engine = make_engine(settings)
    with make_sessionmaker(engine)() as session:
        if session.scalar(select(func.count()).select_from(Article)):
            return False
    run_import(settings, orjson.loads(DEMO_BUNDLE.read_bytes()), show_progress=False)
    from api.demo import save_demo_site

    engine = make_engine(settings)
    try:
        save_demo_site(engine)  # the publication's name, URL and menus
    finally:
        engine.dispose()
    return True


def sample_article(settings: Settings) -> str | None:
    """A published article's slug to show on start-up: the demo's, else the newest."""
    from sqlalchemy import select
    from sqlmodel import col

    from api.articles.models import Article, ArticleStatus

    demo = [
        a["slug"]
        for a in orjson.loads(DEMO_BUNDLE.read_bytes())["articles"]
        if a.get("kind", "article") == "article"  # pages are not under /v1/articles
    ]
    engine = make_engine(settings)
    try:
        with make_sessionmaker(engine)() as session:
            visible = select(col(Article.slug)).where(
                col(Article.status) == ArticleStatus.published,
                col(Article.deleted_at).is_(None),
                col(Article.published_at) <= utcnow(),
            )
            slug = session.scalar(visible.where(col(Article.slug).in_(demo)).limit(1))
            return slug or session.scalar(
                visible.order_by(col(Article.published_at).desc()).limit(1)
            )
    finally:
        engine.dispose()


def masthead_command() -> str:
    """How the operator runs this command, for the hints printed on start-up."""
    ran = Path(sys.argv[0])
    if ran.name == "masthead" and shutil.which("masthead") != str(ran.resolve()):
        try:
            return str(ran.resolve().relative_to(Path.cwd()))
        except ValueError:
            return str(ran)
    return "masthead"


def where_to_start(base: str, article: str | None) -> list[str]:
    lines = [
        "",
        f"Masthead is serving at {base}/",
        f"  {base}/          the API's entry points",
        f"  {base}/docs      interactive documentation (also /redoc)",
    ]
    if article:
        lines.append(f"  {base}/v1/articles/{article}")
    lines += [
        "An editor token for the admin API (shown once):",
        f"  {masthead_command()} tokens create --name you --role editor",
        "",
    ]
    return lines


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
    from api.subscriptions.outbox import SERVED_AT, refuse_to_lose_mail

    settings = settings_or_exit()
    if problem := refuse_to_lose_mail(settings):
        raise fail(problem, 2)
    engine = make_engine(settings)
    say(f"migrating {engine.url.render_as_string(hide_password=True)}")
    migrations.upgrade(engine)
    say(f"database at migration {migrations.current_revision(engine)}")
    refresh_planner_statistics(engine)
    engine.dispose()
    if demo and load_demo_if_empty(settings):
        say("loaded the demo content (api/demo/seed.json)")
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    base = f"http://{f'[{shown_host}]' if ':' in shown_host else shown_host}:{port}"
    # Emails link to the configured public URL; without one, to this server (see outbox).
    os.environ[SERVED_AT] = base
    hints = where_to_start(base, sample_article(settings))
    if examples:
        from api.examples import EXAMPLES

        if not EXAMPLES.is_dir():
            raise fail(f"--examples: {EXAMPLES} does not exist; run from a checkout", 2)
        # The app reads its settings from the environment (api.asgi), in every worker.
        os.environ["MASTHEAD_EXAMPLES"] = "true"
        hints.insert(-3, f"  {base}/examples/seed-page/   the seed page, built on the API")
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "workers": workers,
        "log_level": settings.log_level,
        "proxy_headers": False,
        # uvicorn's own 400 (a request it cannot parse) as a problem document too.
        "http": HTTP_PROTOCOL,
        # A loaded small host can take longer than uvicorn's 5 s to answer the supervisor.
        "timeout_worker_healthcheck": settings.worker_healthcheck_seconds,
    }
    if workers > 1:
        for line in hints:
            say(line)
        uvicorn.run("api.asgi:app", **options)
        return

    class TalkingServer(uvicorn.Server):
        """Says where to start once it listens (after uvicorn's own lines)."""

        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets)
            if self.started:
                for line in hints:
                    say(line)

    server = TalkingServer(uvicorn.Config("api.asgi:app", **options))
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    if not server.started:
        raise typer.Exit(3)


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
