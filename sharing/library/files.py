"""Attachment files: what type a file really is, a safe name for it, and where its bytes live.

The type is decided from the bytes alone, against an allowlist, never from the client's
Content-Type or the file's extension: ``filetype`` recognises PDF, PNG and JPEG by their magic
numbers; a ZIP is an OpenDocument file if its ``mimetype`` entry says so, or an Office Open XML
file if its ``[Content_Types].xml`` declares a document, workbook or presentation (macro-enabled
variants are refused); anything else must be plain UTF-8 text that does not look like markup,
so that a browser never gets HTML or SVG from us even if it ignored ``nosniff``.

Bytes are stored once per content under ``<ATTACHMENTS_DIR>/ab/cd/<sha256>``: an upload is
streamed to a temporary file in the same folder while it is hashed and measured, then moved
into place with ``os.replace`` (atomic), or dropped if that content is already there. A blob
written for a transaction that later rolls back stays on disk unreferenced; it is harmless
(the next identical upload reuses it).
"""

import hashlib
import os
import re
import tempfile
import unicodedata
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import filetype
from flask import Response, current_app, send_file

from sharing.errors import DomainError, Invalid, UnsupportedMediaType

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
TEXT = "text/plain"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
ODP = "application/vnd.oasis.opendocument.presentation"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"

# Allowed types and the extensions a file of that type may keep (the first one is added when
# the name has none of them).
EXTENSIONS: dict[str, tuple[str, ...]] = {
    PDF: (".pdf",),
    PNG: (".png",),
    JPEG: (".jpg", ".jpeg"),
    TEXT: (".txt", ".md", ".csv"),
    ODT: (".odt",),
    ODS: (".ods",),
    ODP: (".odp",),
    DOCX: (".docx",),
    XLSX: (".xlsx",),
    PPTX: (".pptx",),
}
TYPE_LABELS = {
    PDF: "PDF",
    PNG: "image PNG",
    JPEG: "image JPEG",
    TEXT: "texte",
    ODT: "texte OpenDocument",
    ODS: "tableur OpenDocument",
    ODP: "présentation OpenDocument",
    DOCX: "document Word",
    XLSX: "classeur Excel",
    PPTX: "présentation PowerPoint",
}

# The main part's content type in [Content_Types].xml, for each Office Open XML type we take.
OOXML_MAIN_PARTS = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": DOCX,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": XLSX,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": PPTX,
}
ODF_TYPES = {ODT, ODS, ODP}
# Substrings that make "text" something a browser could render as a page or an image.
MARKUP = ("<script", "<svg", "<html", "<!doctype", "<?xml", "<iframe", "<object", "<embed", "<body")
CHUNK = 64 * 1024
MAX_FILENAME = 120


class TooLarge(DomainError):
    status, code = 413, "payload_too_large"


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    media_type: str


def attachments_dir() -> Path:
    """Where blobs live: ``ATTACHMENTS_DIR``, or ``attachments`` in the instance folder."""
    configured = current_app.config.get("ATTACHMENTS_DIR")
    return Path(configured or os.path.join(current_app.instance_path, "attachments"))


def blob_path(sha256: str) -> Path:
    """``ab/cd/abcd…``: two levels of fan-out keep folders small."""
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise ValueError("not a SHA-256 hex digest")
    return attachments_dir() / sha256[:2] / sha256[2:4] / sha256


def max_bytes() -> int:
    return int(current_app.config["ATTACHMENT_MAX_BYTES"])


def store(stream: IO[bytes]) -> StoredFile:
    """Read ``stream`` into the store if its type is allowed; raise 413, 415 or 422 otherwise."""
    root = attachments_dir()
    root.mkdir(parents=True, exist_ok=True)
    with _temporary_file(root) as temp:
        digest, size = hashlib.sha256(), 0
        limit = max_bytes()
        while chunk := stream.read(CHUNK):
            size += len(chunk)
            if size > limit:
                raise TooLarge(f"Le fichier dépasse la taille maximale ({_megabytes(limit)}).")
            digest.update(chunk)
            temp.write(chunk)
        temp.flush()
        os.fsync(temp.fileno())
        if size == 0:
            message = "Le fichier est vide."
            raise Invalid(message, fields={"file": [message]})
        media_type = sniff(Path(temp.name))
        sha256 = digest.hexdigest()
        target = blob_path(sha256)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(temp.name, target)
    return StoredFile(sha256=sha256, size=size, media_type=media_type)


