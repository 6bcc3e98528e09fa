"""Question banks: creating a bank and importing a CSV/XLSX file into it.

The import reads the file once, streaming: parsed questions are resolved against the bank
and written in batches, so memory does not grow with the file (only with what the file
format's duplicate check holds). The whole import is one transaction owned by the caller:
if any row has an error, ``import_bank`` still reads to the end so the report is complete,
then raises ``ImportRejected``, and the caller's rollback leaves the bank as it was.

Re-import rules (the file-format contract): a row whose code exists in the bank updates
that question; a row without a code (or with a code the bank does not know yet) matches
on the question's normalised text; identical rows are left unchanged; questions absent
from the file are kept. Rows are applied in file order, and a dry run simulates exactly
that, so its summary is the one a real import would print.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, cast

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Table, bindparam, insert, select, text, update
from sqlalchemy.orm import Session

from quizengine.banks.fileformat import ParsedQuestion, Problem, parse_bank, search_fold
from quizengine.banks.versions import (
    CODE_MAX_LENGTH,
    TOPIC_MAX_LENGTH,
    match_key_of,
    versions_shown,
)
from quizengine.clock import Clock
from quizengine.errors import Invalid
from quizengine.models import Bank, Question, QuestionVersion
from quizengine.store import Store, StoreUnavailable, keys
from quizengine.tabular import DEFAULT_MAX_BYTES, TableFileError, open_table

__all__ = [
    "BATCH_SIZE",
    "ImportRejected",
    "ImportReport",
    "PreviewRow",
    "create_bank",
    "import_bank",
    "valid_slug",
]

# Rows resolved and written per round trip. Big enough to amortise the statements, small
# enough that a batch's IN lists stay far below SQLite's parameter limit.
BATCH_SIZE = 1000
SLUG_MAX_LENGTH = 100
TITLE_MAX_LENGTH = 200
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")

Action = Literal["new", "update", "unchanged"]


# Path segments of the bank pages that a bank's slug must not shadow.
_RESERVED_SLUGS = frozenset({"new", "upload"})


def valid_slug(slug: str) -> bool:
    return (
        len(slug) <= SLUG_MAX_LENGTH
        and _SLUG.fullmatch(slug) is not None
        and slug not in _RESERVED_SLUGS
    )


def create_bank(session: Session, *, slug: str, title: str, clock: Clock) -> Bank:
    slug = slug.strip()
    title = " ".join(title.split())
    errors: dict[str, str] = {}
    if not valid_slug(slug):
        errors["slug"] = _(
            "Mã ngân hàng chỉ gồm chữ thường không dấu, số và dấu gạch ngang "
            "(ví dụ: luat-lao-dong), tối đa %(n)d ký tự.",
            n=SLUG_MAX_LENGTH,
        )
    elif session.scalar(select(Bank.id).where(Bank.slug == slug)) is not None:
        errors["slug"] = _("Đã có ngân hàng mang mã này.")
    if not title:
        errors["title"] = _("Hãy nhập tên ngân hàng.")
    elif len(title) > TITLE_MAX_LENGTH:
        errors["title"] = _("Tên ngân hàng dài tối đa %(n)d ký tự.", n=TITLE_MAX_LENGTH)
    if errors:
        raise Invalid("\n".join(errors.values()), fields=errors)
    bank = Bank(slug=slug, title=title, created_at=clock.now())
    session.add(bank)
    session.flush()
    return bank


# --------------------------------------------------------------------------- the report


@dataclass(frozen=True)
class PreviewRow:
    """One parsed question and what importing it does."""

    question: ParsedQuestion
    action: Action


@dataclass
class ImportReport:
    slug: str
    dry_run: bool
    location_word: str = "line"
    bank_id: int | None = None
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    preview: list[PreviewRow] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def total(self) -> int:
        return self.imported + self.updated + self.unchanged

    def summary(self) -> str:
        return f"imported {self.imported}, updated {self.updated}, unchanged {self.unchanged}"


class ImportRejected(Invalid):
    """The file has errors; nothing was (or would be) imported. ``report`` has them all."""

    default_message = _l("Tệp có lỗi nên chưa nhập câu hỏi nào.")

    def __init__(self, report: ImportReport) -> None:
        super().__init__()
        self.report = report


# --------------------------------------------------------------------------- import


def import_bank(
    session: Session,
    path: str | os.PathLike[str],
    *,
    slug: str,
    clock: Clock,
    title: str | None = None,
    sheet: str | None = None,
    dry_run: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
    preview_limit: int = 0,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import (or, with ``dry_run``, only check) a bank file into the bank ``slug``.

    The bank is created when missing (titled ``title``, else the slug); an existing bank
    is retitled when ``title`` differs. Returns the report when the file has no errors
    (warnings are fine); raises ``ImportRejected`` with the complete report otherwise.
    ``progress`` is called after each batch with the line/row number reached. Only
    flushes: the caller commits, or rolls back on ``ImportRejected``.
    """
    slug = slug.strip()
    if not valid_slug(slug):
        raise Invalid(
            _(
                "Mã ngân hàng chỉ gồm chữ thường không dấu, số và dấu gạch ngang "
                "(ví dụ: luat-lao-dong)."
            )
        )
    report = ImportReport(slug=slug, dry_run=dry_run)
    bank = session.scalar(select(Bank).where(Bank.slug == slug))
    writing = not dry_run
    title = " ".join((title or "").split())[:TITLE_MAX_LENGTH]
    if writing:
        if bank is None:
            bank = create_bank(session, slug=slug, title=title or slug, clock=clock)
        elif title and bank.title != title:
            bank.title = title
            session.flush()
    report.bank_id = bank.id if bank is not None else None

    results = _read(path, sheet=sheet, max_bytes=max_bytes, report=report)
    importer = _Importer(
        session,
        bank_id=report.bank_id,
        report=report,
        writing=writing,
        now=clock.now(),
        preview_limit=preview_limit,
    )
    batch: list[ParsedQuestion] = []
    for result in results:
        if isinstance(result, Problem):
            report.problems.append(result)
            continue
        batch.append(result)
        if len(batch) >= BATCH_SIZE:
            importer.process(batch)
            batch = []
            if progress is not None:
                progress(result.position)
    importer.process(batch)

    # Row problems arrive in row order from the parser, the bank's own checks a batch
    # later: one stable sort makes the report read top to bottom like the file.
    report.problems.sort(key=lambda p: (p.position is not None, p.position or 0))
    if not report.ok:
        raise ImportRejected(report)
    return report


