"""The question-bank file format: rows of a CSV/XLSX table in, questions or problems out.

This is a contract with organisers (docs and templates describe the same columns), so the
rules live here and nowhere else. The core, ``parse_bank``, is pure: it reads rows from a
table and yields results one by one, holding only what duplicate detection needs.

Format in short: a header row (within the first 10 rows) naming a question column and a
correct-answer column, English or Vietnamese, with or without diacritics; options A-F;
correct answers as letters ("A", "A,C", "AC") or 1-based numbers ("1, 3"); optional topic,
difficulty, explanation, code and legal basis. Every row is checked and every problem is
reported with the line (CSV) or row (XLSX) an organiser can find in their own editor.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from typing import Literal, Protocol

from quizengine.tabular import DEFAULT_MAX_BYTES, SourceRow, TableFileError, open_table

__all__ = [
    "MAX_OPTIONS",
    "Difficulty",
    "ParsedQuestion",
    "Problem",
    "RowSource",
    "format_problem",
    "parse_bank",
    "question_match_key",
    "read_bank_file",
    "search_fold",
]

Difficulty = Literal["easy", "medium", "hard"]
Severity = Literal["error", "warning"]

MAX_OPTIONS = 6
_LETTERS = "ABCDEF"
# Organisers put a title ("NGÂN HÀNG CÂU HỎI ...") and blank rows above the header; more
# than this and it is more likely not our format at all.
_HEADER_SEARCH_ROWS = 10


@dataclass(frozen=True)
class ParsedQuestion:
    position: int
    code: str | None
    text: str
    options: tuple[str, ...]
    correct: tuple[int, ...]
    topic: str | None
    difficulty: Difficulty | None
    explanation: str | None
    legal_basis: str | None

    @property
    def multi(self) -> bool:
        return len(self.correct) > 1


@dataclass(frozen=True)
class Problem:
    """An error or warning about one row (``position``) or the whole file (None).

    ``message`` is English without the location; ``code`` and ``params`` are stable so a
    web page can show its own translation.
    """

    position: int | None
    code: str
    message: str
    params: dict[str, object] = field(default_factory=dict, hash=False)
    severity: Severity = "error"
    location_word: str = "line"

    def __str__(self) -> str:
        return format_problem(self, self.location_word)


def format_problem(problem: Problem, location_word: str) -> str:
    """``line 4: message`` / ``row 4: message`` / ``file: message``."""
    if problem.position is None:
        return f"file: {problem.message}"
    return f"{location_word} {problem.position}: {problem.message}"


class RowSource(Protocol):
    """What parse_bank needs from a table (quizengine.tabular.Table provides it)."""

    @property
    def location_word(self) -> str: ...

    def rows(self) -> Iterator[SourceRow]: ...


# --------------------------------------------------------------------------- text rules


def search_fold(text: str) -> str:
    """Fold text for diacritic-insensitive search and header matching: "Đáp án" -> "dap an".

    Đ/đ need their own rule: Unicode gives them no decomposition (the stroke is part of
    the letter), so stripping combining marks alone would keep them.
    """
    decomposed = unicodedata.normalize("NFD", unicodedata.normalize("NFC", text))
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    bare = bare.replace("đ", "d").replace("Đ", "D")
    # Recompose what was not stripped (Hangul, say) so equal text folds to equal strings.
    return " ".join(unicodedata.normalize("NFC", bare.casefold()).split())


def question_match_key(text: str) -> str:
    """The key under which a question is recognised again on re-import.

    Diacritics are kept: Vietnamese words that differ only by a tone mark are different
    words ("bán" sells, "bạn" is a friend). Case, spacing and Unicode form are not.
    """
    key = " ".join(unicodedata.normalize("NFC", text).split())
    # Case folding can leave text that NFC rewrites and vice versa for a few non-Latin
    # letters; iterating to a fixed point makes the key idempotent for any input.
    previous = None
    while key != previous:
        previous = key
        key = unicodedata.normalize("NFC", key.casefold())
    return key


def _digest(key: str) -> bytes:
    return hashlib.blake2b(key.encode("utf-8"), digest_size=16).digest()


def _clean(cell: str) -> str:
    text = cell.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", text).strip()


def _header_key(cell: str) -> str:
    return search_fold(re.sub(r"[_\-]", " ", cell))


# --------------------------------------------------------------------------- columns

_QUESTION = "question"
_CORRECT = "correct"
_OPTIONAL_FIELDS = ("topic", "difficulty", "explanation", "code", "legal_basis")
_IGNORED = "stt"  # the row-number column every Vietnamese spreadsheet starts with

_COLUMN_NAMES: dict[str, str] = {
    "question": _QUESTION,
    "cau hoi": _QUESTION,
    "noi dung cau hoi": _QUESTION,
    "correct": _CORRECT,
    "dap an dung": _CORRECT,
    "dap an": _CORRECT,
    "topic": "topic",
    "chu de": "topic",
    "difficulty": "difficulty",
    "do kho": "difficulty",
    "explanation": "explanation",
    "giai thich": "explanation",
    "code": "code",
    "ma cau hoi": "code",
    "legal basis": "legal_basis",
    "can cu": "legal_basis",
    "can cu phap ly": "legal_basis",
    "stt": _IGNORED,
}
for _letter in _LETTERS.lower():
    for _prefix in ("option ", "", "dap an ", "phuong an "):
        _COLUMN_NAMES[_prefix + _letter] = f"option_{_letter}"

# How the required columns are named in messages: both languages, so either reader knows.
_REQUIRED_LABELS = {
    _QUESTION: '"question" (Câu hỏi)',
    _CORRECT: '"correct" (Đáp án đúng)',
}

_DIFFICULTIES: dict[str, Difficulty] = {
    "easy": "easy",
    "medium": "medium",
    "hard": "hard",
    "de": "easy",
    "trung binh": "medium",
    "binh thuong": "medium",
    "kho": "hard",
    "1": "easy",
    "2": "medium",
    "3": "hard",
}


@dataclass(frozen=True)
class _Header:
    position: int
    columns: dict[str, int]  # field -> cell index
    option_count: int


def _column_fields(cells: tuple[str, ...]) -> dict[int, str | None]:
    """Map each non-blank header cell's index to its field (None = unknown column)."""
    return {
        index: _COLUMN_NAMES.get(_header_key(cell))
        for index, cell in enumerate(cells)
        if cell.strip()
    }


