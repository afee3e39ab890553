"""Use cases for the library. Services check permissions, apply rules and flush; the caller
commits (the search index is written in the same transaction, by ``sharing.search``)."""

import difflib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select

from sharing import search
from sharing.accounts.models import User
from sharing.db import utcnow
from sharing.errors import Conflict, Forbidden, Invalid, NotFound
from sharing.extensions import db
from sharing.http import Page
from sharing.library import files, queries
from sharing.library.models import (
    DEFAULT_LICENCE,
    SEARCH_KIND,
    THEMES,
    TYPE_LABELS,
    Attachment,
    Document,
    DocumentType,
    DocumentVersion,
    Labels,
    in_theme_order,
)
from sharing.library.permissions import (
    can_attach_to_document,
    can_create_document,
    can_delete_document,
    can_edit_document,
)

# What a version records besides its body, in the order a diff lists them.
VERSIONED_FIELDS = ("title", "summary", "themes", "tags", "type", "licence")


def get_document(document_id: uuid.UUID | str) -> Document:
    """A document by id; every signed-in user reads the whole library. Deleted ones are gone."""
    document = db.session.get(Document, _as_uuid(document_id, "Ce document n'existe pas."))
    if document is None or document.is_deleted:
        raise NotFound("Ce document n'existe pas.")
    return document


def create_document(actor: User, data: dict[str, Any]) -> Document:
    """Publish a document for the actor's régie; it starts at version 1."""
    if not can_create_document(actor):
        raise Forbidden("Seules les régies de cette instance publient ici.")
    document = Document(
        regie=actor.regie,
        title=data["title"],
        summary=data.get("summary", ""),
        body=data.get("body", ""),
        type=data["type"],
        licence=data.get("licence", DEFAULT_LICENCE),
        version=1,
    )
    document.set_themes(data["themes"])
    document.set_tags(data.get("tags", []))
    db.session.add(document)
    db.session.flush()
    _snapshot(document, actor)
    _index(document)
    db.session.flush()
    return document


def update_document(actor: User, document: Document, data: dict[str, Any]) -> Document:
    """Edit a document; when anything changed, this is version n+1."""
    _require_editable(actor, document)
    before = _fields(document)
    for key in ("title", "summary", "body", "type", "licence"):
        if key in data:
            setattr(document, key, data[key])
    if "themes" in data:
        document.set_themes(data["themes"])
    if "tags" in data:
        document.set_tags(data["tags"])
    if _fields(document) != before:
        _next_version(document)
        document.updated_at = utcnow()
        _snapshot(document, actor)
        _index(document)
    db.session.flush()
    return document


def delete_document(actor: User, document: Document) -> None:
    """Take a document out of the library: a tombstone stays for federation."""
    _require_replica_is_not_touched(document)
    if not can_delete_document(actor, document):
        raise Forbidden("Seuls les responsables de la régie autrice suppriment ce document.")
    document.deleted_at = utcnow()
    document.updated_at = document.deleted_at
    _next_version(document)  # the tombstone's version: nothing older brings it back
    search.remove_record(SEARCH_KIND, document.id)
    db.session.flush()


@dataclass(frozen=True)
class RegieRef:
    """The régie of a document in a result list: what the list shows of it."""

    id: uuid.UUID
    name: str
    slug: str
    origin_instance_id: uuid.UUID | None

    @property
    def is_local(self) -> bool:
        return self.origin_instance_id is None


@dataclass
class DocumentHit(Labels):
    """A document in a result list (what lists show of it), with its highlighted snippet
    when the list was searched."""

    id: uuid.UUID
    regie: RegieRef
    title: str
    summary: str
    type: DocumentType
    licence: str
    version: int
    created_at: datetime
    updated_at: datetime
    themes: list[str]
    tags: list[str]
    snippet: str | None = None

    @property
    def regie_id(self) -> uuid.UUID:
        return self.regie.id


@dataclass
class LibraryPage(Page):
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    # With q, past queries.CANDIDATES matches: ``total`` is that cap, a lower bound.
    total_is_estimate: bool = False


