"""Loans pages: booking from the resource page, the month calendar, "Mes réservations" with
the lifecycle's buttons, a booking's page, the dashboard's lists and the calendar feed link.

Bookings are made through the services (as a régie would through the API), then driven
through the HTML forms with the CSRF token read from the page, as a browser would."""

import html
import re
import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from sharing.accounts.models import User
from sharing.catalogue.models import Condition, Resource, ResourceStatus
from sharing.extensions import db
from sharing.loans import services
from sharing.loans.models import Booking, BookingStatus, ResourceBlock
from sharing.loans.views import dashboard_panels
from sharing.regies.models import Regie
from tests.loans.helpers import Parties, soon
from tests.views.conftest import csrf_token, login

PARIS = ZoneInfo("Europe/Paris")
REUNION = ZoneInfo("Indian/Reunion")
ODD_VALUES = ["\x00", "x" * 5000, "é" * 300, "%", "\\", "' OR 1=1 --", "١٢", "-1", "1e400"]
ACTION_PATHS = {
    "approve": "accepter",
    "decline": "refuser",
    "cancel": "annuler",
    "pickup": "depart",
    "return": "retour",
}


@pytest.fixture
def parties(make) -> Parties:
    """A lending régie, a borrowing one and a third one (people made when first needed)."""
    return Parties(make)


@pytest.fixture
def trailer(make, parties) -> Resource:
    return make.resource(
        parties.lender, name="Remorque plateau 750 kg", category="vehicules", max_loan_days=30
    )


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def signed_in(app: Flask, user: User) -> FlaskClient:
    """A browser of its own for ``user``, signed in through the form."""
    client = app.test_client()
    login(client, user)
    return client


def local(day: date, hour: int, minute: int = 0, zone: ZoneInfo = PARIS) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=zone)


def book(
    app: Flask,
    parties: Parties,
    resource: Resource,
    status: str = "requested",
    starts_at: datetime | None = None,
    hours: float = 4,
    borrower: str = "borrower_member",
) -> uuid.UUID:
    """A booking brought to ``status`` through the services, by the people who may."""
    starts_at = starts_at or soon(3)
    steps = {
        "requested": [],
        "approved": ["approve"],
        "declined": ["decline"],
        "cancelled": ["cancel"],
        "picked_up": ["approve", "pickup"],
        "returned": ["approve", "pickup", "return"],
    }[status]
    with app.app_context():
        booking = services.request_booking(
            db.session.get(User, parties.user(borrower).id),
            {
                "resource_id": resource.id,
                "starts_at": starts_at,
                "ends_at": starts_at + timedelta(hours=hours),
                "note": "Pour le chantier de la cité des Fleurs",
            },
        )
        lender = db.session.get(User, parties.lender.id)
        for step in steps:
            if step == "approve":
                services.approve_booking(lender, booking)
            elif step == "decline":
                services.decline_booking(lender, booking, "Déjà prêté")
            elif step == "cancel":
                services.cancel_booking(lender, booking, "Panne")
            elif step == "pickup":
                services.pickup_booking(lender, booking, Condition.GOOD, "RAS")
            else:
                services.return_booking(lender, booking, Condition.GOOD, "RAS")
        db.session.commit()
        return booking.id


def move(app: Flask, booking_id: uuid.UUID, starts_at: datetime, ends_at: datetime) -> None:
    """Move a booking's period, as if days had gone by since it was made."""
    with app.app_context():
        booking = db.session.get(Booking, booking_id)
        booking.starts_at, booking.ends_at = starts_at, ends_at
        db.session.commit()


def get_booking(app: Flask, booking_id: uuid.UUID) -> Booking:
    with app.app_context():
        booking = db.session.get(Booking, booking_id)
        booking.history  # noqa: B018 - load before detaching
        booking.resource  # noqa: B018
        return booking


def count_bookings(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Booking)) or 0


def booking_form(day: date, start: str, end_day: date, end: str, note: str = "") -> dict:
    return {
        "start_date": day.isoformat(),
        "start_time": start,
        "end_date": end_day.isoformat(),
        "end_time": end,
        "note": note,
    }