def _describe(field_name: str) -> str:
    if field_name.startswith("option_"):
        return field_name[-1].upper()
    return field_name


# --------------------------------------------------------------------------- parsing


def parse_bank(table: RowSource) -> Iterator[ParsedQuestion | Problem]:
    """Yield each question, or the problems that keep a row from being one.

    Warnings about the header come first. A file-level error (position None) means no
    row was read. The caller decides whether any error rejects the whole import.
    """
    where = table.location_word
    rows = iter(table.rows())

    candidates: list[SourceRow] = []
    header_row: SourceRow | None = None
    for row in rows:
        fields = set(_column_fields(row.cells).values())
        if _QUESTION in fields and _CORRECT in fields:
            header_row = row
            break
        candidates.append(row)
        if len(candidates) == _HEADER_SEARCH_ROWS:
            break
    if header_row is None:
        yield _no_header_problem(candidates, where)
        return

    header, problems = _read_header(header_row, where)
    yield from problems
    if header is None:
        return

    seen_codes: dict[str, int] = {}
    # Keyed by a 16-byte digest of the match key, not the key itself: a 100,000-question
    # file then costs a few MB here instead of tens (the import's memory should not grow
    # with the file; this duplicate check is the one thing that must remember every row).
    seen_texts: dict[bytes, int] = {}
    found_any = False
    for row in rows:
        result = _parse_row(row, header, where, seen_codes, seen_texts)
        if result is None:
            continue
        found_any = True
        if isinstance(result, ParsedQuestion):
            yield result
        else:
            yield from result
    if not found_any:
        yield Problem(
            None,
            "no_questions",
            f"there are no questions below the header on {where} {header.position}",
            {"header_position": header.position},
            location_word=where,
        )


