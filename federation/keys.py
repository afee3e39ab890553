"""Ed25519 keys: their wire encodings, and the private key file.

The private key never enters the database (a database dump or a replica of it must not be
enough to impersonate the instance). It is a PKCS#8 PEM file in the key folder, named after
the key's fingerprint so that a rotation writes a new file beside the old one before the
database points at it, readable by the application's user only (0600), and written
atomically: a crash leaves either no file or the whole file, never half a key.
"""

import base64
import binascii
import hashlib
import os
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from sharing.backup import key_dir  # the folder of the private key files, backed up too


class KeyFileError(Exception):
    """The private key file is missing, unreadable or not the key the database expects."""


def public_key_bytes(key: Ed25519PublicKey) -> bytes:
    """The raw 32 bytes of a public key."""
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def encode_public_key(key: Ed25519PublicKey) -> str:
    """Standard, padded base64 of the raw 32 bytes: the ``public_key`` of the wire format."""
    return base64.b64encode(public_key_bytes(key)).decode("ascii")


def decode_public_key(value: str) -> Ed25519PublicKey:
    """Read a ``public_key`` of the wire format; ValueError if it is not 32 bytes of base64."""
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise ValueError("public_key is not standard base64") from None
    if len(raw) != 32:
        raise ValueError("public_key is not 32 bytes long")
    return Ed25519PublicKey.from_public_bytes(raw)


def fingerprint(key: Ed25519PublicKey) -> str:
    """Lowercase hex SHA-256 of the raw 32 bytes: what administrators compare out of band."""
    return hashlib.sha256(public_key_bytes(key)).hexdigest()


def make_key_id(instance_id: object, key: Ed25519PublicKey) -> str:
    """``<instance_id>#<first 16 hex digits of the fingerprint>``: a receiver finds the peer
    from the part before ``#``, and a new key gets a new id."""
    return f"{instance_id}#{fingerprint(key)[:16]}"


def instance_id_of_key_id(key_id: str) -> str:
    """The instance part of a key id (the whole string if it has no ``#``)."""
    return key_id.partition("#")[0]


def key_path(public_key: Ed25519PublicKey) -> Path:
    return key_dir() / f"ed25519-{fingerprint(public_key)[:16]}.pem"


def write_private_key(private_key: Ed25519PrivateKey) -> Path:
    """Store a private key as a 0600 PEM file, atomically (temporary file, fsync, rename)."""
    folder = key_dir()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = key_path(private_key.public_key())
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # mkstemp creates the file 0600 from the start: the key is never readable by others.
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".key-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(folder)
    return path


def read_private_key(public_key: Ed25519PublicKey) -> Ed25519PrivateKey:
    """Load the private key that matches ``public_key`` from the key folder."""
    path = key_path(public_key)
    try:
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise KeyFileError(f"private key file {path} is missing") from None
    except (OSError, ValueError) as error:
        raise KeyFileError(f"private key file {path} is unreadable: {error}") from None
    if not isinstance(loaded, Ed25519PrivateKey):
        raise KeyFileError(f"{path} is not an Ed25519 private key")
    if public_key_bytes(loaded.public_key()) != public_key_bytes(public_key):
        raise KeyFileError(f"{path} does not hold the key the database publishes")
    return loaded


def delete_private_key(public_key: Ed25519PublicKey) -> None:
    key_path(public_key).unlink(missing_ok=True)


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
