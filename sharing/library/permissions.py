"""Who may write in the library. Every signed-in user reads every document of the network."""

from sharing.accounts.models import User
from sharing.library.models import Document


def can_create_document(user: User) -> bool:
    """Any member of a régie hosted here writes documents for it."""
    return user.regie.is_local


def can_edit_document(user: User, document: Document) -> bool:
    """Any member of the author régie; replicas are edited at their origin."""
    return document.is_local and user.regie_id == document.regie_id


def can_attach_to_document(user: User, document: Document) -> bool:
    """Attaching a file is editing the document."""
    return can_edit_document(user, document)


def can_delete_document(user: User, document: Document) -> bool:
    """Only the author régie's managers take a document out of the library."""
    return can_edit_document(user, document) and user.is_manager