def post_booking(client: FlaskClient, resource: Resource, form: dict) -> object:
    url = f"/materiel/{resource.id}"
    return client.post(f"{url}/reserver", data={"csrf_token": csrf_token(client, url), **form})


def buttons(page: str, booking_id: uuid.UUID) -> set[str]:
    """The lifecycle actions whose form is on the page for this booking."""
    found = re.findall(rf'action="/reservations/{booking_id}/(\w+)', page)
    names = {path: name for name, path in ACTION_PATHS.items()}
    return {names[path] for path in found}


# --- The booking form of the resource page -----------------------------------------------------


def test_booking_form_creates_a_request_in_local_time(app, parties, trailer):
    client = signed_in(app, parties.user("borrower_member"))
    day = soon(5).astimezone(PARIS).date()
    form = booking_form(day, "08:30", day + timedelta(days=1), "17:00", "Chantier rue Haute")
    response = post_booking(client, trailer, form)
    assert response.status_code == 302, text(response)
    booking_id = uuid.UUID(response.headers["Location"].rsplit("/", 1)[-1])

    booking = get_booking(app, booking_id)
    assert booking.status is BookingStatus.REQUESTED
    assert booking.starts_at == local(day, 8, 30).astimezone(UTC)
    assert booking.ends_at == local(day + timedelta(days=1), 17).astimezone(UTC)
    assert booking.note == "Chantier rue Haute"
    assert booking.borrower_regie_id == parties.regies["borrower"].id

    page = text(client.get(response.headers["Location"]))
    assert "Votre demande pour « Remorque plateau 750 kg » est envoyée" in page
    assert "Demandée" in page
    assert "08:30" in page
    assert "17:00" in page


def test_a_conflict_shows_the_busy_periods_and_creates_nothing(app, parties, trailer):
    day = soon(4).astimezone(PARIS).date()
    book(app, parties, trailer, "approved", local(day, 10), hours=4)
    client = signed_in(app, parties.user("third_manager"))
    response = post_booking(client, trailer, booking_form(day, "12:00", day, "16:00"))
    assert response.status_code == 409
    page = text(response)
    assert "Ce matériel est déjà pris sur cette période." in page
    assert "Rien n'a été enregistré." in page
    assert "10:00 – 14:00 (réservé)" in page
    assert 'value="12:00"' in page  # the form keeps what was typed
    assert count_bookings(app) == 1


def test_a_blocked_period_is_a_conflict_too(app, parties, trailer):
    day = soon(4).astimezone(PARIS).date()
    with app.app_context():
        services.add_block(
            db.session.get(User, parties.lender.id),
            db.session.get(Resource, trailer.id),
            {"starts_at": local(day, 0), "ends_at": local(day + timedelta(days=1), 0)},
        )
        db.session.commit()
    client = signed_in(app, parties.user("borrower_member"))
    response = post_booking(client, trailer, booking_form(day, "09:00", day, "11:00"))
    assert response.status_code == 409
    assert "(bloqué)" in text(response)


def test_a_time_the_clocks_skip_is_a_french_error(app, parties, trailer):
    """2:30 does not exist in Paris on the last Sunday of March: not a 500, nor a silent shift."""
    spring = last_sunday(datetime.now(UTC).year + 1, 3)
    client = signed_in(app, parties.user("borrower_member"))
    response = post_booking(client, trailer, booking_form(spring, "02:30", spring, "10:00"))
    assert response.status_code == 422
    page = text(response)
    assert f"02:30 n'existe pas le {spring.day} mars" in page
    assert "heure d'été" in page
    assert 'id="f-start_time-error"' in page  # next to the time input
    assert count_bookings(app) == 0


def test_a_time_the_clocks_repeat_means_its_first_occurrence(app, parties, trailer):
    autumn = last_sunday(datetime.now(UTC).year + 1, 10)
    client = signed_in(app, parties.user("borrower_member"))
    response = post_booking(client, trailer, booking_form(autumn, "02:30", autumn, "10:00"))
    assert response.status_code == 302, text(response)
    booking = get_booking(app, uuid.UUID(response.headers["Location"].rsplit("/", 1)[-1]))
    assert booking.starts_at == datetime.combine(autumn, time(0, 30), tzinfo=UTC)  # +02:00
    assert booking.ends_at - booking.starts_at == timedelta(hours=8, minutes=30)


