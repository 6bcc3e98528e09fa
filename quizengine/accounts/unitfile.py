"""The unit-tree file: rows of a CSV/XLSX table in, an import plan or problems out.

A contract with organisers, like the question-bank format. A header row (within the first
10 rows) names the columns, in English or Vietnamese, with or without diacritics:

=====================  ===============================  ==========
column                 Vietnamese                       required
=====================  ===============================  ==========
``code``               Mã đơn vị                        yes
``name``               Tên đơn vị                       yes
``parent_code``        Mã đơn vị cấp trên               yes (blank cell = a root)
``short_name``         Tên viết tắt                     no
``members``            Số đoàn viên                     no
=====================  ===============================  ==========

Parents are resolved after the whole file is read, so a child may come before its
parent, and against the units already stored. A re-import updates units by code and keeps
units absent from the file. An optional column left out of the file leaves that field of
existing units alone; present but blank, it clears the field.

Everything here is pure: ``parse_units`` reads rows, ``plan_import`` compares them with
what is stored (passed in as plain values) and finds unknown parents, cycles and units
with contestants that would stop being grassroots units. Messages are English, located as
``line N:`` (CSV) or ``row N:`` (XLSX) like the bank import's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from quizengine.accounts.validation import (
    UNIT_CODE_MAX,
    UNIT_NAME_MAX,
    UNIT_SHORT_NAME_MAX,
    FieldInvalid,
    clean_members,
    clean_unit_code,
    clean_unit_name,
    clean_unit_short_name,
)
from quizengine.banks.fileformat import search_fold
from quizengine.tabular import SourceRow

__all__ = [
    "ExistingUnit",
    "ImportPlan",
    "ParsedUnits",
    "RowSource",
    "UnitProblem",
    "UnitRow",
    "parse_units",
    "plan_import",
]

_HEADER_SEARCH_ROWS = 10

CODE, NAME, PARENT, SHORT_NAME, MEMBERS = "code", "name", "parent_code", "short_name", "members"
REQUIRED_COLUMNS = (CODE, NAME, PARENT)
OPTIONAL_COLUMNS = (SHORT_NAME, MEMBERS)
_IGNORED = "stt"

_COLUMN_NAMES: dict[str, str] = {
    "code": CODE,
    "unit code": CODE,
    "ma don vi": CODE,
    "ma dv": CODE,
    "name": NAME,
    "unit name": NAME,
    "ten don vi": NAME,
    "ten dv": NAME,
    "parent code": PARENT,
    "parent": PARENT,
    "ma don vi cap tren": PARENT,
    "ma cap tren": PARENT,
    "ma dv cap tren": PARENT,
    "short name": SHORT_NAME,
    "ten viet tat": SHORT_NAME,
    "members": MEMBERS,
    "so doan vien": MEMBERS,
    "so luong doan vien": MEMBERS,
    "stt": _IGNORED,
}
_LABELS = {
    CODE: '"code" (Mã đơn vị)',
    NAME: '"name" (Tên đơn vị)',
    PARENT: '"parent_code" (Mã đơn vị cấp trên)',
    SHORT_NAME: '"short_name" (Tên viết tắt)',
    MEMBERS: '"members" (Số đoàn viên)',
}


class RowSource(Protocol):
    """What parse_units needs from a table (quizengine.tabular.Table provides it)."""

    @property
    def location_word(self) -> str: ...

    def rows(self) -> Iterator[SourceRow]: ...


@dataclass(frozen=True)
class UnitProblem:
    """A reason the file cannot be imported, about one row (``position``) or the file."""

    position: int | None
    message: str
    location_word: str = "line"

    def __str__(self) -> str:
        if self.position is None:
            return f"file: {self.message}"
        return f"{self.location_word} {self.position}: {self.message}"


@dataclass(frozen=True)
class UnitRow:
    position: int
    code: str
    name: str
    parent_code: str | None
    short_name: str | None = None
    members: int | None = None


@dataclass
class ParsedUnits:
    rows: list[UnitRow] = field(default_factory=list)
    problems: list[UnitProblem] = field(default_factory=list)
    # Optional columns the file has: only those are compared and overwritten.
    columns: frozenset[str] = frozenset()
    location_word: str = "line"


@dataclass(frozen=True)
class ExistingUnit:
    """A stored unit, as plain values."""

    code: str
    name: str
    parent_code: str | None
    short_name: str | None = None
    members: int | None = None
    has_contestants: bool = False


@dataclass
class ImportPlan:
    creates: list[UnitRow] = field(default_factory=list)
    updates: list[UnitRow] = field(default_factory=list)
    unchanged: int = 0
    columns: frozenset[str] = frozenset()


# --------------------------------------------------------------------------- parsing


def _header_key(cell: str) -> str:
    return search_fold(re.sub(r"[_\-]", " ", cell))


def _column_fields(cells: tuple[str, ...]) -> dict[int, str | None]:
    return {
        index: _COLUMN_NAMES.get(_header_key(cell))
        for index, cell in enumerate(cells)
        if cell.strip()
    }


def parse_units(table: RowSource) -> ParsedUnits:
    where = table.location_word
    result = ParsedUnits(location_word=where)
    rows = iter(table.rows())

    header: dict[str, int] | None = None
    candidates: list[SourceRow] = []
    for row in rows:
        fields = _column_fields(row.cells)
        if CODE in fields.values() and NAME in fields.values():
            header = _read_header(row, fields, result)
            break
        candidates.append(row)
        if len(candidates) == _HEADER_SEARCH_ROWS:
            break
    if header is None:
        if not result.problems:
            result.problems.append(
                UnitProblem(
                    None,
                    f"no header row with the columns {_LABELS[CODE]}, {_LABELS[NAME]} and "
                    f"{_LABELS[PARENT]} in the first {_HEADER_SEARCH_ROWS} {where}s",
                    where,
                )
            )
        return result
    result.columns = frozenset(name for name in OPTIONAL_COLUMNS if name in header)

    seen: dict[str, int] = {}
    for row in rows:
        if not any(cell.strip() for cell in row.cells):
            continue
        unit = _parse_row(row, header, where, result.problems)
        if unit is None:
            continue
        first = seen.get(unit.code)
        if first is not None:
            result.problems.append(
                UnitProblem(
                    row.number, f'the code "{unit.code}" is already used on {where} {first}', where
                )
            )
            continue
        seen[unit.code] = row.number
        result.rows.append(unit)
    if not result.rows and not result.problems:
        result.problems.append(UnitProblem(None, "there are no units below the header", where))
    return result


def _read_header(
    row: SourceRow, fields: dict[int, str | None], result: ParsedUnits
) -> dict[str, int] | None:
    where = result.location_word
    columns: dict[str, int] = {}
    for index, name in fields.items():
        if name is None or name == _IGNORED:
            continue
        if name in columns:
            result.problems.append(
                UnitProblem(
                    None,
                    f"the header on {where} {row.number} has two {_LABELS[name]} columns",
                    where,
                )
            )
            return None
        columns[name] = index
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        labels = " and ".join(_LABELS[name] for name in missing)
        result.problems.append(
            UnitProblem(
                None,
                f"missing column{'s' if len(missing) > 1 else ''} {labels} in the header on "
                f"{where} {row.number}",
                where,
            )
        )
        return None
    return columns


_TEXT_REASONS = {
    "required": "the {what} is empty",
    "too_long": "the {what} is longer than {max} characters",
    "bad_character": "the {what} contains control characters",
}


def _parse_row(
    row: SourceRow, header: dict[str, int], where: str, problems: list[UnitProblem]
) -> UnitRow | None:
    def cell(name: str) -> str:
        index = header.get(name)
        if index is None or index >= len(row.cells):
            return ""
        return row.cells[index]

    def refuse(message: str) -> None:
        problems.append(UnitProblem(row.number, message, where))

    ok = True
    code = parent = name = short_name = None
    members: int | None = None
    raw_code = cell(CODE).strip()
    try:
        code = clean_unit_code(raw_code)
    except FieldInvalid as exc:
        ok = False
        if exc.reason == "required":
            refuse("the unit code is empty")
        else:
            refuse(
                f'the code "{raw_code}" may only contain ASCII letters, digits, ".", "_" and '
                f'"-" (at most {UNIT_CODE_MAX} characters)'
            )
    try:
        name = clean_unit_name(cell(NAME))
    except FieldInvalid as exc:
        ok = False
        refuse(_TEXT_REASONS[exc.reason].format(what="name", max=UNIT_NAME_MAX))
    raw_parent = cell(PARENT).strip()
    if raw_parent:
        try:
            parent = clean_unit_code(raw_parent)
        except FieldInvalid:
            ok = False
            refuse(f'the parent code "{raw_parent}" is not a valid unit code')
    if SHORT_NAME in header:
        try:
            short_name = clean_unit_short_name(cell(SHORT_NAME))
        except FieldInvalid as exc:
            ok = False
            refuse(_TEXT_REASONS[exc.reason].format(what="short name", max=UNIT_SHORT_NAME_MAX))
    if MEMBERS in header:
        try:
            members = clean_members(cell(MEMBERS))
        except FieldInvalid:
            ok = False
            refuse(f'the member count "{cell(MEMBERS).strip()}" is not a whole number')
    if not ok or code is None or name is None:
        return None
    return UnitRow(row.number, code, name, parent, short_name, members)


# --------------------------------------------------------------------------- planning


def plan_import(
    parsed: ParsedUnits, existing: Mapping[str, ExistingUnit]
) -> ImportPlan | list[UnitProblem]:
    """Decide what an import would change, or every reason it cannot be done."""
    where = parsed.location_word
    problems: list[UnitProblem] = []
    in_file = {row.code: row for row in parsed.rows}

    parent_of: dict[str, str | None] = {code: unit.parent_code for code, unit in existing.items()}
    for row in parsed.rows:
        if row.parent_code is None:
            parent_of[row.code] = None
        elif row.parent_code == row.code:
            problems.append(
                UnitProblem(row.position, f'the unit "{row.code}" cannot be its own parent', where)
            )
            parent_of[row.code] = None
        elif row.parent_code not in in_file and row.parent_code not in existing:
            problems.append(
                UnitProblem(
                    row.position,
                    f'the parent code "{row.parent_code}" is neither in this file nor among '
                    "the existing units",
                    where,
                )
            )
            parent_of[row.code] = None
        else:
            parent_of[row.code] = row.parent_code

    problems.extend(_cycle_problems(parsed.rows, parent_of, where))

    for row in parsed.rows:
        parent = parent_of.get(row.code)
        if parent is not None and parent in existing and existing[parent].has_contestants:
            problems.append(
                UnitProblem(
                    row.position,
                    f'the unit "{parent}" has registered contestants, so it must stay a '
                    f'grassroots unit and cannot be the parent of "{row.code}"',
                    where,
                )
            )

    if problems:
        return sorted(problems, key=lambda p: (p.position is not None, p.position or 0))

    plan = ImportPlan(columns=parsed.columns)
    for row in parsed.rows:
        old = existing.get(row.code)
        if old is None:
            plan.creates.append(row)
        elif _differs(row, old, parsed.columns):
            plan.updates.append(row)
        else:
            plan.unchanged += 1
    return plan


def _differs(row: UnitRow, old: ExistingUnit, columns: frozenset[str]) -> bool:
    if (row.name, row.parent_code) != (old.name, old.parent_code):
        return True
    if SHORT_NAME in columns and row.short_name != old.short_name:
        return True
    return MEMBERS in columns and row.members != old.members


def _cycle_problems(
    rows: list[UnitRow], parent_of: Mapping[str, str | None], where: str
) -> Iterator[UnitProblem]:
    """One problem per cycle, on the first line of the file that takes part in it.

    The stored tree has no cycles, so every cycle runs through at least one file row.
    """
    position = {row.code: row.position for row in rows}
    done: set[str] = set()
    for row in rows:
        path: list[str] = []
        on_path: set[str] = set()
        code: str | None = row.code
        while code is not None and code not in done and code not in on_path:
            path.append(code)
            on_path.add(code)
            code = parent_of.get(code)
        if code is not None and code in on_path:
            cycle = path[path.index(code) :]
            first = min((c for c in cycle if c in position), key=lambda c: position[c])
            start = cycle.index(first)
            ordered = cycle[start:] + cycle[:start]
            chain = " → ".join([*ordered, first])
            yield UnitProblem(position[first], f"the parent codes form a cycle: {chain}", where)
        done.update(path)
