"""The best-practice library: documents, their immutable versions and their attachments.

A document is the current state; every create and every edit that changes something also
writes a ``DocumentVersion``, a frozen copy that is never updated, so any old version can be
read and compared. Themes and tags live in association tables (not in a JSON column) so that
the database counts them for the facets with a GROUP BY. Deleting a document only stamps
``deleted_at``: the row stays as a tombstone that federation publishes to peers.
"""

import enum
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sharing.accounts.models import User
from sharing.db import Base, UTCDateTime, created_at, str_enum, updated_at, uuid_pk
from sharing.regies.models import Regie

# The shared vocabulary: slugs are the API's words, labels are what people read.
THEMES: dict[str, str] = {
    "espaces-verts": "Espaces verts",
    "maraichage-alimentation": "Maraîchage et alimentation",
    "proprete": "Propreté",
    "batiment": "Bâtiment",
    "insertion": "Insertion et accompagnement",
    "securite-prevention": "Sécurité et prévention",
    "mutualisation": "Mutualisation et gestion du matériel",
    "qualite-pilotage": "Qualité et pilotage",
    "commande-publique": "Commande publique et partenariats",
    "transition-ecologique": "Transition écologique et écogestes",
    "vie-associative": "Vie associative",
    "mediation-lien-social": "Médiation et lien social",
}
# The kind of record documents are in the shared search index (sharing.search).
SEARCH_KIND = "document"

_THEME_ORDER = {slug: index for index, slug in enumerate(THEMES)}


def in_theme_order(slugs: Iterable[str]) -> list[str]:
    """Slugs in the vocabulary's order, so that the same set always reads the same."""
    return sorted(slugs, key=lambda slug: _THEME_ORDER.get(slug, len(THEMES)))


class DocumentType(enum.StrEnum):
    GUIDE = "guide"
    FICHE_PRATIQUE = "fiche-pratique"
    MODELE = "modele"
    PROCEDURE = "procedure"
    CHECK_LIST = "check-list"
    RETOUR_EXPERIENCE = "retour-experience"


TYPE_LABELS = {
    DocumentType.GUIDE: "Guide",
    DocumentType.FICHE_PRATIQUE: "Fiche pratique",
    DocumentType.MODELE: "Modèle",
    DocumentType.PROCEDURE: "Procédure",
    DocumentType.CHECK_LIST: "Check-list",
    DocumentType.RETOUR_EXPERIENCE: "Retour d'expérience",
}

# SPDX identifiers (Etalab's is on the SPDX list too): licences that let other régies reuse
# a document. CC BY-SA is the network's default: reuse, adapt, share alike.
DEFAULT_LICENCE = "CC-BY-SA-4.0"
LICENCES: dict[str, str] = {
    "CC-BY-SA-4.0": "Creative Commons Attribution – Partage dans les mêmes conditions 4.0",
    "CC-BY-4.0": "Creative Commons Attribution 4.0",
    "CC-BY-NC-SA-4.0": (
        "Creative Commons Attribution – Pas d'utilisation commerciale – "
        "Partage dans les mêmes conditions 4.0"
    ),
    "CC0-1.0": "Creative Commons Zéro (domaine public)",
    "etalab-2.0": "Licence Ouverte / Open Licence 2.0 (Etalab)",
}


class DocumentTheme(Base):
    __tablename__ = "document_themes"

    document_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True
    )
    theme: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)


class DocumentTag(Base):
    __tablename__ = "document_tags"

    document_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(50), primary_key=True, index=True)


class Labels:
    """What a document's type, licence and themes read as: for ``Document`` and for the
    lighter rows that result lists read (``library.services.DocumentHit``)."""

    type: "DocumentType"
    licence: str

    if TYPE_CHECKING:

        @property
        def themes(self) -> list[str]: ...

    @property
    def theme_labels(self) -> list[str]:
        return [THEMES.get(slug, slug) for slug in self.themes]

    @property
    def type_label(self) -> str:
        return TYPE_LABELS[self.type]

    @property
    def licence_label(self) -> str:
        return LICENCES.get(self.licence, self.licence)


