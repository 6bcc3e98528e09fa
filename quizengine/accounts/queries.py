"""Reads for account and unit pages. Plain results; no writes.

The unit tree is small (a province has a few hundred to a few thousand units), so it is
read whole and shaped in Python, where the fold-for-sorting and grouping are simple.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session, joinedload

from quizengine.accounts.validation import phone_key
from quizengine.banks.fileformat import search_fold
from quizengine.models import Role, Unit, User

__all__ = [
    "TreeRow",
    "UnitChoice",
    "UnitGroup",
    "UserPage",
    "find_unit",
    "grassroots_groups",
    "is_grassroots",
    "parent_options",
    "search_users",
    "unit_tree",
]


@dataclass(frozen=True)
class UnitChoice:
    code: str
    label: str


@dataclass(frozen=True)
class UnitGroup:
    label: str
    choices: tuple[UnitChoice, ...]


@dataclass(frozen=True)
class TreeRow:
    unit: Unit
    depth: int
    children: int
    contestants: int

    @property
    def grassroots(self) -> bool:
        return self.children == 0


@dataclass(frozen=True)
class UserPage:
    users: list[User]
    total: int
    page: int
    pages: int


@dataclass
class _Tree:
    units: dict[int, Unit]
    children: dict[int | None, list[Unit]]

    def walk(self, root: int | None = None, depth: int = 0) -> Iterator[tuple[Unit, int]]:
        for unit in self.children.get(root, []):
            yield unit, depth
            yield from self.walk(unit.id, depth + 1)

    def is_leaf(self, unit: Unit) -> bool:
        return not self.children.get(unit.id)


def _sort_key(unit: Unit) -> tuple[str, str]:
    return search_fold(unit.name), unit.code


def _load_tree(session: Session) -> _Tree:
    units = {unit.id: unit for unit in session.scalars(select(Unit))}
    children: dict[int | None, list[Unit]] = defaultdict(list)
    for unit in units.values():
        # A parent that is missing would hide its subtree; show such units as roots.
        parent = unit.parent_id if unit.parent_id in units else None
        children[parent].append(unit)
    for siblings in children.values():
        siblings.sort(key=_sort_key)
    return _Tree(units, children)


def find_unit(session: Session, code: str | None) -> Unit | None:
    if not code:
        return None
    return session.scalar(select(Unit).where(Unit.code == code.strip()))


def is_grassroots(session: Session, unit: Unit) -> bool:
    return not session.scalar(select(exists().where(Unit.parent_id == unit.id)))


def grassroots_groups(session: Session, *, under: int | None = None) -> list[UnitGroup]:
    """Grassroots units for the registration select, grouped by their upper-level union.

    ``under`` keeps only the grassroots units below that unit (a district's own link).
    """
    tree = _load_tree(session)
    groups: dict[int | None, list[Unit]] = defaultdict(list)
    start: int | None = under if under in tree.units else None
    if start is not None and tree.is_leaf(tree.units[start]):
        start = None
    for unit, _depth in tree.walk(start):
        if tree.is_leaf(unit):
            groups[unit.parent_id].append(unit)
    result = []
    for parent_id, units in groups.items():
        parent = tree.units.get(parent_id) if parent_id is not None else None
        label = parent.name if parent else str(_l("Đơn vị khác"))
        choices = tuple(UnitChoice(u.code, u.name) for u in sorted(units, key=_sort_key))
        result.append(UnitGroup(label, choices))
    result.sort(key=lambda group: search_fold(group.label))
    return result


def unit_tree(session: Session) -> list[TreeRow]:
    """Every unit in tree order (each followed by its subtree), with counts."""
    tree = _load_tree(session)
    counts: dict[int | None, int] = {
        unit_id: count
        for unit_id, count in session.execute(
            select(User.unit_id, func.count())
            .where(User.role == Role.CONTESTANT.value, User.unit_id.is_not(None))
            .group_by(User.unit_id)
        )
    }
    return [
        TreeRow(unit, depth, len(tree.children.get(unit.id, [])), counts.get(unit.id, 0))
        for unit, depth in tree.walk()
    ]


def parent_options(session: Session, *, moving: int | None = None) -> list[TreeRow]:
    """Units that may become the parent of ``moving`` (or of a new unit).

    Not the unit itself nor anything below it (no cycles), and no unit with contestants
    (those must stay grassroots units).
    """
    rows = unit_tree(session)
    if moving is None:
        return [row for row in rows if row.contestants == 0]
    result: list[TreeRow] = []
    skipping_below: int | None = None
    for row in rows:
        if skipping_below is not None:
            if row.depth > skipping_below:
                continue
            skipping_below = None
        if row.unit.id == moving:
            skipping_below = row.depth
            continue
        if row.contestants == 0:
            result.append(row)
    return result


def search_users(
    session: Session,
    *,
    query: str | None = None,
    role: str | None = None,
    unit_id: int | None = None,
    page: int = 1,
    per_page: int = 50,
) -> UserPage:
    """Organisers' user search: by phone (any part), name (with or without diacritics)."""
    conditions = []
    text = " ".join((query or "").split())
    if text:
        folded = search_fold(text)
        matches = [
            User.search_name.contains(folded, autoescape=True),
            func.lower(User.full_name).contains(text.lower(), autoescape=True),
        ]
        digits = "".join(char for char in text if char.isdigit())
        if digits and len(digits) >= 3:
            matches.append(User.phone.contains(phone_key(text) or digits, autoescape=True))
            matches.append(User.national_id.contains(digits, autoescape=True))
        conditions.append(or_(*matches))
    if role in {r.value for r in Role}:
        conditions.append(User.role == role)
    if unit_id is not None:
        conditions.append(User.unit_id == unit_id)
    total = session.scalar(select(func.count()).select_from(User).where(*conditions)) or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(max(page, 1), pages)
    users = list(
        session.scalars(
            select(User)
            .options(joinedload(User.unit))
            .where(*conditions)
            .order_by(User.created_at.desc(), User.id.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    return UserPage(users, total, page, pages)


def get_user(session: Session, user_id: int) -> User | None:
    return session.scalar(select(User).options(joinedload(User.unit)).where(User.id == user_id))


def get_unit(session: Session, unit_id: int) -> Unit | None:
    return session.get(Unit, unit_id)


def unit_path(session: Session, unit: Unit) -> list[Unit]:
    """The unit's ancestors from the root down, then the unit."""
    path = [unit]
    seen = {unit.id}
    current = unit.parent
    while current is not None and current.id not in seen:
        path.append(current)
        seen.add(current.id)
        current = current.parent
    return list(reversed(path))
