"""The signature profile without a database: RFC 9421's own Ed25519 example, what we emit,
and each refusal with its reason code."""

import base64
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import http_sf
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from federation import signing
from federation.signing import Message, Rejected, ResolvedKey, Verified

# RFC 9421 Appendix B.1.4 (test-key-ed25519) and B.2.6 (signing a request with ed25519).
RFC_PRIVATE_KEY = b"""-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF
-----END PRIVATE KEY-----
"""
RFC_B26_SIGNATURE = (
    "wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw=="
)
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
URL = "https://b.example.org/federation/v1/ping"
KEY = Ed25519PrivateKey.generate()
KEY_ID = "6f1c2a4e-0000-4000-8000-000000000001#0123456789abcdef"


@dataclass
class Keys:
    known: dict[str, ResolvedKey] = field(
        default_factory=lambda: {KEY_ID: ResolvedKey(KEY.public_key(), "peer")}
    )

    def resolve(self, key_id: str) -> ResolvedKey | None:
        return self.known.get(key_id)


@dataclass
class Nonces:
    seen: set[tuple[str, str]] = field(default_factory=set)

    def consume(self, key_id: str, nonce: str, keep_until: datetime) -> bool:
        if (key_id, nonce) in self.seen:
            return False
        self.seen.add((key_id, nonce))
        return True


def signed(
    method: str = "GET",
    url: str = URL,
    body: bytes | None = None,
    *,
    now: datetime = NOW,
    **kwargs: object,
) -> Message:
    headers = signing.sign_request(
        method, url, body=body, private_key=KEY, key_id=KEY_ID, now=now, **kwargs
    )  # type: ignore[arg-type]
    return Message(method, url, tuple(headers.items()), body or b"")


def verify(message: Message, *, now: datetime = NOW, nonces: Nonces | None = None, skew: int = 60):
    return signing.verify_request(
        message, keys=Keys(), nonces=nonces or Nonces(), skew_seconds=skew, now=now
    )


def reason(outcome: Verified | Rejected) -> str:
    assert isinstance(outcome, Rejected), outcome
    return outcome.reason.value


def replace_header(message: Message, name: str, value: str) -> Message:
    headers = tuple((n, value if n.lower() == name.lower() else v) for n, v in message.headers)
    return Message(message.method, message.target_uri, headers, message.body)


def with_params(message: Message, edit: dict[str, object], drop: tuple[str, ...] = ()) -> Message:
    """Change the signature's parameters and sign again, so that only the profile is wrong."""
    headers = dict(message.headers)
    parsed = http_sf.parse(headers["Signature-Input"].encode(), tltype="dictionary")
    components, params = parsed["sig1"]
    params = {k: v for k, v in {**params, **edit}.items() if k not in drop}
    names = [c for c, _ in components]
    base = signing.signature_base(message, names, params)
    headers["Signature-Input"] = http_sf.ser({"sig1": (components, params)})
    headers["Signature"] = http_sf.ser({"sig1": (KEY.sign(base), {})})
    return Message(message.method, message.target_uri, tuple(headers.items()), message.body)


def test_the_signature_base_reproduces_rfc_9421_example_b_2_6() -> None:
    key = serialization.load_pem_private_key(RFC_PRIVATE_KEY, password=None)
    assert isinstance(key, Ed25519PrivateKey)
    message = Message(
        "POST",
        "https://example.com/foo?param=Value&Pet=dog",
        (
            ("Host", "example.com"),
            ("Date", "Tue, 20 Apr 2021 02:07:55 GMT"),
            ("Content-Type", "application/json"),
            ("Content-Length", "18"),
        ),
        b'{"hello": "world"}',
    )
    components = ["date", "@method", "@path", "@authority", "content-type", "content-length"]
    params = {"created": 1618884473, "keyid": "test-key-ed25519"}

    base = signing.signature_base(message, components, params)

    assert base.decode() == "\n".join(
        [
            '"date": Tue, 20 Apr 2021 02:07:55 GMT',
            '"@method": POST',
            '"@path": /foo',
            '"@authority": example.com',
            '"content-type": application/json',
            '"content-length": 18',
            '"@signature-params": ("date" "@method" "@path" "@authority" "content-type" '
            '"content-length");created=1618884473;keyid="test-key-ed25519"',
        ]
    )
    assert base64.b64encode(key.sign(base)).decode() == RFC_B26_SIGNATURE
    key.public_key().verify(base64.b64decode(RFC_B26_SIGNATURE), base)


