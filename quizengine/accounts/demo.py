"""Demo data for accounts: a small provincial unit tree and one login per role.

Idempotent: units and users are created only when their code or phone is not there yet,
so running ``quizengine demo`` twice (or after someone changed a password) changes nothing.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from quizengine.accounts.services import create_user
from quizengine.accounts.units import add_unit
from quizengine.clock import Clock
from quizengine.models import Role, Unit, User

# (code, name, short name, parent code, members)
UNITS: tuple[tuple[str, str, str | None, str | None, int | None], ...] = (
    ("LDLD", "Liên đoàn Lao động tỉnh Quảng Ngãi", "LĐLĐ tỉnh", None, None),
    ("LDLD-TP", "Liên đoàn Lao động thành phố Quảng Ngãi", "LĐLĐ TP", "LDLD", None),
    ("LDLD-BS", "Liên đoàn Lao động huyện Bình Sơn", "LĐLĐ Bình Sơn", "LDLD", None),
    ("CDN-GD", "Công đoàn ngành Giáo dục tỉnh", "CĐ ngành Giáo dục", "LDLD", None),
    ("CD-KCN", "Công đoàn các Khu công nghiệp tỉnh", "CĐ các KCN", "LDLD", None),
    ("CDCS-TP-01", "Công đoàn cơ sở Bệnh viện Đa khoa tỉnh", "CĐCS BVĐK", "LDLD-TP", 640),
    ("CDCS-TP-02", "Công đoàn cơ sở Công ty CP Cấp thoát nước Quảng Ngãi", None, "LDLD-TP", 210),
    ("CDCS-TP-03", "Công đoàn cơ sở Sở Tài nguyên và Môi trường", None, "LDLD-TP", 85),
    ("CDCS-BS-01", "Công đoàn cơ sở Công ty TNHH Thủy sản Bình Sơn", None, "LDLD-BS", 320),
    ("CDCS-BS-02", "Công đoàn cơ sở Ủy ban nhân dân xã Bình Thạnh", None, "LDLD-BS", 28),
    ("CDCS-GD-01", "Công đoàn Trường THPT Trần Quốc Tuấn", "CĐ THPT TQT", "CDN-GD", 96),
    ("CDCS-GD-02", "Công đoàn Trường Tiểu học Nghĩa Chánh", None, "CDN-GD", 48),
    ("CDCS-GD-03", "Công đoàn Trường Mầm non Hoa Hồng", None, "CDN-GD", 35),
    (
        "CDCS-KCN-01",
        "Công đoàn cơ sở Công ty TNHH May xuất khẩu Tịnh Phong",
        "CĐCS May Tịnh Phong",
        "CD-KCN",
        1850,
    ),
    ("CDCS-KCN-02", "Công đoàn cơ sở Công ty CP Gỗ Việt Trung", None, "CD-KCN", 540),
    ("CDCS-KCN-03", "Công đoàn cơ sở Công ty TNHH Điện tử Sao Mai", None, "CD-KCN", 1230),
)

# (role, phone, password, full name, unit code)
USERS: tuple[tuple[Role, str, str, str, str | None], ...] = (
    (Role.ORGANISER, "0901000001", "demo-bantochuc", "Trần Thị Thu Hà", "LDLD"),
    (Role.JUDGE, "0901000002", "demo-giamkhao", "Lê Văn Minh", "LDLD"),
    (Role.CONTESTANT, "0912000001", "demo-thisinh", "Nguyễn Văn An", "CDCS-KCN-01"),
    (Role.CONTESTANT, "0912000002", "demo-thisinh", "Phạm Thị Bích Ngọc", "CDCS-GD-01"),
    (Role.CONTESTANT, "0912000003", "demo-thisinh", "Võ Minh Tuấn", "CDCS-BS-01"),
)


def seed(session: Session, clock: Clock) -> list[tuple[str, str, str, str]]:
    """Create what is missing; return (role, phone, password, name) for every demo login."""
    ids = {code: unit_id for code, unit_id in session.execute(select(Unit.code, Unit.id))}
    for code, name, short_name, parent, members in UNITS:
        if code in ids:
            continue
        unit = add_unit(
            session,
            code=code,
            name=name,
            short_name=short_name,
            parent_id=ids[parent] if parent else None,
            members=members,
            clock=clock,
        )
        ids[code] = unit.id

    phones = set(session.scalars(select(User.phone)))
    logins = []
    for role, phone, password, full_name, unit_code in USERS:
        if phone not in phones:
            create_user(
                session,
                role=role,
                full_name=full_name,
                phone=phone,
                password=password,
                unit=unit_code,
                clock=clock,
            )
        logins.append((role.value, phone, password, full_name))
    return logins