def search_library(page: int = 1, per_page: int = 50, **filters: Any) -> LibraryPage:
    """One page of the filtered library, snippets when searched, and the facet counts of the
    whole result (every page), counted by the database. One statement finds the documents
    (with ``q``, one full-text match, capped at ``queries.CANDIDATES``), cuts the page and
    counts the total and the facets; one more reads the page's documents."""
    q = (filters.get("q") or "").strip()
    statement, bound = queries.search_statement(page=page, per_page=per_page, **filters)
    positions: dict[int, uuid.UUID] = {}
    facets: dict[str, dict[str, int]] = {name: {} for name in queries.FACETS}
    for row in db.session.execute(statement, bound):
        if row.facet == "page":
            positions[row.position] = row.id
        else:
            facets[row.facet][_facet_key(row[_FACET_COLUMN[row.facet]])] = row.documents
    ids = [positions[position] for position in sorted(positions)]
    hits = _hits(ids, q) if ids else []
    total = sum(facets["type"].values())  # every document has exactly one type
    return LibraryPage(
        items=hits,
        total=total,
        page=page,
        per_page=per_page,
        facets=facets,
        total_is_estimate=bool(q) and total >= queries.CANDIDATES,
    )


def _hits(ids: list[uuid.UUID], q: str) -> list[DocumentHit]:
    """The documents ``ids`` as a result list shows them, in that order, with snippets of
    ``q``. One deleted since its id was read is left out rather than failing the page."""
    hits = {}
    for row in db.session.execute(queries.LISTED, {"ids": ids}):
        if row.deleted_at is not None:
            continue
        hits[row.id] = DocumentHit(
            id=row.id,
            regie=RegieRef(row.regie_id, row.regie_name, row.regie_slug, row.origin_instance_id),
            title=row.title,
            summary=row.summary,
            type=row.type,
            licence=row.licence,
            version=row.version,
            created_at=row.created_at,
            updated_at=row.updated_at,
            themes=in_theme_order(_split_labels(row.themes)),
            tags=sorted(_split_labels(row.tags)),
            snippet=_snippet(row.body, row.summary, q) if q else None,
        )
    return [hits[i] for i in ids if i in hits]


def _split_labels(joined: str | None) -> list[str]:
    return joined.split(queries.LABELS_SEPARATOR) if joined else []


def _snippet(body: str, summary: str, q: str) -> str:
    """The body's best passage; the summary's when the words are in the summary only, or
    the summary itself when they matched elsewhere (the title, a tag)."""
    snippet = search.highlight(body, q)
    if "<mark>" in snippet or not summary:
        return snippet
    return search.highlight(summary, q)


# Where ``queries.results`` rows hold each facet's value: after the ``facet`` column.
_FACET_COLUMN = {facet: 1 + index for index, facet in enumerate(queries.FACETS)}


def _facet_key(value: Any) -> str:
    if value is None:
        return "local"  # a régie with no origin instance is hosted here
    if isinstance(value, DocumentType):
        return value.value
    return str(value)


def list_versions(document: Document) -> list[DocumentVersion]:
    """The document's history, newest first."""
    return list(
        db.session.scalars(
            select(DocumentVersion)
            .where(DocumentVersion.document_id == document.id)
            .order_by(DocumentVersion.number.desc())
        )
    )


def get_version(document: Document, number: int) -> DocumentVersion:
    """One version of a document by its number."""
    version = db.session.scalar(
        select(DocumentVersion).where(
            DocumentVersion.document_id == document.id, DocumentVersion.number == number
        )
    )
    if version is None:
        raise NotFound(f"Ce document n'a pas de version {number}.")
    return version


@dataclass
class DiffLine:
    kind: str  # hunk, context, added, removed
    text: str


@dataclass
class FieldChange:
    old: Any
    new: Any


@dataclass
class VersionDiff:
    old: int
    new: int
    changes: dict[str, FieldChange] = field(default_factory=dict)
    body: list[DiffLine] = field(default_factory=list)


def diff_versions(document: Document, a: int, b: int) -> VersionDiff:
    """What changed from version ``a`` to version ``b``: the fields that differ, and a line
    diff of the bodies (unified, three lines of context)."""
    old, new = get_version(document, a), get_version(document, b)
    diff = VersionDiff(old=a, new=b)
    for name in VERSIONED_FIELDS:
        before, after = getattr(old, name), getattr(new, name)
        if before != after:
            diff.changes[name] = FieldChange(old=before, new=after)
    lines = difflib.unified_diff(old.body.splitlines(), new.body.splitlines(), lineterm="", n=3)
    for line in lines:
        if line.startswith(("---", "+++")):
            continue
        kind = {"@": "hunk", "+": "added", "-": "removed"}.get(line[:1], "context")
        diff.body.append(DiffLine(kind=kind, text=line if kind == "hunk" else line[1:]))
    return diff


