"""The federation's signature profile: RFC 9421 HTTP Message Signatures with Ed25519.

Built on ``cryptography`` for Ed25519 and ``http_sf`` for the Structured Field syntax, so
that the independent ``http-message-signatures`` package can check our output and we can
check its output (tests/federation/test_interop.py). docs/federation.md §4 is the
normative text; in short, a request carries one signature labelled ``sig1`` that covers
``@method``, ``@target-uri``, ``@authority`` and, when there is a body, ``content-digest``
(RFC 9530, sha-256), with the parameters ``created``, ``expires`` (at most 300 s later),
``keyid``, ``alg="ed25519"`` and, on every method but GET/HEAD/OPTIONS, ``nonce``.

The verifier refuses with one reason code per failure, in this order: nothing signed
(``signature_missing``), malformed or not our profile (``signature_invalid``), outside the
validity window given the allowed clock skew (``expired``), key not known
(``unknown_key``), signature does not verify (``signature_invalid``), body does not match
its digest (``digest_mismatch``), nonce already used (``replayed``). Cheap checks come
first; the nonce is consumed only once everything else holds, so that a forged request
cannot burn a real one's nonce.

Nothing here touches the database or the network: keys and nonces come through the two
small interfaces ``KeyResolver`` and ``NonceStore``.
"""

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol, cast
from urllib.parse import quote, urlsplit, urlunsplit

import http_sf
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import Request

LABEL = "sig1"
ALGORITHM = "ed25519"
MAX_VALIDITY_SECONDS = 300
DEFAULT_SKEW_SECONDS = 60
REQUIRED_COMPONENTS = ("@method", "@target-uri", "@authority")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_NONCE_LENGTH = 120
DERIVED_COMPONENTS = frozenset(
    {"@method", "@target-uri", "@authority", "@scheme", "@request-target", "@path", "@query"}
)


class Reason(StrEnum):
    """Why a signed request was refused: the ``code`` of the 401 body."""

    SIGNATURE_MISSING = "signature_missing"
    SIGNATURE_INVALID = "signature_invalid"
    UNKNOWN_KEY = "unknown_key"
    EXPIRED = "expired"
    REPLAYED = "replayed"
    DIGEST_MISMATCH = "digest_mismatch"


@dataclass(frozen=True)
class Message:
    """A request as the signature sees it. ``target_uri`` is absolute."""

    method: str
    target_uri: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""


@dataclass(frozen=True)
class ResolvedKey:
    """A public key and whatever it belongs to (the ``Peer``, for the services)."""

    public_key: Ed25519PublicKey
    owner: Any = None


class KeyResolver(Protocol):
    def resolve(self, key_id: str) -> ResolvedKey | None:
        """The key of this id, or None when it is not trusted."""


class NonceStore(Protocol):
    def consume(self, key_id: str, nonce: str, keep_until: datetime) -> bool:
        """Record a nonce; False when this key already used it."""


@dataclass(frozen=True)
class Verified:
    key_id: str
    owner: Any
    created: int
    expires: int
    nonce: str | None
    covered: tuple[str, ...]
    skew_seconds: int


@dataclass(frozen=True)
class Rejected:
    reason: Reason
    detail: str
    key_id: str | None = None
    owner: Any = None
    skew_seconds: int | None = None


# -- URLs -------------------------------------------------------------------------------


def canonical_url(url: str) -> str:
    """An absolute http(s) URL as signatures see it: lower-case scheme and host, no default
    port, no fragment, ``/`` for an empty path. ValueError for anything else."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ValueError(f"not an http(s) URL: {url!r}")
    if parts.username is not None or parts.password is not None:
        raise ValueError("a URL with credentials cannot be signed")
    host = parts.hostname
    if not host:
        raise ValueError(f"URL without a host: {url!r}")
    port = parts.port  # ValueError when not a number
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != {"http": 80, "https": 443}[scheme]:
        host = f"{host}:{port}"
    return urlunsplit((scheme, host, parts.path or "/", parts.query, ""))


def authority_of(url: str) -> str:
    """``@authority``: host and non-default port of a canonical URL."""
    return urlsplit(url).netloc


def origin_of(url: str) -> str:
    """``scheme://authority`` of a URL."""
    canonical = canonical_url(url)
    parts = urlsplit(canonical)
    return f"{parts.scheme}://{parts.netloc}"


