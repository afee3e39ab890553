"""Federation use cases: this instance's identity and key, pairing with peers, and what
signature verification needs from the database (peer keys, the replay cache, the failure
log). Services flush and never commit; the CLI command or the request commits once.
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import current_app
from marshmallow import ValidationError
from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError

from federation import keys, signing
from federation.client import FederationClient, FederationError
from federation.models import (
    Instance,
    Peer,
    PeerKeyChange,
    QuarantinedRecord,
    SeenNonce,
    SignatureFailure,
)
from federation.schemas import InstanceDocumentArgs
from sharing.audit import services as audit
from sharing.db import utcnow
from sharing.errors import Conflict, Invalid, NotFound
from sharing.extensions import db

log = logging.getLogger(__name__)


# -- URLs -------------------------------------------------------------------------------


def normalise_base_url(url: str) -> str:
    """An instance's base URL as we store and compare it: canonical scheme and host, no
    default port, no trailing slash, no query or fragment."""
    try:
        canonical = signing.canonical_url(url)
    except ValueError as error:
        message = f"Adresse d'instance invalide : {error}"
        raise Invalid(message, fields={"url": [str(error)]}) from None
    parts = urlsplit(canonical)
    if parts.query or "#" in url:
        raise Invalid(
            "L'adresse d'une instance n'a ni paramètres ni fragment.",
            fields={"url": ["no query or fragment"]},
        )
    return canonical.rstrip("/")


# -- This instance ----------------------------------------------------------------------


def get_identity() -> Instance | None:
    """This instance's identity, or None before ``flask federation init``."""
    return db.session.scalar(select(Instance))


def require_identity() -> Instance:
    identity = get_identity()
    if identity is None:
        raise NotFound(
            "Cette instance n'a pas d'identité de fédération (flask federation init).",
            code="instance_not_initialised",
        )
    return identity


def init_instance(url: str, name: str) -> Instance:
    """Create this instance's identity and Ed25519 key pair.

    Idempotent: with the URL and name it already has, it returns the existing identity (after
    checking that its private key file is still there). Anything else is refused: peers pinned
    the URL and the key, so changing them is not an ``init`` (see ``rotate_key``).
    """
    url = normalise_base_url(url)
    name = name.strip()
    if not 0 < len(name) <= 200:
        raise Invalid("Nom d'instance requis (200 caractères au plus).", fields={"name": []})
    existing = get_identity()
    if existing is not None:
        if existing.url != url or existing.name != name:
            raise Conflict(
                f"Cette instance a déjà une identité ({existing.id}, {existing.url}, "
                f"« {existing.name} ») ; ses pairs l'ont épinglée, elle ne change pas.",
                code="already_initialised",
            )
        _private_key_of(existing)
        _remember_instance_id(existing)
        return existing

    private_key = Ed25519PrivateKey.generate()
    public_key = private_key.public_key()
    instance_id = uuid.uuid4()
    keys.write_private_key(private_key)  # before the row: a row never points at no file
    identity = Instance(
        id=instance_id,
        singleton=1,
        url=url,
        name=name,
        key_id=keys.make_key_id(instance_id, public_key),
        public_key=keys.encode_public_key(public_key),
        epoch=uuid.uuid4(),
    )
    db.session.add(identity)
    db.session.flush()
    _remember_instance_id(identity)
    log.info("federation identity %s created for %s", instance_id, url)
    return identity


def rotate_key() -> Instance:
    """Give this instance a new key pair; the old key id stays recorded as the previous one.

    Peers learn the new key the first time they meet its key id (they refetch our instance
    document from the URL they paired with). The caller deletes the old private key file
    once the change is committed (``discard_private_key``).
    """
    identity = require_identity()
    private_key = Ed25519PrivateKey.generate()
    public_key = private_key.public_key()
    keys.write_private_key(private_key)
    identity.previous_key_id = identity.key_id
    identity.previous_public_key = identity.public_key
    identity.key_rotated_at = utcnow()
    identity.key_id = keys.make_key_id(identity.id, public_key)
    identity.public_key = keys.encode_public_key(public_key)
    db.session.flush()
    audit.record(
        "federation.key_rotate",
        target=identity.url,
        details={"key_id": identity.key_id, "previous_key_id": identity.previous_key_id},
    )
    log.warning("federation key rotated: %s replaces %s", identity.key_id, identity.previous_key_id)
    return identity


def discard_private_key(encoded_public_key: str) -> None:
    """Delete the private key file of a key we no longer use."""
    keys.delete_private_key(keys.decode_public_key(encoded_public_key))


_private_keys: dict[tuple[str, str], Ed25519PrivateKey] = {}


