"""Demo contest for `quizengine demo`: two boards and a round open now for a week.

Idempotent: the contest is found by its title; a round is added only when none is open now
(so a demo re-run a month later gets a fresh open round, and a second run today nothing).
Draws come from the sample banks the banks demo imports first; a missing bank is skipped
and its share drawn from the others, as far as they have questions.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from quizengine.clock import Clock
from quizengine.contests import services
from quizengine.contests.parsing import DrawSpec
from quizengine.models import Bank, Contest, Question, Round

log = logging.getLogger(__name__)

TITLE = (
    "Cuộc thi trực tuyến tìm hiểu pháp luật về an toàn giao thông, phòng chống dịch bệnh "
    "và an toàn, vệ sinh lao động năm 2026"
)
BOARDS = ("Bảng A — cán bộ công đoàn", "Bảng B — đoàn viên, người lao động")
DESCRIPTION = (
    "Liên đoàn Lao động tỉnh tổ chức cuộc thi trực tuyến nhằm nâng cao hiểu biết của cán bộ, "
    "đoàn viên, người lao động về pháp luật trật tự, an toàn giao thông đường bộ, phòng chống "
    "dịch bệnh và an toàn, vệ sinh lao động."
)
RULES = """\
1. Đối tượng: cán bộ công đoàn (Bảng A) và đoàn viên, người lao động (Bảng B) đang làm việc \
tại các cơ quan, doanh nghiệp trên địa bàn tỉnh. Mỗi người chọn một bảng khi vào thi lần đầu.
2. Mỗi tuần thi gồm 20 câu hỏi trắc nghiệm và 1 câu hỏi dự đoán; thời gian làm bài 20 phút.
3. Mỗi người được thi tối đa 3 lượt mỗi tuần; lượt có kết quả cao nhất được tính.
4. Xếp hạng theo: số câu trả lời đúng nhiều hơn; dự đoán sát hơn với số người trả lời đúng \
tất cả các câu hỏi; thời gian làm bài ngắn hơn; nộp bài sớm hơn.
5. Giải thưởng mỗi tuần, mỗi bảng: 1 giải Nhất, 2 giải Nhì, 3 giải Ba, 5 giải Khuyến khích.
"""
PREDICTION = "Dự đoán có bao nhiêu người trả lời đúng tất cả các câu hỏi của tuần này?"
# Sample bank → questions drawn from it per attempt (20 in all).
SHARES = (("luat-giao-thong", 8), ("phong-chong-covid-19", 6), ("an-toan-ve-sinh-lao-dong", 6))
QUESTIONS = 20


def seed(session: Session, clock: Clock) -> list[str]:
    """Create the demo contest and an open round; notes for the operator."""
    notes: list[str] = []
    contest = session.scalar(select(Contest).where(Contest.title == TITLE))
    if contest is None:
        contest = services.create_contest(
            session,
            title=TITLE,
            clock=clock,
            description=DESCRIPTION,
            rules=RULES,
            boards=BOARDS,
        )
    now = clock.now()
    open_now = session.scalar(
        select(Round.id).where(
            Round.contest_id == contest.id, Round.opens_at <= now, Round.closes_at > now
        )
    )
    if open_now is not None:
        return notes
    draws = _draws(session, notes)
    if not draws:
        notes.append("demo contest: no sample bank has questions yet; no round created")
        for note in notes:
            log.warning(note)
        return notes
    opens_at = now.replace(second=0, microsecond=0)
    services.create_round(
        session,
        contest_id=contest.id,
        clock=clock,
        opens_at=opens_at,
        closes_at=opens_at + timedelta(days=7),
        draws=draws,
        time_limit_seconds=20 * 60,
        attempts_allowed=3,
        prediction_text=PREDICTION,
        prizes=[1, 2, 3, 5],
    )
    for note in notes:
        log.warning(note)
    return notes


def _draws(session: Session, notes: list[str]) -> list[DrawSpec]:
    slugs = [slug for slug, _n in SHARES]
    available = dict(
        session.execute(
            select(Bank.slug, func.count(Question.id))
            .outerjoin(
                Question,
                (Question.bank_id == Bank.id)
                & Question.active.is_(True)
                & Question.current_version_id.is_not(None),
            )
            .where(Bank.slug.in_(slugs))
            .group_by(Bank.slug)
        ).all()
    )
    counts = {slug: 0 for slug in slugs}
    wanted = dict(SHARES)
    for slug in slugs:
        if slug not in available:
            notes.append(f"demo contest: bank '{slug}' is missing; its questions come from others")
        counts[slug] = min(wanted[slug], int(available.get(slug, 0)))
    # Make up the shortfall from banks with questions to spare.
    for slug in slugs:
        spare = int(available.get(slug, 0)) - counts[slug]
        take = max(0, min(spare, QUESTIONS - sum(counts.values())))
        counts[slug] += take
    total = sum(counts.values())
    if 0 < total < QUESTIONS:
        notes.append(f"demo contest: the sample banks hold only {total} questions; drawing those")
    return [DrawSpec(slug, n) for slug, n in counts.items() if n > 0]