def _read(
    path: str | os.PathLike[str], *, sheet: str | None, max_bytes: int, report: ImportReport
) -> Iterator[ParsedQuestion | Problem]:
    """fileformat.read_bank_file, keeping the table's location word for our own problems."""
    try:
        table = open_table(path, sheet=sheet, max_bytes=max_bytes)
    except TableFileError as exc:
        yield Problem(None, exc.code, exc.message, dict(exc.params), "error", "line")
        return
    report.location_word = table.location_word
    with table:
        try:
            yield from parse_bank(table)
        except TableFileError as exc:
            yield Problem(
                None, exc.code, exc.message, dict(exc.params), "error", table.location_word
            )


@dataclass
class _Existing:
    """A question of the bank as the import sees it (a plain row, not an ORM object)."""

    id: int
    code: str | None
    match_key: str
    topic: str | None
    difficulty: str | None
    version_id: int | None
    version_number: int
    wording: dict[str, Any]


@dataclass
class _Update:
    target: _Existing
    question: ParsedQuestion
    match_key: str
    wording_changed: bool


class _Importer:
    """Resolves batches of parsed questions against the bank and writes them.

    ``vacated`` and ``texted_codes`` make a dry run see what the rows before it would
    have written (and keep a real run honest about two rows reaching one question).
    """

    def __init__(
        self,
        session: Session,
        *,
        bank_id: int | None,
        report: ImportReport,
        writing: bool,
        now: datetime,
        preview_limit: int,
    ) -> None:
        self.session = session
        self.bank_id = bank_id
        self.report = report
        self.writing = writing
        self.now = now
        self.preview_limit = preview_limit
        self.bank_was_empty = bank_id is None or (
            session.scalar(select(Question.id).where(Question.bank_id == bank_id).limit(1)) is None
        )
        # match key -> the line that changed the text of the question that had it.
        self.vacated: dict[str, int] = {}
        # code -> the line that reached that coded question through its text, not its code.
        self.texted_codes: dict[str, int] = {}

    def problem(self, position: int, kind: str, message: str, **params: object) -> None:
        self.report.problems.append(
            Problem(position, kind, message, params, "error", self.report.location_word)
        )

    # ----------------------------------------------------------------- resolving

    def process(self, batch: Sequence[ParsedQuestion]) -> None:
        if not batch:
            return
        # A row with an error anywhere stops all writing; the rest is still checked.
        if self.writing and not self.report.ok:
            self.writing = False
        keys = [match_key_of(q.text) for q in batch]
        by_code, by_key = self._lookup(batch, keys)
        inserts: list[tuple[ParsedQuestion, str]] = []
        updates: list[_Update] = []
        for question, key in zip(batch, keys, strict=True):
            action = self._resolve(question, key, by_code, by_key, inserts, updates)
            if action is None:
                continue
            if action == "new":
                self.report.imported += 1
            elif action == "update":
                self.report.updated += 1
            else:
                self.report.unchanged += 1
            if len(self.report.preview) < self.preview_limit:
                self.report.preview.append(PreviewRow(question, action))
        if self.writing and self.report.ok:
            self._write_updates(updates)
            self._write_inserts(inserts)

    def _lookup(
        self, batch: Sequence[ParsedQuestion], keys: list[str]
    ) -> tuple[dict[str, _Existing], dict[str, _Existing]]:
        if self.bank_id is None or self.bank_was_empty:
            # Nothing in the bank but what earlier rows wrote, and no row matches another
            # (the file format refuses duplicate codes and texts): nothing to find.
            return {}, {}
        codes = [q.code for q in batch if q.code]
        # Two queries rather than one with OR: each uses its own unique index.
        conditions = [Question.match_key.in_(keys)]
        if codes:
            conditions.append(Question.code.in_(codes))
        by_code: dict[str, _Existing] = {}
        by_key: dict[str, _Existing] = {}
        for condition in conditions:
            for row in self.session.execute(
                _EXISTING.where(Question.bank_id == self.bank_id, condition)
            ):
                existing = _Existing(
                    id=row.id,
                    code=row.code,
                    match_key=row.match_key,
                    topic=row.topic,
                    difficulty=row.difficulty,
                    version_id=row.current_version_id,
                    version_number=row.number or 0,
                    wording={
                        "text": row.text,
                        "options": row.options,
                        "correct": row.correct,
                        "explanation": row.explanation,
                        "legal_basis": row.legal_basis,
                    },
                )
                if existing.code is not None:
                    by_code[existing.code] = existing
                by_key[existing.match_key] = existing
        return by_code, by_key

    def _resolve(
        self,
        q: ParsedQuestion,
        key: str,
        by_code: dict[str, _Existing],
        by_key: dict[str, _Existing],
        inserts: list[tuple[ParsedQuestion, str]],
        updates: list[_Update],
    ) -> Action | None:
        where = self.report.location_word
        ok = True
        if q.code is not None and len(q.code) > CODE_MAX_LENGTH:
            ok = False
            self.problem(
                q.position,
                "too_long",
                f"the code is longer than {CODE_MAX_LENGTH} characters",
                field="code",
                limit=CODE_MAX_LENGTH,
            )
        if q.topic is not None and len(q.topic) > TOPIC_MAX_LENGTH:
            ok = False
            self.problem(
                q.position,
                "too_long",
                f"the topic is longer than {TOPIC_MAX_LENGTH} characters",
                field="topic",
                limit=TOPIC_MAX_LENGTH,
            )

        # Whoever had this text before an earlier row of the file changed it has it no more.
        holder = by_key.get(key) if key not in self.vacated else None
        target = by_code.get(q.code) if q.code is not None else None
        if target is not None:
            first = self.texted_codes.get(target.code or "")
            if first is not None:
                self.problem(
                    q.position,
                    "question_changed_twice",
                    f'{where} {first} already changes the question with code "{target.code}"',
                    first_position=first,
                    code=target.code,
                )
                return None
            if holder is not None and holder.id != target.id:
                self._text_in_use(q, holder)
                return None
        elif holder is not None:
            if q.code is not None and holder.code is not None:
                # A new code for a question that already has another one: codes are the
                # organiser's stable ids, so renaming one is an edit, not an import.
                self._text_in_use(q, holder)
                return None
            target = holder
            if holder.code is not None:
                self.texted_codes[holder.code] = q.position
        if not ok:
            return None

        if target is None:
            inserts.append((q, key))
            return "new"
        wording = {
            "text": q.text,
            "options": list(q.options),
            "correct": list(q.correct),
            "explanation": q.explanation,
            "legal_basis": q.legal_basis,
        }
        wording_changed = wording != target.wording
        details_changed = (
            (q.code is not None and q.code != target.code)
            or q.topic != target.topic
            or q.difficulty != target.difficulty
            or key != target.match_key
        )
        if not wording_changed and not details_changed:
            return "unchanged"
        if key != target.match_key:
            self.vacated[target.match_key] = q.position
        updates.append(_Update(target, q, key, wording_changed))
        return "update"

    def _text_in_use(self, q: ParsedQuestion, holder: _Existing) -> None:
        if holder.code is not None:
            message = f'the bank already has this question under the code "{holder.code}"'
        else:
            message = "the bank already has this question (without a code)"
        self.problem(q.position, "text_in_use", message, other_code=holder.code)

    # ----------------------------------------------------------------- writing

    def _write_updates(self, updates: list[_Update]) -> None:
        if not updates:
            return
        assert self.bank_id is not None
        questions, versions = _QUESTIONS, _VERSIONS
        changed = [u for u in updates if u.wording_changed and u.target.version_id is not None]
        frozen = versions_shown(self.session, [u.target.version_id or 0 for u in changed])

        in_place: list[dict[str, Any]] = []
        new_versions: list[tuple[_Update, dict[str, Any]]] = []
        for u in changed:
            values = _wording_values(u.question)
            if u.target.version_id in frozen:
                values.update(
                    question_id=u.target.id,
                    number=u.target.version_number + 1,
                    created_at=self.now,
                )
                new_versions.append((u, values))
            else:
                in_place.append(
                    {"b_id": u.target.version_id, **{f"w_{k}": v for k, v in values.items()}}
                )
        if in_place:
            self.session.execute(
                update(versions)
                .where(versions.c.id == bindparam("b_id"))
                .values({name: bindparam(f"w_{name}") for name in _WORDING}),
                in_place,
            )
        current = {u.target.id: u.target.version_id for u in updates}
        if new_versions:
            ids = self.session.scalars(
                insert(versions).returning(versions.c.id, sort_by_parameter_order=True),
                [values for _u, values in new_versions],
            ).all()
            for (u, _values), version_id in zip(new_versions, ids, strict=True):
                current[u.target.id] = version_id

        # File order matters: a row may take the text another row just gave up.
        self.session.execute(
            update(questions)
            .where(questions.c.id == bindparam("b_id"))
            .values(
                code=bindparam("b_code"),
                match_key=bindparam("b_match_key"),
                search_text=bindparam("b_search_text"),
                topic=bindparam("b_topic"),
                difficulty=bindparam("b_difficulty"),
                current_version_id=bindparam("b_version"),
                updated_at=bindparam("b_updated_at", type_=questions.c.updated_at.type),
            ),
            [
                {
                    "b_id": u.target.id,
                    "b_code": u.question.code or u.target.code,
                    "b_match_key": u.match_key,
                    "b_search_text": search_fold(u.question.text),
                    "b_topic": u.question.topic,
                    "b_difficulty": u.question.difficulty,
                    "b_version": current[u.target.id],
                    "b_updated_at": self.now,
                }
                for u in updates
            ],
        )

    def _write_inserts(self, inserts: list[tuple[ParsedQuestion, str]]) -> None:
        if not inserts:
            return
        assert self.bank_id is not None
        question_rows = [
            {
                "bank_id": self.bank_id,
                "code": q.code,
                "match_key": key,
                "search_text": search_fold(q.text),
                "topic": q.topic,
                "difficulty": q.difficulty,
                "points": 1,
                "active": True,
                "created_at": self.now,
                "updated_at": self.now,
            }
            for q, key in inserts
        ]
        version_rows = [
            {"number": 1, "created_at": self.now, **_wording_values(q)} for q, _k in inserts
        ]
        if self.session.get_bind().dialect.name == "postgresql":
            # Ids drawn from the sequences up front: both inserts become plain pipelined
            # executemany calls (no RETURNING), and each question can name its version
            # at once. Several times faster than INSERT ... RETURNING on big files.
            question_ids = self._next_ids(_QUESTIONS, len(inserts))
            version_ids = self._next_ids(_VERSIONS, len(inserts))
            for row, question_id, version_id in zip(
                question_rows, question_ids, version_ids, strict=True
            ):
                row.update(id=question_id, current_version_id=version_id)
            for row, question_id, version_id in zip(
                version_rows, question_ids, version_ids, strict=True
            ):
                row.update(id=version_id, question_id=question_id)
            self.session.execute(insert(_QUESTIONS), question_rows)
            self.session.execute(insert(_VERSIONS), version_rows)
            return

        question_ids = list(
            self.session.scalars(
                insert(_QUESTIONS).returning(_QUESTIONS.c.id, sort_by_parameter_order=True),
                [{**row, "current_version_id": None} for row in question_rows],
            )
        )
        for row, question_id in zip(version_rows, question_ids, strict=True):
            row["question_id"] = question_id
        self.session.execute(insert(_VERSIONS), version_rows)
        # Each new question has exactly one version: point at it in one statement.
        self.session.execute(
            update(_QUESTIONS)
            .where(_QUESTIONS.c.id.in_(question_ids))
            .values(
                current_version_id=select(_VERSIONS.c.id)
                .where(_VERSIONS.c.question_id == _QUESTIONS.c.id)
                .scalar_subquery()
            )
        )

    def _next_ids(self, table: Table, count: int) -> list[int]:
        return list(
            self.session.scalars(
                text(
                    "SELECT nextval(pg_get_serial_sequence(:table, 'id')) "
                    "FROM generate_series(1, :n)"
                ),
                {"table": table.name, "n": count},
            )
        )