def _private_key_of(identity: Instance) -> Ed25519PrivateKey:
    cache_key = (str(keys.key_dir()), identity.key_id)
    if cache_key not in _private_keys:
        try:
            _private_keys[cache_key] = keys.read_private_key(identity.verifying_key)
        except keys.KeyFileError as error:
            message = f"Clé privée de fédération illisible : {error}"
            raise Conflict(message, code="key_file") from None
    return _private_keys[cache_key]


def signing_credentials() -> tuple[str, Ed25519PrivateKey]:
    """Our current key id and private key, for signing a request."""
    identity = require_identity()
    return identity.key_id, _private_key_of(identity)


def _remember_instance_id(identity: Instance) -> None:
    """``sharing`` reads the instance id from the config (origin of local records)."""
    current_app.config["INSTANCE_ID"] = str(identity.id)


def default_client() -> FederationClient:
    """A client on the application's transport, signing with our key."""
    config = current_app.config
    return FederationClient(
        current_app.extensions["federation"].transport,
        credentials=signing_credentials,
        timeout=float(config["FEDERATION_HTTP_TIMEOUT_SECONDS"]),
        signature_ttl=int(config["FEDERATION_SIGNATURE_TTL_SECONDS"]),
    )


# -- Peers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeerDocument:
    instance_id: uuid.UUID
    url: str
    name: str
    public_key: str
    key_id: str
    fingerprint: str


def _fetch_document(client: FederationClient, url: str) -> PeerDocument:
    """A peer's instance document, checked: well-formed, and about the URL we asked."""
    try:
        raw = client.fetch_instance_document(url)
    except FederationError as error:
        raise Conflict(f"{url} : {error}", code="peer_unreachable") from None
    try:
        data = InstanceDocumentArgs().load(raw)
    except ValidationError as error:
        raise Invalid(
            f"{url} ne publie pas une identité d'instance valide.",
            code="invalid_instance_document",
            fields=error.normalized_messages(),
        ) from None
    announced = normalise_base_url(data["url"])
    if announced != url:
        raise Conflict(
            f"L'instance jointe à {url} annonce l'adresse {announced} : appairez-la à cette "
            "adresse-là.",
            code="url_mismatch",
        )
    return PeerDocument(
        instance_id=data["instance_id"],
        url=url,
        name=data["name"],
        public_key=data["public_key"],
        key_id=data["key_id"],
        fingerprint=data["fingerprint"],
    )


def normalise_fingerprint(value: str) -> str:
    """Accept what people paste: upper case, colons or spaces between pairs of digits."""
    return "".join(ch for ch in value.lower() if ch not in ": \t")


def add_peer(url: str, fingerprint: str | None = None, *, client: FederationClient) -> Peer:
    """Pair with the instance at ``url``: fetch its identity and pin its key.

    With ``fingerprint`` (read to us out of band), a different key is refused. Adding a peer
    we already have re-pins its current key (recorded as a key change); a removed peer is
    paired again.
    """
    own = require_identity()
    url = normalise_base_url(url)
    document = _fetch_document(client, url)
    if fingerprint is not None and normalise_fingerprint(fingerprint) != document.fingerprint:
        raise Conflict(
            f"L'empreinte de la clé de {url} est {document.fingerprint}, pas "
            f"{normalise_fingerprint(fingerprint)} : appairage refusé.",
            code="fingerprint_mismatch",
        )
    if document.instance_id == own.id:
        raise Conflict("Une instance ne s'appaire pas avec elle-même.", code="self_pairing")

    peer = db.session.scalar(select(Peer).where(Peer.instance_id == document.instance_id))
    same_url = db.session.scalar(select(Peer).where(Peer.url == url))
    if same_url is not None and same_url is not peer:
        if same_url.is_active:
            raise Conflict(
                f"{url} est déjà appairée avec une autre identité ({same_url.instance_id}) : "
                "retirez-la d'abord.",
                code="peer_exists",
            )
        db.session.delete(same_url)  # a removed instance that used to live at this URL
        db.session.flush()
    now = utcnow()
    if peer is None:
        peer = Peer(instance_id=document.instance_id, url=url, paired_at=now)
        db.session.add(peer)
    elif peer.is_active and peer.key_id != document.key_id:
        _record_key_change(peer, document, trigger="admin")
    if not peer.is_active:
        peer.removed_at = None
        peer.paired_at = now
    peer.url = url
    peer.name = document.name
    peer.key_id = document.key_id
    peer.public_key = document.public_key
    peer.fingerprint = document.fingerprint
    db.session.flush()
    audit.record(
        "federation.peer_pair",
        target=url,
        details={"instance_id": str(peer.instance_id), "fingerprint": peer.fingerprint},
    )
    log.info("paired with %s (%s), key %s", url, document.instance_id, document.fingerprint)
    return peer


