"""Verbs on contests and rounds. Plain values in, models out; only ``flush()``.

Refusals are ``Invalid`` with ``details["fields"]``: field name → Vietnamese message, so a
form can show each message under its field and the CLI can print them one per line.

Editing a round once contestants have taken it (see ``LOCKED_ONCE_TAKEN``): what defines the
paper and the ranking of attempts already taken is locked — the draw rules (hence the
question count), the time limit, both shuffles, the prediction question, the opening time,
the ranking ladder and the prediction's target. Still editable: the title, the close (but
never into the past nor before the deadline of an attempt in progress), the review policy,
the prizes, and the number of attempts allowed (only upwards). A finalised round is locked
entirely: the judges' audited "reopen" is the way back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict, Unpack

from flask_babel import gettext as _
from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from quizengine.clock import Clock, to_local
from quizengine.contests.parsing import (
    DIFFICULTIES,
    MAX_ATTEMPTS,
    MAX_QUESTIONS,
    MAX_TIME_LIMIT_SECONDS,
    PRIZE_LEVELS,
    DrawSpec,
)
from quizengine.contests.queries import drawable_count
from quizengine.errors import Invalid, NotFound
from quizengine.leaderboard.ladder import parse_ladder
from quizengine.models import (
    DEFAULT_LADDER,
    Attempt,
    AttemptStatus,
    Bank,
    Board,
    Contest,
    ContestEntry,
    DrawRule,
    PredictionTarget,
    ReviewPolicy,
    Round,
)

TITLE_MAX = 200
ACCESS_CODE_MAX = 50
BOARD_NAME_MAX = 200
TOPIC_MAX = 200
PREDICTION_MAX = 1000

LOCKED_ONCE_TAKEN = (
    "draws",
    "time_limit_seconds",
    "shuffle_questions",
    "shuffle_options",
    "prediction_text",
    "opens_at",
    "ladder",
    "prediction_target",
)


class RoundFields(TypedDict, total=False):
    """The settings of a round, as plain values. ``update_round`` takes any subset."""

    title: str | None
    opens_at: datetime
    closes_at: datetime
    draws: Sequence[DrawSpec]
    time_limit_seconds: int
    attempts_allowed: int
    shuffle_questions: bool
    shuffle_options: bool
    review_policy: str
    prediction_text: str | None
    ladder: str
    prediction_target: str
    prizes: Sequence[int] | None


@dataclass(frozen=True)
class BoardEdit:
    """One row of the boards editor: an existing board (``id``) renamed or cleared, or new."""

    name: str
    id: int | None = None


def _refuse(errors: dict[str, str]) -> Invalid:
    return Invalid("\n".join(errors.values()), fields=errors)


# --- contests ----------------------------------------------------------------------------


def create_contest(
    session: Session,
    *,
    title: str,
    clock: Clock,
    description: str = "",
    rules: str = "",
    access_code: str | None = None,
    boards: Sequence[str] = (),
) -> Contest:
    errors: dict[str, str] = {}
    title, access_code = _contest_texts(title, access_code, errors)
    names = [n.strip() for n in boards if n and n.strip()]
    _check_board_names(names, errors)
    if errors:
        raise _refuse(errors)
    contest = Contest(
        title=title,
        description=(description or "").strip(),
        rules=(rules or "").strip(),
        access_code=access_code,
        created_at=clock.now(),
    )
    session.add(contest)
    session.flush()
    for position, name in enumerate(names):
        session.add(Board(contest_id=contest.id, name=name, position=position))
    session.flush()
    return contest


def update_contest(
    session: Session,
    contest_id: int,
    *,
    title: str,
    description: str = "",
    rules: str = "",
    access_code: str | None = None,
    boards: Sequence[BoardEdit] = (),
) -> Contest:
    """Change a contest. Boards keep their ids when renamed; a board somebody entered with
    cannot be removed, and boards cannot be introduced once contestants entered without one."""
    contest = _get_contest(session, contest_id)
    errors: dict[str, str] = {}
    title, access_code = _contest_texts(title, access_code, errors)

    current = {b.id: b for b in contest.boards}
    kept: list[tuple[Board | None, str]] = []
    for row in boards:
        name = (row.name or "").strip()
        board = current.get(row.id) if row.id is not None else None
        if row.id is not None and board is None:
            errors["boards"] = _("Bảng không thuộc cuộc thi này; vui lòng tải lại trang.")
            continue
        if name:
            kept.append((board, name))
    # A row left empty, or an existing board not sent at all, is a removal.
    kept_ids = {b.id for b, _n in kept if b is not None}
    removed = [b for bid, b in current.items() if bid not in kept_ids]
    _check_board_names([name for _b, name in kept], errors)

    if removed:
        in_use = _boards_in_use(session, [b.id for b in removed])
        if in_use:
            names = ", ".join(b.name for b in removed if b.id in in_use)
            errors["boards"] = _(
                "Không thể xoá bảng đã có thí sinh đăng ký: %(names)s.", names=names
            )
    adds_boards = any(board is None for board, _n in kept)
    if adds_boards and not current and _has_entries(session, contest.id):
        errors["boards"] = _(
            "Đã có thí sinh vào thi không theo bảng; không thể thêm bảng cho cuộc thi này nữa."
        )
    if errors:
        raise _refuse(errors)

    contest.title = title
    contest.description = (description or "").strip()
    contest.rules = (rules or "").strip()
    contest.access_code = access_code
    for board in removed:
        session.delete(board)
    session.flush()
    # Two steps so that swapping two names never trips the (contest, name) unique constraint.
    renamed = [(b, name) for b, name in kept if b is not None and b.name != name]
    for board, _name in renamed:
        board.name = f"~renaming~{board.id}"
    session.flush()
    for position, (board, name) in enumerate(kept):
        if board is None:
            session.add(Board(contest_id=contest.id, name=name, position=position))
        else:
            board.name = name
            board.position = position
    session.flush()
    session.refresh(contest, ["boards"])
    return contest


def _contest_texts(
    title: str, access_code: str | None, errors: dict[str, str]
) -> tuple[str, str | None]:
    title = (title or "").strip()
    if not title:
        errors["title"] = _("Vui lòng nhập tên cuộc thi.")
    elif len(title) > TITLE_MAX:
        errors["title"] = _("Tên cuộc thi dài tối đa %(n)d ký tự.", n=TITLE_MAX)
    code = (access_code or "").strip() or None
    if code is not None and len(code) > ACCESS_CODE_MAX:
        errors["access_code"] = _("Mã truy cập dài tối đa %(n)d ký tự.", n=ACCESS_CODE_MAX)
    return title, code


def _check_board_names(names: list[str], errors: dict[str, str]) -> None:
    seen: set[str] = set()
    for name in names:
        if len(name) > BOARD_NAME_MAX:
            errors["boards"] = _("Tên bảng dài tối đa %(n)d ký tự.", n=BOARD_NAME_MAX)
        key = name.casefold()
        if key in seen:
            errors["boards"] = _("Tên bảng bị trùng: %(name)s.", name=name)
        seen.add(key)


def _boards_in_use(session: Session, board_ids: list[int]) -> set[int]:
    used = set(
        session.scalars(
            select(ContestEntry.board_id).where(ContestEntry.board_id.in_(board_ids)).distinct()
        )
    )
    used |= set(
        session.scalars(select(Attempt.board_id).where(Attempt.board_id.in_(board_ids)).distinct())
    )
    return {b for b in used if b is not None}


def _has_entries(session: Session, contest_id: int) -> bool:
    return bool(
        session.scalar(select(exists().where(ContestEntry.contest_id == contest_id)))
        or session.scalar(
            select(
                exists().where(
                    Attempt.round_id.in_(select(Round.id).where(Round.contest_id == contest_id))
                )
            )
        )
    )


def _get_contest(session: Session, contest_id: int) -> Contest:
    contest = session.get(Contest, contest_id)
    if contest is None:
        raise NotFound(_("Không tìm thấy cuộc thi."))
    return contest


# --- rounds ------------------------------------------------------------------------------


def create_round(
    session: Session,
    *,
    contest_id: int,
    clock: Clock,
    opens_at: datetime,
    closes_at: datetime,
    draws: Sequence[DrawSpec],
    time_limit_seconds: int,
    attempts_allowed: int = 1,
    title: str | None = None,
    shuffle_questions: bool = True,
    shuffle_options: bool = True,
    review_policy: str = ReviewPolicy.AFTER_CLOSE.value,
    prediction_text: str | None = None,
    ladder: str = DEFAULT_LADDER,
    prediction_target: str = PredictionTarget.FULL_MARKS.value,
    prizes: Sequence[int] | None = None,
) -> Round:
    contest = _get_contest(session, contest_id)
    fields: RoundFields = {
        "title": title,
        "opens_at": opens_at,
        "closes_at": closes_at,
        "draws": draws,
        "time_limit_seconds": time_limit_seconds,
        "attempts_allowed": attempts_allowed,
        "shuffle_questions": shuffle_questions,
        "shuffle_options": shuffle_options,
        "review_policy": review_policy,
        "prediction_text": prediction_text,
        "ladder": ladder,
        "prediction_target": prediction_target,
        "prizes": prizes,
    }
    clean, rules = _validated(session, fields)
    if not clean.get("title"):
        existing = session.scalar(
            select(func.count()).select_from(Round).where(Round.contest_id == contest.id)
        )
        clean["title"] = _("Tuần %(n)d", n=int(existing or 0) + 1)
    rnd = Round(contest_id=contest.id, created_at=clock.now(), **_columns(clean))
    session.add(rnd)
    session.flush()
    _replace_draw_rules(session, rnd, rules)
    return rnd


def update_round(
    session: Session, round_id: int, *, clock: Clock, **changes: Unpack[RoundFields]
) -> Round:
    """Apply ``changes`` (any subset of the settings), refusing what would alter attempts
    already taken. A locked setting given with its current value is not a change."""
    # Row lock: two organisers saving at once apply one after the other.
    rnd = session.scalar(select(Round).where(Round.id == round_id).with_for_update())
    if rnd is None:
        raise NotFound(_("Không tìm thấy tuần thi."))
    if rnd.finalized_at is not None:
        raise Invalid(
            _(
                "Tuần thi đã được chốt kết quả nên không thể sửa; "
                "ban giám khảo cần mở lại tuần thi trước (thao tác có ghi nhật ký)."
            )
        )
    current = current_fields(rnd)
    merged: RoundFields = {**current, **changes}
    if not (merged.get("title") or "").strip():
        merged["title"] = rnd.title
    # Unchanged draw rules are not re-checked against the banks: a bank that shrank since
    # must not block renaming or extending the round (the overview page warns about it).
    draws_changed = _spec_key(merged.get("draws") or []) != _spec_key(current["draws"])
    clean, rules = _validated(session, merged, check_supply=draws_changed)

    if has_attempts(session, rnd.id):
        errors = _locked_changes(session, rnd, current, clean, clock)
        if errors:
            raise _refuse(errors)

    for name, value in _columns(clean).items():
        if getattr(rnd, name) != value:
            setattr(rnd, name, value)
    if _rules_key(rnd.draw_rules) != _rules_key_new(rules):
        _replace_draw_rules(session, rnd, rules)
    session.flush()
    return rnd


def has_attempts(session: Session, round_id: int) -> bool:
    return bool(session.scalar(select(exists().where(Attempt.round_id == round_id))))


def current_fields(rnd: Round) -> RoundFields:
    """A round's settings as the plain values ``create_round`` takes."""
    return {
        "title": rnd.title,
        "opens_at": rnd.opens_at,
        "closes_at": rnd.closes_at,
        "draws": [DrawSpec(r.bank_slug, r.count, r.difficulty, r.topic) for r in rnd.draw_rules],
        "time_limit_seconds": rnd.time_limit_seconds,
        "attempts_allowed": rnd.attempts_allowed,
        "shuffle_questions": rnd.shuffle_questions,
        "shuffle_options": rnd.shuffle_options,
        "review_policy": rnd.review_policy,
        "prediction_text": rnd.prediction_text,
        "ladder": rnd.ladder,
        "prediction_target": rnd.prediction_target,
        "prizes": list(rnd.prizes or []),
    }


