"""Library API: themes, documents and their versions, attachments."""

import uuid
from typing import Any

from flask import Response, request
from flask_login import current_user
from flask_smorest import Blueprint

from sharing.errors import ErrorSchema
from sharing.extensions import db
from sharing.library import files, services
from sharing.library.files import EXTENSIONS
from sharing.library.models import THEMES, Attachment, Document, DocumentVersion
from sharing.library.schemas import (
    AttachmentSchema,
    DocumentArgs,
    DocumentListArgs,
    DocumentPageSchema,
    DocumentPatchArgs,
    DocumentSchema,
    ThemeSchema,
    VersionDiffSchema,
    VersionSchema,
    VersionSummarySchema,
)
from sharing.security import protect_api, takes_uploads

bp = Blueprint("library_api", __name__, url_prefix="/api/v1", description="Bibliothèque")
bp.before_request(protect_api)

UPLOAD_BODY = {
    "required": True,
    "description": "The file, in the multipart field `file`. Its type is sniffed from its "
    f"content: {', '.join(sorted(EXTENSIONS))}.",
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            }
        }
    },
}


@bp.get("/themes")
@bp.response(200, ThemeSchema(many=True))
def list_themes() -> Any:
    """The shared vocabulary of the library's themes."""
    return [{"slug": slug, "label": label} for slug, label in THEMES.items()]


@bp.get("/documents")
@bp.arguments(DocumentListArgs, location="query")
@bp.response(200, DocumentPageSchema)
def list_documents(args: dict[str, Any]) -> Any:
    """Search the library of the whole network; `q` ranks by relevance and adds snippets."""
    return services.search_library(**args)


@bp.post("/documents")
@bp.arguments(DocumentArgs)
@bp.response(201, DocumentSchema)
def create_document(args: dict[str, Any]) -> Document:
    """Publish a document for your régie (version 1)."""
    document = services.create_document(current_user, args)
    db.session.commit()
    return document


@bp.get("/documents/<uuid:document_id>")
@bp.response(200, DocumentSchema)
def get_document(document_id: uuid.UUID) -> Document:
    """One document, its body rendered and its attachments."""
    return services.get_document(document_id)


@bp.patch("/documents/<uuid:document_id>")
@bp.arguments(DocumentPatchArgs(partial=True))
@bp.response(200, DocumentSchema)
@bp.alt_response(409, schema=ErrorSchema, description="`read_only_replica`")
def update_document(args: dict[str, Any], document_id: uuid.UUID) -> Document:
    """Edit a document (its régie's members); a change makes version n+1."""
    document = services.update_document(current_user, services.get_document(document_id), args)
    db.session.commit()
    return document


@bp.delete("/documents/<uuid:document_id>")
@bp.response(204)
def delete_document(document_id: uuid.UUID) -> None:
    """Take a document out of the library (its régie's managers); a tombstone stays."""
    services.delete_document(current_user, services.get_document(document_id))
    db.session.commit()


@bp.get("/documents/<uuid:document_id>/versions")
@bp.response(200, VersionSummarySchema(many=True))
def list_versions(document_id: uuid.UUID) -> list[DocumentVersion]:
    """A document's history, newest first."""
    return services.list_versions(services.get_document(document_id))


@bp.get("/documents/<uuid:document_id>/versions/<int:number>")
@bp.response(200, VersionSchema)
def get_version(document_id: uuid.UUID, number: int) -> DocumentVersion:
    """One version of a document, as it was written."""
    return services.get_version(services.get_document(document_id), number)


@bp.get("/documents/<uuid:document_id>/versions/<int:a>/diff/<int:b>")
@bp.response(200, VersionDiffSchema)
def diff_versions(document_id: uuid.UUID, a: int, b: int) -> Any:
    """What changed between two versions: fields, and a line diff of the body."""
    return services.diff_versions(services.get_document(document_id), a, b)


@bp.post("/documents/<uuid:document_id>/attachments")
@takes_uploads
@bp.doc(requestBody=UPLOAD_BODY)
@bp.response(201, AttachmentSchema)
@bp.alt_response(413, schema=ErrorSchema, description="Larger than the limit (20 Mo)")
@bp.alt_response(415, schema=ErrorSchema, description="A type outside the allowlist")
def upload_attachment(document_id: uuid.UUID) -> Attachment:
    """Attach a file to a document (its régie's members)."""
    document = services.get_document(document_id)
    upload = request.files.get("file") if request.mimetype == "multipart/form-data" else None
    attachment = services.attach_file(
        current_user,
        document,
        upload.stream if upload is not None else None,
        upload.filename if upload is not None else None,
    )
    db.session.commit()
    return attachment


@bp.get("/documents/<uuid:document_id>/attachments/<uuid:attachment_id>")
@bp.response(
    200,
    {"type": "string", "format": "binary"},
    content_type="application/octet-stream",
    description="The bytes, with the sniffed type as Content-Type",
    headers={
        "Content-Disposition": {
            "description": "attachment; filename=…; filename*=UTF-8''… for non-ASCII names",
            "schema": {"type": "string"},
        },
        "X-Content-Type-Options": {"schema": {"type": "string", "enum": ["nosniff"]}},
    },
)
def download_attachment(document_id: uuid.UUID, attachment_id: uuid.UUID) -> Response:
    """Download an attachment."""
    attachment = services.get_attachment(services.get_document(document_id), attachment_id)
    return files.send_attachment(
        services.attachment_file(attachment),
        filename=attachment.filename,
        media_type=attachment.media_type,
        sha256=attachment.sha256,
    )
