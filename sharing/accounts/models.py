"""Accounts: users with one régie and one role, and their personal API tokens."""

import enum
import hashlib
import secrets
import uuid
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from sharing.db import Base, UTCDateTime, created_at, str_enum, uuid_pk
from sharing.regies.models import Regie


class Role(enum.StrEnum):
    ADMIN = "admin"  # runs the instance
    MANAGER = "manager"  # runs a régie
    MEMBER = "member"  # régie staff


class User(UserMixin, Base):
    __tablename__ = "users"

    id: Mapped[uuid_pk]
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(str_enum(Role))
    regie_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("regies.id"), index=True)
    is_enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[created_at]

    regie: Mapped[Regie] = relationship(lazy="joined")

    def set_password(self, password: str, method: str = "scrypt") -> None:
        self.password_hash = generate_password_hash(password, method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses disabled accounts
        return self.is_enabled

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def is_manager(self) -> bool:
        """Managers run their régie; an admin is also a manager of their own régie."""
        return self.role in (Role.MANAGER, Role.ADMIN)

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


def hash_token(token: str) -> str:
    """Tokens are random enough that a plain SHA-256 is the right storage hash."""
    return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(Base):
    """A personal API token; only its hash is stored, the token is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[uuid_pk]
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[created_at]
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined")

    @staticmethod
    def new_secret() -> str:
        return "rqt_" + secrets.token_urlsafe(32)

    def __repr__(self) -> str:
        return f"<ApiToken {self.label!r} of {self.user_id}>"
