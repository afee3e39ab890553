"""Library pages: search with facets, a document's page, the editor with its Markdown preview,
attachments (upload and download), versions and the comparison of two versions.

Every page calls the same services as the API and commits once. An upload the store refuses
(too large, a type outside the allowlist, an empty file) comes back as a French flash message
on the document's page, never as an error page.
"""

import re
import uuid
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from sharing.errors import DomainError, Invalid, handle_http_exception
from sharing.extensions import db
from sharing.http import load_form
from sharing.library import files, services
from sharing.library.markdown import render_markdown
from sharing.library.models import (
    DEFAULT_LICENCE,
    LICENCES,
    THEMES,
    TYPE_LABELS,
    Document,
    DocumentType,
)
from sharing.library.permissions import (
    can_attach_to_document,
    can_create_document,
    can_edit_document,
)
from sharing.library.schemas import MAX_BODY, DocumentArgs, DocumentListArgs
from sharing.regies.models import Regie
from sharing.web import file_size, form_errors, instance_name, query_args, require, require_local

bp = Blueprint("library", __name__, template_folder="templates")

PER_PAGE = 20
FILTERS = ("theme", "type", "tag", "regie", "instance")
FACET_TITLES = {"theme": "Thème", "type": "Type", "regie": "Régie", "instance": "Instance"}
FIELD_LABELS = {
    "title": "Titre",
    "summary": "Résumé",
    "body": "Texte",
    "themes": "Thèmes",
    "tags": "Étiquettes",
    "type": "Type",
    "licence": "Licence",
}
WRITERS_ONLY = "Seuls les membres de la régie autrice modifient ce document."
REPLICA = "Ce document ne se modifie que sur son instance d'origine"
# Errors of the store that the document's page shows as a message next to the upload form.
UPLOAD_REFUSALS = (413, 415, 422)


# --- The library: search, facets, pagination --------------------------------------------------


@dataclass
class FacetValue:
    value: str
    label: str
    count: int
    active: bool
    url: str


@bp.get("/bibliotheque")
@login_required
def index() -> Any:
    """Search the network's library by words, with facets (theme, type, régie, instance)."""
    args = query_args(DocumentListArgs())
    if not request.args.get("per_page", "").strip():
        args["per_page"] = PER_PAGE  # shorter pages than the API's for phones
    results = services.search_library(**args)
    filters = {name: _plain(args[name]) for name in FILTERS if name in args}
    q = args.get("q", "")
    return render_template(
        "library/index.html",
        results=results,
        q=q,
        filters=filters,
        active=_active_filters(filters, q),
        facets=_facets(results.facets, filters, q),
        facet_titles=FACET_TITLES,
    )


def _plain(value: Any) -> str:
    return str(value.value) if isinstance(value, DocumentType) else str(value)


def _library_url(filters: dict[str, str], q: str) -> str:
    """The library with these filters and words, from the first page."""
    values: dict[str, Any] = {**filters, "q": q or None}
    return url_for(".index", **values)


def _facets(
    counts: dict[str, dict[str, int]], filters: dict[str, str], q: str
) -> dict[str, list[FacetValue]]:
    """Each facet's values, labelled, with the link that adds or removes that filter."""
    facets: dict[str, list[FacetValue]] = {}
    for name in FACET_TITLES:
        values = counts.get(name, {})
        labels = _labels(name, list(values))
        facets[name] = [
            FacetValue(
                value=value,
                label=labels.get(value, value),
                count=count,
                active=filters.get(name) == value,
                url=_library_url(_toggled(filters, name, value), q),
            )
            for value, count in values.items()
        ]
    return facets


def _toggled(filters: dict[str, str], name: str, value: str) -> dict[str, str]:
    if filters.get(name) == value:
        return {k: v for k, v in filters.items() if k != name}
    return filters | {name: value}


def _labels(name: str, values: list[str]) -> dict[str, str]:
    """What people read for the values of a facet or filter."""
    if name == "theme":
        return {v: THEMES.get(v, v) for v in values}
    if name == "type":
        return {t.value: label for t, label in TYPE_LABELS.items()}
    if name == "regie":
        ids = [uuid.UUID(v) for v in values]
        rows = db.session.execute(select(Regie.id, Regie.name).where(Regie.id.in_(ids)))
        return {str(regie_id): regie_name for regie_id, regie_name in rows}
    if name == "instance":
        return {v: "Cette instance" if v == "local" else _instance_label(v) for v in values}
    return {v: v for v in values}


def _instance_label(instance_id: str) -> str:
    """Another instance by its name (its peer's), or « Autre instance » and the id's start."""
    name = instance_name(instance_id, "")
    return f"Instance {name}" if name else f"Autre instance ({instance_id[:8]})"


def _active_filters(filters: dict[str, str], q: str) -> list[dict[str, str]]:
    """The filters in force, each with its label and the link that removes it."""
    titles = FACET_TITLES | {"tag": "Étiquette"}
    return [
        {
            "title": titles[name],
            "label": _labels(name, [value]).get(value, value),
            "url": _library_url({k: v for k, v in filters.items() if k != name}, q),
        }
        for name, value in filters.items()
    ]


