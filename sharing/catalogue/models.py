"""The equipment catalogue: resources a régie lends, and the shared category taxonomy."""

import enum
import uuid
from decimal import Decimal

from sqlalchemy import ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sharing.db import Base, created_at, str_enum, updated_at, uuid_pk
from sharing.regies.models import Regie

# The shared taxonomy: slugs are the API's vocabulary, labels are what people read.
CATEGORIES: dict[str, str] = {
    "espaces-verts": "Espaces verts",
    "zero-phyto": "Désherbage zéro phyto",
    "maraichage": "Maraîchage",
    "proprete": "Propreté et nettoyage",
    "vehicules": "Véhicules et remorques",
    "mobilite-douce": "Vélos et mobilité douce",
    "manutention": "Manutention",
    "batiment": "Bâtiment et second œuvre",
    "evenementiel": "Événementiel",
    "energie": "Énergie et chantier",
    "outillage": "Outillage",
}


class Condition(enum.StrEnum):
    NEW = "new"
    GOOD = "good"
    WORN = "worn"
    DAMAGED = "damaged"


CONDITION_LABELS = {
    Condition.NEW: "Neuf",
    Condition.GOOD: "Bon état",
    Condition.WORN: "Usé",
    Condition.DAMAGED: "Endommagé",
}


class ResourceStatus(enum.StrEnum):
    AVAILABLE = "available"
    MAINTENANCE = "maintenance"
    RETIRED = "retired"


STATUS_LABELS = {
    ResourceStatus.AVAILABLE: "Disponible",
    ResourceStatus.MAINTENANCE: "En maintenance",
    ResourceStatus.RETIRED: "Retiré",
}


class Resource(Base):
    """A piece of equipment owned by one régie."""

    __tablename__ = "resources"

    id: Mapped[uuid_pk]
    regie_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("regies.id"), index=True)
    # Indexed: the catalogue lists by name, and without a query it pages through them all.
    name: Mapped[str] = mapped_column(String(200), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(40), index=True)
    condition: Mapped[Condition] = mapped_column(str_enum(Condition), default=Condition.GOOD)
    location: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[ResourceStatus] = mapped_column(
        str_enum(ResourceStatus), default=ResourceStatus.AVAILABLE, index=True
    )
    deposit_eur: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    replacement_value_eur: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    max_loan_days: Mapped[int | None] = mapped_column(Integer)
    min_notice_hours: Mapped[int] = mapped_column(Integer, default=0)
    requirements: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]

    regie: Mapped[Regie] = relationship(lazy="joined")

    @property
    def category_label(self) -> str:
        return CATEGORIES.get(self.category, self.category)

    @property
    def is_local(self) -> bool:
        return self.regie.is_local

    def __repr__(self) -> str:
        return f"<Resource {self.name!r}>"