def test_a_get_is_signed_with_the_profile() -> None:
    headers = signing.sign_request("GET", URL, body=None, private_key=KEY, key_id=KEY_ID, now=NOW)

    assert set(headers) == {"Signature-Input", "Signature"}
    created = int(NOW.timestamp())
    assert headers["Signature-Input"] == (
        f'sig1=("@method" "@target-uri" "@authority");created={created};'
        f'expires={created + 300};keyid="{KEY_ID}";alg="ed25519"'
    )
    assert headers["Signature"].startswith("sig1=:")
    assert headers["Signature"].endswith(":")


def test_a_post_covers_the_content_digest_and_carries_a_nonce() -> None:
    body = b'{"ping":"pong"}'
    headers = signing.sign_request("POST", URL, body=body, private_key=KEY, key_id=KEY_ID)

    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    assert headers["Content-Digest"] == f"sha-256=:{digest}:"
    assert '("@method" "@target-uri" "@authority" "content-digest")' in headers["Signature-Input"]
    assert ';nonce="' in headers["Signature-Input"]


def test_the_validity_window_cannot_exceed_five_minutes() -> None:
    with pytest.raises(ValueError, match="ttl_seconds"):
        signing.sign_request("GET", URL, body=None, private_key=KEY, key_id=KEY_ID, ttl_seconds=301)


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("HTTPS://B.Example.ORG:443/x?q=1#frag", "https://b.example.org/x?q=1"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080/"),
        ("http://[::1]:80/a", "http://[::1]/a"),
    ],
)
def test_urls_are_signed_in_canonical_form(url: str, canonical: str) -> None:
    assert signing.canonical_url(url) == canonical


@pytest.mark.parametrize("url", ["ftp://x.org/", "https:///x", "https://u:p@x.org/", "x.org"])
def test_urls_that_cannot_be_signed_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="URL"):
        signing.canonical_url(url)


def test_a_good_signature_verifies_and_says_what_it_covered() -> None:
    outcome = verify(signed("POST", body=b"{}"))

    assert isinstance(outcome, Verified)
    assert outcome.owner == "peer"
    assert outcome.covered == ("@method", "@target-uri", "@authority", "content-digest")
    assert outcome.nonce


def test_no_signature_fields_is_signature_missing() -> None:
    assert reason(verify(Message("GET", URL))) == "signature_missing"


def test_a_signature_under_another_label_is_signature_missing() -> None:
    message = signed()
    renamed = tuple((n, v.replace("sig1=", "pyhms=")) for n, v in message.headers)

    assert reason(verify(Message("GET", URL, renamed))) == "signature_missing"


@pytest.mark.parametrize(
    "value", ["sig1=(", 'sig1=("@method")', "sig1=:AAAA:, sig1=:AAAA:", "sig1=é"]
)
def test_malformed_signature_fields_are_signature_invalid(value: str) -> None:
    message = replace_header(signed(), "Signature", value)

    assert reason(verify(message)) == "signature_invalid"