@contextmanager
def _temporary_file(root: Path) -> Iterator[IO[bytes]]:
    """A temporary file in ``root`` (the same file system, so ``os.replace`` is atomic),
    removed on the way out unless it was moved into place."""
    temp = tempfile.NamedTemporaryFile(dir=root, prefix=".upload-", delete=False)  # noqa: SIM115
    try:
        with temp:
            yield temp
    finally:
        if os.path.exists(temp.name):
            os.unlink(temp.name)


def sniff(path: Path) -> str:
    """The media type of the file at ``path``, from its content; 415 if not allowed."""
    with open(path, "rb") as file:
        head = file.read(8192)
    kind = filetype.guess(head)
    if kind is not None and kind.mime in (PDF, PNG, JPEG):
        return str(kind.mime)
    if head.startswith(b"PK\x03\x04"):
        return _office_type(path)
    if kind is None and _is_plain_text(path):
        return TEXT
    raise UnsupportedMediaType(
        "Type de fichier non accepté : PDF, OpenDocument, Word, Excel, PowerPoint, "
        "PNG, JPEG ou texte brut uniquement."
    )


def _office_type(path: Path) -> str:
    """OpenDocument or Office Open XML, read from the ZIP's directory and one small entry."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "mimetype" in names and archive.getinfo("mimetype").file_size <= 100:
                declared = archive.read("mimetype").decode("ascii", "replace").strip()
                if declared in ODF_TYPES:
                    return declared
            if "[Content_Types].xml" in names:
                info = archive.getinfo("[Content_Types].xml")
                if info.file_size <= 1024 * 1024:
                    manifest = archive.read(info).decode("utf-8", "replace")
                    for part, media_type in OOXML_MAIN_PARTS.items():
                        if f'ContentType="{part}"' in manifest:
                            return media_type
    except (zipfile.BadZipFile, OSError, KeyError, RuntimeError, NotImplementedError):
        pass
    raise UnsupportedMediaType(
        "Archive non acceptée : seuls les documents OpenDocument et Office (sans macros) "
        "sont acceptés."
    )


def _is_plain_text(path: Path) -> bool:
    """UTF-8, no NUL byte, and nothing that looks like HTML, SVG or XML."""
    raw = path.read_bytes()
    if b"\x00" in raw:
        return False
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    if text.lstrip().startswith("<"):
        return False
    lowered = text.casefold()
    return not any(marker in lowered for marker in MARKUP)


def safe_filename(name: str | None, media_type: str) -> str:
    """A file name that is only a name: no folder, no control character, not too long, with an
    extension that matches the sniffed type. Letters of any alphabet are kept."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[/\\]", name)[-1]  # the last part, whatever the client's separator
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    name = re.sub(r'[<>:"|?*]', "_", name)
    name = re.sub(r"\s+", " ", name).strip(" .")
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    allowed = EXTENSIONS[media_type]
    if f".{extension.lower()}" in allowed:
        suffix = f".{extension.lower()}"
    else:
        suffix = allowed[0]
        if extension and not re.fullmatch(r"[A-Za-z0-9]{1,5}", extension):
            stem = name  # "Rapport v2.final version": not an extension, keep it in the name
    stem = stem.strip(" .")[: MAX_FILENAME - len(suffix)].rstrip(" .") or "document"
    return stem + suffix


def _megabytes(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.0f} Mo"
    return f"{size} octets"


# A downloaded file is never a page of this site: no script runs, nothing loads, and the
# browser may not guess another type than the one we sniffed.
DOWNLOAD_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
}


def send_attachment(path: Path, *, filename: str, media_type: str, sha256: str) -> Response:
    """The response that downloads a stored file, for the API and the web pages alike."""
    response = send_file(
        path, mimetype=media_type, as_attachment=True, download_name=filename, etag=sha256
    )
    response.headers.update(DOWNLOAD_HEADERS)
    return response


def store_replica_blob(sha256: str, data: bytes) -> None:
    """Keep bytes fetched from another instance under ``sha256`` if they hash to it and are
    of an allowed type; ValueError otherwise (nothing is stored)."""
    if hashlib.sha256(data).hexdigest() != sha256:
        raise ValueError("the bytes do not match their SHA-256")
    target = blob_path(sha256)
    if target.is_file():
        return
    root = attachments_dir()
    root.mkdir(parents=True, exist_ok=True)
    with _temporary_file(root) as temp:
        temp.write(data)
        temp.flush()
        os.fsync(temp.fileno())
        try:
            sniff(Path(temp.name))
        except DomainError as error:
            raise ValueError(f"refused type: {error}") from None
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(temp.name, target)