def attach_file(
    actor: User, document: Document, stream: IO[bytes] | None, filename: str | None
) -> Attachment:
    """Attach an uploaded file: checked, typed by its content, stored once per content."""
    _require_replica_is_not_touched(document)
    if not can_attach_to_document(actor, document):
        raise Forbidden("Seule la régie autrice joint des fichiers à ce document.")
    if stream is None:
        message = "Joignez le fichier dans le champ « file » (multipart/form-data)."
        raise Invalid(message, fields={"file": [message]})
    stored = files.store(stream)
    attachment = Attachment(
        document=document,
        filename=files.safe_filename(filename, stored.media_type),
        media_type=stored.media_type,
        size=stored.size,
        sha256=stored.sha256,
        uploaded_by_id=actor.id,
    )
    db.session.add(attachment)
    # A new version, so that the instances replicating the document fetch the file too.
    _next_version(document)
    document.updated_at = utcnow()
    _snapshot(document, actor)
    db.session.flush()
    return attachment


def get_attachment(document: Document, attachment_id: uuid.UUID | str) -> Attachment:
    """One of the document's attachments."""
    attachment = db.session.get(Attachment, _as_uuid(attachment_id, "Ce fichier n'existe pas."))
    if attachment is None or attachment.document_id != document.id:
        raise NotFound("Ce fichier n'existe pas.")
    return attachment


def attachment_file(attachment: Attachment) -> Path:
    """Where the attachment's bytes are on disk."""
    path = files.blob_path(attachment.sha256)
    if attachment.is_pending or not path.is_file():
        raise NotFound(
            "Ce fichier n'est pas encore arrivé de l'instance d'origine.",
            code="attachment_pending",
        )
    return path


def search_text(document: Document) -> str:
    return searchable(
        document.summary, document.tags, document.themes, document.type, document.body
    )


def searchable(
    summary: str, tags: list[str], themes: list[str], type_: DocumentType, body: str
) -> str:
    """What the search index holds of a document besides its title: everything a reader
    might type."""
    theme_labels = " ".join(THEMES.get(slug, slug) for slug in themes)
    return "\n".join((summary, " ".join(tags), theme_labels, TYPE_LABELS[type_], body))


def indexable_documents() -> Iterator[tuple[uuid.UUID, str, str]]:
    """Every document still in the library, for ``flask search reindex``."""
    stmt = select(Document).where(Document.deleted_at.is_(None)).order_by(Document.id)
    for document in db.session.scalars(stmt):
        yield document.id, document.title, search_text(document)


search.register_kind(SEARCH_KIND, indexable_documents)


def _index(document: Document) -> None:
    search.index_record(SEARCH_KIND, document.id, document.title, search_text(document))


def _fields(document: Document) -> dict[str, Any]:
    return {name: getattr(document, name) for name in (*VERSIONED_FIELDS, "body")}


def _next_version(document: Document) -> None:
    """version + 1, computed by the database when it writes the row: two edits or uploads at
    once take turns on the row and get n+1 and n+2, never both n+1."""
    document.version = Document.version + 1
    db.session.flush()  # the row is written (and locked); reading version reloads it


def _snapshot(document: Document, author: User | None) -> DocumentVersion:
    version = DocumentVersion(
        document_id=document.id,
        number=document.version,
        author=author,
        body=document.body,
        **{name: getattr(document, name) for name in VERSIONED_FIELDS},
    )
    db.session.add(version)
    return version


def _require_replica_is_not_touched(document: Document) -> None:
    if not document.is_local:
        raise Conflict(
            "Ce document appartient à une autre instance : modifiez-le là-bas.",
            code="read_only_replica",
        )


def _require_editable(actor: User, document: Document) -> None:
    _require_replica_is_not_touched(document)
    if not can_edit_document(actor, document):
        raise Forbidden("Seule la régie autrice modifie ce document.")


def _as_uuid(value: uuid.UUID | str, message: str) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound(message) from None