@pytest.mark.parametrize(
    ("edit", "drop"),
    [
        ({"alg": "rsa-pss-sha512"}, ()),
        ({}, ("alg",)),
        ({}, ("keyid",)),
        ({}, ("created",)),
        ({}, ("expires",)),
        ({"expires": int(NOW.timestamp()) + 301}, ()),
        ({"expires": int(NOW.timestamp())}, ()),
        ({"created": "1"}, ()),
        ({"nonce": "x" * 121}, ()),
    ],
)
def test_signatures_outside_the_profile_are_signature_invalid(
    edit: dict[str, object], drop: tuple[str, ...]
) -> None:
    assert reason(verify(with_params(signed(), edit, drop))) == "signature_invalid"


def test_a_signature_must_cover_method_target_uri_and_authority() -> None:
    message = signed()
    headers = dict(message.headers)
    params = {"created": int(NOW.timestamp()), "expires": int(NOW.timestamp()) + 60}
    params |= {"keyid": KEY_ID, "alg": "ed25519"}
    components = ["@method", "@authority"]
    base = signing.signature_base(message, components, params)
    headers["Signature-Input"] = http_sf.ser({"sig1": ([(c, {}) for c in components], params)})
    headers["Signature"] = http_sf.ser({"sig1": (KEY.sign(base), {})})

    outcome = verify(Message("GET", URL, tuple(headers.items())))

    assert reason(outcome) == "signature_invalid"
    assert "@target-uri" in outcome.detail  # type: ignore[union-attr]


def test_a_body_must_be_covered_by_the_content_digest() -> None:
    message = signed("POST", body=None, nonce="n1")
    with_body = Message("POST", URL, message.headers, b'{"added": true}')

    assert reason(verify(with_body)) == "signature_invalid"


def test_a_post_without_a_nonce_is_signature_invalid() -> None:
    message = with_params(signed("POST", body=b"{}"), {}, drop=("nonce",))

    assert "nonce" in verify(message).detail  # type: ignore[union-attr]
    assert reason(verify(message)) == "signature_invalid"


def test_a_tampered_body_is_digest_mismatch() -> None:
    message = signed("POST", body=b'{"amount": 1}')
    tampered = Message("POST", URL, message.headers, b'{"amount": 9}')

    assert reason(verify(tampered)) == "digest_mismatch"


def test_a_tampered_body_with_a_recomputed_digest_is_signature_invalid() -> None:
    message = signed("POST", body=b'{"amount": 1}')
    body = b'{"amount": 9}'
    tampered = replace_header(message, "Content-Digest", signing.content_digest(body))

    outcome = verify(Message("POST", URL, tampered.headers, body))

    assert reason(outcome) == "signature_invalid"


def test_a_digest_without_sha_256_is_digest_mismatch() -> None:
    body = b"{}"
    sha512 = base64.b64encode(hashlib.sha512(body).digest()).decode()
    message = signed("POST", body=body)
    message = replace_header(message, "Content-Digest", f"sha-512=:{sha512}:")
    message = with_params(message, {})

    assert reason(verify(message)) == "digest_mismatch"


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("POST", URL),  # method
        ("GET", "https://b.example.org/federation/v1/changes"),  # path
        ("GET", URL + "?since=0"),  # query
        ("GET", "https://c.example.org/federation/v1/ping"),  # authority (redirected)
        ("GET", "http://b.example.org/federation/v1/ping"),  # scheme
        ("GET", "https://b.example.org:8443/federation/v1/ping"),  # port
    ],
)
def test_a_request_that_differs_from_what_was_signed_is_signature_invalid(
    method: str, url: str
) -> None:
    message = signed("GET", nonce="fixed")  # a nonce, so that a POST gets that far
    moved = Message(method, url, message.headers)

    assert reason(verify(moved)) == "signature_invalid"


def test_an_unknown_key_is_unknown_key() -> None:
    other = Ed25519PrivateKey.generate()
    headers = signing.sign_request(
        "GET", URL, body=None, private_key=other, key_id="someone#else", now=NOW
    )

    outcome = verify(Message("GET", URL, tuple(headers.items())))

    assert reason(outcome) == "unknown_key"
    assert outcome.key_id == "someone#else"  # type: ignore[union-attr]


