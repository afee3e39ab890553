"""The federation's web pages: the administrator's « Fédération » page (this instance's
identity, and per peer the sync state, the quarantine, refused signatures and key changes),
and the names of the other instances that ``sharing``'s pages show next to replicated
records. Read-only: pairing and syncing stay ``flask federation`` commands."""

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, render_template
from flask_login import current_user, login_required

from federation import services
from federation.models import Peer, PeerKeyChange, QuarantinedRecord, SignatureFailure
from federation.permissions import can_administer_federation
from sharing.web import INSTANCE_NAMES, require

bp = Blueprint("federation_pages", __name__, template_folder="templates")

# How many of the latest quarantined records, refused signatures and key changes the page
# lists per peer (the CLI lists as many).
LATEST = 10

REASON_LABELS = {
    "signature_missing": "requête non signée",
    "signature_invalid": "signature invalide",
    "expired": "signature périmée ou datée du futur",
    "unknown_key": "clé inconnue",
    "digest_mismatch": "corps modifié (empreinte différente)",
    "replayed": "requête rejouée",
}
TRIGGER_LABELS = {
    "unknown_key": "signature avec une nouvelle clé",
    "admin": "action de l'administrateur",
}
RECORD_LABELS = {"regie": "régie", "resource": "matériel", "document": "document"}


def peer_names() -> dict[str, str]:
    """Every peer's name by instance id, removed peers included (their replicas may stay)."""
    return {str(peer.instance_id): peer.name for peer in services.list_peers(include_removed=True)}


@dataclass
class PeerReport:
    """One peer as the page shows it."""

    peer: Peer
    quarantined: list[QuarantinedRecord]
    failures: list[SignatureFailure]
    key_changes: list[PeerKeyChange]


@bp.get("/admin/federation")
@login_required
def admin() -> Any:
    """This instance's identity and, per peer, how its sync is going."""
    require(
        can_administer_federation(current_user),
        "Cette page est réservée à l'administrateur de l'instance.",
    )
    peers = [
        PeerReport(
            peer=peer,
            quarantined=services.list_quarantined(peer, limit=LATEST),
            failures=services.list_signature_failures(peer, limit=LATEST),
            key_changes=services.list_key_changes(peer, limit=LATEST),
        )
        for peer in services.list_peers(include_removed=True)
    ]
    unattributed = [f for f in services.list_signature_failures(limit=50) if f.peer_id is None]
    return render_template(
        "federation/admin.html",
        identity=services.get_identity(),
        peers=peers,
        unattributed=unattributed[:LATEST],
        reason_labels=REASON_LABELS,
        trigger_labels=TRIGGER_LABELS,
        record_labels=RECORD_LABELS,
    )


def init_app(app: Flask) -> None:
    """The page, and the peers' names for the pages of ``sharing`` (``sharing.web``)."""
    app.register_blueprint(bp)
    app.add_template_global(can_administer_federation)
    app.extensions[INSTANCE_NAMES] = peer_names
