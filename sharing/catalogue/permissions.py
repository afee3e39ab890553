"""Who may change the catalogue."""

from sharing.accounts.models import User
from sharing.catalogue.models import Resource


def can_create_resource(user: User) -> bool:
    """Managers list equipment for their own régie."""
    return user.is_manager and user.regie.is_local


def can_edit_resource(user: User, resource: Resource) -> bool:
    """Managers of the owning régie; replicas are edited at their origin."""
    return resource.is_local and user.is_manager and user.regie_id == resource.regie_id


def can_import_resources(user: User) -> bool:
    """Importing and exporting a spreadsheet is a manager's job, for their own régie."""
    return can_create_resource(user)
