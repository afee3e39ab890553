"""The audit log: one row per security-relevant action, written in the action's transaction.

Ids of actors and régies are kept without foreign keys: the log must outlive what it talks
about, and the actor's label is copied for the same reason.
"""

import uuid
from typing import Any

from sqlalchemy import JSON, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from sharing.db import Base, created_at, uuid_pk

# Action codes and their French labels, in the order the filter offers them.
ACTION_LABELS = {
    "login.success": "Connexion",
    "login.failure": "Échec de connexion",
    "logout": "Déconnexion",
    "user.create": "Création de compte",
    "user.role_change": "Changement de rôle",
    "user.enable": "Compte réactivé",
    "user.disable": "Compte désactivé",
    "token.create": "Création de jeton d'API",
    "token.revoke": "Révocation de jeton d'API",
    "federation.peer_pair": "Appairage d'une instance",
    "federation.peer_remove": "Retrait d'une instance",
    "federation.key_rotate": "Rotation de la clé de l'instance",
    "federation.signature_rejected": "Signature fédérée refusée",
}


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_action_at", "action", "at"),)

    id: Mapped[uuid_pk]
    at: Mapped[created_at] = mapped_column(index=True)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # Who acted, as shown then: an e-mail, "cli" for the command line, "anonyme", a peer.
    actor: Mapped[str] = mapped_column(String(254))
    regie_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    action: Mapped[str] = mapped_column(String(50))
    target: Mapped[str] = mapped_column(String(500), default="")
    ip: Mapped[str | None] = mapped_column(String(45))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    @property
    def action_label(self) -> str:
        return ACTION_LABELS.get(self.action, self.action)

    def __repr__(self) -> str:
        return f"<AuditEvent {self.action} by {self.actor} at {self.at:%Y-%m-%d %H:%M:%S}>"
