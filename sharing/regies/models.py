"""Régies: the associations that own equipment and write documents."""

import secrets
import uuid

from sqlalchemy import Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from sharing.db import Base, created_at, updated_at, uuid_pk


def new_feed_token() -> str:
    return secrets.token_urlsafe(24)


class Regie(Base):
    """A régie de quartier. Local when ``origin_instance_id`` is None, a replica otherwise."""

    __tablename__ = "regies"

    id: Mapped[uuid_pk]
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    city: Mapped[str] = mapped_column(String(120))
    postcode: Mapped[str | None] = mapped_column(String(10))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Paris")
    contact_email: Mapped[str | None] = mapped_column(String(254))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    # The secret in the URL of the régie's iCalendar feed (a capability, shown to its members).
    calendar_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_feed_token)
    search_text: Mapped[str] = mapped_column(Text, default="")
    # Federation: None means this instance owns the régie; replicas carry their origin.
    origin_instance_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]

    @property
    def is_local(self) -> bool:
        return self.origin_instance_id is None

    def __repr__(self) -> str:
        return f"<Regie {self.slug}>"
