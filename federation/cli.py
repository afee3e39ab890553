"""``flask federation …``: identity, pairing, keys, sync and status. Each command commits
once, at its end, except ``sync``, which commits per page (docs/federation.md §8)."""

import time

import click
from flask.cli import AppGroup

from federation import bookings, services
from federation import sync as federation_sync
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


@federation_cli.command("sync")
@click.option("--peer", "url", help="Only this peer (its URL).")
@click.option("--loop", is_flag=True, help="Pull again every --interval seconds, forever.")
@click.option("--interval", default=300, show_default=True, type=click.IntRange(min=1))
@click.option("--full", is_flag=True, help="Read the whole feed again (a full resync).")
@click.option(
    "--allow-mass-delete", is_flag=True, help="Let a full resync delete what it found gone."
)
def sync(url: str | None, loop: bool, interval: int, full: bool, allow_mass_delete: bool) -> None:
    """Pull the change feed of every peer (or one), then exchange booking messages (ask
    origins for our open bookings, send the outbox); exit code 1 when a pull failed."""
    while True:
        try:
            reports = federation_sync.sync_peers(
                url,
                client=services.default_client(),
                allow_mass_delete=allow_mass_delete,
                full=full,
            )
        except DomainError as error:
            raise _fail(error) from None
        for report in reports:
            counts = " ".join(f"{name}={value}" for name, value in report.counts.items())
            state = "ok" if report.ok else f"FAILED: {report.error}"
            click.echo(
                f"{report.peer_url}: {state} pages={report.pages} {counts} "
                f"blobs={report.blobs_fetched}"
            )
        failed = any(not report.ok for report in reports)
        _exchange_booking_messages()
        if not loop:
            if failed:
                raise SystemExit(1)
            return
        full = False  # a full resync once, then incremental pulls
        time.sleep(interval)


@federation_cli.command("status")
def status() -> None:
    """Per peer: cursor, lag, last success, last error, counts, quarantine, signature failures."""
    for peer in services.list_peers():
        click.echo(f"{peer.url} ({peer.name}, {peer.instance_id})")
        click.echo(
            f"  cursor: {peer.cursor or '-'}  lag: {_or_dash(peer.lag)}"
            + ("  FULL RESYNC IN PROGRESS" if peer.resyncing else "")
        )
        click.echo(f"  last success: {_or_dash(peer.last_success_at)}")
        click.echo(f"  last error: {_or_dash(peer.last_error_at)} {peer.last_error or ''}".rstrip())
        click.echo(
            f"  records: added {peer.records_added}, updated {peer.records_updated}, "
            f"deleted {peer.records_deleted}, quarantined {peer.records_quarantined}, "
            f"rejected {peer.records_rejected}"
        )
        for held in services.list_quarantined(peer, limit=10):
            click.echo(
                f"  quarantined {held.record_type} {held.record_id} v{held.version}: {held.error}"
            )
        for message in bookings.pending_messages(peer, limit=10):
            state = "FAILED" if message.failed_at else f"waiting (attempts {message.attempts})"
            click.echo(
                f"  booking message {message.kind} {message.request_id} {state}: "
                f"{message.last_error or '-'}"
            )
        failures = services.list_signature_failures(peer, limit=10)
        for failure in failures:
            click.echo(
                f"  refused signature {failure.at:%Y-%m-%d %H:%M} {failure.reason} "
                f"{failure.method} {failure.path} skew={_or_dash(failure.skew_seconds)}"
            )


def _or_dash(value: object) -> str:
    return "-" if value is None else str(value)


@federation_cli.command("deliver")
def deliver() -> None:
    """Exchange booking messages with peers now (also done by every ``sync``)."""
    _exchange_booking_messages()


def _exchange_booking_messages() -> None:
    """Reconcile open remote bookings with their origins, then send what is due."""
    reconciled = bookings.reconcile_all()
    delivered = bookings.deliver_due()
    click.echo(
        f"bookings: reconciled={reconciled.reconciled} sent={delivered.sent} "
        f"retried={delivered.retried} failed={delivered.failed}"
    )
    for error in reconciled.errors:
        click.echo(f"bookings: {error}")