# --- A document's page, its deletion --------------------------------------------------------


@bp.get("/bibliotheque/<uuid:document_id>")
@login_required
def document(document_id: uuid.UUID) -> Any:
    """One document: its rendered body, themes and tags, attachments and history."""
    document = services.get_document(document_id)
    return render_template(
        "library/document.html",
        document=document,
        body_html=render_markdown(document.body),
        themes=THEMES,
        file_types=files.TYPE_LABELS,
        max_size=file_size(files.max_bytes()),
    )


@bp.post("/bibliotheque/<uuid:document_id>/supprimer")
@login_required
def delete_document(document_id: uuid.UUID) -> Any:
    """The author régie's managers take a document out of the library."""
    document = services.get_document(document_id)
    require_local(document, REPLICA)
    services.delete_document(current_user, document)
    db.session.commit()
    flash(f"« {document.title} » est retiré de la bibliothèque.", "success")
    return redirect(url_for(".index"))


# --- The editor -----------------------------------------------------------------------------


@bp.route("/bibliotheque/nouveau", methods=["GET", "POST"])
@login_required
def new_document() -> Any:
    """Write a document for the user's régie; « Prévisualiser » shows the body rendered."""
    require(can_create_document(current_user), "Seules les régies de cette instance publient ici.")
    if request.method == "GET":
        return _editor(None, {"licence": DEFAULT_LICENCE, "themes": []}, {})
    if _previewing():
        return _preview(None)
    try:
        document = services.create_document(current_user, _load_document_form())
    except Invalid as error:
        db.session.rollback()
        return _editor(None, _submitted(), form_errors(error)), 422
    db.session.commit()
    flash(
        f"« {document.title} » est publié dans la bibliothèque (version 1). "
        "Vous pouvez y joindre des fichiers.",
        "success",
    )
    return redirect(url_for(".document", document_id=document.id))


@bp.route("/bibliotheque/<uuid:document_id>/modifier", methods=["GET", "POST"])
@login_required
def edit_document(document_id: uuid.UUID) -> Any:
    """Rewrite a document; a change makes a new version, the old one stays readable."""
    document = services.get_document(document_id)
    require_local(document, REPLICA)
    require(can_edit_document(current_user, document), WRITERS_ONLY)
    if request.method == "GET":
        return _editor(document, _form_values(document), {})
    if _previewing():
        return _preview(document)
    before = document.version
    try:
        services.update_document(current_user, document, _load_document_form())
    except Invalid as error:
        db.session.rollback()
        return _editor(document, _submitted(), form_errors(error)), 422
    db.session.commit()
    if document.version == before:
        flash(f"Aucune modification : le document reste à la version {before}.", "info")
    else:
        flash(f"« {document.title} » est enregistré (version {document.version}).", "success")
    return redirect(url_for(".document", document_id=document.id))


def _previewing() -> bool:
    return request.form.get("action") == "preview"


def _preview(document: Document | None) -> str:
    """The editor again with what was typed, and the body rendered below it; nothing saved."""
    body = request.form.get("body", "")
    errors: dict[str, list[str]] = {}
    preview = None
    if len(body) > MAX_BODY:
        errors["body"] = [f"{MAX_BODY} caractères au plus."]
    else:
        preview = render_markdown(body)
    return _editor(document, _submitted(), errors, preview)


def _submitted() -> dict[str, Any]:
    """The form's values as typed, to show them again."""
    values: dict[str, Any] = {
        key: value for key, value in request.form.items() if key in FIELD_LABELS
    }
    values["themes"] = request.form.getlist("themes")
    return values


def _load_document_form() -> dict[str, Any]:
    """Load the editor with the API's schema: the themes are repeated checkboxes and the tags
    one comma-separated input; blank inputs count as absent, as in ``load_form``."""
    tags = [tag for tag in request.form.get("tags", "").split(",") if tag.strip()]
    return load_form(DocumentArgs(), lists={"themes": request.form.getlist("themes"), "tags": tags})


def _form_values(document: Document) -> dict[str, Any]:
    """A document as the editor shows it."""
    return {
        "title": document.title,
        "summary": document.summary,
        "body": document.body,
        "themes": document.themes,
        "tags": ", ".join(document.tags),
        "type": document.type.value,
        "licence": document.licence,
    }


def _editor(
    document: Document | None,
    values: dict[str, Any],
    errors: dict[str, list[str]],
    preview: str | None = None,
) -> str:
    return render_template(
        "library/editor.html",
        document=document,
        values=values,
        errors=errors,
        preview=preview,
        labels=FIELD_LABELS,
        themes=THEMES,
        types=[(t.value, label) for t, label in TYPE_LABELS.items()],
        licences=list(LICENCES.items()),
    )


# --- Attachments ----------------------------------------------------------------------------


