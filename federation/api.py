"""The federation endpoints, ``/federation/v1``: the public instance document, and the
signed endpoints peers call: ``ping``, the change feed, attachments' bytes and bookings.

Errors are the JSON body of sharing/errors.py; a refused signature is a 401 whose ``code`` is
the reason (docs/federation.md §4.6).
"""

import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Blueprint, Response, current_app, g, jsonify, request, send_file

from federation import blobs, bookings, feed, services, signing
from federation.models import Peer
from federation.schemas import dump_instance_document
from sharing.errors import Unauthorized
from sharing.extensions import db
from sharing.loans import services as loans

bp = Blueprint("federation", __name__, url_prefix="/federation/v1")

F = TypeVar("F", bound=Callable[..., Any])

FRENCH_REASONS = {
    signing.Reason.SIGNATURE_MISSING: "Requête de fédération non signée.",
    signing.Reason.SIGNATURE_INVALID: "Signature de fédération invalide.",
    signing.Reason.UNKNOWN_KEY: "Clé inconnue : cette instance n'est pas appairée avec nous.",
    signing.Reason.EXPIRED: "Signature expirée ou datée dans le futur (horloges à vérifier).",
    signing.Reason.REPLAYED: "Requête rejouée : ce nonce a déjà servi.",
    signing.Reason.DIGEST_MISMATCH: "Le corps de la requête ne correspond pas à son empreinte.",
}


def require_peer_signature(view: F) -> F:
    """Let the view run only for a request signed by an active peer, found in ``g.peer``.

    Verification commits its own bookkeeping before the view runs: the nonce it consumed, a
    peer key it refreshed, or the failure it refused. Those must stand whatever the view
    then does (a rolled-back view must not free its nonce for a replay).
    """

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        identity = services.require_identity()
        outcome = signing.verify_request(
            signing.message_from_request(request, identity.url),
            keys=services.PeerKeys(),
            nonces=services.DatabaseNonces(),
            skew_seconds=int(current_app.config["FEDERATION_CLOCK_SKEW_SECONDS"]),
        )
        if isinstance(outcome, signing.Rejected):
            services.record_signature_failure(outcome, request.method, request.path)
            db.session.commit()
            raise Unauthorized(
                FRENCH_REASONS[outcome.reason],
                code=outcome.reason.value,
                details={"detail": outcome.detail},
            )
        db.session.commit()
        g.peer = outcome.owner
        g.signature = outcome
        return view(*args, **kwargs)

    return cast(F, wrapper)


@bp.get("/instance")
def instance_document() -> Response:
    """This instance's public identity; 404 until ``flask federation init``."""
    response = jsonify(dump_instance_document(services.require_identity()))
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/ping", methods=["GET", "POST"])
@require_peer_signature
def ping() -> Response:
    """Whether we accept the caller's signature: who we are, and who we think it is. A POST
    (with any body) also proves that bodies, their digest and nonces get through."""
    identity = services.require_identity()
    peer: Peer = g.peer
    answer: dict[str, Any] = {
        "instance_id": str(identity.id),
        "peer": {"instance_id": str(peer.instance_id), "url": peer.url, "name": peer.name},
    }
    if request.method == "POST":
        answer["received_bytes"] = len(request.get_data(cache=True))
    return jsonify(answer)


@bp.get("/changes")
@require_peer_signature
def changes() -> Response:
    """One page of our change feed (docs/federation.md §7)."""
    try:
        limit = int(request.args.get("limit", feed.DEFAULT_PAGE))
    except ValueError:
        limit = 0
    if not 1 <= limit <= feed.MAX_PAGE:
        raise feed.BadCursor(f"limit doit être entre 1 et {feed.MAX_PAGE}.")
    page = feed.read_page(services.require_identity(), request.args.get("since"), limit)
    return jsonify(page.as_json())


@bp.get("/blobs/<sha256>")
@require_peer_signature
def blob(sha256: str) -> Response:
    """The bytes of an attachment of one of our live documents, by their SHA-256."""
    path = blobs.published_blob(sha256)
    return send_file(path, mimetype="application/octet-stream", max_age=0)


# Cross-instance bookings (docs/federation.md §9) ------------------------------------------


@bp.post("/bookings")
@require_peer_signature
def request_booking() -> tuple[Response, int]:
    """A peer asks for one of our resources for a régie it hosts: 201 with our booking,
    409 ``booking_conflict``, 403 ``origin_mismatch``; the same ``request_id`` again gets the
    first answer."""
    answer = bookings.receive_request(g.peer, request.get_json(silent=True))
    db.session.commit()
    return jsonify(answer), 201


@bp.get("/bookings")
@require_peer_signature
def list_bookings() -> Response:
    """The caller's bookings of our resources (``requester`` must be the caller)."""
    return jsonify({"bookings": bookings.list_peer_bookings(g.peer, request.args)})


@bp.get("/bookings/<uuid:booking_id>")
@require_peer_signature
def get_booking(booking_id: uuid.UUID) -> Response:
    """One of the caller's bookings of our resources, as it stands."""
    return jsonify(bookings.state_of(bookings.peer_booking(g.peer, booking_id)))


@bp.post("/bookings/<uuid:booking_id>/cancel")
@require_peer_signature
def cancel_booking(booking_id: uuid.UUID) -> Response:
    """The caller asks to cancel one of its bookings; our lifecycle decides."""
    answer = bookings.receive_cancel(g.peer, booking_id, request.get_json(silent=True))
    db.session.commit()
    booking = bookings.peer_booking(g.peer, booking_id)
    loans.send_waiting_messages(booking)  # its status report, at once if the caller listens
    return jsonify(answer)


@bp.post("/booking-status")
@require_peer_signature
def booking_status() -> Response:
    """The origin of a resource reports a booking's new state; applied if newer."""
    answer = bookings.receive_status(g.peer, request.get_json(silent=True))
    db.session.commit()
    return jsonify(answer)
