"""`masthead import --from ghost|wordpress FILE`: one transaction, a progress bar on a terminal."""

from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from api.core import migrations
from api.core.db import make_engine, make_sessionmaker, refresh_planner_statistics, utcnow
from api.core.settings import Settings
from api.importers import ImportSource
from api.importers.common import Notes, import_posts
from api.importers.ghost import GhostExport
from api.importers.wordpress import WordPressExport


def import_export(
    settings: Settings,
    source: ImportSource,
    path: Path,
    *,
    site_url: str | None,
    console: Console,
) -> dict[str, dict[str, int]]:
    """Import a Ghost or WordPress export; raise ImportRefused (nothing written) when any
    item is invalid. A progress bar goes to `console` when it is a terminal, and notes on
    what was left out after the commit."""
    notes = Notes()
    # Each reader checks its file before any transaction begins.
    export: GhostExport | WordPressExport = (
        GhostExport(path, site_url, notes)
        if source is ImportSource.ghost
        else WordPressExport(path, site_url, notes)
    )
    engine = make_engine(settings)
    try:
        migrations.upgrade(engine)
        with make_sessionmaker(engine, lock_first=True)() as session, session.begin():
            if not console.is_terminal:
                report = import_posts(session, export.read(), utcnow(), notes)
            else:
                with Progress(
                    TextColumn("{task.description}"),
                    BarColumn(),
                    TextColumn("{task.percentage:>3.0f}%"),
                    TimeElapsedColumn(),
                    console=console,
                ) as bar:
                    task = bar.add_task(f"reading {path.name}", total=None)

                    def progress(done: int, total: int) -> None:
                        bar.update(task, completed=done, total=total)

                    report = import_posts(session, export.read(progress), utcnow(), notes)
    finally:
        refresh_planner_statistics(engine)
        engine.dispose()
    for line in notes.lines():
        console.print(f"masthead: note: {line}", highlight=False, markup=False, soft_wrap=True)
    return report