def message_from_request(request: Request, base_url: str) -> Message:
    """The incoming request as its sender signed it.

    ``@target-uri`` is rebuilt from *our own* published base URL (scheme and authority) and
    the request target exactly as it came on the wire: the ``Host`` header, the scheme a
    proxy terminated and any URL rewriting are ignored, so a request signed for another
    instance, or redirected to us, does not verify.
    """
    environ = request.environ
    query = environ.get("QUERY_STRING", "")
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw and raw.startswith(("http://", "https://")):  # absolute-form request target
        parts = urlsplit(raw)
        raw = parts.path + (f"?{parts.query}" if parts.query else "")
    if not raw:
        raw = quote(request.script_root + request.path, safe="/%:@!$&'()*+,;=-._~")
    if "?" not in raw and query:  # some servers (werkzeug's test client) leave it out
        raw += f"?{query}"
    return Message(
        method=request.method,
        target_uri=origin_of(base_url) + raw,
        headers=tuple(request.headers.items()),
        body=request.get_data(cache=True),
    )


# -- Content-Digest ---------------------------------------------------------------------


def _sf_ser(structure: Any) -> str:
    """Serialise a Structured Field (http_sf's types are stricter than what it accepts)."""
    return http_sf.ser(structure)


def _sf_dictionary(value: str) -> dict[str, Any]:
    """Parse a Structured Field dictionary; ValueError on any syntax error or duplicate."""

    def refuse_duplicate(key: str, context: str) -> None:
        raise ValueError(f"duplicate {key}")

    try:
        data = value.encode("ascii")
    except UnicodeEncodeError:
        raise ValueError("not ASCII") from None
    parsed = http_sf.parse(data, tltype="dictionary", on_duplicate_key=refuse_duplicate)
    return cast(dict[str, Any], parsed)


def content_digest(body: bytes) -> str:
    """RFC 9530 ``Content-Digest`` of a body, with sha-256."""
    return _sf_ser({"sha-256": (hashlib.sha256(body).digest(), {})})


def _check_content_digest(value: str, body: bytes) -> str | None:
    """None when the field matches the body, else why not."""
    try:
        members = _sf_dictionary(value)
    except ValueError:
        return "Content-Digest is not a valid Structured Field dictionary"
    known = {"sha-256": hashlib.sha256, "sha-512": hashlib.sha512}
    if "sha-256" not in members:
        return "Content-Digest has no sha-256 member"
    for name, (digest, _params) in members.items():
        if name not in known:
            continue
        if not isinstance(digest, bytes):
            return f"Content-Digest member {name} is not a byte sequence"
        if not hmac.compare_digest(digest, known[name](body).digest()):
            return f"the body does not match its {name} Content-Digest"
    return None


# -- The signature base (RFC 9421 §2.5) ---------------------------------------------------


