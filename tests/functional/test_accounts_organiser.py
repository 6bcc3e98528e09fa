"""Organisers' pages: find users, reset a password, edit the unit tree."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from quizengine.accounts.services import register_contestant
from quizengine.clock import SystemClock
from quizengine.models import Unit, User
from tests.factories import DEFAULT_PASSWORD, make_contestant, make_organiser, make_unit


def sign_in(client: FlaskClient, user: User) -> None:
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True


def csrf(client: FlaskClient, path: str = "/") -> str:
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match
    return match.group(1)


@pytest.fixture
def organiser_client(app: Flask, db_session: Session) -> FlaskClient:
    organiser = make_organiser(db_session, full_name="Trần Thị Thu Hà", phone="0901000001")
    db_session.commit()
    client = app.test_client()
    sign_in(client, organiser)
    return client


@pytest.fixture
def tree(app: Flask, db_session: Session) -> dict[str, Unit]:
    root = make_unit(db_session, code="LDLD", name="Liên đoàn Lao động tỉnh")
    district = make_unit(db_session, code="H1", name="LĐLĐ huyện Bình Sơn", parent=root)
    factory = make_unit(db_session, code="CS-MAY", name="CĐCS Công ty May", parent=district)
    empty = make_unit(db_session, code="CS-MOI", name="CĐCS mới thành lập", parent=district)
    db_session.commit()
    return {"root": root, "district": district, "factory": factory, "empty": empty}


# --------------------------------------------------------------------------- users


def test_users_are_found_by_name_without_diacritics_phone_or_national_id(
    organiser_client: FlaskClient, db_session: Session, tree: dict[str, Unit]
) -> None:
    # Through the registration service so the search name is filled in.
    register_contestant(
        db_session,
        full_name="Đặng Thị Ngọc Ánh",
        phone="0987654321",
        password="mat-khau-123",
        unit="CS-MAY",
        national_id="051190000123",
        clock=SystemClock(),
    )
    make_contestant(db_session, full_name="Phạm Văn Bình", phone="0912000002", unit=tree["empty"])
    db_session.commit()

    def found(query: str) -> bool:
        return "Đặng Thị Ngọc Ánh" in organiser_client.get(
            "/organiser/users", query_string={"q": query}
        ).get_data(as_text=True)

    assert found("dang thi ngoc anh")
    assert found("NGỌC ÁNH")
    assert found("0987 654")
    assert found("+84987654321")
    assert found("190000123")
    assert not found("Bình")

    html = organiser_client.get("/organiser/users", query_string={"role": "organiser"}).get_data(
        as_text=True
    )
    assert "Trần Thị Thu Hà" in html and "Đặng Thị Ngọc Ánh" not in html
    by_unit = organiser_client.get("/organiser/users?unit=CS-MOI").get_data(as_text=True)
    assert "Phạm Văn Bình" in by_unit and "Đặng Thị Ngọc Ánh" not in by_unit
    # organisers see the full national id
    assert "051190000123" in organiser_client.get("/organiser/users?q=anh").get_data(as_text=True)


def test_a_reset_password_is_shown_once_and_must_be_changed_at_next_login(
    app: Flask, organiser_client: FlaskClient, db_session: Session, tree: dict[str, Unit]
) -> None:
    member = make_contestant(db_session, phone="0912345678", unit=tree["factory"])
    db_session.commit()

    page = organiser_client.get(f"/organiser/users/{member.id}")
    assert page.status_code == 200
    token = csrf(organiser_client, f"/organiser/users/{member.id}")
    response = organiser_client.post(
        f"/organiser/users/{member.id}/reset-password", data={"csrf_token": token}
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    temporary = re.search(
        r'id="temporary-password">([^<]+)<', response.get_data(as_text=True)
    ).group(1)  # type: ignore[union-attr]
    assert len(temporary) >= 8
    # a reload of the user page does not show it again
    assert temporary not in organiser_client.get(f"/organiser/users/{member.id}").get_data(
        as_text=True
    )

    contestant = app.test_client()
    old = contestant.post(
        "/login",
        data={
            "csrf_token": csrf(contestant, "/login"),
            "phone": "0912345678",
            "password": DEFAULT_PASSWORD,
        },
    )
    assert old.status_code == 200  # the old password no longer works
    login = contestant.post(
        "/login",
        data={
            "csrf_token": csrf(contestant, "/login"),
            "phone": "0912345678",
            "password": temporary,
        },
    )
    assert login.status_code == 302
    assert login.headers["Location"].startswith("/account/password")
    # every other page sends them back to change it
    elsewhere = contestant.get("/account")
    assert elsewhere.status_code == 302 and elsewhere.headers["Location"] == "/account/password"

    token = csrf(contestant, "/account/password")
    same = contestant.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": temporary,
            "password": temporary,
            "confirm": temporary,
        },
    )
    assert "phải khác" in same.get_data(as_text=True)
    changed = contestant.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": temporary,
            "password": "mat-khau-rieng",
            "confirm": "mat-khau-rieng",
        },
    )
    assert changed.status_code == 302
    assert contestant.get("/account").status_code == 200


def test_change_password_needs_the_current_one(
    app: Flask, db_session: Session, tree: dict[str, Unit]
) -> None:
    member = make_contestant(db_session, unit=tree["factory"])
    db_session.commit()
    client = app.test_client()
    sign_in(client, member)
    token = csrf(client, "/account/password")
    html = client.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": "sai-roi-123",
            "password": "moi-12345",
            "confirm": "moi-12345",
        },
    ).get_data(as_text=True)
    assert "Mật khẩu hiện tại không đúng" in html


def test_unknown_user_pages_are_not_found(organiser_client: FlaskClient) -> None:
    assert organiser_client.get("/organiser/users/999999").status_code == 404
    token = csrf(organiser_client)
    assert (
        organiser_client.post(
            "/organiser/users/999999/reset-password", data={"csrf_token": token}
        ).status_code
        == 404
    )


# --------------------------------------------------------------------------- units


def test_the_unit_tree_lists_units_under_their_parents(
    organiser_client: FlaskClient, tree: dict[str, Unit]
) -> None:
    html = organiser_client.get("/organiser/units").get_data(as_text=True)
    order = [
        html.index(name)
        for name in ("Liên đoàn Lao động tỉnh", "LĐLĐ huyện Bình Sơn", "CĐCS Công ty May")
    ]
    assert order == sorted(order)


def test_add_rename_and_move_units(
    organiser_client: FlaskClient, db_session: Session, tree: dict[str, Unit]
) -> None:
    token = csrf(organiser_client, "/organiser/units")
    response = organiser_client.post(
        "/organiser/units",
        data={
            "csrf_token": token,
            "code": "GD",
            "name": "  Công đoàn ngành  Giáo dục ",
            "short_name": "CĐ GD",
            "parent": str(tree["root"].id),
            "members": "1.200",
        },
    )
    assert response.status_code == 302
    db_session.expire_all()
    education = db_session.scalar(select(Unit).where(Unit.code == "GD"))
    assert education is not None
    assert (education.name, education.short_name, education.members) == (
        "Công đoàn ngành Giáo dục",
        "CĐ GD",
        1200,
    )
    assert education.parent_id == tree["root"].id

    # move the empty grassroots unit under Education and rename it
    moved = organiser_client.post(
        f"/organiser/units/{tree['empty'].id}",
        data={
            "csrf_token": token,
            "name": "Công đoàn Trường THCS Nghĩa Hành",
            "parent": str(education.id),
            "short_name": "",
            "members": "",
        },
    )
    assert moved.status_code == 302
    db_session.expire_all()
    unit = db_session.get(Unit, tree["empty"].id)
    assert unit is not None
    assert (unit.name, unit.parent_id, unit.code) == (
        "Công đoàn Trường THCS Nghĩa Hành",
        education.id,
        "CS-MOI",
    )


def test_a_duplicate_code_is_refused_next_to_the_field(
    organiser_client: FlaskClient, tree: dict[str, Unit]
) -> None:
    token = csrf(organiser_client, "/organiser/units")
    html = organiser_client.post(
        "/organiser/units",
        data={"csrf_token": token, "code": "H1", "name": "Trùng mã", "parent": ""},
    ).get_data(as_text=True)
    assert 'id="code-error"' in html and "đã có" in html


def test_a_unit_cannot_move_under_itself_or_its_descendants(
    organiser_client: FlaskClient, db_session: Session, tree: dict[str, Unit]
) -> None:
    token = csrf(organiser_client, "/organiser/units")
    html = organiser_client.post(
        f"/organiser/units/{tree['root'].id}",
        data={"csrf_token": token, "name": "LĐLĐ tỉnh", "parent": str(tree["district"].id)},
    ).get_data(as_text=True)
    assert 'id="parent-error"' in html
    db_session.expire_all()
    assert db_session.get(Unit, tree["root"].id).parent_id is None  # type: ignore[union-attr]
    # and the edit page does not even offer them
    page = organiser_client.get(f"/organiser/units/{tree['district'].id}").get_data(as_text=True)
    select_html = page.split('name="parent"')[1].split("</select>")[0]
    assert f'value="{tree["factory"].id}"' not in select_html
    assert f'value="{tree["district"].id}"' not in select_html
    assert f'value="{tree["root"].id}"' in select_html


def test_a_grassroots_unit_with_contestants_cannot_get_sub_units(
    organiser_client: FlaskClient, db_session: Session, tree: dict[str, Unit]
) -> None:
    make_contestant(db_session, unit=tree["factory"])
    db_session.commit()
    token = csrf(organiser_client, "/organiser/units")
    html = organiser_client.post(
        "/organiser/units",
        data={
            "csrf_token": token,
            "code": "TO-1",
            "name": "Tổ công đoàn 1",
            "parent": str(tree["factory"].id),
        },
    ).get_data(as_text=True)
    assert "đã có đoàn viên đăng ký" in html


def test_a_units_registration_qr_code_is_an_svg_of_its_link(
    organiser_client: FlaskClient, tree: dict[str, Unit]
) -> None:
    page = organiser_client.get(f"/organiser/units/{tree['factory'].id}").get_data(as_text=True)
    assert "/register?unit=CS-MAY" in page
    response = organiser_client.get(f"/organiser/units/{tree['factory'].id}/qr.svg")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert response.data.startswith(b"<?xml") and b"<svg" in response.data


def login(client: FlaskClient, phone: str, password: str) -> None:
    response = client.post(
        "/login",
        data={"csrf_token": csrf(client, "/login"), "phone": phone, "password": password},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]


def test_a_password_reset_signs_out_sessions_that_used_the_old_password(
    app: Flask, organiser_client: FlaskClient, db_session: Session, tree: dict[str, Unit]
) -> None:
    member = make_contestant(db_session, phone="0912345678", unit=tree["factory"])
    db_session.commit()
    phone_in_pocket = app.test_client()
    login(phone_in_pocket, "0912345678", DEFAULT_PASSWORD)
    assert phone_in_pocket.get("/account").status_code == 200

    token = csrf(organiser_client)
    organiser_client.post(
        f"/organiser/users/{member.id}/reset-password", data={"csrf_token": token}
    )
    response = phone_in_pocket.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_changing_ones_password_keeps_this_session_and_ends_the_others(
    app: Flask, db_session: Session, tree: dict[str, Unit]
) -> None:
    make_contestant(db_session, phone="0912345678", unit=tree["factory"])
    db_session.commit()
    here, elsewhere = app.test_client(), app.test_client()
    login(here, "0912345678", DEFAULT_PASSWORD)
    login(elsewhere, "0912345678", DEFAULT_PASSWORD)
    response = here.post(
        "/account/password",
        data={
            "csrf_token": csrf(here, "/account/password"),
            "current_password": DEFAULT_PASSWORD,
            "password": "mat-khau-moi-99",
            "confirm": "mat-khau-moi-99",
        },
    )
    assert response.status_code == 302
    assert here.get("/account").status_code == 200
    assert elsewhere.get("/account").status_code == 302


def test_crafted_search_parameters_are_harmless(
    organiser_client: FlaskClient, tree: dict[str, Unit]
) -> None:
    for query in (
        "q=%00",
        "unit=%00",
        "q=%25_%5C",
        "page=-5",
        "page=abc",
        "role=root",
        "unit=CS%20MAY",
    ):
        assert organiser_client.get(f"/organiser/users?{query}").status_code == 200, query


def test_a_parent_that_is_not_in_the_list_is_refused(
    organiser_client: FlaskClient, tree: dict[str, Unit]
) -> None:
    token = csrf(organiser_client, "/organiser/units")
    for parent in ("abc", "99999999", "-3", "٣"):
        html = organiser_client.post(
            "/organiser/units",
            data={"csrf_token": token, "code": "NEW", "name": "Mới", "parent": parent},
        ).get_data(as_text=True)
        assert 'id="parent-error"' in html, parent


def test_ids_beyond_the_database_integer_are_not_found(
    organiser_client: FlaskClient, tree: dict[str, Unit]
) -> None:
    huge = 10**20
    for path in (
        f"/organiser/users/{huge}",
        f"/organiser/units/{huge}",
        f"/organiser/units/{huge}/qr.svg",
    ):
        assert organiser_client.get(path).status_code == 404, path
    token = csrf(organiser_client, "/organiser/units")
    reset = organiser_client.post(
        f"/organiser/users/{huge}/reset-password", data={"csrf_token": token}
    )
    assert reset.status_code == 404
    html = organiser_client.post(
        "/organiser/units",
        data={"csrf_token": token, "code": "NEW", "name": "Mới", "parent": str(huge)},
    ).get_data(as_text=True)
    assert 'id="parent-error"' in html
