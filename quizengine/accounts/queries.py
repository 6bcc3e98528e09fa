"""Reads for account and unit pages. Plain results; no writes.

The unit tree is small (a province has a few hundred to a few thousand units), so it is
read whole and shaped in Python, where the fold-for-sorting and grouping are simple.
"""

from __future__ import annotations

import math
import unicodedata
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload

from quizengine.accounts.validation import FieldInvalid, clean_unit_code, is_row_id, phone_key
from quizengine.banks.fileformat import search_fold
from quizengine.models import Role, Unit, User

__all__ = [
    "RegistrationChoices",
    "TreeRow",
    "UnitChoice",
    "UnitGroup",
    "UserPage",
    "find_unit",
    "parent_options",
    "registration_choices",
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
    code: str | None = None  # the upper-level union's code (None: units without a parent)


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


def _sort_text(name: str) -> str:
    """A cheap key that sorts Vietnamese names as people expect ("Đ" with "D", "Ă" with "A").

    Only for ordering: search_fold is the one for matching, but it costs ~100 µs a name,
    too much for a few thousand units on a page anyone can load.
    """
    text = unicodedata.normalize("NFD", name.replace("đ", "d").replace("Đ", "D"))
    return text.encode("ascii", "ignore").decode().casefold()


def _sort_key(unit: Unit) -> tuple[str, str]:
    return _sort_text(unit.name), unit.code


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
    try:
        clean = clean_unit_code(code)
    except FieldInvalid:  # not a code at all (and PostgreSQL refuses NUL in a query)
        return None
    return session.scalar(select(Unit).where(Unit.code == clean))


@dataclass(frozen=True)
class RegistrationChoices:
    """What the registration page offers for the ``unit`` field."""

    groups: list[UnitGroup]
    # The union the list is narrowed to (an upper-level union's link, or a long list).
    narrowed_to: str | None = None
    preselect: str | None = None
    # The list is too long for one page: ask for the upper-level union first.
    choose_group_first: bool = False
    unknown_code: bool = False


class _Node(NamedTuple):
    id: int
    code: str
    name: str
    parent_id: int | None


def registration_choices(
    session: Session, *, code: str | None, list_max: int
) -> RegistrationChoices:
    """Grassroots units grouped by their upper-level union, from one read of the tree.

    A grassroots unit's code preselects it; an upper-level union's code narrows the list
    to the grassroots units below it. When the whole list has more than ``list_max``
    units, a grassroots unit's link shows its own union's units and a bare page asks for
    the union first, so a phone never loads thousands of options.
    """
    rows = session.execute(select(Unit.id, Unit.code, Unit.name, Unit.parent_id)).all()
    nodes = {row[0]: _Node(*row) for row in rows}
    children: dict[int | None, list[int]] = defaultdict(list)
    for node in nodes.values():
        children[node.parent_id if node.parent_id in nodes else None].append(node.id)

    def groups_under(start: int | None) -> list[UnitGroup]:
        grouped: dict[int | None, list[_Node]] = defaultdict(list)
        stack = list(children.get(start, []))
        while stack:
            node = nodes[stack.pop()]
            below = children.get(node.id)
            if below:
                stack.extend(below)
            else:
                grouped[node.parent_id if node.parent_id in nodes else None].append(node)
        result = []
        for parent_id, leaves in grouped.items():
            parent = nodes.get(parent_id) if parent_id is not None else None
            leaves.sort(key=lambda leaf: (_sort_text(leaf.name), leaf.code))
            result.append(
                UnitGroup(
                    parent.name if parent else str(_l("Đơn vị khác")),
                    tuple(UnitChoice(leaf.code, leaf.name) for leaf in leaves),
                    parent.code if parent else None,
                )
            )
        result.sort(key=lambda group: (_sort_text(group.label), group.code or ""))
        return result

    wanted = (code or "").strip()
    linked = next((n for n in nodes.values() if n.code == wanted), None) if wanted else None
    leaf = linked is not None and not children.get(linked.id)
    if linked is not None and not leaf:
        groups = groups_under(linked.id)
        if groups:
            return RegistrationChoices(groups, narrowed_to=linked.name)
    groups = groups_under(None)
    preselect = linked.code if linked is not None and leaf else None
    too_long = len(groups) > 1 and sum(len(g.choices) for g in groups) > list_max
    if too_long and linked is not None and leaf and linked.parent_id in nodes:
        parent = nodes[linked.parent_id]
        return RegistrationChoices(
            groups_under(parent.id), narrowed_to=parent.name, preselect=preselect
        )
    return RegistrationChoices(
        groups,
        preselect=preselect,
        choose_group_first=too_long,
        unknown_code=bool(wanted) and linked is None,
    )


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
    # Printable text only: a NUL (from a crafted URL) would make PostgreSQL refuse the query.
    text = " ".join("".join(c for c in (query or "") if c.isprintable() or c.isspace()).split())
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
    if not is_row_id(user_id):
        return None
    return session.scalar(select(User).options(joinedload(User.unit)).where(User.id == user_id))


def get_unit(session: Session, unit_id: int) -> Unit | None:
    return session.get(Unit, unit_id) if is_row_id(unit_id) else None


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