def _no_header_problem(candidates: list[SourceRow], where: str) -> Problem:
    # If some row looks like a header that merely lacks the required columns (Moodle's CSV
    # has A-D but "questiontext" and "Answer 1"), say which columns are missing there: that
    # tells the organiser what to rename, where "no header" would leave them guessing.
    best: SourceRow | None = None
    best_known: list[str] = []
    for row in candidates:
        known = [name for name in _column_fields(row.cells).values() if name]
        if len(set(known)) >= 2 and len(known) > len(best_known):
            best, best_known = row, known
    if best is None:
        return Problem(
            None,
            "no_header",
            "no header row with a question column and a correct-answer column in the first "
            f"{_HEADER_SEARCH_ROWS} {where}s (expected e.g. {_REQUIRED_LABELS[_QUESTION]} and "
            f"{_REQUIRED_LABELS[_CORRECT]})",
            location_word=where,
        )
    missing = [name for name in (_QUESTION, _CORRECT) if name not in best_known]
    labels = " and ".join(_REQUIRED_LABELS[name] for name in missing)
    found = ", ".join(_describe(name) for name in best_known if name != _IGNORED)
    plural = "s" if len(missing) > 1 else ""
    return Problem(
        None,
        "missing_column",
        f"missing column{plural} {labels}: the header on {where} {best.number} has only {found}",
        {"columns": missing, "header_position": best.number},
        location_word=where,
    )


def _read_header(row: SourceRow, where: str) -> tuple[_Header | None, list[Problem]]:
    problems: list[Problem] = []
    columns: dict[str, int] = {}
    fatal = False
    for index, name in _column_fields(row.cells).items():
        title = _clean(row.cells[index])
        if name is None:
            problems.append(
                Problem(
                    row.number,
                    "unknown_column",
                    f'unknown column "{title}" ignored',
                    {"column": title},
                    "warning",
                    where,
                )
            )
        elif name == _IGNORED:
            continue
        elif name in columns:
            fatal = True
            first = _clean(row.cells[columns[name]])
            problems.append(
                Problem(
                    None,
                    "duplicate_column",
                    f"the header on {where} {row.number} has two {_describe(name)} columns "
                    f'("{first}" and "{title}")',
                    {"column": _describe(name), "header_position": row.number},
                    location_word=where,
                )
            )
        else:
            columns[name] = index

    letters = [letter for letter in _LETTERS if f"option_{letter.lower()}" in columns]
    option_count = _LETTERS.index(letters[-1]) + 1 if letters else 0
    gaps = [letter for letter in _LETTERS[:option_count] if letter not in letters]
    if option_count < 2 or gaps:
        fatal = True
        missing = gaps or [letter for letter in "AB" if letter not in letters]
        names = ", ".join(missing)
        problems.append(
            Problem(
                None,
                "missing_column",
                f"missing option column{'s' if len(missing) > 1 else ''} {names}: the header "
                f"on {where} {row.number} needs option columns A, B, ... in order "
                '(e.g. "A", "Đáp án A" or "option_a")',
                {"columns": missing, "header_position": row.number},
                location_word=where,
            )
        )
    if fatal:
        return None, problems
    return _Header(row.number, columns, option_count), problems


def _parse_row(
    row: SourceRow,
    header: _Header,
    where: str,
    seen_codes: dict[str, int],
    seen_texts: dict[bytes, int],
) -> ParsedQuestion | list[Problem] | None:
    def cell(name: str) -> str:
        index = header.columns.get(name)
        if index is None or index >= len(row.cells):
            return ""
        return _clean(row.cells[index])

    values = {name: cell(name) for name in header.columns}
    # Only our columns count: a template with STT pre-filled down to row 200, or a stray
    # note in an unknown column, is not a question row.
    if not any(values.values()):
        return None

    problems: list[Problem] = []

    def problem(code: str, message: str, **params: object) -> None:
        problems.append(Problem(row.number, code, message, params, "error", where))

    text = values[_QUESTION]
    if not text:
        problem("missing_question", "the question text is empty")

    raw_options = [cell(f"option_{letter.lower()}") for letter in _LETTERS[: header.option_count]]
    used = max((i + 1 for i, option in enumerate(raw_options) if option), default=0)
    options = tuple(raw_options[:used])
    for index, option in enumerate(options):
        if not option:
            letter, after = _LETTERS[index], _LETTERS[used - 1]
            problem(
                "option_gap",
                f"option {letter} is empty but {after} is not",
                option=letter,
                later_option=after,
            )
    filled = sum(1 for option in options if option)
    if filled < 2:
        problem(
            "too_few_options",
            f"a question needs at least two options; this one has {filled}",
            count=filled,
        )

    correct = _parse_correct(values[_CORRECT], options, header.option_count, problem)

    difficulty: Difficulty | None = None
    raw_difficulty = values.get("difficulty", "")
    if raw_difficulty:
        difficulty = _DIFFICULTIES.get(search_fold(raw_difficulty))
        if difficulty is None:
            problem(
                "bad_difficulty",
                f'unknown difficulty "{raw_difficulty}" (use easy, medium, hard; '
                "dễ, trung bình, khó; or 1, 2, 3)",
                value=raw_difficulty,
            )

    code = values.get("code") or None
    duplicate_of: int | None = None
    if code is not None:
        code_key = question_match_key(code)
        duplicate_of = seen_codes.get(code_key)
        if duplicate_of is not None:
            problem(
                "duplicate_in_file",
                f'same code "{code}" as {where} {duplicate_of}',
                first_position=duplicate_of,
                by="code",
            )
        else:
            seen_codes[code_key] = row.number
    if text:
        text_key = _digest(question_match_key(text))
        first = seen_texts.get(text_key)
        if first is not None and duplicate_of is None:
            problem(
                "duplicate_in_file",
                f"same question as {where} {first}",
                first_position=first,
                by="text",
            )
        seen_texts.setdefault(text_key, row.number)

    if problems:
        return problems
    return ParsedQuestion(
        position=row.number,
        code=code,
        text=text,
        options=options,
        correct=correct,
        topic=values.get("topic") or None,
        difficulty=difficulty,
        explanation=values.get("explanation") or None,
        legal_basis=values.get("legal_basis") or None,
    )


