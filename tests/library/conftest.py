"""Library fixtures: documents made through the services, files of every kind, and an
attachment folder of the test's own."""

import io
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from sharing.accounts.models import User
from sharing.extensions import db
from sharing.library import services
from sharing.library.models import Document, DocumentType
from sharing.library.schemas import DocumentArgs
from sharing.regies.models import Regie
from tests.factories import Factories

BODY = """## Pourquoi désherber autrement

Depuis la loi Labbé, l'entretien des espaces verts se fait sans produits phytosanitaires.

- binette et couteau à désherber
- désherbeur thermique
"""


class Library:
    """Documents and replicas, created and committed the way a request would."""

    def __init__(self, app: Flask, make: Factories):
        self.app = app
        self.make = make

    def document(self, author: User | None = None, **fields: Any) -> Document:
        """A document of ``author``'s régie (a new member's by default)."""
        author = author or self.make.user("member")
        data = {
            "title": "Zéro phyto : techniques de désherbage alternatif",
            "summary": "Les gestes et les outils du désherbage sans pesticides.",
            "body": BODY,
            "themes": ["espaces-verts"],
            "type": "fiche-pratique",
        } | fields
        with self.app.app_context():
            document = services.create_document(
                db.session.get(User, author.id), DocumentArgs().load(data)
            )
            db.session.commit()
            return document

    def replica(self, **fields: Any) -> Document:
        """A document of a régie that another instance owns, as federation would store it."""
        with self.app.app_context():
            n = uuid.uuid4().hex[:8]
            regie = Regie(
                name=f"Régie distante {n}",
                slug=f"distante-{n}",
                city="Roubaix",
                origin_instance_id=uuid.uuid4(),
            )
            document = Document(
                regie=regie,
                title=fields.get("title", "Protocole de nettoyage des halls"),
                summary="",
                body="Un protocole venu d'ailleurs.",
                type=DocumentType.PROCEDURE,
                version=1,
            )
            document.set_themes(fields.get("themes", ["proprete"]))
            db.session.add(document)
            db.session.commit()
            return document

    def get(self, document_id: uuid.UUID) -> Document | None:
        with self.app.app_context():
            return db.session.get(Document, document_id)


@pytest.fixture
def library(app: Flask, make: Factories) -> Library:
    return Library(app, make)


@pytest.fixture(autouse=True)
def attachments_dir(app: Flask, tmp_path: Path) -> Iterator[Path]:
    """Every library test stores its files in a folder of its own."""
    folder = tmp_path / "attachments"
    previous = app.config["ATTACHMENTS_DIR"]
    app.config["ATTACHMENTS_DIR"] = str(folder)
    yield folder
    app.config["ATTACHMENTS_DIR"] = previous


def upload(
    client: FlaskClient,
    headers: dict[str, str],
    document_id: Any,
    content: bytes,
    filename: str = "fichier.pdf",
    content_type: str = "application/pdf",
) -> TestResponse:
    """POST a file to the document's attachments, as a browser's multipart form would."""
    return client.post(
        f"/api/v1/documents/{document_id}/attachments",
        data={"file": (io.BytesIO(content), filename, content_type)},
        headers=headers,
        content_type="multipart/form-data",
    )


def stored_files(folder: Path) -> list[Path]:
    """The blobs in the store (temporary files excluded)."""
    if not folder.exists():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))


# Small but genuine files of each allowed type.
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64
TEXT = "Check-list du départ :\n- niveau d'huile\n- lame affûtée\n".encode()


def zipped(entries: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def odf(media_type: str) -> bytes:
    return zipped({"mimetype": media_type, "content.xml": "<office:document-content/>"})


def ooxml(main_part: str, part_name: str) -> bytes:
    types = (
        '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        f'content-types"><Override PartName="/{part_name}" ContentType="{main_part}"/></Types>'
    )
    return zipped({"[Content_Types].xml": types, part_name: "<xml/>"})
