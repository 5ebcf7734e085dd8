"""`masthead tokens create|list|revoke`."""

from datetime import datetime
from typing import Annotated

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from sqlmodel import col

from api.auth.models import ApiToken, Role
from api.auth.service import get_token_by_name, issue_token, list_tokens, revoke_token
from api.core.db import make_engine, make_sessionmaker, utcnow
from api.core.errors import ProblemError
from api.core.settings import SettingsError, load_settings

tokens_app = typer.Typer(help="API tokens (shown once, stored hashed).", no_args_is_help=True)


def _sessionmaker() -> sessionmaker[Session]:
    try:
        settings = load_settings()
    except SettingsError as exc:
        typer.echo(f"masthead: {exc}", err=True)
        raise typer.Exit(2) from None
    return make_sessionmaker(make_engine(settings))


@tokens_app.command("create")
def create_token(
    name: Annotated[str, typer.Option(help="Unique name (shown in the audit log).")],
    role: Annotated[Role, typer.Option(help="contributor, editor, admin or content.")],
    expires_at: Annotated[
        datetime | None, typer.Option(help="Expiry (ISO 8601, UTC); never by default.")
    ] = None,
) -> None:
    """Issue a token and print it once, alone on the last line."""
    with _sessionmaker()() as session, session.begin():
        existing = session.scalars(select(ApiToken).where(col(ApiToken.name) == name)).first()
        if existing is not None:
            typer.echo(f"masthead: {name_taken(existing)}", err=True)
            raise typer.Exit(1)
        try:
            row, token = issue_token(
                session, name=name, role=role, now=utcnow(), expires_at=expires_at
            )
        except ProblemError as exc:
            typer.echo(f"masthead: {exc.detail}", err=True)
            raise typer.Exit(1) from None
    typer.echo(f"created {row.role} token {row.name!r} (store it now; it is not shown again):")
    typer.echo(token)


def state_of(token: ApiToken, now: datetime) -> str:
    if token.revoked_at:
        return "revoked"
    if token.expires_at and token.expires_at <= now:
        return "expired"
    return "active"


def name_taken(token: ApiToken) -> str:
    """What to do instead of creating a second token under a name (names are never reused:
    the audit log and revoked tokens keep them)."""
    state = state_of(token, utcnow())
    instead = "pick another --name"
    if state == "active":
        instead += f", and to replace it, `masthead tokens revoke {token.name}` afterwards"
    return f"a token named {token.name!r} exists ({token.role}, {state}): {instead}"


def last_use(token: ApiToken) -> str:
    if token.last_used_at is None:
        return "never"
    return token.last_used_at.strftime("%Y-%m-%dT%H:%M:%SZ")


@tokens_app.command("list")
def list_command() -> None:
    """Tokens by name, role, state and last use (never the tokens themselves)."""
    now = utcnow()
    with _sessionmaker()() as session:
        for token in list_tokens(session):
            typer.echo(
                f"{token.name}\t{token.role}\t{state_of(token, now)}"
                f"\tlast_used={last_use(token)}\tuses={token.use_count}"
            )


@tokens_app.command("revoke")
def revoke_command(name: Annotated[str, typer.Argument(help="The token's name.")]) -> None:
    """Revoke a token at once."""
    with _sessionmaker()() as session, session.begin():
        try:
            revoke_token(session, get_token_by_name(session, name), utcnow())
        except ProblemError as exc:
            typer.echo(f"masthead: {exc.detail}", err=True)
            raise typer.Exit(1) from None
    typer.echo(f"revoked {name}")
