"""Demo data for judges: a past week of the demo contest, closed and ready to finalise.

Thirty sample contestants (phones 0913 000 001…) took it with realistic ties on points, a
prediction and a timeline of saved answers; one attempt carries a ``too_fast`` flag. The
jury can review, disqualify, finalise and export at once. Idempotent: nothing is added
when the round exists; skipped (with a note) when the demo contest or banks are missing.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from quizengine.accounts.services import create_user
from quizengine.clock import Clock
from quizengine.contests import demo as contests_demo
from quizengine.models import (
    AnswerEvent,
    Attempt,
    AttemptItem,
    Board,
    Contest,
    ContestEntry,
    DrawRule,
    Flag,
    Question,
    QuestionVersion,
    Role,
    Round,
    Unit,
    User,
)

TITLE = "Tuần 0 — đã kết thúc (dữ liệu mẫu cho ban giám khảo)"
CONTESTANTS = 30
QUESTIONS = 10
_FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ"]
_MIDDLE = ["Văn", "Thị", "Minh", "Thanh", "Ngọc", "Hữu"]
_GIVEN = ["Anh", "Bảo", "Cường", "Dung", "Giang", "Hải", "Hương", "Khoa", "Linh", "Phúc"]
_UNITS = ("CDCS-KCN-01", "CDCS-KCN-03", "CDCS-TP-01", "CDCS-GD-01", "CDCS-BS-01", "CDCS-BS-02")
_AGENT = "Mozilla/5.0 (Linux; Android 10; SM-A105F) AppleWebKit/537.36 Chrome/120 Mobile"


def seed(session: Session, clock: Clock) -> list[str]:
    contest = session.scalar(select(Contest).where(Contest.title == contests_demo.TITLE))
    if contest is None:
        return ["judging demo: the demo contest is missing; no past round seeded"]
    if session.scalar(select(Round.id).where(Round.contest_id == contest.id, Round.title == TITLE)):
        return []
    versions = [
        (question, version)
        for question, version in session.execute(
            select(Question, QuestionVersion)
            .join(QuestionVersion, QuestionVersion.id == Question.current_version_id)
            .where(Question.active.is_(True))
            .order_by(Question.id)
            .limit(QUESTIONS)
        )
    ]
    if len(versions) < QUESTIONS:
        return ["judging demo: the sample banks have too few questions; no past round seeded"]
    units = {code: uid for code, uid in session.execute(select(Unit.code, Unit.id))}
    if not all(code in units for code in _UNITS):
        return ["judging demo: the demo unit tree is missing; no past round seeded"]

    rng = random.Random(2026)  # the same demo every time
    now = clock.now().replace(second=0, microsecond=0)
    closes_at = now - timedelta(days=1)
    opens_at = closes_at - timedelta(days=7)
    round_ = Round(
        contest_id=contest.id,
        title=TITLE,
        opens_at=opens_at,
        closes_at=closes_at,
        question_count=QUESTIONS,
        time_limit_seconds=20 * 60,
        attempts_allowed=3,
        prediction_text=contests_demo.PREDICTION,
        prizes=[1, 2, 3, 5],
        created_at=opens_at - timedelta(days=1),
    )
    session.add(round_)
    session.flush()
    session.add(
        DrawRule(round_id=round_.id, bank_id=versions[0][0].bank_id, count=QUESTIONS, position=0)
    )
    boards = list(
        session.scalars(
            select(Board).where(Board.contest_id == contest.id).order_by(Board.position)
        )
    )
    entered = set(
        session.scalars(select(ContestEntry.user_id).where(ContestEntry.contest_id == contest.id))
    )
    phones = set(session.scalars(select(User.phone)))
    for n in range(1, CONTESTANTS + 1):
        phone = f"0913{n:06d}"
        name = f"{_FAMILY[n % 10]} {_MIDDLE[n % 6]} {_GIVEN[(n * 7) % 10]}"
        user = (
            session.scalar(select(User).where(User.phone == phone))
            if phone in phones
            else create_user(
                session,
                role=Role.CONTESTANT,
                full_name=name,
                phone=phone,
                password=f"demo-{rng.randrange(10**8):08d}",
                unit=_UNITS[n % len(_UNITS)],
                clock=clock,
            )
        )
        assert user is not None
        board = boards[n % len(boards)] if boards else None
        if user.id not in entered:
            session.add(
                ContestEntry(
                    contest_id=contest.id,
                    user_id=user.id,
                    board_id=board.id if board else None,
                    created_at=opens_at,
                )
            )
        # Many full marks and round numbers: ties on points that the prediction breaks.
        score = min(QUESTIONS, max(3, QUESTIONS - rng.choice([0, 0, 0, 1, 1, 2, 3, 5])))
        started = opens_at + timedelta(hours=rng.randrange(1, 160), minutes=rng.randrange(60))
        fast = n == 7
        _attempt(
            session,
            round_,
            user,
            board,
            versions,
            rng,
            started=started,
            score=score,
            seconds_per_answer=1.1 if fast else rng.uniform(12, 80),
            prediction=rng.choice([6, 8, 9, 10, 11, 12, 15, 20]),
            flag=fast,
        )
    session.flush()
    return []


def _attempt(
    session: Session,
    round_: Round,
    user: User,
    board: Board | None,
    versions: list[tuple[Question, QuestionVersion]],
    rng: random.Random,
    *,
    started: datetime,
    score: int,
    seconds_per_answer: float,
    prediction: int,
    flag: bool,
) -> None:
    ip = f"113.161.{rng.randrange(1, 255)}.{rng.randrange(1, 255)}"
    duration_ms = int(seconds_per_answer * 1000 * QUESTIONS + rng.randrange(5000, 30000))
    attempt = Attempt(
        round_id=round_.id,
        user_id=user.id,
        board_id=board.id if board else None,
        number=1,
        status="submitted",
        started_at=started,
        deadline_at=started + timedelta(seconds=round_.time_limit_seconds),
        submitted_at=started + timedelta(milliseconds=duration_ms),
        duration_ms=duration_ms,
        score=score,
        correct_count=score,
        total=QUESTIONS,
        prediction=prediction,
        ip=ip,
        user_agent=_AGENT,
    )
    session.add(attempt)
    session.flush()
    wrong = set(rng.sample(range(QUESTIONS), QUESTIONS - score))
    at = started
    for position, (question, version) in enumerate(versions):
        order = list(range(len(version.options)))
        rng.shuffle(order)
        right = list(version.correct)
        choice = right if position not in wrong else [(right[0] + 1) % len(version.options)]
        at = at + timedelta(seconds=seconds_per_answer * rng.uniform(0.6, 1.4))
        session.add(
            AttemptItem(
                attempt_id=attempt.id,
                position=position,
                question_id=question.id,
                version_id=version.id,
                option_order=order,
                chosen=choice,
                answered_at=at,
                is_correct=position not in wrong,
                points=1,
            )
        )
        session.add(
            AnswerEvent(
                attempt_id=attempt.id,
                question_id=question.id,
                chosen=choice,
                at=at,
                ip=ip,
                user_agent=_AGENT,
            )
        )
    if flag:
        session.add(
            Flag(
                kind="too_fast",
                round_id=round_.id,
                attempt_id=attempt.id,
                user_id=user.id,
                evidence={"median_seconds": round(seconds_per_answer, 2), "answers": QUESTIONS},
                created_at=attempt.submitted_at or started,
            )
        )