def last_sunday(year: int, month: int) -> date:
    day = date(year, month, 31)
    return day - timedelta(days=(day.weekday() + 1) % 7)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"start_date": ""}, "start_date", "Indiquez la date."),
        ({"end_time": ""}, "end_time", "Indiquez l'heure."),
        (
            {"start_date": "2027-13-45"},
            "start_date",
            "Date invalide (format attendu : AAAA-MM-JJ).",
        ),
        ({"start_time": "25:00"}, "start_time", "Heure invalide (format attendu : HH:MM)."),
        ({"end_time": "08:00"}, "end_date", "La fin doit suivre le début."),
        ({"start_date": "2020-01-01"}, "start_date", "Le début est dans le passé."),
        ({"end_date": "+1y"}, "end_date", "Un prêt dure au plus 30 jour(s)."),
        ({"note": "x" * 2001}, "note", "2000 caractères au plus."),
    ],
)
def test_a_refused_request_says_why_next_to_the_input(
    app, parties, trailer, change, field, message
):
    client = signed_in(app, parties.user("borrower_member"))
    day = soon(5).astimezone(PARIS).date()
    form = booking_form(day, "09:00", day, "17:00")
    if change.get("end_date") == "+1y":
        change = {"end_date": (day + timedelta(days=365)).isoformat()}
    response = post_booking(client, trailer, form | change)
    assert response.status_code == 422
    page = text(response)
    assert "Le formulaire contient des erreurs ; rien n'a été enregistré." in page
    assert f'<p class="field-error" id="f-{field}-error">{message}</p>' in page
    assert count_bookings(app) == 0


def test_odd_booking_and_block_form_values_never_fail(app, parties, trailer):
    client = signed_in(app, parties.lender)
    day = soon(5).astimezone(PARIS).date()
    token = csrf_token(client, f"/materiel/{trailer.id}")
    valid = booking_form(day, "09:00", day, "17:00")
    block = {f"block_{key}": value for key, value in valid.items() if key != "note"}
    for url, form in (
        (f"/materiel/{trailer.id}/reserver", valid),
        (f"/materiel/{trailer.id}/bloquer", block),
    ):
        for name in form:
            for value in ODD_VALUES:
                response = client.post(url, data={"csrf_token": token, **form, name: value})
                assert response.status_code in (302, 409, 422), (url, name, value)
                if response.status_code == 302:
                    assert name in ("note", "block_reason"), (url, name, value)


def test_a_resource_in_maintenance_has_no_booking_form(client, make, parties):
    resource = make.resource(parties.lender, name="Broyeur", status="maintenance")
    login(client, parties.user("borrower_member"))
    page = text(client.get(f"/materiel/{resource.id}"))
    assert "Ce matériel ne peut pas être réservé pour le moment (en maintenance)." in page
    assert "/reserver" not in page


# --- Blocks --------------------------------------------------------------------------------------


def test_only_the_owners_managers_see_and_use_the_block_form(app, parties, trailer):
    url = f"/materiel/{trailer.id}"
    day = soon(6).astimezone(PARIS).date()
    form = {
        "block_start_date": day.isoformat(),
        "block_start_time": "08:00",
        "block_end_date": day.isoformat(),
        "block_end_time": "18:00",
        "block_reason": "Vidange",
    }
    for name in ("lender_member", "borrower_manager"):
        client = signed_in(app, parties.user(name))
        assert "Bloquer une période" not in text(client.get(url))
        token = csrf_token(client, url)
        response = client.post(f"{url}/bloquer", data={"csrf_token": token, **form})
        assert response.status_code == 403, name

    manager = signed_in(app, parties.lender)
    assert "Bloquer une période" in text(manager.get(url))
    token = csrf_token(manager, url)
    response = manager.post(f"{url}/bloquer", data={"csrf_token": token, **form})
    assert response.status_code == 302
    with app.app_context():
        block = db.session.scalars(select(ResourceBlock)).one()
        assert block.starts_at == local(day, 8).astimezone(UTC)
        assert block.reason == "Vidange"
    page = text(manager.get(f"{url}?mois={day:%Y-%m}"))
    assert "La période est bloquée" in page
    assert '08:00 – 18:00 <span class="meta">(bloqué)</span>' in page