class Document(Labels, Base):
    """A best-practice document written by one régie, in its current version."""

    __tablename__ = "documents"
    # What a library search reads of each matching document (queries._candidates), without
    # the row itself: on SQLite a row holds the whole body, so a thousand matches read a
    # thousand scattered pages where this index reads a few.
    __table_args__ = (
        Index("ix_documents_listed", "id", "deleted_at", "type", "regie_id", "updated_at"),
    )

    id: Mapped[uuid_pk]
    regie_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("regies.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    type: Mapped[DocumentType] = mapped_column(str_enum(DocumentType), index=True)
    licence: Mapped[str] = mapped_column(String(40), default=DEFAULT_LICENCE)
    # The number of the latest DocumentVersion.
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]
    # A tombstone: gone from lists, search and reads, kept for federation.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    regie: Mapped[Regie] = relationship(lazy="joined")
    theme_rows: Mapped[list[DocumentTheme]] = relationship(
        cascade="all, delete-orphan", order_by=DocumentTheme.theme, lazy="selectin"
    )
    tag_rows: Mapped[list[DocumentTag]] = relationship(
        cascade="all, delete-orphan", order_by=DocumentTag.tag, lazy="selectin"
    )
    versions: Mapped[list["DocumentVersion"]] = relationship(
        back_populates="document", order_by="DocumentVersion.number", lazy="select"
    )
    attachments: Mapped[list["Attachment"]] = relationship(
        back_populates="document", order_by="Attachment.created_at", lazy="selectin"
    )

    @property
    def themes(self) -> list[str]:
        return in_theme_order(row.theme for row in self.theme_rows)

    @property
    def tags(self) -> list[str]:
        return sorted(row.tag for row in self.tag_rows)

    @property
    def is_local(self) -> bool:
        return self.regie.is_local

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    def set_themes(self, slugs: list[str]) -> None:
        """Replace the themes, keeping the rows that stay (deleting and re-adding a row with the
        same key in one flush would trip the primary key)."""
        wanted = list(dict.fromkeys(slugs))
        self.theme_rows = [r for r in self.theme_rows if r.theme in wanted] + [
            DocumentTheme(theme=slug) for slug in wanted if slug not in self.themes
        ]

    def set_tags(self, tags: list[str]) -> None:
        """Replace the tags, keeping the rows that stay."""
        wanted = list(dict.fromkeys(tags))
        self.tag_rows = [r for r in self.tag_rows if r.tag in wanted] + [
            DocumentTag(tag=tag) for tag in wanted if tag not in self.tags
        ]

    def __repr__(self) -> str:
        return f"<Document {self.title!r} v{self.version}>"


class DocumentVersion(Base):
    """A frozen copy of a document as one edit left it; never updated."""

    __tablename__ = "document_versions"
    __table_args__ = (UniqueConstraint("document_id", "number"),)

    id: Mapped[uuid_pk]
    document_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    # Small lists of slugs and words, read whole with the version: JSON is enough here.
    themes: Mapped[list[str]] = mapped_column(JSON)
    tags: Mapped[list[str]] = mapped_column(JSON)
    type: Mapped[DocumentType] = mapped_column(str_enum(DocumentType))
    licence: Mapped[str] = mapped_column(String(40))
    # None for versions written on another instance (their authors are not accounts here).
    author_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[created_at]

    document: Mapped[Document] = relationship(back_populates="versions")
    author: Mapped[User | None] = relationship(lazy="joined")

    @property
    def type_label(self) -> str:
        return TYPE_LABELS[self.type]

    def __repr__(self) -> str:
        return f"<DocumentVersion {self.document_id} v{self.number}>"


class Attachment(Base):
    """A file attached to a document; its bytes live in the content-addressed store
    (``sharing.library.files``) under their SHA-256, shared by every identical upload."""

    __tablename__ = "attachments"

    id: Mapped[uuid_pk]
    document_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    # Decided by sniffing the bytes, never taken from the client.
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    # A replica's attachment whose bytes have not arrived from its origin yet.
    is_pending: Mapped[bool] = mapped_column(default=False)
    uploaded_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[created_at]

    document: Mapped[Document] = relationship(back_populates="attachments")

    def __repr__(self) -> str:
        return f"<Attachment {self.filename!r}>"
