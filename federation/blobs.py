"""Attachments' bytes as an origin serves them to its peers (docs/federation.md §10): only
files referenced by a live document this instance owns, so a peer cannot probe the store."""

from pathlib import Path

from sqlalchemy import select

from sharing.errors import NotFound
from sharing.extensions import db
from sharing.library import files
from sharing.library.models import Attachment, Document
from sharing.regies.models import Regie


def published_blob(sha256: str) -> Path:
    """Where the bytes of ``sha256`` are, if one of our live documents has them attached."""
    try:
        path = files.blob_path(sha256)
    except ValueError:  # not a SHA-256
        raise NotFound("Aucun fichier publié n'a cette empreinte.") from None
    referenced = db.session.scalar(
        select(Attachment.id)
        .join(Document)
        .join(Regie)
        .where(
            Attachment.sha256 == sha256,
            Attachment.is_pending.is_(False),
            Document.deleted_at.is_(None),
            Regie.origin_instance_id.is_(None),
        )
        .limit(1)
    )
    if referenced is None or not path.is_file():
        raise NotFound("Aucun fichier publié n'a cette empreinte.")
    return path