_EXISTING = select(
    Question.id,
    Question.code,
    Question.match_key,
    Question.topic,
    Question.difficulty,
    Question.current_version_id,
    QuestionVersion.number,
    QuestionVersion.text,
    QuestionVersion.options,
    QuestionVersion.correct,
    QuestionVersion.explanation,
    QuestionVersion.legal_basis,
).outerjoin(QuestionVersion, QuestionVersion.id == Question.current_version_id)
_QUESTIONS = cast(Table, Question.__table__)
_VERSIONS = cast(Table, QuestionVersion.__table__)
_WORDING = ("text", "options", "correct", "explanation", "legal_basis")


def _wording_values(q: ParsedQuestion) -> dict[str, Any]:
    return {
        "text": q.text,
        "options": list(q.options),
        "correct": list(q.correct),
        "explanation": q.explanation,
        "legal_basis": q.legal_basis,
    }


def announce_bank_changed(store: Store, bank_id: int) -> None:
    """Tell every app process that a bank's drawable questions changed (call after the commit).

    Attempts keep each bank's eligible question ids in memory for fast draws; dropping the
    bank's token makes every process re-read them on its next draw instead of within the
    token's lifetime. Redis trouble only delays that: draws re-check every question anyway.
    """
    with contextlib.suppress(StoreUnavailable):
        store.delete(keys.draw_pool_token(bank_id))
