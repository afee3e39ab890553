"""Who may act on a booking. These predicates answer "is this person allowed"; whether the
booking's status allows the action is the lifecycle's answer (``Booking.can_become``), so a
wrong role gets 403 and a wrong moment gets 409. Templates ask both."""

import uuid

from sharing.accounts.models import User
from sharing.catalogue.models import Resource
from sharing.loans.models import Booking


def can_view_booking(user: User, booking: Booking) -> bool:
    """The borrowing and the lending régie see a booking; nobody else does."""
    return user.regie_id in (booking.borrower_regie_id, booking.lender_regie_id)


def can_request_booking(user: User, resource: Resource) -> bool:
    """Any member of a local régie may ask, including for its own régie's equipment. Whether
    the resource can be lent (not in maintenance, not retired) is a rule: 422, not 403."""
    return user.regie.is_local


def can_decide_booking(user: User, booking: Booking) -> bool:
    """The lending régie's managers approve and decline."""
    return user.is_manager and user.regie_id == booking.lender_regie_id


def can_cancel_booking(user: User, booking: Booking) -> bool:
    """The borrowing régie, or the lending régie's managers."""
    return user.regie_id == booking.borrower_regie_id or can_decide_booking(user, booking)


def can_hand_over_booking(user: User, booking: Booking) -> bool:
    """The lending régie's staff record pickup and return."""
    return user.regie_id == booking.lender_regie_id


def can_block_resource(user: User, resource: Resource) -> bool:
    """Owners block periods for maintenance or their own use."""
    return resource.is_local and user.is_manager and user.regie_id == resource.regie_id


def can_view_calendar(user: User, regie_id: uuid.UUID) -> bool:
    """Everyone in a régie may subscribe to its calendar feed."""
    return user.regie_id == regie_id


def can_manage_calendar(user: User, regie_id: uuid.UUID) -> bool:
    """A régie's managers regenerate its feed's secret (revoking old subscriptions)."""
    return user.is_manager and user.regie_id == regie_id
