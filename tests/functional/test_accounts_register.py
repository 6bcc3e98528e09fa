"""Contestant self-registration over HTTP: the form contract, unit links, bad input."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from quizengine.models import Unit, User
from tests.factories import make_contestant, make_unit

PASSWORD = "mat-khau-moi-1"


def csrf_token(client: FlaskClient, path: str = "/register") -> str:
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match
    return match.group(1)


@pytest.fixture
def tree(app: Flask, db_session: Session) -> dict[str, Unit]:
    root = make_unit(db_session, code="LDLD", name="Liên đoàn Lao động tỉnh")
    district = make_unit(db_session, code="H1", name="LĐLĐ huyện Bình Sơn", parent=root)
    industry = make_unit(db_session, code="GD", name="Công đoàn ngành Giáo dục", parent=root)
    units = {
        "root": root,
        "district": district,
        "industry": industry,
        "factory": make_unit(
            db_session, code="CS-MAY", name="CĐCS Công ty May Tịnh Phong", parent=district
        ),
        "school": make_unit(
            db_session, code="CS-THPT", name="Công đoàn Trường THPT Trần Quốc Tuấn", parent=industry
        ),
        "school2": make_unit(
            db_session, code="CS-TH", name="Công đoàn Trường Tiểu học Nghĩa Chánh", parent=industry
        ),
    }
    db_session.commit()
    return units


def form(**overrides: str) -> dict[str, str]:
    data = {
        "full_name": "Nguyễn Thị Lan",
        "phone": "0912 345 678",
        "password": PASSWORD,
        "confirm": PASSWORD,
        "unit": "CS-MAY",
        "birth_year": "1990",
        "national_id": "051190000123",
    }
    data.update(overrides)
    return data


def register(client: FlaskClient, query: str = "", **overrides: str):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/register" + query)
    return client.post("/register" + query, data={"csrf_token": token, **form(**overrides)})


def field_error(html: str, name: str) -> str:
    match = re.search(rf'<p class="field-error" id="{name}-error">(.*?)</p>', html, re.S)
    return match.group(1) if match else ""


def test_registration_stores_the_normal_form_and_signs_in(
    client: FlaskClient, tree: dict[str, Unit], db_session: Session
) -> None:
    response = register(client, full_name="  Nguyễn   Thị\tLan ")
    assert response.status_code == 302
    user = db_session.scalar(select(User).where(User.phone == "0912345678"))
    assert user is not None
    assert user.full_name == "Nguyễn Thị Lan"
    assert user.role == "contestant"
    assert user.unit_id == tree["factory"].id
    assert (user.birth_year, user.national_id) == (1990, "051190000123")
    assert user.registration_ip == "127.0.0.1"
    assert user.password_hash.startswith("scrypt:")
    assert user.search_name == "nguyen thi lan"
    assert not user.must_change_password

    account = client.get("/account").get_data(as_text=True)
    assert "Nguyễn Thị Lan" in account
    assert "*********123" in account and "051190000123" not in account


def test_optional_fields_may_be_left_blank(client: FlaskClient, tree: dict[str, Unit]) -> None:
    assert register(client, birth_year="", national_id="").status_code == 302


def test_the_page_names_every_contract_field(client: FlaskClient, tree: dict[str, Unit]) -> None:
    html = client.get("/register").get_data(as_text=True)
    for name in ("full_name", "phone", "password", "confirm", "unit", "birth_year", "national_id"):
        assert f'name="{name}"' in html, name
    # grassroots units only, grouped by their upper-level union
    assert '<optgroup label="Công đoàn ngành Giáo dục">' in html
    assert 'value="CS-THPT"' in html and 'value="CS-MAY"' in html
    assert 'value="H1"' not in html and 'value="LDLD"' not in html
    # sorted by name within a group, ignoring diacritics: "THPT" < "Tiểu học"
    assert html.index('"CS-THPT"') < html.index('"CS-TH"')


def test_a_units_link_preselects_it(client: FlaskClient, tree: dict[str, Unit]) -> None:
    html = client.get("/register?unit=CS-THPT").get_data(as_text=True)
    assert '<option value="CS-THPT" selected>' in html
    assert html.count(" selected>") == 1


def test_an_upper_level_unions_link_lists_only_its_grassroots_units(
    client: FlaskClient, tree: dict[str, Unit]
) -> None:
    html = client.get("/register?unit=GD").get_data(as_text=True)
    assert 'value="CS-THPT"' in html and 'value="CS-TH"' in html
    assert 'value="CS-MAY"' not in html
    assert "Đơn vị của bạn không có trong danh sách?" in html
    # and registering through it works, keeping the query string
    assert register(client, "?unit=GD", unit="CS-TH").status_code == 302


def test_a_long_unit_list_asks_for_the_upper_level_union_first(
    app: Flask, client: FlaskClient, tree: dict[str, Unit]
) -> None:
    app.config["REGISTER_LIST_MAX"] = 2
    try:
        first = client.get("/register").get_data(as_text=True)
        assert 'name="full_name"' not in first
        step = first.split('<select id="group" name="unit"')[1].split("</select>")[0]
        assert 'value="GD"' in step and 'value="H1"' in step and 'value="CS-MAY"' not in step

        narrowed = client.get("/register?unit=GD").get_data(as_text=True)
        assert 'name="full_name"' in narrowed
        assert 'value="CS-THPT"' in narrowed and 'value="CS-MAY"' not in narrowed

        # A grassroots unit's own link shows its union's units, preselected.
        own = client.get("/register?unit=CS-TH").get_data(as_text=True)
        assert '<option value="CS-TH" selected>' in own and 'value="CS-MAY"' not in own
        assert register(client, "?unit=CS-TH", unit="CS-TH").status_code == 302
    finally:
        del app.config["REGISTER_LIST_MAX"]


def test_an_unknown_unit_code_in_the_link_says_so(
    client: FlaskClient, tree: dict[str, Unit]
) -> None:
    html = client.get("/register?unit=NOPE<script>").get_data(as_text=True)
    assert "Không tìm thấy đơn vị có mã NOPE&lt;script&gt;" in html
    assert "<script>" not in html.split("</header>")[1].split("<script src")[0]
    assert 'value="CS-MAY"' in html


def test_a_duplicate_phone_says_so_next_to_the_phone_field(
    client: FlaskClient, tree: dict[str, Unit], db_session: Session
) -> None:
    make_contestant(db_session, phone="0912345678")
    db_session.commit()
    html = register(client, phone="+84 912.345.678").get_data(as_text=True)
    assert "đã được đăng ký" in field_error(html, "phone")
    # what was typed is kept, passwords are not
    assert 'value="Nguyễn Thị Lan"' in html
    assert PASSWORD not in html


def test_every_bad_field_gets_its_own_message_at_once(
    client: FlaskClient, tree: dict[str, Unit], db_session: Session
) -> None:
    response = register(
        client,
        full_name="\x07",
        phone="12345",
        password="short",
        confirm="other",
        unit="H1",
        birth_year="19",
        national_id="123",
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "ký tự điều khiển" in field_error(html, "full_name")
    assert "không hợp lệ" in field_error(html, "phone")
    assert "ít nhất 8" in field_error(html, "password")
    assert "công đoàn cấp trên" in field_error(html, "unit")
    assert "4 chữ số" in field_error(html, "birth_year")
    assert "12 chữ số" in field_error(html, "national_id")
    assert 'aria-invalid="true"' in html
    assert db_session.scalar(select(User)) is None


def test_mismatched_confirmation_and_missing_unit(
    client: FlaskClient, tree: dict[str, Unit]
) -> None:
    html = register(client, confirm="mat-khau-khac", unit="").get_data(as_text=True)
    assert "không khớp" in field_error(html, "confirm")
    assert "Vui lòng chọn đơn vị" in field_error(html, "unit")


def test_names_are_stored_as_typed_and_escaped_on_every_page(
    client: FlaskClient, tree: dict[str, Unit], db_session: Session
) -> None:
    name = '<img src=x onerror="alert(1)"> Lê & "Bé" 🙂'
    assert register(client, full_name=name).status_code == 302
    user = db_session.scalar(select(User).where(User.phone == "0912345678"))
    assert user is not None and user.full_name == name
    html = client.get("/account").get_data(as_text=True)
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt; Lê &amp; &#34;Bé&#34; 🙂" in html


def test_a_name_longer_than_100_characters_is_refused(
    client: FlaskClient, tree: dict[str, Unit]
) -> None:
    html = register(client, full_name="A" * 101).get_data(as_text=True)
    assert "100 ký tự" in field_error(html, "full_name")
    assert register(client, full_name="Ễ" * 100).status_code == 302


def test_without_csrf_token_nothing_is_registered(
    client: FlaskClient, tree: dict[str, Unit], db_session: Session
) -> None:
    response = client.post("/register", data=form())
    assert response.status_code == 403
    assert db_session.scalar(select(User)) is None


def test_a_signed_in_user_is_not_offered_a_second_account(
    client: FlaskClient, tree: dict[str, Unit]
) -> None:
    register(client)
    html = client.get("/register").get_data(as_text=True)
    assert "Bạn đang đăng nhập" in html
    assert 'name="full_name"' not in html


def test_registrations_per_address_are_limited_loosely(
    app: Flask, client: FlaskClient, tree: dict[str, Unit]
) -> None:
    app.config["REGISTRATIONS_PER_IP"] = "3/hour"
    try:
        for attempt in range(3):
            assert register(client, phone=f"091200000{attempt}", unit="bad").status_code == 200
        response = register(client, phone="0912000009")
        assert response.status_code == 429
        assert response.headers["Retry-After"]
    finally:
        del app.config["REGISTRATIONS_PER_IP"]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    name=st.text(max_size=120),
    phone=st.text(max_size=25),
    year=st.text(max_size=6),
    cccd=st.text(max_size=16),
    unit=st.text(max_size=60),
)
def test_garbage_in_any_field_never_causes_a_server_error(
    client: FlaskClient,
    tree: dict[str, Unit],
    name: str,
    phone: str,
    year: str,
    cccd: str,
    unit: str,
) -> None:
    # Surrogates cannot travel in a UTF-8 form; everything else can.
    def clean(text: str) -> str:
        return text.encode("utf-8", "replace").decode("utf-8")

    token = csrf_token(client)
    response = client.post(
        "/register",
        data={
            "csrf_token": token,
            "full_name": clean(name),
            "phone": clean(phone),
            "password": "x",  # always refused: the example never creates an account
            "confirm": "x",
            "unit": clean(unit),
            "birth_year": clean(year),
            "national_id": clean(cccd),
        },
    )
    assert response.status_code in (200, 429)
