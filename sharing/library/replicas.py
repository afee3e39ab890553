"""Documents owned by other instances, as their feeds describe them. Called by the federation
sync once the record's shape is checked (``federation.records``); the caller commits.

Every newer version that arrives is kept as a version here too (its author is the origin's
régie, not an account of ours). Attachments are described by their hash: those whose bytes are
not here yet are marked pending until ``federation.blobs`` fetches them.

``apply_document`` creates or updates one document; ``add_document`` adds one known to be new,
as rows written with the rest of its batch.
"""

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import update

from sharing import search
from sharing.db import utcnow
from sharing.extensions import db
from sharing.library import files
from sharing.library.models import (
    SEARCH_KIND,
    Attachment,
    Document,
    DocumentTag,
    DocumentTheme,
    DocumentVersion,
    in_theme_order,
)
from sharing.library.services import _index, _snapshot, searchable
from sharing.regies.models import Regie
from sharing.replicas import Applied, NewReplicas, held_or_new, owning_regie, require_origin

FIELDS = ("title", "summary", "body", "type", "licence")


def apply_document(
    origin: uuid.UUID,
    data: dict[str, Any],
    known: Mapping[uuid.UUID, Document] | None = None,
    regie: Regie | None = None,
) -> tuple[Document, Applied]:
    """Create or update the replica of a document of a régie hosted by ``origin``.
    ``known``: the documents of the caller's batch already read, by id (absent: not here);
    ``regie``: its régie, if the caller has it."""
    regie = owning_regie(origin, data, regie, "La régie de ce document")
    document, outcome = held_or_new(Document, origin, data, known, "Ce document")
    if outcome is Applied.UNCHANGED:
        return document, outcome
    document.regie = regie
    for name in FIELDS:
        setattr(document, name, data[name])
    document.set_themes(data["themes"])
    document.set_tags(data["tags"])
    document.version = data["version"]
    document.deleted_at = None
    document.updated_at = utcnow()
    _replace_attachments(document, data["attachments"])
    _snapshot(document, None)
    _index(document)
    return document, outcome  # written at the caller's next flush (sync: once per page)


def add_document(
    origin: uuid.UUID, data: dict[str, Any], regie: Regie, new: NewReplicas
) -> Applied:
    """Add the replica of a document this instance does not hold (the caller knows), of
    ``regie``, hosted by ``origin``: rows of ``new`` (the document, its version, themes, tags
    and attachments), inserted when the caller writes it. The same rows as
    ``apply_document`` would write."""
    require_origin(regie.origin_instance_id, origin, "La régie de ce document")
    document_id, version, now = data["id"], data["version"], utcnow()
    fields = {name: data[name] for name in FIELDS}
    themes = in_theme_order(dict.fromkeys(data["themes"]))
    tags = sorted(dict.fromkeys(data["tags"]))
    document = fields | {
        "id": document_id,
        "regie_id": regie.id,
        "version": version,
        "created_at": data.get("created_at") or now,
        "updated_at": now,
        "deleted_at": None,
    }
    first_version = fields | {
        "id": uuid.uuid4(),
        "document_id": document_id,
        "number": version,
        "themes": themes,
        "tags": tags,
        "author_id": None,
        "created_at": now,
    }
    described = {(a["sha256"], a["filename"]): a for a in data["attachments"]}
    attachments = [
        {"id": uuid.uuid4(), "document_id": document_id, "uploaded_by_id": None, "created_at": now}
        | _attachment(item)
        for item in described.values()
    ]
    new.add(
        document_id,
        {
            Document: [document],
            DocumentVersion: [first_version],
            DocumentTheme: [{"document_id": document_id, "theme": theme} for theme in themes],
            DocumentTag: [{"document_id": document_id, "tag": tag} for tag in tags],
            Attachment: attachments,
        },
    )
    text = searchable(data["summary"], tags, themes, data["type"], data["body"])
    search.index_record(SEARCH_KIND, document_id, data["title"], text)
    return Applied.ADDED


def remove_document(origin: uuid.UUID, document_id: uuid.UUID) -> Applied:
    """Take a document its origin deleted out of the library (as a local deletion does)."""
    document = db.session.get(Document, document_id)
    if document is None or document.is_deleted:
        return Applied.UNCHANGED
    require_origin(document.regie.origin_instance_id, origin, "Ce document")
    document.deleted_at = utcnow()
    search.remove_record(SEARCH_KIND, document.id)
    db.session.flush()
    return Applied.DELETED


def mark_arrived(sha256: str) -> None:
    """The bytes of ``sha256`` are in the store now: its pending attachments are not."""
    db.session.execute(
        update(Attachment)
        .where(Attachment.sha256 == sha256, Attachment.is_pending.is_(True))
        .values(is_pending=False)
    )


def _replace_attachments(document: Document, described: list[dict[str, Any]]) -> None:
    wanted = {(a["sha256"], a["filename"]): a for a in described}
    for attachment in list(document.attachments):
        if (attachment.sha256, attachment.filename) not in wanted:
            document.attachments.remove(attachment)
            db.session.delete(attachment)
    have = {(a.sha256, a.filename) for a in document.attachments}
    for key, item in wanted.items():
        if key not in have:
            document.attachments.append(Attachment(**_attachment(item)))


def _attachment(item: dict[str, Any]) -> dict[str, Any]:
    """The fields of the attachment a record describes."""
    return {
        "filename": files.safe_filename(item["filename"], item["media_type"]),
        "media_type": item["media_type"],
        "size": item["size"],
        "sha256": item["sha256"],
        "is_pending": not files.blob_path(item["sha256"]).is_file(),
    }
