"""Unit-tree verbs: add, rename, move, import.

The tree's rules, enforced here for the web pages and in ``unitfile.plan_import`` for
files: codes are unique; no unit is its own ancestor; a unit with registered contestants
stays a grassroots unit (a leaf), because contestants may only belong to grassroots units
and moving them silently into an upper-level union would change prize standings.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select
from sqlalchemy.orm import Session, aliased

from quizengine.accounts.services import FieldErrorCollector
from quizengine.accounts.unitfile import (
    ExistingUnit,
    ImportPlan,
    RowSource,
    UnitProblem,
    parse_units,
    plan_import,
)
from quizengine.accounts.validation import (
    clean_members,
    clean_unit_code,
    clean_unit_name,
    clean_unit_short_name,
    is_row_id,
)
from quizengine.clock import Clock
from quizengine.errors import Invalid, NotFound
from quizengine.models import Role, Unit, User

__all__ = [
    "ImportCounts",
    "UnitImportFailed",
    "add_unit",
    "import_unit_table",
    "update_unit",
]


class UnitImportFailed(Invalid):
    """The file was refused as a whole; ``problems`` says where and why."""

    def __init__(self, problems: list[UnitProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems[:3]))


@dataclass(frozen=True)
class ImportCounts:
    imported: int
    updated: int
    unchanged: int

    def __str__(self) -> str:
        return f"imported {self.imported}, updated {self.updated}, unchanged {self.unchanged}"


def _has_contestants(session: Session, unit_id: int) -> bool:
    return bool(
        session.scalar(
            select(exists().where(User.unit_id == unit_id, User.role == Role.CONTESTANT.value))
        )
    )


def _parent_map(session: Session) -> dict[int, int | None]:
    return {row.id: row.parent_id for row in session.execute(select(Unit.id, Unit.parent_id))}


def _is_ancestor(parents: dict[int, int | None], ancestor: int, unit_id: int) -> bool:
    """Whether ``ancestor`` is ``unit_id`` itself or above it in the tree."""
    seen: set[int] = set()
    current: int | None = unit_id
    while current is not None and current not in seen:
        if current == ancestor:
            return True
        seen.add(current)
        current = parents.get(current)
    return False


def _check_parent(
    session: Session, errors: FieldErrorCollector, parent_id: int | None, *, moving: int | None
) -> Unit | None:
    if parent_id is None:
        return None
    parent = session.get(Unit, parent_id) if is_row_id(parent_id) else None
    if parent is None:
        errors.refuse("parent", _l("Không tìm thấy đơn vị cấp trên đã chọn."))
        return None
    if moving is not None and _is_ancestor(_parent_map(session), moving, parent_id):
        errors.refuse(
            "parent",
            _l("Không thể chuyển một đơn vị vào chính nó hoặc vào đơn vị cấp dưới của nó."),
        )
        return None
    if _has_contestants(session, parent.id):
        errors.refuse(
            "parent",
            _l(
                "“%(name)s” đã có đoàn viên đăng ký dự thi nên phải là công đoàn cơ sở; "
                "không thể thêm đơn vị cấp dưới vào đó.",
                name=parent.name,
            ),
        )
        return None
    return parent


def add_unit(
    session: Session,
    *,
    code: str | None,
    name: str | None,
    clock: Clock,
    parent_id: int | None = None,
    short_name: str | None = None,
    members: str | int | None = None,
) -> Unit:
    errors = FieldErrorCollector()
    clean_code = errors.check("code", lambda: clean_unit_code(code))
    if clean_code and session.scalar(select(exists().where(Unit.code == clean_code))):
        errors.refuse("code", _l("Mã đơn vị %(code)s đã có.", code=clean_code))
    clean_name = errors.check("name", lambda: clean_unit_name(name))
    clean_short = errors.check("short_name", lambda: clean_unit_short_name(short_name))
    count = errors.check("members", lambda: clean_members(members))
    parent = _check_parent(session, errors, parent_id, moving=None)
    errors.raise_if_any()
    assert clean_code and clean_name
    unit = Unit(
        code=clean_code,
        name=clean_name,
        short_name=clean_short,
        parent_id=parent.id if parent else None,
        members=count,
        created_at=clock.now(),
    )
    session.add(unit)
    session.flush()
    return unit


def update_unit(
    session: Session,
    *,
    unit_id: int,
    name: str | None,
    parent_id: int | None,
    short_name: str | None = None,
    members: str | int | None = None,
) -> Unit:
    """Rename and/or move a unit. Its code stays: it is printed in links and QR codes."""
    unit = session.get(Unit, unit_id) if is_row_id(unit_id) else None
    if unit is None:
        raise NotFound()
    errors = FieldErrorCollector()
    clean_name = errors.check("name", lambda: clean_unit_name(name))
    clean_short = errors.check("short_name", lambda: clean_unit_short_name(short_name))
    count = errors.check("members", lambda: clean_members(members))
    parent = unit.parent
    if parent_id != unit.parent_id:
        parent = _check_parent(session, errors, parent_id, moving=unit.id)
    errors.raise_if_any()
    assert clean_name
    unit.name = clean_name
    unit.short_name = clean_short
    unit.members = count
    unit.parent_id = parent.id if parent else None
    session.flush()
    return unit


def existing_units(session: Session) -> dict[str, ExistingUnit]:
    parent = aliased(Unit)
    with_contestants = set(
        session.scalars(select(User.unit_id).where(User.role == Role.CONTESTANT.value).distinct())
    )
    rows = session.execute(
        select(Unit, parent.code).outerjoin(parent, Unit.parent_id == parent.id)
    ).all()
    return {
        unit.code: ExistingUnit(
            code=unit.code,
            name=unit.name,
            parent_code=parent_code,
            short_name=unit.short_name,
            members=unit.members,
            has_contestants=unit.id in with_contestants,
        )
        for unit, parent_code in rows
    }


def import_unit_table(
    session: Session, table: RowSource, *, clock: Clock, dry_run: bool = False
) -> ImportCounts:
    """All or nothing: any problem refuses the whole file and nothing is written."""
    parsed = parse_units(table)
    if parsed.problems:
        raise UnitImportFailed(parsed.problems)
    plan = plan_import(parsed, existing_units(session))
    if not isinstance(plan, ImportPlan):
        raise UnitImportFailed(plan)
    if not dry_run:
        _apply(session, plan, clock)
    return ImportCounts(len(plan.creates), len(plan.updates), plan.unchanged)


def _apply(session: Session, plan: ImportPlan, clock: Clock) -> None:
    now = clock.now()
    by_code = {unit.code: unit for unit in session.scalars(select(Unit))}
    for row in plan.creates:
        unit = Unit(code=row.code, name=row.name, created_at=now)
        session.add(unit)
        by_code[row.code] = unit
    session.flush()  # ids for the new units, so parents can point at them
    created = {row.code for row in plan.creates}
    for row in (*plan.creates, *plan.updates):
        unit = by_code[row.code]
        unit.name = row.name
        unit.parent_id = by_code[row.parent_code].id if row.parent_code else None
        if row.code in created or "short_name" in plan.columns:
            unit.short_name = row.short_name
        if row.code in created or "members" in plan.columns:
            unit.members = row.members
    session.flush()