def _locked_changes(
    session: Session, rnd: Round, current: RoundFields, clean: dict[str, Any], clock: Clock
) -> dict[str, str]:
    errors: dict[str, str] = {}
    taken = _("Đã có thí sinh làm bài nên không thể thay đổi mục này.")
    for name in LOCKED_ONCE_TAKEN:
        before: Any = current.get(name)
        after: Any = clean.get(name)
        if name == "draws":
            before, after = _spec_key(current["draws"]), _spec_key(clean["draws"])
        if before != after:
            errors[name] = taken
    if clean["attempts_allowed"] < rnd.attempts_allowed:
        errors["attempts_allowed"] = _(
            "Đã có thí sinh làm bài nên chỉ có thể tăng số lượt thi, không thể giảm."
        )
    if clean["closes_at"] != rnd.closes_at:
        now = clock.now()
        latest = session.scalar(
            select(func.max(Attempt.deadline_at)).where(
                Attempt.round_id == rnd.id,
                Attempt.status == AttemptStatus.IN_PROGRESS.value,
            )
        )
        if clean["closes_at"] <= now:
            errors["closes_at"] = _("Đã có thí sinh làm bài nên thời điểm đóng phải ở tương lai.")
        elif latest is not None and clean["closes_at"] < latest:
            errors["closes_at"] = _(
                "Có bài đang làm với hạn nộp %(at)s; thời điểm đóng không được sớm hơn.",
                at=to_local(latest).strftime("%d/%m/%Y %H:%M:%S"),
            )
    return errors


