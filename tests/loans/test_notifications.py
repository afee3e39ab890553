"""The outbox of French e-mails: who is told what, reminders queued once, and ``flask loans
notify`` delivering each message exactly once even when two jobs run at the same time."""

import re
import socketserver
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from sharing.extensions import db
from sharing.loans import notifications
from sharing.loans.models import Booking, Notification
from tests.loans.helpers import Parties, act, book, iso, request, request_in_the_past, soon

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SENT = re.compile(r"^(\d+) message\(s\) envoyé\(s\)$", re.MULTILINE)


def outbox(app, booking_id: Any = None) -> list[Notification]:
    with app.app_context():
        stmt = select(Notification).order_by(Notification.created_at, Notification.key)
        if booking_id is not None:
            stmt = stmt.where(Notification.booking_id == uuid.UUID(str(booking_id)))
        return list(db.session.scalars(stmt))


def kinds(messages: list[Notification]) -> Counter[tuple[str, str]]:
    """``(kind, recipient)`` of each message; the kind is the first part of its key."""
    return Counter((m.key.split(":")[0], m.recipient) for m in messages)


@pytest.fixture
def managers(make, parties: Parties):
    """The lending régie has a second manager; both are told of new requests."""
    return [parties.lender, make.user("manager", regie=parties.regies["lender"])]


def test_a_request_tells_every_manager_of_the_lender(app, client, parties, resource, managers):
    parties.user("lender_member")  # a member is not told
    booking = book(client, parties, resource, "requested", soon(2))
    messages = outbox(app, booking["id"])
    assert kinds(messages) == Counter({("requested", m.email): 1 for m in managers})
    message = messages[0]
    assert message.subject == "Nouvelle demande : Remorque plateau 750 kg"
    assert parties.regies["borrower"].name in message.body
    assert "Pour le chantier d'insertion" in message.body
    assert message.sent_at is None
    assert message.claimed_by is None


def test_decisions_and_cancellations_reach_the_other_side(app, client, parties, resource, managers):
    requester = parties.user("borrower_member")
    approved = book(client, parties, resource, "approved", soon(2))
    declined = book(client, parties, resource, "declined", soon(3))
    by_borrower = book(client, parties, resource, "approved", soon(4))
    act(client, parties["borrower_manager"], by_borrower["id"], "cancel")
    by_lender = book(client, parties, resource, "requested", soon(5))
    act(client, parties["lender_manager"], by_lender["id"], "cancel")
    handed_over = book(client, parties, resource, "returned", soon(6))

    def told(booking: dict[str, Any]) -> Counter[tuple[str, str]]:
        return kinds(outbox(app, booking["id"])) - Counter(
            {("requested", m.email): 1 for m in managers}
        )

    assert told(approved) == Counter({("approved", requester.email): 1})
    assert told(declined) == Counter({("declined", requester.email): 1})
    assert told(by_borrower) == Counter(
        {("approved", requester.email): 1} | {("cancelled", m.email): 1 for m in managers}
    )
    assert told(by_lender) == Counter({("cancelled", requester.email): 1})
    assert told(handed_over) == Counter(
        {("approved", requester.email): 1}
    )  # no e-mail for handovers
    subjects = {m.subject for m in outbox(app, declined["id"])}
    assert "Demande refusée : Remorque plateau 750 kg" in subjects


def test_a_refused_request_announces_nothing(app, client, parties, resource):
    book(client, parties, resource, "requested", soon(2), hours=4)
    before = len(outbox(app))
    clash = request(client, parties["borrower_manager"], resource, soon(2), soon(3))
    assert clash.status_code == 409
    assert len(outbox(app)) == before


