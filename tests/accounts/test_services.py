"""Account use cases called directly, as the API, the web views and the CLI call them."""

import uuid
from typing import Any

import pytest

from sharing.accounts import services
from sharing.accounts.models import ApiToken, Role, User, hash_token
from sharing.errors import Forbidden, Invalid, NotFound, Unauthorized
from sharing.extensions import db
from sharing.regies.models import Regie
from tests.factories import PASSWORD


def fresh(model: type, key: Any) -> Any:
    """The row as this test's session sees it (factories commit in their own context)."""
    return db.session.get(model, key)


def user_data(regie: Regie, **fields: Any) -> dict[str, Any]:
    return {
        "email": "nouveau@regies.test",
        "name": "Nouveau",
        "password": "un-mot-de-passe-solide",
        "regie_id": regie.id,
        "role": Role.MEMBER,
    } | fields


def add_replica() -> Regie:
    regie = Regie(
        name="Régie d'ailleurs",
        slug=f"ailleurs-{uuid.uuid4().hex[:6]}",
        city="Lille",
        origin_instance_id=uuid.uuid4(),
    )
    db.session.add(regie)
    db.session.flush()
    return regie


# authenticate


def test_authenticate_finds_the_user_whatever_the_case_of_the_email(make, ctx):
    user = make.user("member")

    assert services.authenticate(f" {user.email.upper()} ", PASSWORD).id == user.id


@pytest.mark.parametrize("case", ["unknown-email", "wrong-password", "disabled"])
def test_every_authentication_failure_says_the_same_thing(make, ctx, case):
    user = make.user("member")
    email, password = user.email, PASSWORD
    if case == "unknown-email":
        email = "personne@regies.test"
    elif case == "wrong-password":
        password = "mauvais"
    else:
        fresh(User, user.id).is_enabled = False
        db.session.flush()

    with pytest.raises(Unauthorized) as raised:
        services.authenticate(email, password)

    assert raised.value.code == "invalid_credentials"
    assert raised.value.message == services.BAD_CREDENTIALS


# tokens


def test_a_token_is_stored_as_a_hash_and_leads_to_its_user(make, ctx):
    user = fresh(User, make.user("member").id)

    token, secret = services.create_token(user, "sauvegarde")

    assert token.token_hash == hash_token(secret) != secret
    assert token.label == "sauvegarde"
    assert token.revoked_at is None
    assert services.user_for_token(secret) is user
    assert services.user_for_token(secret + "x") is None


def test_revoked_tokens_and_disabled_users_lead_nowhere(make, ctx):
    user = fresh(User, make.user("member").id)
    revoked, revoked_secret = services.create_token(user)
    _, live_secret = services.create_token(user)

    services.revoke_token(user, revoked.id)

    assert revoked.revoked_at is not None
    assert services.user_for_token(revoked_secret) is None
    assert services.user_for_token(live_secret) is user
    user.is_enabled = False
    db.session.flush()
    assert services.user_for_token(live_secret) is None


def test_a_token_is_revoked_once_and_only_by_its_owner(make, ctx):
    owner = fresh(User, make.user("member").id)
    admin = fresh(User, make.user("admin").id)
    token, _ = services.create_token(owner)

    with pytest.raises(NotFound):
        services.revoke_token(admin, token.id)
    assert token.revoked_at is None
    services.revoke_token(owner, token.id)
    with pytest.raises(NotFound):
        services.revoke_token(owner, token.id)
    with pytest.raises(NotFound):
        services.revoke_token(owner, uuid.uuid4())


# create_user


def test_created_user_has_a_normalised_email_and_a_hashed_password(make, ctx):
    regie = fresh(Regie, make.regie().id)

    user = services.create_user(None, user_data(regie, email="  Nouveau@Regies.TEST "))

    assert user.email == "nouveau@regies.test"
    assert user.password_hash != "un-mot-de-passe-solide"
    assert user.check_password("un-mot-de-passe-solide")
    assert user.is_enabled
    assert db.session.get(User, user.id) is user


@pytest.mark.parametrize(
    ("actor_role", "where", "role", "allowed"),
    [
        ("admin", "own", Role.ADMIN, True),
        ("admin", "other", Role.ADMIN, True),
        ("admin", "other", Role.MEMBER, True),
        ("manager", "own", Role.MANAGER, True),
        ("manager", "own", Role.MEMBER, True),
        ("manager", "own", Role.ADMIN, False),
        ("manager", "other", Role.MEMBER, False),
        ("member", "own", Role.MEMBER, False),
    ],
    ids=lambda v: v.value if isinstance(v, Role) else str(v),
)
def test_who_may_create_which_account(make, ctx, actor_role, where, role, allowed):
    actor = fresh(User, make.user(actor_role).id)
    regie = actor.regie if where == "own" else fresh(Regie, make.regie().id)

    if allowed:
        assert services.create_user(actor, user_data(regie, role=role)).role is role
    else:
        with pytest.raises(Forbidden):
            services.create_user(actor, user_data(regie, role=role))


def test_no_account_is_created_in_a_replicated_regie(make, ctx):
    admin = fresh(User, make.user("admin").id)
    replica = add_replica()

    with pytest.raises(Forbidden):
        services.create_user(admin, user_data(replica))
    with pytest.raises(Invalid) as raised:
        services.create_user(None, user_data(replica))
    assert "regie_id" in raised.value.fields


def test_an_email_is_used_once_whatever_its_case(make, ctx):
    existing = make.user("member")
    regie = fresh(Regie, existing.regie_id)

    with pytest.raises(Invalid) as raised:
        services.create_user(None, user_data(regie, email=existing.email.upper()))

    assert list(raised.value.fields) == ["email"]


def test_unknown_regie_is_a_field_error(ctx):
    with pytest.raises(Invalid) as raised:
        services.create_user(None, user_data(Regie(id=uuid.uuid4())))

    assert list(raised.value.fields) == ["regie_id"]


# visible_users


def test_visible_users_depend_on_the_role(make, ctx):
    home, other = make.regie(), make.regie()
    admin = make.user("admin", regie=home)
    manager = make.user("manager", regie=home)
    member = make.user("member", regie=home)
    stranger = make.user("member", regie=other)

    def visible(user: User) -> set[uuid.UUID]:
        actor = fresh(User, user.id)
        return {u.id for u in db.session.scalars(services.visible_users(actor))}

    assert visible(admin) == {admin.id, manager.id, member.id, stranger.id}
    assert visible(manager) == {admin.id, manager.id, member.id}
    with pytest.raises(Forbidden):
        visible(member)


def test_tokens_survive_only_through_commit(make, ctx):
    """Services flush and never commit: the caller decides."""
    user = fresh(User, make.user("member").id)
    token, _ = services.create_token(user)

    db.session.rollback()

    assert db.session.get(ApiToken, token.id) is None
