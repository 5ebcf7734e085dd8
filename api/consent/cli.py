"""`masthead consent verify`."""

import typer

from api.consent.ledger import verify_ledger
from api.core.db import make_engine, make_sessionmaker
from api.core.settings import SettingsError, load_settings

consent_app = typer.Typer(help="The consent ledger (hash-chained).", no_args_is_help=True)


@consent_app.command("verify")
def verify_command() -> None:
    """Walk every subscriber's consent chain. Exit 1 naming the first broken event of each
    broken chain; else print the counts and the digest of every chain's head (keep it
    elsewhere to tell later that nothing changed since)."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        typer.echo(f"masthead: {exc}", err=True)
        raise typer.Exit(2) from None
    engine = make_engine(settings)
    try:
        with make_sessionmaker(engine)() as session:
            result = verify_ledger(session)
    finally:
        engine.dispose()
    for found in result.breaks or []:
        typer.echo(f"masthead: consent ledger broken: {found}", err=True)
    if result.breaks:
        raise typer.Exit(1)
    typer.echo(
        f"consent ledger verified: {result.events} events of {result.subscribers} "
        f"subscribers; digest {result.digest}"
    )