def test_reminders_are_queued_once_per_booking_and_recipient(app, client, parties, resource):
    requester = parties.user("borrower_member")
    pickup_tomorrow = book(client, parties, resource, "approved", soon(0.5))
    pickup_later = book(client, parties, resource, "approved", soon(3))
    undecided_tomorrow = book(client, parties, resource, "requested", soon(0.3))
    return_tomorrow = book(client, parties, resource, "picked_up", soon(4))
    late = book(client, parties, resource, "picked_up", soon(5))
    now = datetime.now(UTC)
    with app.app_context():  # as if days had gone by for these two loans
        for booking_id, ends_at in [
            (return_tomorrow["id"], now + timedelta(hours=20)),
            (late["id"], now - timedelta(hours=3)),
        ]:
            booking = db.session.get(Booking, uuid.UUID(booking_id))
            booking.starts_at, booking.ends_at = ends_at - timedelta(hours=2), ends_at
        db.session.commit()

    with app.app_context():
        notifications.queue_reminders(datetime.now(UTC))
        db.session.commit()
        notifications.queue_reminders(datetime.now(UTC))
        db.session.commit()

    def reminders(booking: dict[str, Any]) -> Counter[tuple[str, str]]:
        messages = outbox(app, booking["id"])
        return Counter(
            (kind, who)
            for (kind, who), n in kinds(messages).items()
            for _ in range(n)
            if kind in ("pickup", "return", "overdue")
        )

    assert reminders(pickup_tomorrow) == Counter({("pickup", requester.email): 1})
    assert reminders(return_tomorrow) == Counter({("return", requester.email): 1})
    assert reminders(late) == Counter({("overdue", requester.email): 1})
    assert reminders(pickup_later) == Counter()
    assert reminders(undecided_tomorrow) == Counter()
    overdue = next(m for m in outbox(app, late["id"]) if m.key.startswith("overdue"))
    assert overdue.subject == "Retard : Remorque plateau 750 kg n'est pas rendu"
    assert parties.regies["lender"].name in overdue.body


def test_notify_sends_each_message_once(app, client, parties, resource):
    for i in range(3):
        book(client, parties, resource, "approved", soon(2 + i))
    queued = len(outbox(app))
    assert queued == 6  # three requests, three decisions
    runner = app.test_cli_runner()
    first = runner.invoke(args=["loans", "notify"])
    assert first.exit_code == 0, first.output
    assert first.output.strip() == f"{queued} message(s) envoyé(s)"
    messages = outbox(app)
    assert all(m.sent_at is not None and m.claimed_by for m in messages)
    assert len({m.claimed_by for m in messages}) == 1
    second = runner.invoke(args=["loans", "notify"])
    assert second.output.strip() == "0 message(s) envoyé(s)"


