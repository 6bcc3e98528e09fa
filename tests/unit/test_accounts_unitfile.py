"""The unit-tree file format: headers, rows, parents, cycles, re-imports."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from quizengine.accounts.unitfile import (
    ExistingUnit,
    ImportPlan,
    UnitProblem,
    parse_units,
    plan_import,
)
from quizengine.tabular import SourceRow


@dataclass
class Rows:
    """A table in memory: each list is a record, numbered from 1."""

    records: list[list[str]]
    location_word: str = "line"

    def rows(self) -> Iterator[SourceRow]:
        for number, cells in enumerate(self.records, start=1):
            yield SourceRow(number, tuple(cells))


HEADER = ["code", "name", "parent_code"]


def plan(records: list[list[str]], existing: dict[str, ExistingUnit] | None = None):  # type: ignore[no-untyped-def]
    parsed = parse_units(Rows(records))
    assert not parsed.problems, [str(p) for p in parsed.problems]
    return plan_import(parsed, existing or {})


def messages(result: ImportPlan | list[UnitProblem]) -> list[str]:
    assert isinstance(result, list), result
    return [str(problem) for problem in result]


def test_a_child_may_come_before_its_parent() -> None:
    result = plan(
        [
            HEADER,
            ["CS1", "Công đoàn cơ sở A", "H1"],
            ["H1", "LĐLĐ huyện", "ROOT"],
            ["ROOT", "LĐLĐ tỉnh", ""],
        ]
    )
    assert isinstance(result, ImportPlan)
    assert [row.code for row in result.creates] == ["CS1", "H1", "ROOT"]
    assert result.creates[0].parent_code == "H1"


def test_vietnamese_headers_with_or_without_diacritics_and_a_title_row_are_understood() -> None:
    for header in (
        ["STT", "Mã đơn vị", "Tên đơn vị", "Mã đơn vị cấp trên", "Tên viết tắt", "Số đoàn viên"],
        ["stt", "MA DON VI", "ten don vi", "Ma_don_vi_cap_tren", "ten viet tat", "so doan vien"],
    ):
        parsed = parse_units(
            Rows(
                [
                    ["DANH SÁCH ĐƠN VỊ"],
                    [],
                    header,
                    ["1", "ROOT", "  LĐLĐ   tỉnh ", "", "LĐLĐ", "1.234"],
                ]
            )
        )
        assert not parsed.problems
        (row,) = parsed.rows
        assert (row.position, row.code, row.name, row.parent_code) == (4, "ROOT", "LĐLĐ tỉnh", None)
        assert (row.short_name, row.members) == ("LĐLĐ", 1234)
        assert parsed.columns == {"short_name", "members"}


def test_a_missing_required_column_is_named() -> None:
    parsed = parse_units(Rows([["code", "name"], ["A", "x"]]))
    assert [str(p) for p in parsed.problems] == [
        'file: missing column "parent_code" (Mã đơn vị cấp trên) in the header on line 1'
    ]


def test_no_header_at_all() -> None:
    parsed = parse_units(Rows([["a", "b"], ["c", "d"]]))
    assert str(parsed.problems[0]).startswith("file: no header row")


def test_row_problems_are_reported_by_line_with_every_reason() -> None:
    parsed = parse_units(
        Rows(
            [
                [*HEADER, "members"],
                ["A", "Đơn vị A", "", "12"],
                ["", "Không mã", "", ""],
                ["B C", "Mã có dấu cách", "", ""],
                ["D", "", "", ""],
                ["E", "Tên\x00lạ", "", ""],
                ["A", "Trùng mã", "", ""],
                ["F", "Đơn vị F", "a b", "-3"],
            ]
        )
    )
    assert [str(p) for p in parsed.problems] == [
        "line 3: the unit code is empty",
        'line 4: the code "B C" may only contain ASCII letters, digits, ".", "_" and "-" '
        "(at most 50 characters)",
        "line 5: the name is empty",
        "line 6: the name contains control characters",
        'line 7: the code "A" is already used on line 2',
        'line 8: the parent code "a b" is not a valid unit code',
        'line 8: the member count "-3" is not a whole number',
    ]


def test_xlsx_problems_say_row() -> None:
    parsed = parse_units(Rows([HEADER, ["", "x", ""]], location_word="row"))
    assert str(parsed.problems[0]) == "row 2: the unit code is empty"


def test_unknown_parents_and_self_parents_are_reported_by_line() -> None:
    result = plan_import(
        parse_units(Rows([HEADER, ["A", "a", "NOPE"], ["B", "b", "B"], ["C", "c", "OLD"]])),
        {"OLD": ExistingUnit("OLD", "old", None)},
    )
    assert messages(result) == [
        'line 2: the parent code "NOPE" is neither in this file nor among the existing units',
        'line 3: the unit "B" cannot be its own parent',
    ]


def test_a_cycle_is_reported_once_on_its_first_line() -> None:
    result = plan([HEADER, ["R", "root", ""], ["A", "a", "C"], ["B", "b", "A"], ["C", "c", "B"]])
    assert messages(result) == ["line 3: the parent codes form a cycle: A → C → B → A"]


def test_a_cycle_through_stored_units_is_found() -> None:
    # Stored: X under Y. The file puts Y under X.
    existing = {"X": ExistingUnit("X", "x", "Y"), "Y": ExistingUnit("Y", "y", None)}
    result = plan([HEADER, ["Y", "y", "X"]], existing)
    assert messages(result) == ["line 2: the parent codes form a cycle: Y → X → Y"]


def test_a_unit_with_contestants_cannot_become_a_parent() -> None:
    existing = {"CS": ExistingUnit("CS", "cs", None, has_contestants=True)}
    result = plan([HEADER, ["NEW", "new", "CS"]], existing)
    assert messages(result) == [
        'line 2: the unit "CS" has registered contestants, so it must stay a grassroots unit '
        'and cannot be the parent of "NEW"'
    ]


def test_reimport_counts_new_changed_and_unchanged_and_respects_absent_columns() -> None:
    existing = {
        "R": ExistingUnit("R", "root", None, short_name="R1", members=5),
        "A": ExistingUnit("A", "a", "R", short_name="keep", members=7),
        "KEPT": ExistingUnit("KEPT", "not in the file", None),
    }
    result = plan([HEADER, ["R", "root", ""], ["A", "a renamed", "R"], ["N", "new", "A"]], existing)
    assert isinstance(result, ImportPlan)
    assert [r.code for r in result.creates] == ["N"]
    assert [r.code for r in result.updates] == ["A"]
    assert result.unchanged == 1
    # short_name/members columns absent: a difference there is no change
    assert result.columns == frozenset()

    with_short = plan([[*HEADER, "short_name"], ["R", "root", "", ""]], existing)
    assert isinstance(with_short, ImportPlan)
    assert [r.code for r in with_short.updates] == ["R"]  # present but blank clears it


codes = st.sampled_from(list("ABCDEFG"))


@given(
    stored=st.dictionaries(codes, st.one_of(st.none(), codes), max_size=7),
    file_rows=st.dictionaries(codes, st.one_of(st.none(), codes), min_size=1, max_size=7),
)
def test_a_planned_import_never_leaves_a_cycle(
    stored: dict[str, str | None], file_rows: dict[str, str | None]
) -> None:
    # Make the stored tree acyclic by only keeping parents that sort before the child.
    existing = {
        code: ExistingUnit(code, code, parent if parent is not None and parent < code else None)
        for code, parent in stored.items()
    }
    records = [HEADER] + [
        [code, f"unit {code}", parent or ""] for code, parent in file_rows.items()
    ]
    result = plan_import(parse_units(Rows(records)), existing)
    if not isinstance(result, ImportPlan):
        assert result and all(problem.position is not None for problem in result)
        return
    parents = {code: unit.parent_code for code, unit in existing.items()}
    parents.update({row.code: row.parent_code for row in [*result.creates, *result.updates]})
    for code in parents:
        seen = set()
        while code is not None:
            assert code not in seen, "cycle survived planning"
            seen.add(code)
            code = parents.get(code)
    assert len(result.creates) + len(result.updates) + result.unchanged == len(file_rows)
