"""The only module that talks to other instances over the network.

``FederationClient`` signs outgoing requests and reads answers; the bytes travel through a
``Transport``, which tests replace (a fake that answers from memory or from another app's
test client) by setting ``app.extensions["federation"].transport``.

Redirects are never followed: a signature covers the exact URL, and an instance that moved
must be paired again at its new address.
"""

import http.client
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from federation import signing

USER_AGENT = "regies-sharing-federation/1"
# A peer's answer larger than this is refused rather than read into memory.
MAX_RESPONSE_BYTES = 32 * 1024 * 1024  # above the largest attachment (20 MB by default)
INSTANCE_PATH = "/federation/v1/instance"
PING_PATH = "/federation/v1/ping"


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    def json(self) -> Any:
        return json.loads(self.body)


class Transport(Protocol):
    def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        timeout: float,
    ) -> HttpResponse:
        """Send one request and return the answer, whatever its status; OSError when the
        peer cannot be reached."""


class HttpTransport:
    """HTTP/1.1 with the standard library: one connection per request, no redirects."""

    def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        timeout: float,
    ) -> HttpResponse:
        parts = urlsplit(url)
        connection_class = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        connection = connection_class(parts.netloc, timeout=timeout)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            # skip_host: our Host header is the signed @authority, set by the caller.
            connection.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
            for name, value in headers.items():
                connection.putheader(name, value)
            if body is not None:
                connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body)
            response = connection.getresponse()
            body = response.read(MAX_RESPONSE_BYTES + 1)
            if len(body) > MAX_RESPONSE_BYTES:
                raise OSError(f"{url}: answer larger than {MAX_RESPONSE_BYTES} bytes")
            return HttpResponse(response.status, dict(response.getheaders()), body)
        except http.client.HTTPException as error:
            raise OSError(f"{url}: {error}") from error
        finally:
            connection.close()


@dataclass(frozen=True)
class PreparedRequest:
    method: str
    url: str  # canonical
    headers: dict[str, str]
    body: bytes | None


class FederationError(Exception):
    """A peer could not be reached or did not answer as the protocol says."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code


Credentials = Callable[[], tuple[str, Ed25519PrivateKey]]


class FederationClient:
    """Requests to other instances. ``credentials`` gives our key id and private key when a
    request must be signed (read at each request, so a key rotation takes effect at once)."""

    def __init__(
        self,
        transport: Transport,
        *,
        credentials: Credentials | None = None,
        timeout: float = 10,
        signature_ttl: int = signing.MAX_VALIDITY_SECONDS,
    ):
        self.transport = transport
        self.credentials = credentials
        self.timeout = timeout
        self.signature_ttl = signature_ttl

    def fetch_instance_document(self, base_url: str) -> dict[str, Any]:
        """``GET <base_url>/federation/v1/instance`` (public, unsigned)."""
        response = self.request("GET", base_url.rstrip("/") + INSTANCE_PATH, signed=False)
        return self._json_object(response, base_url)

    def ping(self, base_url: str, *, method: str = "GET") -> dict[str, Any]:
        """``<method> <base_url>/federation/v1/ping``, signed: whether the peer accepts us
        (a POST carries a small JSON body, so its digest and nonce are checked too)."""
        body = {"ping": "pong"} if method.upper() == "POST" else None
        response = self.request(method, base_url.rstrip("/") + PING_PATH, json_body=body)
        return self._json_object(response, base_url)

    def request(
        self,
        method: str,
        url: str,
        *,
        json_body: Any = None,
        signed: bool = True,
    ) -> HttpResponse:
        """Send a request (signed unless told otherwise); FederationError unless 2xx."""
        return self.send(self.prepare(method, url, json_body=json_body, signed=signed))

    def prepare(
        self, method: str, url: str, *, json_body: Any = None, signed: bool = True
    ) -> PreparedRequest:
        """A request ready to ``send``: its URL checked, its body encoded, signed unless told
        otherwise (which reads our key, so it needs the application)."""
        try:
            url = signing.canonical_url(url)
        except ValueError as error:
            raise FederationError(str(error)) from None
        method = method.upper()
        body = None
        headers = {
            "Host": signing.authority_of(url),
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        if json_body is not None:
            body = json.dumps(json_body, separators=(",", ":")).encode()
            headers["Content-Type"] = "application/json"
        if signed:
            if self.credentials is None:
                raise FederationError("this instance has no identity: flask federation init")
            key_id, private_key = self.credentials()
            headers.update(
                signing.sign_request(
                    method,
                    url,
                    body=body,
                    private_key=private_key,
                    key_id=key_id,
                    ttl_seconds=self.signature_ttl,
                )
            )
        return PreparedRequest(method, url, headers, body)

    def send(self, request: PreparedRequest) -> HttpResponse:
        """Send a prepared request; FederationError unless the answer is 2xx. Only the
        network is used: a thread without the application may send."""
        method, url = request.method, request.url
        try:
            response = self.transport.send(method, url, request.headers, request.body, self.timeout)
        except OSError as error:
            raise FederationError(f"{url} is unreachable: {error}") from None
        if not 200 <= response.status < 300:
            raise FederationError(
                f"{method} {url} answered {response.status}{_error_summary(response)}",
                status=response.status,
                code=_error_code(response),
            )
        return response

    @staticmethod
    def _json_object(response: HttpResponse, base_url: str) -> dict[str, Any]:
        try:
            data = response.json()
        except ValueError:
            raise FederationError(f"{base_url} did not answer JSON") from None
        if not isinstance(data, dict):
            raise FederationError(f"{base_url} did not answer a JSON object")
        return data


def _error_code(response: HttpResponse) -> str | None:
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        return None
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, str) else None


def _error_summary(response: HttpResponse) -> str:
    code = _error_code(response)
    return f" ({code})" if code else ""