def _header_map(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Header fields by lower-case name; repeated lines joined with ", " (RFC 9421 §2.1)."""
    combined: dict[str, list[str]] = {}
    for name, value in headers:
        combined.setdefault(name.lower(), []).append(value.strip(" \t"))
    return {name: ", ".join(values) for name, values in combined.items()}


class _ComponentError(Exception):
    pass


def _component_value(name: str, message: Message, headers: Mapping[str, str]) -> str:
    if name.startswith("@"):
        parts = urlsplit(message.target_uri)
        path = parts.path or "/"
        values = {
            "@method": message.method.upper(),
            "@target-uri": message.target_uri,
            "@authority": parts.netloc.lower(),
            "@scheme": parts.scheme.lower(),
            "@path": path,
            "@query": f"?{parts.query}",
            "@request-target": path + (f"?{parts.query}" if parts.query else ""),
        }
        if name not in values:
            raise _ComponentError(f"unsupported derived component {name}")
        return values[name]
    if name not in headers:
        raise _ComponentError(f"covered header field {name} is absent")
    return headers[name]


def _signature_params(components: list[str], params: Mapping[str, Any]) -> str:
    """The ``@signature-params`` value: the inner list with its parameters, serialised."""
    serialised = _sf_ser({LABEL: ([(c, {}) for c in components], dict(params))})
    return serialised[len(LABEL) + 1 :]


def signature_base(message: Message, components: list[str], params: Mapping[str, Any]) -> bytes:
    """The bytes an Ed25519 signature covers. ValueError when a component cannot be had."""
    headers = _header_map(message.headers)
    lines = []
    for name in components:
        try:
            value = _component_value(name, message, headers)
        except _ComponentError as error:
            raise ValueError(str(error)) from None
        lines.append(f'"{name}": {value}')
    lines.append(f'"@signature-params": {_signature_params(components, params)}')
    text = "\n".join(lines)
    if not text.isascii() or "\r" in text:
        raise ValueError("the signature base must be ASCII, without CR")
    return text.encode("ascii")


# -- Signing ----------------------------------------------------------------------------


def sign_request(
    method: str,
    url: str,
    *,
    body: bytes | None,
    private_key: Ed25519PrivateKey,
    key_id: str,
    headers: Iterable[tuple[str, str]] = (),
    now: datetime | None = None,
    ttl_seconds: int = MAX_VALIDITY_SECONDS,
    nonce: str | None = None,
) -> dict[str, str]:
    """The header fields to add to a request so that it is signed: ``Content-Digest`` when
    there is a body (``body`` not None), ``Signature-Input`` and ``Signature``.

    ``url`` must be the exact URL the request goes to (see ``canonical_url``). A nonce is
    made up for every method but GET/HEAD/OPTIONS unless one is given.
    """
    if not 0 < ttl_seconds <= MAX_VALIDITY_SECONDS:
        raise ValueError(f"ttl_seconds must be within 1..{MAX_VALIDITY_SECONDS}")
    method = method.upper()
    added: dict[str, str] = {}
    components = list(REQUIRED_COMPONENTS)
    if body is not None:
        added["Content-Digest"] = content_digest(body)
        components.append("content-digest")
    created = int((now or datetime.now(UTC)).timestamp())
    params: dict[str, Any] = {"created": created, "expires": created + ttl_seconds}
    params["keyid"] = key_id
    if nonce is None and method not in SAFE_METHODS:
        nonce = secrets.token_urlsafe(16)
    if nonce is not None:
        params["nonce"] = nonce
    params["alg"] = ALGORITHM
    message = Message(method, url, tuple(headers) + tuple(added.items()), body or b"")
    signature = private_key.sign(signature_base(message, components, params))
    added["Signature-Input"] = _sf_ser({LABEL: ([(c, {}) for c in components], params)})
    added["Signature"] = _sf_ser({LABEL: (signature, {})})
    return added


# -- Verifying --------------------------------------------------------------------------


@dataclass
class _Parsed:
    components: list[str]
    params: dict[str, Any]
    signature: bytes
    key_id: str
    created: int
    expires: int
    nonce: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


class _Refusal(Exception):
    def __init__(self, reason: Reason, detail: str):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def _parse(message: Message) -> _Parsed:
    """Read the sig1 signature and check that it follows the profile (no key, no clock)."""
    headers = _header_map(message.headers)
    inputs_field = headers.get("signature-input")
    signatures_field = headers.get("signature")
    if inputs_field is None and signatures_field is None:
        raise _Refusal(Reason.SIGNATURE_MISSING, "the request has no Signature-Input/Signature")
    inputs = _parse_dictionary(inputs_field or "", "Signature-Input")
    signatures = _parse_dictionary(signatures_field or "", "Signature")
    if LABEL not in inputs or LABEL not in signatures:
        raise _Refusal(Reason.SIGNATURE_MISSING, f"no signature labelled {LABEL}")
    members, params = inputs[LABEL]
    signature, _ = signatures[LABEL]
    if not isinstance(members, list) or not isinstance(signature, bytes):
        raise _invalid(f"{LABEL} must be an inner list and a byte sequence")

    components: list[str] = []
    for value, component_params in members:
        if type(value) is not str or value != value.lower() or value in components:
            raise _invalid("covered components must be distinct lower-case strings")
        if component_params:
            raise _invalid(f"component parameters are not supported ({value})")
        if value.startswith("@") and value not in DERIVED_COMPONENTS:
            raise _invalid(f"unsupported derived component {value}")
        components.append(value)
    missing = [c for c in REQUIRED_COMPONENTS if c not in components]
    if missing:
        raise _invalid(f"the signature does not cover {', '.join(missing)}")
    if message.body and "content-digest" not in components:
        raise _invalid("a request with a body must cover content-digest")

    key_id = params.get("keyid")
    if type(key_id) is not str or not key_id:
        raise _invalid("keyid must be a non-empty string")
    if params.get("alg") != ALGORITHM or type(params.get("alg")) is not str:
        raise _invalid(f'alg must be "{ALGORITHM}"')
    created, expires = params.get("created"), params.get("expires")
    if type(created) is not int or type(expires) is not int:
        raise _invalid("created and expires must be integers")
    if not 0 < expires - created <= MAX_VALIDITY_SECONDS:
        raise _invalid(f"expires must be 1 to {MAX_VALIDITY_SECONDS} seconds after created")
    nonce = params.get("nonce")
    if nonce is not None and (type(nonce) is not str or not 0 < len(nonce) <= MAX_NONCE_LENGTH):
        raise _invalid(f"nonce must be a string of 1 to {MAX_NONCE_LENGTH} characters")
    if nonce is None and message.method.upper() not in SAFE_METHODS:
        raise _invalid(f"a {message.method.upper()} request must carry a nonce")
    return _Parsed(components, dict(params), signature, key_id, created, expires, nonce, headers)


def _parse_dictionary(value: str, name: str) -> dict[str, Any]:
    try:
        return _sf_dictionary(value)
    except ValueError:
        raise _invalid(f"{name} is not a valid Structured Field dictionary") from None


def _invalid(detail: str) -> _Refusal:
    return _Refusal(Reason.SIGNATURE_INVALID, detail)


def verify_request(
    message: Message,
    *,
    keys: KeyResolver,
    nonces: NonceStore,
    skew_seconds: int = DEFAULT_SKEW_SECONDS,
    now: datetime | None = None,
) -> Verified | Rejected:
    """Check a request's signature against the profile; the verified key's owner, or why not."""
    current = now or datetime.now(UTC)
    now_ts = int(current.timestamp())
    try:
        parsed = _parse(message)
    except _Refusal as refusal:
        return Rejected(refusal.reason, refusal.detail)
    skew = parsed.created - now_ts

    def rejected(reason: Reason, detail: str, owner: Any = None) -> Rejected:
        return Rejected(reason, detail, parsed.key_id, owner, skew)

    if parsed.created > now_ts + skew_seconds:
        return rejected(Reason.EXPIRED, f"created {skew} s in the future")
    if parsed.expires < now_ts - skew_seconds:
        return rejected(Reason.EXPIRED, f"expired {now_ts - parsed.expires} s ago")

    resolved = keys.resolve(parsed.key_id)
    if resolved is None:
        return rejected(Reason.UNKNOWN_KEY, f"no paired instance has the key {parsed.key_id}")

    try:
        base = signature_base(message, parsed.components, parsed.params)
        resolved.public_key.verify(parsed.signature, base)
    except ValueError as error:
        return rejected(Reason.SIGNATURE_INVALID, str(error), resolved.owner)
    except InvalidSignature:
        detail = "the signature does not match the request (method, URL, authority or fields)"
        return rejected(Reason.SIGNATURE_INVALID, detail, resolved.owner)

    digest_field = parsed.headers.get("content-digest")
    if digest_field is not None:
        problem = _check_content_digest(digest_field, message.body)
        if problem:
            return rejected(Reason.DIGEST_MISMATCH, problem, resolved.owner)

    if parsed.nonce is not None:
        keep_until = datetime.fromtimestamp(parsed.expires, UTC) + timedelta(seconds=skew_seconds)
        if not nonces.consume(parsed.key_id, parsed.nonce, keep_until):
            return rejected(Reason.REPLAYED, "this nonce was already used", resolved.owner)

    return Verified(
        key_id=parsed.key_id,
        owner=resolved.owner,
        created=parsed.created,
        expires=parsed.expires,
        nonce=parsed.nonce,
        covered=tuple(parsed.components),
        skew_seconds=skew,
    )
