"""``flask loans`` jobs, meant for cron (see docs/operations.md)."""

import click
from flask.cli import AppGroup

from sharing.db import utcnow
from sharing.extensions import db
from sharing.loans import notifications, services

loans_cli = AppGroup("loans", help="Scheduled jobs for loans.")


@loans_cli.command("expire")
def expire() -> None:
    """Expire the requests nobody decided in time."""
    count = services.expire_requests(utcnow())
    db.session.commit()
    click.echo(f"{count} demande(s) expirée(s)")


@loans_cli.command("notify")
@click.option("--batch", default=100, show_default=True, help="Messages claimed at a time.")
def notify(batch: int) -> None:
    """Queue reminders and overdue notices, then deliver the outbox (each message once)."""
    now = utcnow()
    notifications.queue_reminders(now)
    db.session.commit()
    worker, sent = notifications.new_worker_id(), 0
    while claimed := notifications.claim(worker, utcnow(), batch):
        db.session.commit()  # the claim is visible before anything is sent
        for message in claimed:
            notifications.send(message)
            notifications.mark_sent(message, utcnow())
            db.session.commit()
            sent += 1
    click.echo(f"{sent} message(s) envoyé(s)")
