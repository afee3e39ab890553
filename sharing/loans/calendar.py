"""A régie's bookings (as lender and as borrower) as an iCalendar (RFC 5545) feed.

UIDs are stable (the booking id), SEQUENCE follows every change, and times are written in
UTC so every calendar app places them right whatever its own timezone.
"""

from collections.abc import Iterable
from urllib.parse import urlsplit

from icalendar import Calendar, Event

from sharing.db import utcnow
from sharing.loans.models import STATUS_LABELS, Booking, BookingStatus
from sharing.regies.models import Regie

ICAL_STATUS = {
    BookingStatus.FORWARDING: "TENTATIVE",
    BookingStatus.REQUESTED: "TENTATIVE",
    BookingStatus.APPROVED: "CONFIRMED",
    BookingStatus.PICKED_UP: "CONFIRMED",
    BookingStatus.RETURNED: "CONFIRMED",
    BookingStatus.DECLINED: "CANCELLED",
    BookingStatus.CANCELLED: "CANCELLED",
    BookingStatus.EXPIRED: "CANCELLED",
}


def build_feed(regie: Regie, bookings: Iterable[Booking], instance_url: str) -> bytes:
    """The feed's bytes, ready to serve as ``text/calendar``."""
    host = urlsplit(instance_url).hostname or "localhost"
    calendar = Calendar()
    calendar.add("prodid", "-//Mouvement des Régies//Mutualisation//FR")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", f"Prêts – {regie.name}")
    calendar.add("x-wr-timezone", regie.timezone)
    stamp = utcnow()
    for booking in bookings:
        lending = booking.lender_regie_id == regie.id
        other = booking.borrower_regie if lending else booking.lender_regie
        direction = f"prêté à {other.name}" if lending else f"emprunté à {other.name}"
        event = Event()
        event.add("uid", f"{booking.id}@{host}")
        event.add("sequence", booking.sequence)
        event.add("dtstamp", stamp)
        event.add("last-modified", booking.updated_at)
        event.add("dtstart", booking.starts_at)
        event.add("dtend", booking.ends_at)
        event.add("summary", f"{booking.resource.name} ({direction})")
        event.add("status", ICAL_STATUS[booking.status])
        description = f"Statut : {STATUS_LABELS[booking.status]}"
        if booking.note:
            description += f"\nNote : {booking.note}"
        event.add("description", description)
        if booking.resource.location:
            event.add("location", booking.resource.location)
        calendar.add_component(event)
    return calendar.to_ical()
