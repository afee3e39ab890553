"""Attachments: upload, content sniffing, the content-addressed store, downloads, and the
attacks an upload form invites."""

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from sharing.library import files
from tests.library.conftest import JPEG, PDF, PNG, TEXT, odf, ooxml, stored_files, upload, zipped

ALLOWED = [
    ("rapport.pdf", PDF, files.PDF, "rapport.pdf"),
    ("plan.png", PNG, files.PNG, "plan.png"),
    ("photo.JPEG", JPEG, files.JPEG, "photo.jpeg"),
    ("photo", JPEG, files.JPEG, "photo.jpg"),
    ("liste.txt", TEXT, files.TEXT, "liste.txt"),
    ("notes.md", b"# Notes\n\nDu texte.\n", files.TEXT, "notes.md"),
    ("inventaire.csv", b"Nom;Prix\nBinette;25,00\n", files.TEXT, "inventaire.csv"),
    ("bom.txt", b"\xef\xbb\xbfAvec BOM\n", files.TEXT, "bom.txt"),
    ("convention.odt", odf(files.ODT), files.ODT, "convention.odt"),
    ("budget.ods", odf(files.ODS), files.ODS, "budget.ods"),
    ("atelier.odp", odf(files.ODP), files.ODP, "atelier.odp"),
    (
        "convention.docx",
        ooxml(
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
            "word/document.xml",
        ),
        files.DOCX,
        "convention.docx",
    ),
    (
        "budget.xlsx",
        ooxml(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
            "xl/workbook.xml",
        ),
        files.XLSX,
        "budget.xlsx",
    ),
    (
        "formation.pptx",
        ooxml(
            "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
            "ppt/presentation.xml",
        ),
        files.PPTX,
        "formation.pptx",
    ),
]

ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + b"\x00" * 200
MZ = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200
REFUSED = [
    ("setup.pdf", ELF),
    ("rapport.pdf", MZ),
    ("page.txt", b"<html><body><script>alert(1)</script></body></html>"),
    ("page.pdf", b"<!DOCTYPE html><p>Bonjour</p>"),
    ("notes.txt", b"  \n<p onclick='alert(1)'>Bonjour</p>"),
    ("notes.txt", b"Bonjour\n<script>alert(document.cookie)</script>\n"),
    ("dessin.txt", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
    (
        "dessin.pdf",
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>x</script></svg>',
    ),
    ("image.png", b"Texte puis <SVG onload=alert(1)>"),
    ("latin1.txt", "Éléments de sécurité".encode("latin-1")),
    ("nul.txt", b"du texte\x00avec un octet nul"),
    ("archive.zip", zipped({"a.txt": "bonjour"})),
    (
        "macro.docm",
        ooxml("application/vnd.ms-word.document.macroEnabled.main+xml", "word/document.xml"),
    ),
    ("faux.odt", zipped({"mimetype": "application/x-shockwave-flash"})),
    ("casse.docx", b"PK\x03\x04 pas vraiment une archive"),
    ("anim.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"),
]


@pytest.fixture
def author(make):
    return make.user("member")


@pytest.fixture
def document(library, author):
    return library.document(author)


@pytest.fixture
def headers(make, author):
    return make.auth(author)


@pytest.mark.parametrize(("filename", "content", "media_type", "stored_name"), ALLOWED)
def test_allowed_types_are_recognised_by_their_content(
    client, document, headers, attachments_dir, filename, content, media_type, stored_name
):
    # The client's Content-Type is always wrong here, on purpose: it is never believed.
    response = upload(client, headers, document.id, content, filename, "application/x-wrong")

    assert response.status_code == 201, response.json
    body = response.json
    sha256 = hashlib.sha256(content).hexdigest()
    assert body["media_type"] == media_type
    assert body["filename"] == stored_name
    assert body["size"] == len(content)
    assert body["sha256"] == sha256
    assert body["pending"] is False
    blob = attachments_dir / sha256[:2] / sha256[2:4] / sha256
    assert blob.read_bytes() == content
    assert stored_files(attachments_dir) == [blob]


@pytest.mark.parametrize(
    ("filename", "content"), REFUSED, ids=[r[0] + str(i) for i, r in enumerate(REFUSED)]
)
def test_other_content_is_415_whatever_its_name_and_type(
    client, document, headers, attachments_dir, filename, content
):
    response = upload(client, headers, document.id, content, filename, "application/pdf")

    assert response.status_code == 415, response.json
    assert response.json["error"]["code"] == "unsupported_media_type"
    assert stored_files(attachments_dir) == []
    assert list(attachments_dir.iterdir()) == [], "no temporary file left behind"


def test_an_empty_file_is_422(client, document, headers, attachments_dir):
    response = upload(client, headers, document.id, b"", "vide.pdf")

    assert response.status_code == 422
    assert "file" in response.json["error"]["details"]["fields"]
    assert stored_files(attachments_dir) == []


def test_no_file_field_is_422(client, document, headers):
    as_json = client.post(
        f"/api/v1/documents/{document.id}/attachments", json={"file": "x"}, headers=headers
    )
    wrong_field = client.post(
        f"/api/v1/documents/{document.id}/attachments",
        data={"fichier": (__import__("io").BytesIO(PDF), "a.pdf")},
        headers=headers,
        content_type="multipart/form-data",
    )

    assert as_json.status_code == wrong_field.status_code == 422
    assert "file" in wrong_field.json["error"]["details"]["fields"]


@pytest.fixture
def small_limit(app: Flask) -> Iterator[int]:
    previous = app.config["ATTACHMENT_MAX_BYTES"]
    app.config["ATTACHMENT_MAX_BYTES"] = 1000
    yield 1000
    app.config["ATTACHMENT_MAX_BYTES"] = previous


def test_a_file_over_the_limit_is_413(client, document, headers, attachments_dir, small_limit):
    too_big = TEXT * (small_limit // len(TEXT) + 1)
    just_fits = (b"x" * (small_limit - 1)) + b"\n"

    refused = upload(client, headers, document.id, too_big, "gros.txt")
    accepted = upload(client, headers, document.id, just_fits, "juste.txt")

    assert refused.status_code == 413, refused.json
    assert refused.json["error"]["code"] == "payload_too_large"
    assert accepted.status_code == 201, accepted.json
    assert len(stored_files(attachments_dir)) == 1


def test_the_default_limit_is_20_mb_below_the_request_limit(app):
    assert app.config["ATTACHMENT_MAX_BYTES"] == 20 * 1024 * 1024
    assert app.config["MAX_CONTENT_LENGTH"] > app.config["ATTACHMENT_MAX_BYTES"]


def test_identical_files_are_stored_once(
    client, document, headers, attachments_dir, library, author, make
):
    other = library.document(author, title="Autre document")

    first = upload(client, headers, document.id, PDF, "a.pdf")
    second = upload(client, headers, document.id, PDF, "b.pdf")
    third = upload(client, headers, other.id, PDF, "c.pdf")

    assert {first.status_code, second.status_code, third.status_code} == {201}
    assert len({first.json["id"], second.json["id"], third.json["id"]}) == 3
    assert first.json["sha256"] == second.json["sha256"] == third.json["sha256"]
    assert len(stored_files(attachments_dir)) == 1
    listed = client.get(f"/api/v1/documents/{document.id}", headers=headers).json["attachments"]
    assert [a["filename"] for a in listed] == ["a.pdf", "b.pdf"]


@pytest.mark.parametrize(
    ("given", "media_type", "expected"),
    [
        ("../../etc/passwd", files.TEXT, "passwd.txt"),
        ("..\\..\\win.ini", files.TEXT, "win.txt"),
        ("/var/www/../../shell.php", files.TEXT, "shell.txt"),
        ("C:\\Users\\Public\\rapport.pdf", files.PDF, "rapport.pdf"),
        ("Fiche_sécurité.pdf", files.PDF, "Fiche_sécurité.pdf"),
        ("Compte-rendu réunion Œuvre.pdf", files.PDF, "Compte-rendu réunion Œuvre.pdf"),
        ("смета.pdf", files.PDF, "смета.pdf"),
        ("e\u0301te\u0301.pdf", files.PDF, "été.pdf"),
        ("rapport\r\n\x00\x1b[31m.pdf", files.PDF, "rapport[31m.pdf"),
        ("ligne\u2028cachée\u202e.pdf", files.PDF, "ligne cachée.pdf"),
        ('a<b>c:"d"|e?*.pdf', files.PDF, "a_b_c__d__e__.pdf"),
        ("   ...   ", files.PDF, "document.pdf"),
        ("..", files.PDF, "document.pdf"),
        (".pdf", files.PDF, "pdf.pdf"),
        ("", files.PDF, "document.pdf"),
        (None, files.PNG, "document.png"),
        ("rapport.exe", files.PDF, "rapport.pdf"),
        ("facture.pdf.exe", files.PDF, "facture.pdf.pdf"),
        ("plan.pdf", files.PNG, "plan.png"),
        ("photo.JPG", files.JPEG, "photo.jpg"),
        ("Réunion du 3.12 bilan final", files.PDF, "Réunion du 3.12 bilan final.pdf"),
        ("x" * 300 + ".pdf", files.PDF, "x" * 116 + ".pdf"),
        ("é" * 300, files.TEXT, "é" * 116 + ".txt"),
    ],
)
def test_filenames_are_sanitised(given, media_type, expected):
    assert files.safe_filename(given, media_type) == expected


def multipart(disposition: str, content: bytes) -> tuple[bytes, str]:
    """A multipart body written by hand, so that the file name reaches the server exactly as
    a client wrote it (the test client would quote it its own way)."""
    boundary = "----frontiere"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; {disposition}\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize(
    ("disposition", "expected"),
    [
        ('filename="../../etc/passwd"', "passwd.txt"),
        ('filename="..\\\\..\\\\win.ini"', "win.txt"),
        ('filename="%2e%2e%2f%2e%2e%2fetc%2fpasswd"', "%2e%2e%2f%2e%2e%2fetc%2fpasswd.txt"),
        ("filename*=UTF-8''..%2F..%2Fetc%2Fpasswd", "passwd.txt"),
        ("filename*=UTF-8''Fiche_s%C3%A9curit%C3%A9.txt", "Fiche_sécurité.txt"),
        ('filename="Fiche_sécurité.txt"', "Fiche_sécurité.txt"),
    ],
)
def test_traversal_names_over_http_keep_only_a_name(
    client, document, headers, attachments_dir, disposition, expected
):
    body, content_type = multipart(disposition, TEXT)

    response = client.post(
        f"/api/v1/documents/{document.id}/attachments",
        data=body,
        content_type=content_type,
        headers=headers,
    )

    assert response.status_code == 201, response.json
    assert response.json["filename"] == expected
    assert [p.parent.parent.parent for p in stored_files(attachments_dir)] == [attachments_dir]


def test_download_sends_the_bytes_with_safe_headers(client, document, headers, make):
    made = upload(client, headers, document.id, PDF, "Fiche_sécurité.pdf", "text/html").json
    reader = make.auth(make.user("member"))

    response = client.get(
        f"/api/v1/documents/{document.id}/attachments/{made['id']}", headers=reader
    )

    assert response.status_code == 200
    assert response.data == PDF
    assert response.headers["Content-Type"] == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''Fiche_s%C3%A9curit%C3%A9.pdf" in disposition
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    response.close()


def test_text_is_downloaded_as_utf8_plain_text(client, document, headers):
    made = upload(client, headers, document.id, TEXT, "liste.txt").json

    response = client.get(
        f"/api/v1/documents/{document.id}/attachments/{made['id']}", headers=headers
    )

    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.headers["Content-Disposition"] == "attachment; filename=liste.txt"
    assert response.data == TEXT
    response.close()


def test_attachments_are_listed_on_the_document(client, document, headers):
    made = upload(client, headers, document.id, PNG, "plan.png").json

    listed = client.get(f"/api/v1/documents/{document.id}", headers=headers).json["attachments"]

    assert listed == [
        {
            "id": made["id"],
            "filename": "plan.png",
            "media_type": "image/png",
            "size": len(PNG),
            "sha256": hashlib.sha256(PNG).hexdigest(),
            "pending": False,
            "created_at": made["created_at"],
            "url": f"/api/v1/documents/{document.id}/attachments/{made['id']}",
        }
    ]


def test_an_attachment_is_reached_only_through_its_own_document(
    client, document, headers, library, author
):
    other = library.document(author, title="Autre document")
    made = upload(client, headers, document.id, PDF, "a.pdf").json

    wrong_document = client.get(
        f"/api/v1/documents/{other.id}/attachments/{made['id']}", headers=headers
    )
    unknown = client.get(
        f"/api/v1/documents/{document.id}/attachments/{__import__('uuid').uuid4()}",
        headers=headers,
    )

    assert wrong_document.status_code == unknown.status_code == 404


def test_attachments_of_a_deleted_document_are_gone(client, library, make):
    manager = make.user("manager")
    document = library.document(manager)
    headers = make.auth(manager)
    made = upload(client, headers, document.id, PDF, "a.pdf").json
    client.delete(f"/api/v1/documents/{document.id}", headers=headers)

    download = client.get(
        f"/api/v1/documents/{document.id}/attachments/{made['id']}", headers=headers
    )
    again = upload(client, headers, document.id, PDF, "b.pdf")

    assert download.status_code == again.status_code == 404


def test_a_missing_blob_is_404_not_500(client, document, headers, attachments_dir):
    made = upload(client, headers, document.id, PDF, "a.pdf").json
    for blob in stored_files(attachments_dir):
        blob.unlink()

    response = client.get(
        f"/api/v1/documents/{document.id}/attachments/{made['id']}", headers=headers
    )

    assert response.status_code == 404
    assert response.json["error"]["code"] == "attachment_pending"


def test_an_upload_makes_a_new_version_with_the_same_fields(client, document, headers):
    """Replicas apply only newer versions: a new file must raise the version to reach them."""
    upload(client, headers, document.id, PDF, "a.pdf")

    assert client.get(f"/api/v1/documents/{document.id}", headers=headers).json["version"] == 2
    diff = client.get(f"/api/v1/documents/{document.id}/versions/1/diff/2", headers=headers)
    assert diff.status_code == 200


def test_store_defaults_to_the_instance_folder(app: Flask):
    previous = app.config["ATTACHMENTS_DIR"]
    app.config["ATTACHMENTS_DIR"] = None
    try:
        with app.app_context():
            assert files.attachments_dir() == Path(app.instance_path) / "attachments"
    finally:
        app.config["ATTACHMENTS_DIR"] = previous


def test_blob_paths_only_take_digests(app: Flask):
    with app.app_context():
        with pytest.raises(ValueError, match="SHA-256"):
            files.blob_path("../../etc/passwd")
        assert files.blob_path("ab" * 32).parts[-3:] == ("ab", "ab", "ab" * 32)