def run_two_notify_jobs(database_url: str, **config: str) -> list[int]:
    """Start two ``flask loans notify`` processes at once; how many messages each one sent."""
    env = {
        "PATH": str(BIN) + ":/usr/bin:/bin",
        "FLASK_SQLALCHEMY_DATABASE_URI": database_url,
        "FLASK_SECRET_KEY": "notify-test-secret",
    } | {f"FLASK_{key}": value for key, value in config.items()}
    command = [str(BIN / "flask"), "--app", "wsgi.py", "loans", "notify", "--batch", "3"]
    jobs = [
        subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    sent = []
    for job in jobs:
        try:
            out, err = job.communicate(timeout=120)
        finally:
            if job.poll() is None:
                job.kill()
                job.wait()
        assert job.returncode == 0, err
        sent.append(int(SENT.findall(out)[-1]))
    return sent


def queue_many(app, make, client, parties: Parties, resource, requests: int) -> int:
    """``requests`` booking requests, each announced to the lending régie's four managers."""
    for _ in range(3):
        make.user("manager", regie=parties.regies["lender"])
    start = soon(2)
    for i in range(requests):
        book(client, parties, resource, "requested", start + timedelta(hours=3 * i))
    queued = len(outbox(app))
    assert queued == 4 * requests
    return queued


def test_two_notify_jobs_at_once_send_each_message_exactly_once(
    app, make, client, parties, resource, database_url
):
    """Two real processes race over one outbox; with no MAIL_SERVER, messages go to the log."""
    queued = queue_many(app, make, client, parties, resource, 25)
    sent_by_job = run_two_notify_jobs(database_url)

    messages = outbox(app)
    claimed = Counter(m.claimed_by for m in messages)
    print(f"\nnotify (log): {queued} queued, sent by each job {sent_by_job}")
    assert sum(sent_by_job) == queued
    assert all(m.sent_at is not None for m in messages)
    assert None not in claimed
    assert sorted(claimed.values()) == sorted(n for n in sent_by_job if n)


class SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP to receive a message."""

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        self.reply("220 sink.test ESMTP")
        while line := self.rfile.readline():
            verb = line.decode(errors="replace").strip().split(" ")[0].upper()
            if verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                data = b"".join(iter(self.rfile.readline, b".\r\n"))
                sink = self.server
                assert isinstance(sink, SMTPSink)
                sink.rendezvous()
                time.sleep(0.01)  # a relay takes a moment
                message = message_from_bytes(data, policy=policy.default)
                assert isinstance(message, EmailMessage)
                sink.received.append(message)
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("250 OK")


class SMTPSink(socketserver.ThreadingTCPServer):
    """Collects messages. The first message waits (up to 30 s) until a second one arrives,
    which can only come from the other job: the two jobs are certainly sending at once."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), SMTPHandler)
        self.received: list[EmailMessage] = []
        self.arrivals = 0
        self.lock = threading.Lock()
        self.second_arrived = threading.Event()

    def rendezvous(self) -> None:
        with self.lock:
            self.arrivals += 1
            first = self.arrivals == 1
        if first:
            self.second_arrived.wait(30)
        else:
            self.second_arrived.set()


@pytest.fixture
def smtp_sink():
    server = SMTPSink()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_two_notify_jobs_racing_over_smtp_deliver_each_message_once(
    app, make, client, parties, resource, database_url, smtp_sink
):
    """The same race, counted where it matters: at the mail server. A slow relay (40 ms a
    message) keeps the first job busy long enough for the second to join in."""
    queued = queue_many(app, make, client, parties, resource, 30)
    sent_by_job = run_two_notify_jobs(
        database_url,
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=str(smtp_sink.server_address[1]),
        MAIL_USE_TLS="false",
    )
    received = Counter(
        (mail["To"], mail["Subject"], mail.get_content().replace("\r\n", "\n").strip())
        for mail in smtp_sink.received
    )
    expected = Counter((m.recipient, m.subject, m.body.strip()) for m in outbox(app))
    claimed = Counter(m.claimed_by for m in outbox(app))
    print(
        f"\nnotify (SMTP): {queued} queued, {sum(received.values())} received, "
        f"sent by each job {sent_by_job}"
    )
    assert received == expected
    assert set(received.values()) == {1}
    assert sum(sent_by_job) == queued
    assert len(claimed) == 2, "both jobs must have taken part for the race to mean something"
    assert all(n > 0 for n in sent_by_job)


def test_expire_job_expires_stale_requests_and_tells_the_borrower(
    app, make, client, parties, resource
):
    requester = parties.user("borrower_member")
    stale = request_in_the_past(
        app,
        requester,
        resource,
        soon(2),
        soon(2.5),
        now=datetime.now(UTC) - timedelta(days=4),
    )
    # (on another resource: a request on the same one would expire the stale one in passing)
    other = make.resource(parties.lender, name="Remorque benne 1 300 kg", category="vehicules")
    fresh = book(client, parties, other, "requested", soon(2))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["loans", "expire"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "1 demande(s) expirée(s)"
    lender = parties["lender_manager"]
    assert client.get(f"/api/v1/bookings/{stale}", headers=lender).json["status"] == "expired"
    assert client.get(f"/api/v1/bookings/{fresh['id']}", headers=lender).json["status"] == (
        "requested"
    )
    expired = [m for m in outbox(app, stale) if m.key.startswith("expired:")]
    assert [(m.recipient, m.subject) for m in expired] == [
        (requester.email, "Demande expirée : Remorque plateau 750 kg")
    ]
    assert runner.invoke(args=["loans", "expire"]).output.strip() == "0 demande(s) expirée(s)"


@pytest.mark.parametrize("newcomer", ["request", "block"])
def test_a_request_expired_in_passing_still_tells_its_borrower(
    app, client, parties, resource, newcomer
):
    """A new request or an owner's block on the same resource expires a stale request before
    the job runs; its borrower must hear about it all the same (the job will not see it)."""
    requester = parties.user("borrower_member")
    start = soon(2)
    stale = request_in_the_past(
        app,
        requester,
        resource,
        start,
        start + timedelta(hours=4),
        now=datetime.now(UTC) - timedelta(days=4),
    )
    if newcomer == "request":
        answer = request(client, parties["borrower_manager"], resource, start, soon(3))
    else:
        answer = client.post(
            f"/api/v1/resources/{resource.id}/blocks",
            json={"starts_at": iso(start), "ends_at": iso(soon(3)), "reason": "Révision"},
            headers=parties["lender_manager"],
        )
    assert answer.status_code == 201, answer.json
    lender = parties["lender_manager"]
    assert client.get(f"/api/v1/bookings/{stale}", headers=lender).json["status"] == "expired"
    assert app.test_cli_runner().invoke(args=["loans", "expire"]).output.strip() == (
        "0 demande(s) expirée(s)"
    )
    expired = [m for m in outbox(app, stale) if m.key.startswith("expired:")]
    assert [m.recipient for m in expired] == [requester.email]