def test_a_known_key_id_with_another_key_is_signature_invalid() -> None:
    other = Ed25519PrivateKey.generate()
    headers = signing.sign_request("GET", URL, body=None, private_key=other, key_id=KEY_ID, now=NOW)

    assert reason(verify(Message("GET", URL, tuple(headers.items())))) == "signature_invalid"


@pytest.mark.parametrize("offset", [-30, 30, -59, 59, -299])
def test_clocks_within_the_allowed_skew_are_accepted(offset: int) -> None:
    """The sender's clock is ``offset`` seconds from ours."""
    message = signed("POST", body=b"{}", now=NOW + timedelta(seconds=offset))

    assert isinstance(verify(message), Verified)


@pytest.mark.parametrize("offset", [-600, 600, 61, -361])
def test_clocks_beyond_the_allowed_skew_are_expired(offset: int) -> None:
    message = signed("POST", body=b"{}", now=NOW + timedelta(seconds=offset))

    outcome = verify(message)

    assert reason(outcome) == "expired"
    assert outcome.skew_seconds == offset  # type: ignore[union-attr]


def test_the_allowed_skew_is_a_setting() -> None:
    message = signed(now=NOW + timedelta(seconds=30))

    assert reason(verify(message, skew=5)) == "expired"
    assert isinstance(verify(message, skew=30), Verified)


def test_a_replayed_nonce_is_replayed() -> None:
    nonces = Nonces()
    message = signed("POST", body=b"{}")

    assert isinstance(verify(message, nonces=nonces), Verified)
    assert reason(verify(message, nonces=nonces)) == "replayed"


def test_a_nonce_is_not_consumed_by_a_request_that_fails_otherwise() -> None:
    nonces = Nonces()
    message = signed("POST", body=b"{}")
    tampered = Message("POST", URL, message.headers, b"[]")

    assert reason(verify(tampered, nonces=nonces)) == "digest_mismatch"
    assert isinstance(verify(message, nonces=nonces), Verified)


def test_the_test_vector_of_the_protocol_document_holds() -> None:
    """docs/federation.md §4.4: anyone implementing the protocol checks against these bytes."""
    key = serialization.load_pem_private_key(RFC_PRIVATE_KEY, password=None)
    assert isinstance(key, Ed25519PrivateKey)
    key_id = "0b8f7c1e-5a4d-4c3b-9e2f-1a2b3c4d5e6f#b16c2d1bead12626"
    url = "https://partage.idf.example.org/federation/v1/ping"
    created = datetime.fromtimestamp(1796040000, UTC)

    post = signing.sign_request(
        "POST", url, body=b'{"ping":"pong"}', private_key=key, key_id=key_id, now=created,
        nonce="Vp3JjYc7Tq2y9L0eXkQm5A",
    )  # fmt: skip
    get = signing.sign_request("GET", url, body=None, private_key=key, key_id=key_id, now=created)

    assert post["Content-Digest"] == "sha-256=:MztBQEOPKHr5HaKmq0muOKyMOmamYkF6dxNvRPAftFE=:"
    assert post["Signature"] == (
        "sig1=:effP5WFdHrZQaofiHVsR/oaT3C2XZSVEZpv39IzFq00ew384TJfMS+iy6a9T3qU9NFK619wLamXhqBqk0BFl"
        "CA==:"
    )
    assert get["Signature"] == (
        "sig1=:pVx5zaCOJhyolGSBnyvYG1jpBTOpqNt4N4LSKOKlnVbCNjs1kf7uFK3IdCHgoR0HKSAeV9/RRi7lVcUHKZkT"
        "Bw==:"
    )
    document = Path(__file__).resolve().parents[2] / "docs" / "federation.md"
    text = document.read_text()
    for value in (post["Signature-Input"], post["Signature"], get["Signature"], key_id):
        assert value in text