def _validated(
    session: Session, fields: RoundFields, *, check_supply: bool = True
) -> tuple[dict[str, Any], list[tuple[DrawSpec, Bank]]]:
    """Check a complete set of round settings; the normalised values and the draw's banks."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}

    title = (fields.get("title") or "").strip()
    if len(title) > TITLE_MAX:
        errors["title"] = _("Tên tuần thi dài tối đa %(n)d ký tự.", n=TITLE_MAX)
    clean["title"] = title

    opens_at, closes_at = fields.get("opens_at"), fields.get("closes_at")
    if opens_at is None or opens_at.tzinfo is None:
        errors["opens_at"] = _("Vui lòng nhập thời điểm mở.")
    if closes_at is None or closes_at.tzinfo is None:
        errors["closes_at"] = _("Vui lòng nhập thời điểm đóng.")
    elif opens_at is not None and opens_at.tzinfo is not None and closes_at <= opens_at:
        errors["closes_at"] = _("Thời điểm đóng phải sau thời điểm mở.")
    clean["opens_at"], clean["closes_at"] = opens_at, closes_at

    limit = fields.get("time_limit_seconds")
    if not isinstance(limit, int) or limit < 1:
        errors["time_limit_seconds"] = _("Thời gian làm bài phải từ 1 giây trở lên.")
    elif limit > MAX_TIME_LIMIT_SECONDS:
        errors["time_limit_seconds"] = _("Thời gian làm bài tối đa 1440 phút (24 giờ).")
    clean["time_limit_seconds"] = limit

    attempts = fields.get("attempts_allowed", 1)
    if not isinstance(attempts, int) or not 1 <= attempts <= MAX_ATTEMPTS:
        errors["attempts_allowed"] = _("Số lượt thi phải từ 1 đến %(n)d.", n=MAX_ATTEMPTS)
    clean["attempts_allowed"] = attempts

    clean["shuffle_questions"] = bool(fields.get("shuffle_questions", True))
    clean["shuffle_options"] = bool(fields.get("shuffle_options", True))

    review = fields.get("review_policy") or ReviewPolicy.AFTER_CLOSE.value
    if review not in {p.value for p in ReviewPolicy}:
        errors["review_policy"] = _("Chế độ xem lại bài không hợp lệ.")
    clean["review_policy"] = review

    prediction = (fields.get("prediction_text") or "").strip() or None
    if prediction is not None and len(prediction) > PREDICTION_MAX:
        errors["prediction_text"] = _("Câu hỏi dự đoán dài tối đa %(n)d ký tự.", n=PREDICTION_MAX)
    clean["prediction_text"] = prediction

    try:
        clean["ladder"] = ",".join(parse_ladder(fields.get("ladder") or DEFAULT_LADDER))
    except ValueError:
        errors["ladder"] = _(
            "Thứ tự xếp hạng không hợp lệ: ghi các bước cách nhau bởi dấu phẩy, mỗi bước một "
            "lần, chọn trong points, prediction, duration, submitted_at, started_at."
        )
    target = fields.get("prediction_target") or PredictionTarget.FULL_MARKS.value
    if target not in {t.value for t in PredictionTarget}:
        errors["prediction_target"] = _(
            "Đáp án câu dự đoán phải là full_marks (số người đạt điểm tuyệt đối) "
            "hoặc participants (số người dự thi)."
        )
    clean["prediction_target"] = target

    prizes = list(fields.get("prizes") or [])
    if prizes and (
        len(prizes) != PRIZE_LEVELS
        or not all(isinstance(p, int) and not isinstance(p, bool) and p >= 0 for p in prizes)
    ):
        errors["prizes"] = _(
            "Cơ cấu giải gồm 4 số nguyên không âm: giải Nhất, Nhì, Ba, Khuyến khích."
        )
    # No prizes at all is stored as an empty list, never as four zeros.
    clean["prizes"] = [] if not any(prizes) else prizes

    draws = list(fields.get("draws") or [])
    clean["draws"] = draws
    rules = _checked_draws(session, draws, errors, check_supply=check_supply)
    if not errors:
        total = sum(d.count for d in draws)
        if total > MAX_QUESTIONS:
            errors["draws"] = _("Một lượt thi có tối đa %(n)d câu hỏi.", n=MAX_QUESTIONS)
        clean["question_count"] = total
    if errors:
        raise _refuse(errors)
    return clean, rules


def _checked_draws(
    session: Session, draws: list[DrawSpec], errors: dict[str, str], *, check_supply: bool
) -> list[tuple[DrawSpec, Bank]]:
    if not draws:
        errors["draws"] = _("Cần ít nhất một quy tắc rút câu hỏi.")
        return []
    slugs = {d.bank_slug for d in draws}
    banks = {b.slug: b for b in session.scalars(select(Bank).where(Bank.slug.in_(slugs)))}
    rules: list[tuple[DrawSpec, Bank]] = []
    available: dict[int, int] = {}
    for i, spec in enumerate(draws):
        key = f"draws-{i}"
        bank = banks.get(spec.bank_slug)
        if bank is None:
            errors[key] = _("Không có ngân hàng câu hỏi “%(slug)s”.", slug=spec.bank_slug)
            continue
        if not isinstance(spec.count, int) or spec.count < 1:
            errors[key] = _("Số câu rút phải từ 1 trở lên.")
            continue
        if spec.difficulty is not None and spec.difficulty not in DIFFICULTIES:
            errors[key] = _("Độ khó phải là easy, medium hoặc hard.")
            continue
        if spec.topic is not None and len(spec.topic) > TOPIC_MAX:
            errors[key] = _("Chủ đề dài tối đa %(n)d ký tự.", n=TOPIC_MAX)
            continue
        if not check_supply:
            rules.append((spec, bank))
            continue
        available[i] = drawable_count(session, bank.id, spec.difficulty, spec.topic)
        if spec.count > available[i]:
            errors[key] = _(
                "Ngân hàng “%(slug)s” chỉ có %(n)d câu hỏi đang dùng%(filter)s, "
                "không đủ để rút %(count)d câu.",
                slug=spec.bank_slug,
                n=available[i],
                filter=_filter_text(spec),
                count=spec.count,
            )
            continue
        rules.append((spec, bank))
    if errors or not check_supply:
        return rules
    # Rules draw in order and never repeat a question, so a rule must still find enough
    # questions after every earlier rule on the same bank took the most it could from its
    # pool. This is exactly what the draw needs (rules taken greedily in order): put the
    # narrow rules ("3 hard ones") before the broad ones ("17 of any").
    for i, (spec, bank) in enumerate(rules):
        earlier = [s for s, b in rules[:i] if b.id == bank.id and _may_overlap(s, spec)]
        if not earlier:
            continue
        taken = sum(s.count for s in earlier)
        have = available[i]
        if spec.count + taken > have:
            errors[f"draws-{i}"] = _(
                "Ngân hàng “%(slug)s” có %(n)d câu phù hợp dòng này, nhưng các dòng phía trên "
                "có thể đã rút %(taken)d câu trong số đó, không chắc còn đủ %(count)d câu. "
                "Hãy đặt dòng có độ khó hoặc chủ đề lên trước, hoặc giảm số câu.",
                slug=spec.bank_slug,
                n=have,
                taken=taken,
                count=spec.count,
            )
    return rules


def _may_overlap(a: DrawSpec, b: DrawSpec) -> bool:
    """Two filters of one bank can match a common question unless they contradict."""
    if a.difficulty and b.difficulty and a.difficulty != b.difficulty:
        return False
    return not (a.topic and b.topic and a.topic != b.topic)


def _filter_text(spec: DrawSpec) -> str:
    parts = []
    if spec.difficulty:
        parts.append(_("độ khó %(d)s", d=spec.difficulty))
    if spec.topic:
        parts.append(_("chủ đề “%(t)s”", t=spec.topic))
    return (" (" + ", ".join(parts) + ")") if parts else ""


def _columns(clean: dict[str, Any]) -> dict[str, Any]:
    names = (
        "title",
        "opens_at",
        "closes_at",
        "question_count",
        "time_limit_seconds",
        "attempts_allowed",
        "shuffle_questions",
        "shuffle_options",
        "review_policy",
        "prediction_text",
        "ladder",
        "prediction_target",
        "prizes",
    )
    return {name: clean[name] for name in names}


def _spec_key(specs: Sequence[DrawSpec]) -> list[tuple[str, int, str | None, str | None]]:
    return [(s.bank_slug, s.count, s.difficulty, s.topic) for s in specs]


def _rules_key(rules: Sequence[DrawRule]) -> list[tuple[int, int, str | None, str | None]]:
    return [(r.bank_id, r.count, r.difficulty, r.topic) for r in rules]


def _rules_key_new(
    rules: Sequence[tuple[DrawSpec, Bank]],
) -> list[tuple[int, int, str | None, str | None]]:
    return [(b.id, s.count, s.difficulty, s.topic) for s, b in rules]


def _replace_draw_rules(
    session: Session, rnd: Round, rules: Sequence[tuple[DrawSpec, Bank]]
) -> None:
    rnd.draw_rules.clear()
    session.flush()
    for position, (spec, bank) in enumerate(rules):
        rnd.draw_rules.append(
            DrawRule(
                bank_id=bank.id,
                count=spec.count,
                difficulty=spec.difficulty,
                topic=spec.topic,
                position=position,
            )
        )
    session.flush()
