"""Account and unit services on the configured database (PostgreSQL in CI)."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from quizengine.accounts import services
from quizengine.accounts.principal import load_signed_in
from quizengine.accounts.services import (
    FieldErrors,
    LoginFailed,
    authenticate,
    create_user,
    register_contestant,
    reset_password,
)
from quizengine.accounts.units import add_unit, update_unit
from quizengine.clock import FrozenClock
from quizengine.db import database
from quizengine.models import Role, Unit, User
from tests.factories import (
    DEFAULT_PASSWORD,
    NOW,
    make_contestant,
    make_judge,
    make_organiser,
    make_unit,
)


@pytest.fixture
def clock() -> FrozenClock:  # a local one: these tests need no app-wide clock
    return FrozenClock(NOW)


@pytest.fixture
def grassroots(app: Flask, db_session: Session) -> Unit:
    root = make_unit(db_session, code="LDLD")
    unit = make_unit(db_session, code="CS-1", parent=root)
    db_session.commit()
    return unit


def registration(**overrides: object) -> dict[str, object]:
    values: dict[str, object] = {
        "full_name": "Nguyễn Văn An",
        "phone": "0912345678",
        "password": "mat-khau-123",
        "unit": "CS-1",
    }
    values.update(overrides)
    return values


def test_registration_returns_the_stored_user(
    db_session: Session, grassroots: Unit, clock: FrozenClock
) -> None:
    user = register_contestant(
        db_session, clock=clock, ip="198.51.100.7", birth_year=1990, **registration()
    )
    db_session.commit()
    assert user.id and user.unit_id == grassroots.id
    assert (user.created_at, user.registration_ip, user.birth_year) == (NOW, "198.51.100.7", 1990)


def test_a_phone_registered_at_the_same_instant_is_refused_by_the_unique_index(
    db_session: Session,
    grassroots: Unit,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
    app: Flask,
) -> None:
    with database(app).sessionmaker() as first:
        register_contestant(first, clock=clock, **registration())
        first.commit()
    # The second request checked before the first committed: only the index can tell.
    monkeypatch.setattr(services, "_phone_taken", lambda _session, _phone: False)
    with pytest.raises(FieldErrors) as caught:
        register_contestant(db_session, clock=clock, **registration(full_name="Người thứ hai"))
    assert set(caught.value.errors) == {"phone"}
    assert db_session.scalars(select(User)).all()[0].full_name == "Nguyễn Văn An"


def test_every_refused_field_is_reported_together(
    db_session: Session, grassroots: Unit, clock: FrozenClock
) -> None:
    with pytest.raises(FieldErrors) as caught:
        register_contestant(
            db_session,
            clock=clock,
            full_name="",
            phone="12",
            password="x",
            confirm="y",
            unit="LDLD",
            birth_year="abc",
            national_id="1",
        )
    assert set(caught.value.errors) == {
        "full_name",
        "phone",
        "password",
        "unit",
        "birth_year",
        "national_id",
    }


def test_authentication_refuses_unknown_phones_and_wrong_passwords_alike(
    db_session: Session, clock: FrozenClock
) -> None:
    make_contestant(db_session, phone="0912345678")
    db_session.commit()
    with pytest.raises(LoginFailed) as unknown:
        authenticate(db_session, phone="0999999999", password=DEFAULT_PASSWORD, clock=clock)
    with pytest.raises(LoginFailed) as wrong:
        authenticate(db_session, phone="0912345678", password="sai-mat-khau", clock=clock)
    assert str(unknown.value) == str(wrong.value)
    with pytest.raises(LoginFailed):
        authenticate(db_session, phone="0912345678", password=None, clock=clock)
    with pytest.raises(FieldErrors):
        authenticate(db_session, phone="not a phone", password="x", clock=clock)
    user = authenticate(db_session, phone="84912345678", password=DEFAULT_PASSWORD, clock=clock)
    assert user.last_login_at == NOW


def test_staff_need_no_unit_but_may_name_an_upper_level_one(
    db_session: Session, grassroots: Unit, clock: FrozenClock
) -> None:
    judge = create_user(
        db_session,
        role="judge",
        full_name="Lê Minh",
        phone="0901000002",
        password="gk-123456",
        clock=clock,
    )
    organiser = create_user(
        db_session,
        role="organiser",
        full_name="Hà",
        phone="0901000001",
        password="btc-12345",
        unit="LDLD",
        clock=clock,
        must_change_password=True,
    )
    assert judge.unit_id is None and judge.role == "judge"
    assert organiser.unit is not None and organiser.unit.code == "LDLD"
    assert organiser.must_change_password


def test_a_reset_password_replaces_the_old_one(db_session: Session, clock: FrozenClock) -> None:
    user = make_contestant(db_session, phone="0912345678")
    _, temporary = reset_password(db_session, user_id=user.id)
    db_session.commit()
    with pytest.raises(LoginFailed):
        authenticate(db_session, phone="0912345678", password=DEFAULT_PASSWORD, clock=clock)
    assert authenticate(db_session, phone="0912345678", password=temporary, clock=clock)


def test_temporary_passwords_are_unambiguous_and_different() -> None:
    seen = {services.generate_temporary_password() for _ in range(200)}
    assert len(seen) == 200
    assert all(len(p) == 10 and not set(p) & set("0o1li") for p in seen)


def test_moving_a_unit_under_its_own_descendant_is_refused(
    db_session: Session, clock: FrozenClock
) -> None:
    root = make_unit(db_session, code="R")
    middle = make_unit(db_session, code="M", parent=root)
    leaf = make_unit(db_session, code="L", parent=middle)
    for target in (root, middle, leaf):
        with pytest.raises(FieldErrors) as caught:
            update_unit(db_session, unit_id=root.id, name="R", parent_id=target.id)
        assert set(caught.value.errors) == {"parent"}
    # moving a leaf elsewhere is fine
    other = add_unit(db_session, code="O", name="Khác", parent_id=root.id, clock=clock)
    update_unit(db_session, unit_id=leaf.id, name="Lá", parent_id=other.id)
    assert leaf.parent_id == other.id and leaf.name == "Lá"


def test_a_unit_with_contestants_stays_a_leaf(db_session: Session, clock: FrozenClock) -> None:
    unit = make_unit(db_session, code="CS")
    make_contestant(db_session, unit=unit)
    other = make_unit(db_session, code="X")
    with pytest.raises(FieldErrors):
        add_unit(db_session, code="T", name="Tổ", parent_id=unit.id, clock=clock)
    with pytest.raises(FieldErrors):
        update_unit(db_session, unit_id=other.id, name="X", parent_id=unit.id)
    # but it may itself move (its contestants go with it)
    root = make_unit(db_session, code="ROOT")
    update_unit(db_session, unit_id=unit.id, name="CS", parent_id=root.id)
    assert unit.parent_id == root.id


def test_the_signed_in_account_is_read_as_requests_need_it(db_session: Session) -> None:
    contestant, judge, organiser = (
        make_contestant(db_session, full_name="Lê Thị Hồng"),
        make_judge(db_session),
        make_organiser(db_session),
    )
    db_session.commit()
    me = load_signed_in(db_session, contestant.get_id())
    assert me is not None
    assert (me.id, me.full_name, me.password_hash) == (
        contestant.id,
        "Lê Thị Hồng",
        contestant.password_hash,
    )
    assert me.is_authenticated and me.get_id() == str(contestant.id)
    assert me.has_role(Role.CONTESTANT) and not me.has_role(Role.JUDGE)
    # The same rule as the User entity: organisers can do everything judges can.
    for user in (contestant, judge, organiser):
        seen = load_signed_in(db_session, user.get_id())
        assert seen is not None
        assert [seen.has_role(r) for r in Role] == [user.has_role(r) for r in Role]
    # A deleted account, a tampered or absurd id: nobody.
    assert load_signed_in(db_session, str(organiser.id + 1000)) is None
    assert load_signed_in(db_session, "abc") is None
    assert load_signed_in(db_session, str(2**40)) is None