def list_peers(*, include_removed: bool = False) -> list[Peer]:
    """Peers by URL; the removed ones only when asked."""
    stmt = select(Peer).order_by(Peer.url)
    if not include_removed:
        stmt = stmt.where(Peer.removed_at.is_(None))
    return list(db.session.scalars(stmt))


def get_peer_by_url(url: str) -> Peer:
    peer = db.session.scalar(
        select(Peer).where(Peer.url == normalise_base_url(url), Peer.removed_at.is_(None))
    )
    if peer is None:
        raise NotFound(f"Aucun pair appairé à {url}.", code="peer_not_found")
    return peer


def remove_peer(url: str) -> Peer:
    """Stop trusting a peer: its signatures are refused from now on, both ways."""
    peer = get_peer_by_url(url)
    peer.removed_at = utcnow()
    peer.previous_key_id = peer.previous_public_key = None
    peer.previous_key_valid_until = None
    db.session.flush()
    audit.record(
        "federation.peer_remove", target=peer.url, details={"instance_id": str(peer.instance_id)}
    )
    log.warning("peer %s (%s) removed", peer.url, peer.instance_id)
    return peer


def refresh_peer_identity(peer: Peer, *, client: FederationClient, trigger: str) -> bool:
    """Refetch a peer's instance document from the URL we paired with and adopt its new key.

    Only that URL is trusted for it, and the document must be about the same instance. The
    key it replaces stays valid for ``FEDERATION_PREVIOUS_KEY_GRACE_SECONDS``. A key change
    is recorded (``PeerKeyChange``) and logged for the administrator. True when the key changed.
    """
    peer.key_refresh_attempted_at = utcnow()
    document = _fetch_document(client, peer.url)
    if document.instance_id != peer.instance_id:
        raise Conflict(
            f"{peer.url} annonce maintenant l'instance {document.instance_id}, pas "
            f"{peer.instance_id} : clé non reprise.",
            code="instance_mismatch",
        )
    # Re-read the row under a lock, so that two workers refreshing at once record one change.
    db.session.flush()
    locked = db.session.scalar(
        select(Peer)
        .where(Peer.id == peer.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert locked is not None
    locked.name = document.name
    if locked.key_id == document.key_id:
        db.session.flush()
        return False
    _record_key_change(locked, document, trigger=trigger)
    grace = timedelta(seconds=int(current_app.config["FEDERATION_PREVIOUS_KEY_GRACE_SECONDS"]))
    locked.previous_key_id = locked.key_id
    locked.previous_public_key = locked.public_key
    locked.previous_key_valid_until = utcnow() + grace
    locked.key_id = document.key_id
    locked.public_key = document.public_key
    locked.fingerprint = document.fingerprint
    db.session.flush()
    return True


def _record_key_change(peer: Peer, document: PeerDocument, *, trigger: str) -> None:
    db.session.add(
        PeerKeyChange(
            peer_id=peer.id,
            old_key_id=peer.key_id,
            old_fingerprint=peer.fingerprint,
            new_key_id=document.key_id,
            new_fingerprint=document.fingerprint,
            trigger=trigger,
        )
    )
    log.warning(
        "federation: the key of peer %s changed (%s): %s -> %s; check the new fingerprint "
        "with its administrator",
        peer.url,
        trigger,
        peer.fingerprint,
        document.fingerprint,
    )


def list_key_changes(peer: Peer | None = None, limit: int | None = None) -> list[PeerKeyChange]:
    stmt = select(PeerKeyChange).order_by(PeerKeyChange.at.desc(), PeerKeyChange.id.desc())
    if peer is not None:
        stmt = stmt.where(PeerKeyChange.peer_id == peer.id)
    return list(db.session.scalars(stmt.limit(limit)))


def list_quarantined(peer: Peer | None = None, limit: int = 50) -> list[QuarantinedRecord]:
    """The records peers sent that failed our validation, latest first."""
    stmt = select(QuarantinedRecord).order_by(QuarantinedRecord.at.desc()).limit(limit)
    if peer is not None:
        stmt = stmt.where(QuarantinedRecord.peer_id == peer.id)
    return list(db.session.scalars(stmt))


# -- Signature verification's database side ----------------------------------------------


class PeerKeys:
    """``signing.KeyResolver`` over paired peers: the pinned key, the previous one during its
    grace period, and a refresh from the paired URL for an unknown key id whose instance part
    names an active peer (rate-limited)."""

    def resolve(self, key_id: str) -> signing.ResolvedKey | None:
        now = utcnow()
        peer = db.session.scalar(
            select(Peer).where(
                Peer.removed_at.is_(None),
                or_(
                    Peer.key_id == key_id,
                    (Peer.previous_key_id == key_id) & (Peer.previous_key_valid_until > now),
                ),
            )
        )
        if peer is not None:
            encoded = peer.public_key if peer.key_id == key_id else peer.previous_public_key
            assert encoded is not None
            return signing.ResolvedKey(keys.decode_public_key(encoded), peer)
        peer = peer_for_key_id(key_id)
        if peer is None or not self._may_refresh(peer, now):
            return None
        try:
            refresh_peer_identity(peer, client=default_client(), trigger="unknown_key")
        except (Conflict, Invalid) as error:
            peer.last_error = f"identity refresh: {error.message}"
            peer.last_error_at = now
            log.warning("federation: refreshing %s failed: %s", peer.url, error.message)
            return None
        if peer.key_id != key_id:
            return None
        return signing.ResolvedKey(keys.decode_public_key(peer.public_key), peer)

    @staticmethod
    def _may_refresh(peer: Peer, now: datetime) -> bool:
        interval = int(current_app.config["FEDERATION_KEY_REFRESH_INTERVAL_SECONDS"])
        last = peer.key_refresh_attempted_at
        return last is None or now - last >= timedelta(seconds=interval)


def peer_for_key_id(key_id: str) -> Peer | None:
    """The active peer a key id claims to belong to (its part before ``#``)."""
    try:
        instance_id = uuid.UUID(keys.instance_id_of_key_id(key_id))
    except ValueError:
        return None
    return active_peer(instance_id)


def active_peer(instance_id: uuid.UUID | None) -> Peer | None:
    """The peer with this instance id, unless it was removed."""
    return db.session.scalar(
        select(Peer).where(Peer.instance_id == instance_id, Peer.removed_at.is_(None))
    )


class DatabaseNonces:
    """``signing.NonceStore`` in the ``federation_nonces`` table, shared by every worker."""

    def consume(self, key_id: str, nonce: str, keep_until: datetime) -> bool:
        purge_replay_cache()
        try:
            with db.session.begin_nested():
                db.session.add(SeenNonce(key_id=key_id, nonce=nonce, expires_at=keep_until))
        except IntegrityError:
            return False
        return True


def purge_replay_cache(now: datetime | None = None) -> int:
    """Forget nonces whose signatures have expired (they would be refused as expired)."""
    result = db.session.execute(delete(SeenNonce).where(SeenNonce.expires_at < (now or utcnow())))
    return int(getattr(result, "rowcount", 0) or 0)


def record_signature_failure(rejected: signing.Rejected, method: str, path: str) -> None:
    """Keep a refused signed request for the administrator, and log it.

    Requests without a key id (``signature_missing``, garbage) are only logged: anyone on the
    internet can send them, and they say nothing about a peer.
    """
    log.warning(
        "federation: refused %s %s: %s (%s), keyid=%s, skew=%ss",
        method,
        path,
        rejected.reason.value,
        rejected.detail,
        rejected.key_id,
        rejected.skew_seconds,
    )
    if rejected.key_id is None:
        return
    peer = rejected.owner if isinstance(rejected.owner, Peer) else peer_for_key_id(rejected.key_id)
    db.session.add(
        SignatureFailure(
            peer_id=peer.id if peer is not None else None,
            key_id=rejected.key_id[:120],
            reason=rejected.reason.value,
            detail=rejected.detail[:500],
            method=method[:10],
            path=path[:500],
            skew_seconds=rejected.skew_seconds,
        )
    )
    audit.record(
        "federation.signature_rejected",
        actor_label=peer.url if peer is not None else "instance inconnue",
        target=f"{method[:10]} {path[:400]}",
        details={"reason": rejected.reason.value, "key_id": rejected.key_id[:120]},
    )
    days = int(current_app.config["FEDERATION_SIGNATURE_FAILURE_RETENTION_DAYS"])
    db.session.execute(
        delete(SignatureFailure).where(SignatureFailure.at < utcnow() - timedelta(days=days))
    )
    db.session.flush()


def list_signature_failures(peer: Peer | None = None, limit: int = 50) -> list[SignatureFailure]:
    stmt = select(SignatureFailure).order_by(SignatureFailure.at.desc(), SignatureFailure.id.desc())
    if peer is not None:
        stmt = stmt.where(SignatureFailure.peer_id == peer.id)
    return list(db.session.scalars(stmt.limit(limit)))