@bp.post("/bibliotheque/<uuid:document_id>/fichiers")
@login_required
def upload_attachment(document_id: uuid.UUID) -> Any:
    """The document page's upload form: the store sniffs the type and may refuse the file."""
    document = services.get_document(document_id)
    require_local(document, REPLICA)
    require(
        can_attach_to_document(current_user, document),
        "Seule la régie autrice joint des fichiers à ce document.",
    )
    back = url_for(".document", document_id=document.id)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash("Choisissez un fichier à joindre.", "error")
        return redirect(back)
    try:
        attachment = services.attach_file(current_user, document, upload.stream, upload.filename)
    except DomainError as error:
        if error.status not in UPLOAD_REFUSALS:
            raise
        db.session.rollback()
        flash(f"Fichier refusé : {error.message}", "error")
        return redirect(back)
    db.session.commit()
    flash(
        f"« {attachment.filename} » ({file_size(attachment.size)}) est joint au document.",
        "success",
    )
    return redirect(back)


@bp.errorhandler(RequestEntityTooLarge)
def upload_too_large(error: RequestEntityTooLarge) -> Any:
    """A request larger than the whole-request limit is refused before the view runs (reading
    the CSRF token reads the body): on the upload form, it is still a message on the page."""
    document_id = (request.view_args or {}).get("document_id")
    if request.endpoint != "library.upload_attachment" or document_id is None:
        return handle_http_exception(error)  # the French error page, as everywhere else
    flash(
        f"Fichier refusé : le fichier dépasse la taille maximale ({file_size(files.max_bytes())}).",
        "error",
    )
    return redirect(url_for(".document", document_id=document_id))


@bp.get("/bibliotheque/<uuid:document_id>/fichiers/<uuid:attachment_id>")
@login_required
def download_attachment(document_id: uuid.UUID, attachment_id: uuid.UUID) -> Any:
    """Download an attachment with the API's headers: always a download, of the sniffed type."""
    attachment = services.get_attachment(services.get_document(document_id), attachment_id)
    return files.send_attachment(
        services.attachment_file(attachment),
        filename=attachment.filename,
        media_type=attachment.media_type,
        sha256=attachment.sha256,
    )


# --- Versions -------------------------------------------------------------------------------


@bp.get("/bibliotheque/<uuid:document_id>/versions")
@login_required
def versions(document_id: uuid.UUID) -> Any:
    """A document's history, newest first, with links to compare versions."""
    document = services.get_document(document_id)
    return render_template(
        "library/versions.html", document=document, versions=services.list_versions(document)
    )


@bp.get("/bibliotheque/<uuid:document_id>/versions/<int:number>")
@login_required
def version(document_id: uuid.UUID, number: int) -> Any:
    """One version of a document, read-only, as it was written."""
    document = services.get_document(document_id)
    version = services.get_version(document, number)
    return render_template(
        "library/version.html",
        document=document,
        version=version,
        body_html=render_markdown(version.body),
        themes=THEMES,
        licences=LICENCES,
    )


@bp.get("/bibliotheque/<uuid:document_id>/comparer")
@login_required
def compare_form(document_id: uuid.UUID) -> Any:
    """The history page's form: two version numbers in the query string, then the comparison."""
    document = services.get_document(document_id)
    numbers = [request.args.get(name, "").strip() for name in ("de", "a")]
    if not all(re.fullmatch(r"\d{1,9}", n) for n in numbers):
        raise DomainError(
            "Paramètre de recherche invalide (« de » et « a » : des numéros de version).",
            code="invalid_query",
        )
    a, b = (int(n) for n in numbers)
    return redirect(url_for(".compare", document_id=document.id, a=a, b=b))


@bp.get("/bibliotheque/<uuid:document_id>/versions/<int:a>/comparer/<int:b>")
@login_required
def compare(document_id: uuid.UUID, a: int, b: int) -> Any:
    """What changed from version ``a`` to version ``b``: fields, then the body line by line."""
    document = services.get_document(document_id)
    diff = services.diff_versions(document, a, b)
    changes = [
        (FIELD_LABELS[name], _shown(name, change.old), _shown(name, change.new))
        for name, change in diff.changes.items()
    ]
    return render_template(
        "library/compare.html",
        document=document,
        diff=diff,
        changes=changes,
        body=[
            (line.kind, _hunk_title(line.text) if line.kind == "hunk" else line.text)
            for line in diff.body
        ],
    )


def _shown(name: str, value: Any) -> str:
    """A versioned field's value as people read it."""
    if name == "themes":
        return ", ".join(THEMES.get(slug, slug) for slug in value) or "—"
    if name == "tags":
        return ", ".join(value) or "—"
    if name == "type":
        return TYPE_LABELS.get(DocumentType(value), str(value))
    if name == "licence":
        return LICENCES.get(value, value)
    return str(value) if value else "—"


HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def _hunk_title(header: str) -> str:
    """``@@ -3,4 +3,6 @@`` as a French heading for that part of the diff."""
    match = HUNK.match(header)
    if not match:
        return header
    old_start, old_count, new_start, new_count = match.groups()
    return (
        f"Lignes {_span(old_start, old_count)} de l'ancienne version, "
        f"{_span(new_start, new_count)} de la nouvelle"
    )


def _span(start: str, count: str | None) -> str:
    first, size = int(start), int(count) if count is not None else 1
    if size == 0:
        return f"(aucune, après la ligne {first})"
    return f"{first}" if size == 1 else f"{first} à {first + size - 1}"
