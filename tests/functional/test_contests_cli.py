"""`quizengine contests create` and `quizengine rounds create` through the real CLI group."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from click.testing import Result
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from quizengine.models import Board, Contest, DrawRule, Round
from tests.factories import make_bank, make_contest, make_question


def _id(result: Result) -> int:
    assert result.exit_code == 0, result.output
    last = result.stdout.strip().splitlines()[-1]
    assert last.isdigit(), result.stdout
    return int(last)


def _count(session: Session, model: type) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_contests_create_prints_the_id_and_stores_boards(
    runner: FlaskCliRunner, db_session: Session
) -> None:
    result = runner.invoke(
        args=[
            "contests",
            "create",
            "--title",
            "Cuộc thi an toàn giao thông 2026",
            "--description",
            "Mô tả ngắn",
            "--access-code",
            "LDLD2026",
            "--board",
            "Bảng A — cán bộ công đoàn",
            "--board",
            "Bảng B — đoàn viên, người lao động",
        ]
    )
    contest_id = _id(result)
    assert result.stdout.strip() == str(contest_id)  # nothing else on stdout
    contest = db_session.get(Contest, contest_id)
    assert contest is not None
    assert contest.title == "Cuộc thi an toàn giao thông 2026"
    assert contest.access_code == "LDLD2026"
    assert [b.name for b in contest.boards] == [
        "Bảng A — cán bộ công đoàn",
        "Bảng B — đoàn viên, người lao động",
    ]


def test_contests_create_refuses_duplicate_boards_and_writes_nothing(
    runner: FlaskCliRunner, db_session: Session
) -> None:
    result = runner.invoke(
        args=["contests", "create", "--title", "T", "--board", "Bảng A", "--board", "bảng a"]
    )
    assert result.exit_code == 1
    assert "--board" in result.stderr and "Traceback" not in result.output
    assert _count(db_session, Contest) == 0


@pytest.fixture
def world(db_session: Session) -> dict[str, int]:
    contest = make_contest(db_session, boards=("Bảng A", "Bảng B"))
    bank = make_bank(db_session, slug="luat-giao-thong", questions=12)
    # Two inactive questions that must not count as drawable.
    for q in bank.questions[:2]:
        q.active = False
    hard = make_bank(db_session, slug="atvsld", questions=0)
    for i in range(3):
        make_question(
            db_session,
            hard,
            text=f"Câu khó {i}?",
            options=["A", "B"],
            correct=[0],
            difficulty="hard",
            topic="Máy móc",
        )
    make_question(db_session, hard, text="Câu dễ?", options=["A", "B"], correct=[0])
    db_session.commit()
    return {"contest": contest.id}


def _round_args(contest_id: int, *extra: str) -> list[str]:
    return [
        "rounds",
        "create",
        "--contest",
        str(contest_id),
        "--minutes",
        "20",
        "--attempts",
        "3",
        "--opens",
        "2026-03-02T10:00",
        "--closes",
        "2026-03-09T09:00",
        *extra,
    ]


def test_rounds_create_sums_draws_and_converts_local_time_to_utc(
    runner: FlaskCliRunner, db_session: Session, world: dict[str, int]
) -> None:
    result = runner.invoke(
        args=_round_args(
            world["contest"],
            "--draw",
            "luat-giao-thong:10",
            "--draw",
            "atvsld:2:difficulty=hard",
            "--title",
            "Tuần 1",
            "--prediction",
            "Dự đoán có bao nhiêu người trả lời đúng tất cả các câu hỏi?",
            "--prizes",
            "1,2,3,5",
        )
    )
    rnd = db_session.get(Round, _id(result))
    assert rnd is not None
    assert rnd.question_count == 12
    # 10:00 in Hà Nội is 03:00 UTC; 09:00 a week later is 02:00 UTC.
    assert rnd.opens_at == datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
    assert rnd.closes_at == datetime(2026, 3, 9, 2, 0, tzinfo=UTC)
    assert rnd.time_limit_seconds == 1200
    assert rnd.attempts_allowed == 3
    assert rnd.review_policy == "after_close"
    assert rnd.shuffle_questions and rnd.shuffle_options
    assert rnd.prizes == [1, 2, 3, 5]
    assert rnd.ladder == "points,prediction,duration,submitted_at"
    assert rnd.prediction_target == "full_marks"
    assert [(r.bank_slug, r.count, r.difficulty) for r in rnd.draw_rules] == [
        ("luat-giao-thong", 10, None),
        ("atvsld", 2, "hard"),
    ]


def test_rounds_create_takes_an_offset_decimal_minutes_and_all_options(
    runner: FlaskCliRunner, db_session: Session, world: dict[str, int]
) -> None:
    args = _round_args(
        world["contest"],
        "--draw",
        "atvsld:1:topic=Máy móc",
        "--review",
        "after_submit",
        "--no-shuffle",
        "--ladder",
        "points,duration,submitted_at,prediction",
        "--prediction-target",
        "participants",
    )
    args[args.index("--minutes") + 1] = "0.5"
    args[args.index("--opens") + 1] = "2026-03-02T10:00:00+00:00"
    rnd = db_session.get(Round, _id(runner.invoke(args=args)))
    assert rnd is not None
    assert rnd.time_limit_seconds == 30
    assert rnd.opens_at == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert rnd.title == "Tuần 1"
    assert rnd.review_policy == "after_submit"
    assert not rnd.shuffle_questions and not rnd.shuffle_options
    assert rnd.ladder == "points,duration,submitted_at,prediction"
    assert rnd.prediction_target == "participants"
    assert rnd.draw_rules[0].topic == "Máy móc"
    assert rnd.prizes == []


def test_a_draw_larger_than_the_active_questions_is_refused(
    runner: FlaskCliRunner, db_session: Session, world: dict[str, int]
) -> None:
    # 12 questions, 2 inactive: 10 drawable.
    result = runner.invoke(args=_round_args(world["contest"], "--draw", "luat-giao-thong:11"))
    assert result.exit_code == 1
    assert "--draw luat-giao-thong:11" in result.stderr
    assert "10" in result.stderr
    assert "Traceback" not in result.output
    assert _count(db_session, Round) == 0 and _count(db_session, DrawRule) == 0


def test_a_filtered_draw_counts_only_matching_questions(
    runner: FlaskCliRunner, db_session: Session, world: dict[str, int]
) -> None:
    result = runner.invoke(args=_round_args(world["contest"], "--draw", "atvsld:4:difficulty=hard"))
    assert result.exit_code == 1
    assert "3" in result.stderr
    assert _count(db_session, Round) == 0


def test_two_rules_on_one_bank_cannot_need_more_questions_than_it_has(
    runner: FlaskCliRunner, db_session: Session, world: dict[str, int]
) -> None:
    # 3 hard + 1 easy: "3 hard" and "2 of any" need 5 distinct questions out of 4.
    result = runner.invoke(
        args=_round_args(
            world["contest"], "--draw", "atvsld:3:difficulty=hard", "--draw", "atvsld:2"
        )
    )
    assert result.exit_code == 1
    assert "atvsld" in result.stderr
    assert _count(db_session, Round) == 0


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (("--draw", "khong-co:5"), "--draw khong-co:5"),
        (("--closes", "2026-03-02T10:00"), "--closes"),
        (("--closes", "2026-03-01T10:00"), "--closes"),
        (("--opens", "hôm nay"), "--opens"),
        (("--ladder", "points,luck"), "--ladder"),
        (("--ladder", "points,points"), "--ladder"),
        (("--prizes", "1,2,3"), "prizes"),
        (("--prizes", "1,2,-3,4"), "prizes"),
        (("--minutes", "0.001"), "minutes"),
        (("--minutes", "abc"), "minutes"),
        (("--attempts", "0"), "--attempts"),
        (("--draw", "luat-giao-thong"), "SLUG:COUNT"),
    ],
)
def test_bad_round_options_exit_1_with_a_clear_message_and_write_nothing(
    runner: FlaskCliRunner,
    db_session: Session,
    world: dict[str, int],
    change: tuple[str, str],
    complaint: str,
) -> None:
    args = _round_args(world["contest"], "--draw", "luat-giao-thong:5")
    option, value = change
    if option == "--draw":
        args[args.index("--draw") + 1] = value
    elif option in args:
        args[args.index(option) + 1] = value
    else:
        args += [option, value]
    result = runner.invoke(args=args)
    assert result.exit_code == 1, result.output
    assert complaint in result.stderr
    assert result.stderr.startswith("error:")
    assert "Traceback" not in result.output
    assert _count(db_session, Round) == 0


def test_a_round_for_an_unknown_contest_is_refused(
    runner: FlaskCliRunner, db_session: Session, world: dict[str, int]
) -> None:
    result = runner.invoke(args=_round_args(999, "--draw", "luat-giao-thong:5"))
    assert result.exit_code == 1
    assert "cuộc thi" in result.stderr
    assert _count(db_session, Round) == 0


def test_unknown_review_policy_is_a_usage_error(
    runner: FlaskCliRunner, world: dict[str, int]
) -> None:
    args = _round_args(world["contest"], "--draw", "luat-giao-thong:5", "--review", "soon")
    assert runner.invoke(args=args).exit_code == 2


def test_boards_of_a_created_contest_are_numbered_in_order(
    runner: FlaskCliRunner, db_session: Session
) -> None:
    contest_id = _id(
        runner.invoke(args=["contests", "create", "--title", "T", "--board", "B", "--board", "A"])
    )
    boards = db_session.scalars(
        select(Board).where(Board.contest_id == contest_id).order_by(Board.position)
    ).all()
    assert [(b.name, b.position) for b in boards] == [("B", 0), ("A", 1)]
