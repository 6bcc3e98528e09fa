"""Pure parts of judging: the canonical list, cell formatting and neutralisation, prizes."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quizengine.judging import pdf
from quizengine.judging.canonical import ResultRow, canonical_hash, canonical_lines
from quizengine.judging.exports import (
    csv_text_chunks,
    format_duration,
    mask_phone,
    neutralise,
    unneutralise,
)
from quizengine.judging.prizes import UnitTally, assign_prizes, format_score, rank_units


def _row(**kw: object) -> ResultRow:
    values: dict[str, object] = {
        "rank": 1,
        "board": "Bảng A",
        "prize": "first",
        "user_id": 42,
        "full_name": "Nguyễn Thị Hà",
        "unit_code": "CDCS-01",
        "unit_path": "LĐLĐ / CĐCS",
        "phone_masked": "09xx xxx 678",
        "points": 20,
        "prediction": 130,
        "error": 4,
        "duration_ms": 754321,
        "submitted_at": datetime(2026, 3, 2, 3, 4, 5, 678901, tzinfo=UTC),
    }
    values.update(kw)
    return ResultRow(**values)  # type: ignore[arg-type]


def test_canonical_lines_follow_the_documented_format() -> None:
    rows = [
        _row(),
        _row(
            rank=2,
            prize=None,
            user_id=7,
            full_name='Lê "Tí"',
            prediction=None,
            error=None,
            unit_code="",
        ),
    ]
    text = b"".join(canonical_lines(9, rows)).decode()
    assert text == (
        "quizengine-final-ranking/1 round=9\n"
        '[1,"Bảng A","first",42,"Nguyễn Thị Hà","CDCS-01",20,130,4,754321,'
        '"2026-03-02T03:04:05.678901Z"]\n'
        '[2,"Bảng A",null,7,"Lê \\"Tí\\"","",20,null,null,754321,'
        '"2026-03-02T03:04:05.678901Z"]\n'
    )
    assert canonical_hash(9, rows) == hashlib.sha256(text.encode()).hexdigest()


def test_the_hash_binds_the_round_and_ignores_what_the_list_does_not_hold() -> None:
    rows = [_row()]
    assert canonical_hash(1, rows) != canonical_hash(2, rows)
    # The phone and the unit path are shown in exports, not part of the canonical record.
    assert canonical_hash(1, [_row(phone_masked="xxx 111", unit_path="khác")]) == canonical_hash(
        1, rows
    )
    # Decomposed diacritics hash like composed ones (names are NFC).
    assert canonical_hash(1, [_row(full_name="Nguye\u0302\u0303n Thi\u0323 Ha\u0300")]) == (
        canonical_hash(1, rows)
    )


def test_phone_numbers_are_masked() -> None:
    assert mask_phone("0912345678") == "09xx xxx 678"
    assert mask_phone("091234567") == "xxx 567"
    assert mask_phone("+84912345678") == "xxx 678"
    assert mask_phone(None) == ""


def test_durations_read_as_minutes_seconds_and_milliseconds() -> None:
    assert format_duration(754321) == "12:34.321"
    assert format_duration(5) == "00:00.005"
    assert format_duration(3_600_000) == "60:00.000"
    assert format_duration(None) == ""


@given(st.text())
def test_neutralisation_is_reversible_and_leaves_no_formula(value: str) -> None:
    cell = neutralise(value)
    assert unneutralise(cell) == value
    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))


@given(st.lists(st.text(), min_size=1, max_size=5), st.sampled_from([",", ";"]))
def test_csv_cells_survive_a_round_trip(names: list[str], delimiter: str) -> None:
    rows = [_row(rank=i + 1, full_name=n) for i, n in enumerate(names)]
    text = "".join(csv_text_chunks(rows, final_hash="ab" * 32, delimiter=delimiter))
    parsed = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    assert [unneutralise(r[2]) for r in parsed[1 : 1 + len(names)]] == names
    assert parsed[-1] == ["SHA-256", "ab" * 32]


def test_prizes_go_by_position_and_pass_over_earlier_winners() -> None:
    assert assign_prizes([5, 6, 7, 8, 9], [1, 2, 0, 1]) == {
        5: "first",
        6: "second",
        7: "second",
        8: "consolation",
    }
    assert assign_prizes([5, 6, 7], [1, 1, 0, 0], passed_over={5}) == {6: "first", 7: "second"}
    awarded: set[int] = set()
    assign_prizes([1, 2], [1, 0, 0, 0], already_awarded=awarded)
    assert assign_prizes([1, 3], [1, 0, 0, 0], already_awarded=awarded) == {3: "first"}


@given(
    st.lists(st.integers(min_value=1, max_value=30), unique=True, max_size=20),
    st.lists(st.integers(min_value=0, max_value=4), min_size=4, max_size=4),
    st.sets(st.integers(min_value=1, max_value=30)),
)
def test_prize_count_and_order_hold_for_any_ranking(
    ranking: list[int], counts: list[int], passed_over: set[int]
) -> None:
    prizes = assign_prizes(ranking, counts, passed_over=passed_over)
    eligible = [u for u in ranking if u not in passed_over]
    assert len(prizes) == min(sum(counts), len(eligible))
    assert list(prizes) == eligible[: len(prizes)]  # in ranking order, no gaps
    levels = ["first", "second", "third", "consolation"]
    assert [levels.index(p) for p in prizes.values()] == sorted(
        levels.index(p) for p in prizes.values()
    )


def test_unit_ranking_formulas_and_ties() -> None:
    a = UnitTally(1, "A", participants=30, members=300, prize_points=10)
    b = UnitTally(2, "B", participants=10, members=20, prize_points=0)
    c = UnitTally(3, "C", participants=30, members=None, prize_points=4)
    d = UnitTally(4, "D", participants=10, members=20, prize_points=0)
    by_count = rank_units([a, b, c, d], "participants", [1, 0, 0, 1])
    assert [(u.tally.code, u.prize) for u in by_count] == [
        ("A", "first"),  # 30 participants, tie with C broken by the code
        ("C", "consolation"),
        ("B", None),
        ("D", None),
    ]
    by_rate = rank_units([a, b, c, d], "rate", [1, 0, 0, 0])
    assert [u.tally.code for u in by_rate] == ["B", "D", "A"]  # C has no member count
    assert by_rate[0].score == Fraction(50) and by_rate[2].score_text == "10"
    with_points = rank_units([a, b], "rate_points", [0, 0, 0, 0])
    assert [(u.tally.code, u.score_text) for u in with_points] == [("B", "50"), ("A", "20")]
    assert format_score(Fraction(100, 3)) == "33,33"
    assert rank_units([a], "none", [1, 1, 1, 1]) == []


def test_a_missing_pdf_font_fails_with_a_message_saying_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(pdf.FONT_ENV, str(tmp_path / "none.ttf"))
    with pytest.raises(pdf.PdfFontMissing, match="is not a file"):
        pdf.find_fonts()
    monkeypatch.delenv(pdf.FONT_ENV)
    monkeypatch.setattr(pdf, "_FONT_CANDIDATES", ((str(tmp_path / "x.ttf"), ""),))
    with pytest.raises(pdf.PdfFontMissing, match="fonts-dejavu-core"):
        pdf.find_fonts()
