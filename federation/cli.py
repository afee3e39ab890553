"""``flask federation …``: identity, pairing and keys. Each command commits once, at its end."""

import click
from flask.cli import AppGroup

from federation import services
from federation.client import FederationError
from sharing.errors import DomainError
from sharing.extensions import db

federation_cli = AppGroup("federation", help="Federation with other instances.")
peers_cli = AppGroup("peers", help="The instances we are paired with.")
keys_cli = AppGroup("keys", help="This instance's signing key.")
federation_cli.add_command(peers_cli)
federation_cli.add_command(keys_cli)


def _fail(error: DomainError) -> click.ClickException:
    db.session.rollback()
    fields = error.details.get("fields") or {}
    detail = "; ".join(f"{k}: {v}" for k, v in fields.items())
    return click.ClickException(f"{error.message} {detail}".strip())


@federation_cli.command("init")
@click.option("--url", required=True, help="Public base URL, e.g. https://partage.example.org")
@click.option("--name", required=True, help="Display name of this instance.")
def init(url: str, name: str) -> None:
    """Create this instance's identity and key pair; print its id and key fingerprint.

    Running it again with the same URL and name prints the same identity; anything else is
    refused (peers pinned it).
    """
    try:
        identity = services.init_instance(url, name)
    except DomainError as error:
        raise _fail(error) from None
    db.session.commit()
    click.echo(f"instance_id: {identity.id}")
    click.echo(f"url: {identity.url}")
    click.echo(f"key_id: {identity.key_id}")
    click.echo(f"fingerprint: {identity.fingerprint}")


@federation_cli.command("show")
def show() -> None:
    """Print this instance's identity (what peers compare when they pair)."""
    identity = services.get_identity()
    if identity is None:
        raise click.ClickException("No federation identity yet: flask federation init.")
    click.echo(f"instance_id: {identity.id}")
    click.echo(f"url: {identity.url}")
    click.echo(f"name: {identity.name}")
    click.echo(f"key_id: {identity.key_id}")
    click.echo(f"fingerprint: {identity.fingerprint}")


@federation_cli.command("ping")
@click.argument("url")
def ping(url: str) -> None:
    """Send a signed GET and POST ping to a peer: succeeds when it has paired with us too."""
    try:
        client = services.default_client()
        base_url = services.normalise_base_url(url)
        for method in ("GET", "POST"):
            answer = client.ping(base_url, method=method)
            peer = answer.get("peer") or {}
            click.echo(
                f"{method} {base_url}: {answer.get('instance_id')} knows us as "
                f"« {peer.get('name')} »"
            )
    except FederationError as error:
        raise click.ClickException(str(error)) from None
    except DomainError as error:
        raise _fail(error) from None


@peers_cli.command("add")
@click.argument("url")
@click.option("--fingerprint", help="The peer's key fingerprint, read to you out of band.")
def add_peer(url: str, fingerprint: str | None) -> None:
    """Pair with the instance at URL: fetch its identity and pin its key."""
    try:
        peer = services.add_peer(url, fingerprint, client=services.default_client())
    except DomainError as error:
        raise _fail(error) from None
    db.session.commit()
    click.echo(f"paired: {peer.url} {peer.name} ({peer.instance_id})")
    click.echo(f"fingerprint: {peer.fingerprint}")
    if fingerprint is None:
        click.echo(
            "No --fingerprint given: check this one with the peer's administrator "
            "(flask federation show on their side)."
        )


@peers_cli.command("list")
@click.option("--all", "include_removed", is_flag=True, help="Removed peers too.")
def list_peers(include_removed: bool) -> None:
    """One line per peer: URL, name, instance id, fingerprint, paired (or removed) date."""
    for peer in services.list_peers(include_removed=include_removed):
        state = f"removed {peer.removed_at:%Y-%m-%d}" if peer.removed_at else "active"
        click.echo(
            f"{peer.url}\t{peer.name}\t{peer.instance_id}\t{peer.fingerprint}\t"
            f"paired {peer.paired_at:%Y-%m-%d}\t{state}"
        )


@peers_cli.command("remove")
@click.argument("url")
def remove_peer(url: str) -> None:
    """Stop federating with a peer: its requests are refused from now on."""
    try:
        peer = services.remove_peer(url)
    except DomainError as error:
        raise _fail(error) from None
    db.session.commit()
    click.echo(f"removed: {peer.url}")


@keys_cli.command("rotate")
def rotate_key() -> None:
    """Replace this instance's key pair. Peers pick the new key up on its first use."""
    try:
        identity = services.rotate_key()
    except DomainError as error:
        raise _fail(error) from None
    db.session.commit()
    if identity.previous_public_key:
        services.discard_private_key(identity.previous_public_key)
    click.echo(f"key_id: {identity.key_id}")
    click.echo(f"fingerprint: {identity.fingerprint}")
    click.echo(f"previous key_id: {identity.previous_key_id}")