class _Report(Protocol):
    def __call__(self, code: str, message: str, **params: object) -> None: ...


def _parse_correct(
    raw: str, options: tuple[str, ...], option_count: int, problem: _Report
) -> tuple[int, ...]:
    """Turn "A", "a; c", "AC" or "1, 3" into sorted 0-based indexes, reporting problems."""
    if not raw:
        problem("missing_correct", "the correct answer is empty")
        return ()
    tokens = [token for token in re.split(r"[,;\s]+", raw.upper()) if token]
    last = _LETTERS[option_count - 1]
    usage = f"use letters A-{last} or numbers 1-{option_count}"
    labels: list[str]
    if tokens and all(re.fullmatch(r"[A-Z]+", token) for token in tokens):
        # "AC" written together means A and C, as in Moodle and many Vietnamese sheets.
        labels = [letter for token in tokens for letter in token]
        indexes = [ord(letter) - ord("A") for letter in labels]
    elif tokens and all(re.fullmatch(r"[0-9]+", token) for token in tokens):
        # Kahoot and Quizizz sheets number their answers from 1.
        labels = tokens
        indexes = [int(token) - 1 for token in tokens]
    else:
        problem("bad_correct", f'correct answer "{raw}" is not understood; {usage}', value=raw)
        return ()

    out_of_range = [
        label for label, index in zip(labels, indexes, strict=True) if not 0 <= index < option_count
    ]
    if out_of_range:
        problem(
            "bad_correct",
            f'correct answer "{raw}": there is no option {", ".join(out_of_range)}; {usage}',
            value=raw,
        )
        return ()

    ok = True
    repeated = sorted({label for label in labels if labels.count(label) > 1})
    for label in repeated:
        ok = False
        problem("repeated_correct", f"correct answer {label} is given twice", answer=label)
    for label, index in zip(labels, indexes, strict=True):
        if label in repeated:
            continue
        if index >= len(options) or not options[index]:
            ok = False
            letter = _LETTERS[index]
            named = label if label == letter else f"{label} (option {letter})"
            problem(
                "correct_points_at_empty",
                f"correct answer {named} points at an empty option",
                answer=label,
                option=letter,
            )
    return tuple(sorted(set(indexes))) if ok else ()


# --------------------------------------------------------------------------- files


def read_bank_file(
    path: str | os.PathLike[str],
    *,
    sheet: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Generator[ParsedQuestion | Problem, None, None]:
    """Open a CSV/XLSX bank and yield parse_bank's results.

    Whatever is wrong with the file itself becomes one file-level Problem instead of an
    exception, so a caller only ever handles results. The file is closed when the
    generator is exhausted or closed.
    """
    try:
        table = open_table(path, sheet=sheet, max_bytes=max_bytes)
    except TableFileError as exc:
        yield _file_problem(exc, "line")
        return
    with table:
        try:
            yield from parse_bank(table)
        except TableFileError as exc:
            yield _file_problem(exc, table.location_word)


def _file_problem(exc: TableFileError, where: str) -> Problem:
    return Problem(None, exc.code, exc.message, dict(exc.params), "error", where)