def test_a_block_may_not_cover_a_booking(app, parties, trailer):
    day = soon(4).astimezone(PARIS).date()
    book(app, parties, trailer, "approved", local(day, 10), hours=2)
    manager = signed_in(app, parties.lender)
    url = f"/materiel/{trailer.id}"
    form = {
        "block_start_date": day.isoformat(),
        "block_start_time": "00:00",
        "block_end_date": (day + timedelta(days=1)).isoformat(),
        "block_end_time": "00:00",
    }
    response = manager.post(f"{url}/bloquer", data={"csrf_token": csrf_token(manager, url), **form})
    assert response.status_code == 409
    assert "Ce matériel est déjà pris sur cette période. Périodes prises : " in text(response)
    assert "10:00 – 12:00 (réservé)." in text(response)


# --- The month calendar ----------------------------------------------------------------------


def day_cell(page: str, day: int) -> str:
    match = re.search(
        rf'<td class="day[^"]*"[^>]*>\s*<span class="num">{day}</span>.*?</td>', page, re.S
    )
    assert match, day
    return match.group(0)


def test_the_month_marks_booked_days_without_saying_who(app, parties, trailer):
    day = soon(40).astimezone(PARIS).date().replace(day=10)
    book(app, parties, trailer, "approved", local(day, 9), hours=30)  # the 10th and the 11th
    client = signed_in(app, parties.user("third_manager"))
    page = text(client.get(f"/materiel/{trailer.id}?mois={day:%Y-%m}"))

    assert 'class="day booking partial' in day_cell(page, 10)
    assert "occupé" in day_cell(page, 10)
    assert "en partie" in day_cell(page, 10)
    assert "occupé" in day_cell(page, 11)
    assert "occupé" not in day_cell(page, 12)
    assert "réservé" in page  # the list of the month's busy periods
    borrower = parties.regies["borrower"].name
    for secret in (borrower, parties.user("borrower_member").name, "cité des Fleurs"):
        assert secret not in page
    previous = (day.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    assert f'href="/materiel/{trailer.id}?mois={previous}#disponibilites"' in page


def test_a_whole_day_booking_is_not_partial(app, parties, trailer):
    day = soon(40).astimezone(PARIS).date().replace(day=15)
    book(app, parties, trailer, "requested", local(day, 0), hours=24)
    client = signed_in(app, parties.user("borrower_member"))
    page = text(client.get(f"/materiel/{trailer.id}?mois={day:%Y-%m}"))
    assert 'class="day booking"' in day_cell(page, 15)
    assert "occupé" not in day_cell(page, 14)
    assert "occupé" not in day_cell(page, 16)


def test_the_month_is_in_the_viewers_timezone(app, make, parties, trailer):
    """A booking 22:00-23:00 UTC is on the 20th in Paris, on the 21st in Réunion."""
    day = soon(40).astimezone(PARIS).date().replace(day=20)
    starts = datetime.combine(day, time(22), tzinfo=UTC)
    book(app, parties, trailer, "approved", starts, hours=1)
    reunion = make.regie(timezone="Indian/Reunion")
    client = signed_in(app, make.user("member", regie=reunion))
    page = text(client.get(f"/materiel/{trailer.id}?mois={day:%Y-%m}"))
    assert "occupé" in day_cell(page, 21)
    assert "occupé" not in day_cell(page, 20)
    assert "Indian/Reunion" in page
    paris = signed_in(app, parties.user("borrower_member"))
    page = text(paris.get(f"/materiel/{trailer.id}?mois={day:%Y-%m}"))
    assert "occupé" in day_cell(page, 20)
    assert "occupé" not in day_cell(page, 21)


@pytest.mark.parametrize("month", ["2027-13", "27-03", "march", "1999-01", "\x00", "2027-03-01"])
def test_a_bad_month_is_a_french_400(client, parties, trailer, month):
    login(client, parties.user("borrower_member"))
    response = client.get(f"/materiel/{trailer.id}", query_string={"mois": month})
    assert response.status_code == 400
    assert "« mois »" in text(response)


# --- "Mes réservations" and the lifecycle's buttons -------------------------------------------

# The buttons each person sees on a booking in each status.
EXPECTED_BUTTONS = {
    "requested": {
        "borrower_member": {"cancel"},
        "borrower_manager": {"cancel"},
        "lender_member": set(),
        "lender_manager": {"approve", "decline", "cancel"},
    },
    "approved": {
        "borrower_member": {"cancel"},
        "borrower_manager": {"cancel"},
        "lender_member": {"pickup"},
        "lender_manager": {"pickup", "cancel"},
    },
    "picked_up": {
        "borrower_member": set(),
        "borrower_manager": set(),
        "lender_member": {"return"},
        "lender_manager": {"return"},
    },
    **{
        status: dict.fromkeys(
            ("borrower_member", "borrower_manager", "lender_member", "lender_manager"), set()
        )
        for status in ("declined", "cancelled", "returned")
    },
}


@pytest.mark.parametrize("status", list(EXPECTED_BUTTONS))
def test_each_person_sees_the_buttons_of_their_role_and_the_status(app, parties, trailer, status):
    booking_id = book(app, parties, trailer, status)
    for person, expected in EXPECTED_BUTTONS[status].items():
        client = signed_in(app, parties.user(person))
        detail = text(client.get(f"/reservations/{booking_id}"))
        listing = text(client.get("/reservations"))
        assert buttons(detail, booking_id) == expected, (person, "detail")
        assert buttons(listing, booking_id) == expected, (person, "list")


def test_an_expired_request_has_no_buttons(app, parties, trailer):
    booking_id = book(app, parties, trailer, "requested")
    with app.app_context():
        db.session.get(Booking, booking_id).expires_at = datetime.now(UTC) - timedelta(minutes=1)
        db.session.commit()
    client = signed_in(app, parties.lender)
    page = text(client.get(f"/reservations/{booking_id}"))
    assert buttons(page, booking_id) == set()
    assert "la demande a expiré le" in page


def act(client: FlaskClient, booking_id: uuid.UUID, action: str, back: str = "", **form):
    """Press an action's button on the booking's page (or on ``back``)."""
    page = back or f"/reservations/{booking_id}"
    token = csrf_token(client, page)
    url = f"/reservations/{booking_id}/{ACTION_PATHS[action]}"
    if back:
        url += f"?next={back}"
    return client.post(url, data={"csrf_token": token, **form})


def test_the_lender_decides_and_records_the_handovers(app, parties, trailer):
    booking_id = book(app, parties, trailer)
    manager = signed_in(app, parties.lender)
    response = act(manager, booking_id, "approve", back="/reservations?as=lender")
    assert response.status_code == 302
    assert response.headers["Location"] == "/reservations?as=lender"
    assert "Demande acceptée : « Remorque plateau 750 kg »" in text(manager.get("/reservations"))

    member = signed_in(app, parties.user("lender_member"))
    response = act(member, booking_id, "pickup", condition="worn", notes="Pneu avant usé")
    assert response.headers["Location"] == f"/reservations/{booking_id}"
    page = text(member.get(f"/reservations/{booking_id}"))
    assert "Départ de « Remorque plateau 750 kg » enregistré (état : usé)." in page
    assert "Pneu avant usé" in page

    response = act(member, booking_id, "return", condition="damaged", notes="Ridelle tordue")
    assert response.status_code == 302
    page = text(member.get(f"/reservations/{booking_id}"))
    assert "le matériel passe en maintenance" in page
    booking = get_booking(app, booking_id)
    assert booking.status is BookingStatus.RETURNED
    assert (booking.pickup_condition, booking.pickup_notes) == (Condition.WORN, "Pneu avant usé")
    assert (booking.return_condition, booking.return_notes) == (Condition.DAMAGED, "Ridelle tordue")
    assert [e.to_status.value for e in booking.history] == [
        "requested",
        "approved",
        "picked_up",
        "returned",
    ]
    assert resource_status(app, trailer) is ResourceStatus.MAINTENANCE


def resource_status(app: Flask, resource: Resource) -> ResourceStatus:
    with app.app_context():
        return db.session.get(Resource, resource.id).status


def test_decline_and_cancel_keep_their_reason(app, parties, trailer):
    declined = book(app, parties, trailer, starts_at=soon(3))
    cancelled = book(app, parties, trailer, starts_at=soon(5))
    manager = signed_in(app, parties.lender)
    assert act(manager, declined, "decline", reason="Réservée pour la fête").status_code == 302
    borrower = signed_in(app, parties.user("borrower_member"))
    assert act(borrower, cancelled, "cancel", reason="Chantier reporté").status_code == 302
    assert get_booking(app, declined).history[-1].note == "Réservée pour la fête"
    assert get_booking(app, cancelled).history[-1].note == "Chantier reporté"
    page = text(borrower.get(f"/reservations/{declined}"))
    assert "Réservée pour la fête" in page
    assert "Refusée" in page


def test_a_refused_action_is_a_french_message_not_an_error_page(app, parties, trailer):
    booking_id = book(app, parties, trailer, "approved")
    manager = signed_in(app, parties.lender)
    # A page left open: the request was approved meanwhile.
    response = act(manager, booking_id, "approve")
    assert response.status_code == 302
    assert "Impossible de passer de « Acceptée » à « Acceptée »." in text(
        manager.get(response.headers["Location"])
    )
    # No condition chosen.
    response = act(manager, booking_id, "pickup", notes="")
    assert "État du matériel : Ce champ est obligatoire." in text(
        manager.get(response.headers["Location"])
    )
    assert get_booking(app, booking_id).status is BookingStatus.APPROVED
    # A role that may not: the French 403 page.
    member = signed_in(app, parties.user("lender_member"))
    response = act(member, booking_id, "cancel")
    assert response.status_code == 403
    assert "Accès refusé" in text(response)


def test_the_way_back_stays_on_this_site(app, parties, trailer):
    booking_id = book(app, parties, trailer)
    manager = signed_in(app, parties.lender)
    for target in ("https://evil.example/", "//evil.example", "/\\evil.example"):
        token = csrf_token(manager, f"/reservations/{booking_id}")
        response = manager.post(
            f"/reservations/{booking_id}/refuser?next={target}",
            data={"csrf_token": token},
        )
        assert response.headers["Location"].startswith("/"), target
        assert "evil" not in response.headers["Location"], target


def test_third_parties_get_the_french_404(app, parties, trailer):
    booking_id = book(app, parties, trailer, "approved")
    stranger = signed_in(app, parties.user("third_manager"))
    response = stranger.get(f"/reservations/{booking_id}")
    assert response.status_code == 404
    assert "Cette réservation n'existe pas." in text(response)
    token = csrf_token(stranger, "/reservations")
    for path in ACTION_PATHS.values():
        response = stranger.post(
            f"/reservations/{booking_id}/{path}", data={"csrf_token": token, "condition": "good"}
        )
        assert response.status_code == 404, path
    assert "Remorque plateau" not in text(stranger.get("/reservations"))
    assert stranger.get("/reservations/not-a-uuid").status_code == 404
    assert get_booking(app, booking_id).status is BookingStatus.APPROVED


def test_the_list_filters_by_side_and_status(app, make, parties, trailer):
    lent = book(app, parties, trailer, "approved", starts_at=soon(3))
    own = make.resource(parties.user("borrower_manager"), name="Nacelle élévatrice")
    borrowed = book(app, parties, own, "requested", soon(4), borrower="lender_manager")
    client = signed_in(app, parties.lender)

    def listed(query: str) -> set[uuid.UUID]:
        page = text(client.get(f"/reservations{query}"))
        return {
            uuid.UUID(found) for found in re.findall(r'href="/reservations/([0-9a-f-]{36})"', page)
        }

    assert listed("") == {lent, borrowed}
    assert listed("?as=lender") == {lent}
    assert listed("?as=borrower") == {borrowed}
    assert listed("?status=requested") == {borrowed}
    assert listed("?as=lender&status=requested") == set()
    page = text(client.get("/reservations?as=borrower"))
    assert f"Emprunt à {parties.regies['borrower'].name}" in page
    assert 'aria-current="page">Nos emprunts' in page
    for query in ("?as=nobody", "?status=lost", "?page=0"):
        assert client.get(f"/reservations{query}").status_code == 400, query
    for name in ("as", "status", "page", "per_page"):
        for value in ODD_VALUES:
            response = client.get("/reservations", query_string={name: value})
            assert response.status_code in (200, 400), (name, value)


def test_times_are_shown_in_the_regies_timezone(app, make, parties, trailer):
    """10:00 UTC is 14:00 in Réunion (UTC+4, no daylight saving), 12:00 in Paris in summer."""
    reunion = make.regie(timezone="Indian/Reunion")
    member = make.user("member", regie=reunion)
    start = datetime(datetime.now(UTC).year + 1, 7, 15, 10, tzinfo=UTC)
    with app.app_context():
        booking = services.request_booking(
            db.session.get(User, member.id),
            {"resource_id": trailer.id, "starts_at": start, "ends_at": start + timedelta(hours=2)},
        )
        db.session.commit()
    client = signed_in(app, member)
    for url in ("/reservations", f"/reservations/{booking.id}"):
        page = text(client.get(url))
        assert "14:00 – 16:00" in page, url
        assert "10:00 – 12:00" not in page, url
    lender = signed_in(app, parties.lender)
    assert "12:00 – 14:00" in text(lender.get(f"/reservations/{booking.id}"))


def test_the_detail_page_shows_the_history_and_handovers(app, parties, trailer):
    booking_id = book(app, parties, trailer, "returned")
    client = signed_in(app, parties.user("borrower_member"))
    page = text(client.get(f"/reservations/{booking_id}"))
    assert "Pour le chantier de la cité des Fleurs" in page
    history = page.split('id="historique"')[1]
    assert history.count("<tr>") == 5  # header + requested, approved, picked up, returned
    assert parties.lender.name in history
    assert "En cours de prêt" in history
    assert "Rendue" in history
    handovers = page.split('id="etat-des-lieux"')[1].split('id="historique"')[0]
    assert "Départ" in handovers
    assert "Retour" in handovers
    assert "Bon état" in handovers


# --- The dashboard ----------------------------------------------------------------------------


def test_the_dashboard_lists_what_needs_doing_today(app, make, parties, trailer):
    now = datetime.now(UTC)
    today = now.astimezone(PARIS).date()
    midday = local(today, 12)
    tonight = now + (local(today + timedelta(days=1), 0) - now) / 2  # later today, whenever now is

    def booking(status: str, starts_at: datetime, ends_at: datetime) -> uuid.UUID:
        """Made for another piece of equipment each, then moved to the period wanted."""
        resource = make.resource(parties.lender, name=f"Matériel {status} {starts_at:%d %H}")
        booking_id = book(app, parties, resource, status)
        move(app, booking_id, starts_at, ends_at)
        return booking_id

    requested = book(app, parties, trailer, "requested")
    pickup = booking("approved", midday, midday + timedelta(hours=2))
    back = booking("picked_up", midday - timedelta(days=2), tonight)
    late = booking("picked_up", midday - timedelta(days=3), now - timedelta(days=1))
    booking("approved", midday + timedelta(days=1), midday + timedelta(days=1, hours=2))

    def section(page: str, heading: str) -> set[uuid.UUID]:
        part = page.split(f'id="{heading}"')[1].split("</section>")[0].split("<h3")[0]
        return {uuid.UUID(found) for found in re.findall(r'/reservations/([0-9a-f-]{36})"', part)}

    manager = text(signed_in(app, parties.lender).get("/"))
    assert section(manager, "a-decider") == {requested}
    assert section(manager, "departs") == {pickup}
    assert section(manager, "retours") == {back}
    assert section(manager, "en-retard") == {late}
    assert "En retard" in manager

    member = text(signed_in(app, parties.user("lender_member")).get("/"))
    assert 'id="a-decider"' not in member  # members do not decide
    assert section(member, "departs") == {pickup}
    borrower = text(signed_in(app, parties.user("borrower_member")).get("/"))
    assert section(borrower, "retours") == {back}
    assert section(borrower, "en-retard") == {late}
    assert f"Emprunt à {parties.regies['lender'].name}" in borrower
    stranger = text(signed_in(app, parties.user("third_manager")).get("/"))
    assert "Remorque plateau" not in stranger
    assert "Aucune demande n'attend votre décision." in stranger


def test_today_is_the_regies_today(app, make, parties, trailer):
    """Paris midnight to midnight is not Réunion's: a pickup at 22:30 Paris time is
    tomorrow in Réunion, where it is already 00:30 (or 01:30 in winter)."""
    day = soon(10).astimezone(PARIS).date()
    pickup = book(app, parties, trailer, "approved", local(day, 22, 30), hours=1)
    reunion = make.regie(timezone="Indian/Reunion")
    with app.app_context():
        booking = db.session.get(Booking, pickup)
        booking.borrower_regie_id = reunion.id  # a borrower overseas
        db.session.commit()
        lender = db.session.get(User, parties.lender.id)
        overseas = db.session.get(User, make.user("member", regie=reunion).id)
        paris_evening = local(day, 20)
        assert [b.id for b in dashboard_panels(lender, paris_evening)["pickups"]] == [pickup]
        assert dashboard_panels(overseas, paris_evening)["pickups"] == []
        next_day = local(day + timedelta(days=1), 8)
        assert [b.id for b in dashboard_panels(overseas, next_day)["pickups"]] == [pickup]
        db.session.rollback()


# --- The calendar feed link ---------------------------------------------------------------


def test_members_see_the_feed_address_and_managers_renew_it(app, parties):
    regie = parties.regies["lender"]
    member = signed_in(app, parties.user("lender_member"))
    page = text(member.get("/reservations"))
    feed = f"http://sharing.test/api/v1/regies/{regie.id}/calendar.ics?token={regie.calendar_token}"
    assert f'value="{feed}"' in page
    assert "Abonnez votre agenda" in page
    assert "/reservations/calendrier" not in page
    token = csrf_token(member, "/reservations")
    assert member.post("/reservations/calendrier", data={"csrf_token": token}).status_code == 403

    manager = signed_in(app, parties.lender)
    assert 'action="/reservations/calendrier"' in text(manager.get("/reservations"))
    token = csrf_token(manager, "/reservations")
    response = manager.post("/reservations/calendrier", data={"csrf_token": token})
    assert response.status_code == 302
    new_token = feed_token(app, regie.id)
    assert new_token != regie.calendar_token
    page = text(manager.get("/reservations"))
    assert "Nouvelle adresse de calendrier créée." in page
    assert f"token={new_token}" in page
    assert member.get(feed.replace("http://sharing.test", "")).status_code == 404
    assert (
        member.get(f"/api/v1/regies/{regie.id}/calendar.ics?token={new_token}").status_code == 200
    )


def feed_token(app: Flask, regie_id: uuid.UUID) -> str:
    with app.app_context():
        return db.session.get(Regie, regie_id).calendar_token


# --- Navigation and page weight -------------------------------------------------------------


def test_the_navigation_links_to_the_bookings(app, parties):
    page = text(signed_in(app, parties.user("borrower_member")).get("/reservations"))
    assert '<a href="/reservations" aria-current="page">Réservations</a>' in page


def test_anonymous_visitors_are_sent_to_the_login_form(app, client, parties, trailer):
    booking_id = book(app, parties, trailer)
    for url in ("/reservations", f"/reservations/{booking_id}"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/connexion?next="), url


def test_pages_stay_light(app, parties, trailer):
    for n in range(12):
        book(app, parties, trailer, ["requested", "approved", "picked_up"][n % 3], soon(3 + n))
    client = signed_in(app, parties.lender)
    for url in ("/reservations", f"/materiel/{trailer.id}", "/"):
        response = client.get(url)
        assert response.status_code == 200
        assert len(response.data) < 100_000, (url, len(response.data))
