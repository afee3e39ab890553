"""``flask`` commands for administrators. Each command commits once, at its end."""

from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask.cli import AppGroup
from marshmallow import Schema, ValidationError

from sharing import backup, search
from sharing.accounts import services as accounts
from sharing.accounts.schemas import TokenArgs, UserArgs
from sharing.errors import DomainError
from sharing.extensions import db
from sharing.regies import services as regies
from sharing.regies.schemas import RegieArgs

# AppGroup runs each command inside the application context, whoever invokes it (the
# ``flask`` script, or ``app.test_cli_runner()`` which does not push a context itself).
regies_cli = AppGroup("regies", help="Manage the régies hosted here.")
users_cli = AppGroup("users", help="Manage accounts and API tokens.")
demo_cli = AppGroup("demo", help="Demonstration data.")
search_cli = AppGroup("search", help="The full-text search index.")
backup_cli = AppGroup("backup", help="Archives of the database, attachments and keys.")


def _load(schema: Schema, data: dict[str, Any]) -> dict[str, Any]:
    try:
        return dict(schema.load(data))
    except ValidationError as error:
        messages = error.normalized_messages()
        lines = [f"{field}: {' '.join(map(str, msgs))}" for field, msgs in messages.items()]
        raise click.ClickException("; ".join(lines)) from None


def _fail(error: DomainError) -> click.ClickException:
    db.session.rollback()
    fields = error.details.get("fields") or {}
    detail = "; ".join(f"{k}: {' '.join(v)}" for k, v in fields.items())
    return click.ClickException(f"{error.message} {detail}".strip())


@regies_cli.command("create")
@click.option("--name", required=True)
@click.option("--slug", required=True)
@click.option("--city", required=True)
@click.option("--postcode")
@click.option("--timezone", default="Europe/Paris", show_default=True)
def create_regie(name: str, slug: str, city: str, postcode: str | None, timezone: str) -> None:
    """Create a régie and print its id."""
    data = {"name": name, "slug": slug, "city": city, "timezone": timezone}
    if postcode:
        data["postcode"] = postcode
    try:
        regie = regies.create_regie(None, _load(RegieArgs(), data))
    except DomainError as error:
        raise _fail(error) from None
    db.session.commit()
    click.echo(str(regie.id))


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--regie", "regie_slug", required=True, help="The régie's slug.")
@click.option("--role", type=click.Choice(["admin", "manager", "member"]), required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def create_user(email: str, name: str, regie_slug: str, role: str, password: str) -> None:
    """Create an account and print its id."""
    try:
        regie = regies.get_regie_by_slug(regie_slug)
        data = _load(
            UserArgs(),
            {
                "email": email,
                "name": name,
                "password": password,
                "regie_id": str(regie.id),
                "role": role,
            },
        )
        user = accounts.create_user(None, data)
    except DomainError as error:
        raise _fail(error) from None
    db.session.commit()
    click.echo(str(user.id))


@users_cli.command("token")
@click.option("--email", required=True)
@click.option("--label", default="cli")
def create_token(email: str, label: str) -> None:
    """Create a personal API token; the token alone is printed on the last line."""
    args = _load(TokenArgs(), {"email": email, "password": "-", "label": label})
    try:
        user = accounts.get_user_by_email(args["email"])
    except DomainError as error:
        raise _fail(error) from None
    if not user.is_enabled:
        raise click.ClickException(
            f"Le compte {user.email} est désactivé : un jeton serait refusé."
        )
    token, secret = accounts.create_token(user, args["label"])
    db.session.commit()
    click.echo(f"Token {token.id} for {user.email} ({token.label}):")
    click.echo(secret)


@demo_cli.command("seed")
def seed_demo() -> None:
    """Load realistic French demo data; running it again changes nothing."""
    from sharing.demo import seed

    summary = seed()
    db.session.commit()
    click.echo(summary)


@search_cli.command("reindex")
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    help="Only this kind of record (repeatable); all of them by default.",
)
def reindex_search(kinds: tuple[str, ...]) -> None:
    """Rebuild the search index from the records; needed once after upgrading to the French
    full-text search, and whenever the analysis changes."""
    known = search.registered_kinds()
    unknown = sorted(set(kinds) - set(known))
    if unknown:
        raise click.BadParameter(
            f"{', '.join(unknown)} (known: {', '.join(known)})", param_hint="--kind"
        )
    counts = search.reindex(kinds or None)
    db.session.commit()
    for kind, count in counts.items():
        click.echo(f"{kind}: {count} indexed")


@backup_cli.command("create")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The archive to write (default: BACKUP_DIR/sharing-<UTC time>.tar.gz).",
)
def create_backup(output: Path | None) -> None:
    """Write a .tar.gz of the database, attachments and federation keys; prints its path."""
    try:
        path, manifest = backup.create_backup(output)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from None
    rows = sum(manifest.counts.values())
    click.echo(
        f"{manifest.database} database at revision {manifest.alembic_revision}, {rows} rows, "
        f"{len(manifest.files) - 1} files"
    )
    click.echo(str(path))


@backup_cli.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore_backup(path: Path, yes: bool) -> None:
    """Replace the database, attachments and keys with an archive's, then change the
    federation epoch so that peers resync. Stop the web server and jobs first."""
    if not yes:
        click.confirm(
            f"Replace this instance's database ({db.engine.url.render_as_string()}) with {path}?",
            abort=True,
        )
    try:
        report = backup.restore_backup(path)
    except backup.BackupError as error:
        db.session.rollback()
        raise click.ClickException(f"restore refused: {error}") from None
    db.session.commit()
    manifest = report.manifest
    click.echo(f"Restored the backup of {manifest.created_at} ({report.files} files).")
    if report.upgraded_from:
        click.echo(f"Schema upgraded from {report.upgraded_from} to {backup.code_head()}.")
    click.echo("The federation epoch changed: peers will resync fully.")


def register_commands(app: Flask) -> None:
    for group in (regies_cli, users_cli, demo_cli, search_cli, backup_cli):
        app.cli.add_command(group)
