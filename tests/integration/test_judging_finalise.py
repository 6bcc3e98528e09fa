"""Finalising a round: the final order and prizes, the hash, the lock, reopening,
disqualifications and the audit log — services on the real database and store."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from quizengine.clock import FrozenClock
from quizengine.judging import audit, publishing, services
from quizengine.judging.audit import Actor
from quizengine.judging.canonical import canonical_hash
from quizengine.judging.standings import stored_rows
from quizengine.leaderboard import services as lb_services
from quizengine.models import Round
from quizengine.models.judging import (
    AuditEntry,
    AuditLogIsAppendOnly,
    FinalResult,
    UnitPrize,
)
from quizengine.store import Store
from tests.factories import make_judge, make_organiser
from tests.judging_builders import (
    board_of,
    closed_round,
    contestant,
    take,
    union_tree,
)


def _actor(session: Session) -> Actor:
    return Actor.of(session, make_judge(session, full_name="Trần Giám Khảo").id)


def _tied_round(session: Session) -> Round:
    """Three with full marks tie on points; the prediction (truth = 3) and then the
    duration break the tie."""
    rnd = closed_round(session, prizes=[1, 1, 1, 1])
    take(session, rnd, contestant(session, "Lê Văn An"), score=10, prediction=5, duration_s=100)
    take(session, rnd, contestant(session, "Phạm Thị Bình"), score=10, prediction=3, duration_s=200)
    take(session, rnd, contestant(session, "Ngô Thị Chi"), score=10, prediction=3, duration_s=150)
    take(session, rnd, contestant(session, "Vũ Văn Dũng"), score=9, prediction=3, duration_s=50)
    take(session, rnd, contestant(session, "Đỗ Thị Em"), score=8, prediction=None, duration_s=60)
    return rnd


def test_finalise_breaks_ties_by_prediction_then_duration_and_prizes_go_by_position(
    app: Flask, db_session: Session, clock: FrozenClock
) -> None:
    rnd = _tied_round(db_session)
    outcome = services.finalise_round(
        db_session, round_id=rnd.id, actor=_actor(db_session), clock=clock
    )
    db_session.commit()

    assert outcome.created and outcome.truth == 3 and outcome.contestants == 5
    rows = list(stored_rows(db_session, rnd.id))
    assert [(r.rank, r.full_name, r.prize, r.error) for r in rows] == [
        (1, "Ngô Thị Chi", "first", 0),
        (2, "Phạm Thị Bình", "second", 0),
        (3, "Lê Văn An", "third", 2),
        (4, "Vũ Văn Dũng", "consolation", 0),
        (5, "Đỗ Thị Em", None, None),
    ]
    db_session.refresh(rnd)
    assert rnd.finalized_at == clock.now()
    assert rnd.result_hash == outcome.result_hash == canonical_hash(rnd.id, rows)

    # The export lists the same order and prizes, and ends with the hash.
    out = io.BytesIO()
    publishing.write_export(db_session, rnd.id, "csv", out, now=clock.now())
    lines = out.getvalue().decode("utf-8-sig").splitlines()
    assert [line.split(",")[:3] for line in lines[1:6]] == [
        ["1", "Giải Nhất", "Ngô Thị Chi"],
        ["2", "Giải Nhì", "Phạm Thị Bình"],
        ["3", "Giải Ba", "Lê Văn An"],
        ["4", "Giải Khuyến khích", "Vũ Văn Dũng"],
        ["5", "", "Đỗ Thị Em"],
    ]
    assert lines[-2:] == ["", f"SHA-256,{outcome.result_hash}"]


def test_finalising_again_changes_nothing_and_returns_the_same_hash(
    app: Flask, db_session: Session, clock: FrozenClock
) -> None:
    rnd = _tied_round(db_session)
    actor = _actor(db_session)
    first = services.finalise_round(db_session, round_id=rnd.id, actor=actor, clock=clock)
    db_session.commit()
    clock.advance(hours=2)
    again = services.finalise_round(db_session, round_id=rnd.id, actor=actor, clock=clock)
    db_session.commit()

    assert not again.created
    assert again.result_hash == first.result_hash
    finalisations = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == audit.FINALISE)
    ).all()
    assert len(finalisations) == 1
    assert finalisations[0].after is not None
    assert finalisations[0].after["result_hash"] == first.result_hash


def test_a_round_still_open_or_with_attempts_running_is_not_finalised(
    app: Flask, db_session: Session, clock: FrozenClock
) -> None:
    open_round = closed_round(db_session, closes_at=clock.now() + timedelta(hours=5))
    with pytest.raises(services.RoundStillOpen):
        services.finalise_round(
            db_session, round_id=open_round.id, actor=_actor(db_session), clock=clock
        )
    running = closed_round(db_session)
    take(db_session, running, contestant(db_session, "Hồ Văn Chạy"), score=0, status="in_progress")
    with pytest.raises(services.AttemptsStillRunning):
        services.finalise_round(
            db_session, round_id=running.id, actor=_actor(db_session), clock=clock
        )
    assert db_session.scalars(select(FinalResult)).all() == []


def test_disqualifying_changes_the_live_board_the_export_and_writes_the_audit_log(
    app: Flask, db_session: Session, clock: FrozenClock, store: Store
) -> None:
    rnd = _tied_round(db_session)
    db_session.commit()
    chi = next(r for r in stored_or_provisional(db_session, rnd, clock) if r[1] == "Ngô Thị Chi")
    chi_attempt, chi_user = chi[2], chi[3]
    with app.app_context():
        assert lb_services.rank_of(db_session, store, rnd.id, chi_user, now=clock.now()) == 1

    services.disqualify_attempt(
        db_session,
        attempt_id=chi_attempt,
        actor=_actor(db_session),
        reason="Làm bài hộ (có bằng chứng)",
        clock=clock,
    )
    db_session.commit()
    services.refresh_live_board(db_session, store, rnd.id, now=clock.now())

    with app.app_context():
        board = lb_services.board_view(db_session, store, rnd.id, viewer_id=None, now=clock.now())
    assert [e.name for e in board.entries][:2] == ["Phạm Thị Bình", "Lê Văn An"]
    assert lb_services.rank_of(db_session, store, rnd.id, chi_user, now=clock.now()) is None

    out = io.BytesIO()
    publishing.write_export(db_session, rnd.id, "csv", out, now=clock.now())
    text = out.getvalue().decode("utf-8-sig")
    assert "Ngô Thị Chi" not in text
    # Truth drops to 2 (Chi's full marks no longer count): An's error is now 3, Bình's 1.
    assert text.splitlines()[1].startswith("1,Giải Nhất,Phạm Thị Bình")

    entry = db_session.scalars(select(AuditEntry)).one()
    assert entry.action == audit.DISQUALIFY_ATTEMPT
    assert entry.reason == "Làm bài hộ (có bằng chứng)"
    assert entry.actor_label == "Trần Giám Khảo"
    assert entry.target_id == chi_attempt and entry.round_id == rnd.id
    assert entry.before == {"disqualified": False, "user_id": chi_user, "rank": 1}
    assert entry.after == {"disqualified": True, "user_id": chi_user, "rank": None}


def stored_or_provisional(
    session: Session, rnd: Round, clock: FrozenClock
) -> list[tuple[int, str, int, int]]:
    from quizengine.judging.standings import compute_ranking, provisional_truth

    ranking = compute_ranking(session, rnd, truth=provisional_truth(session, rnd, clock.now()))
    return [
        (row.rank, row.full_name, attempt_id, row.user_id)
        for row, attempt_id in zip(ranking.rows, ranking.attempt_ids, strict=True)
    ]


def test_a_reason_is_mandatory_for_every_decision(
    app: Flask, db_session: Session, clock: FrozenClock
) -> None:
    rnd = _tied_round(db_session)
    attempt_id = stored_or_provisional(db_session, rnd, clock)[0][2]
    with pytest.raises(services.Invalid):
        services.disqualify_attempt(
            db_session, attempt_id=attempt_id, actor=_actor(db_session), reason="  ", clock=clock
        )
    services.finalise_round(db_session, round_id=rnd.id, actor=_actor(db_session), clock=clock)
    with pytest.raises(services.Invalid):
        services.reopen_round(
            db_session, round_id=rnd.id, actor=_actor(db_session), reason="", clock=clock
        )


def test_a_finalised_round_is_locked_until_an_audited_reopen(
    app: Flask, db_session: Session, clock: FrozenClock
) -> None:
    rnd = _tied_round(db_session)
    judge = _actor(db_session)
    organiser = Actor.of(db_session, make_organiser(db_session, full_name="Ban Tổ Chức").id)
    first = services.finalise_round(db_session, round_id=rnd.id, actor=judge, clock=clock)
    db_session.commit()
    attempt_id, user_id = stored_or_provisional(db_session, rnd, clock)[0][2:]

    with pytest.raises(services.RoundLocked):
        services.disqualify_attempt(
            db_session, attempt_id=attempt_id, actor=judge, reason="muộn", clock=clock
        )
    with pytest.raises(services.RoundLocked):
        services.configure_prizes(
            db_session,
            round_id=rnd.id,
            actor=organiser,
            clock=clock,
            prizes=[2, 0, 0, 0],
            once_per_contest=False,
            unit_formula="none",
            unit_prizes=[0, 0, 0, 0],
            prize_points=[10, 8, 6, 4],
        )

    services.reopen_round(
        db_session, round_id=rnd.id, actor=organiser, reason="Khiếu nại được chấp nhận", clock=clock
    )
    db_session.commit()
    db_session.refresh(rnd)
    assert rnd.finalized_at is None and rnd.result_hash is None
    assert db_session.scalars(select(FinalResult)).all() == []
    reopen = db_session.scalars(select(AuditEntry).where(AuditEntry.action == audit.REOPEN)).one()
    assert reopen.before is not None and reopen.before["result_hash"] == first.result_hash
    assert reopen.reason == "Khiếu nại được chấp nhận"

    services.disqualify_contestant(
        db_session,
        round_id=rnd.id,
        user_id=user_id,
        actor=judge,
        reason="Hai tài khoan",
        clock=clock,
    )
    second = services.finalise_round(db_session, round_id=rnd.id, actor=judge, clock=clock)
    db_session.commit()
    assert second.result_hash != first.result_hash
    assert user_id not in {r.user_id for r in stored_rows(db_session, rnd.id)}


def test_reinstating_a_contestant_restores_only_what_their_disqualification_took(
    app: Flask, db_session: Session, clock: FrozenClock
) -> None:
    rnd = closed_round(db_session, attempts_allowed=3)
    hoa = contestant(db_session, "Trịnh Thị Hoa")
    first = take(db_session, rnd, hoa, score=9, prediction=1)
    second = take(db_session, rnd, hoa, score=7, prediction=1)
    judge = _actor(db_session)
    services.disqualify_attempt(
        db_session, attempt_id=first.id, actor=judge, reason="Mất kết nối bất thường", clock=clock
    )
    services.disqualify_contestant(
        db_session, round_id=rnd.id, user_id=hoa.id, actor=judge, reason="Thi hộ", clock=clock
    )
    db_session.refresh(second)
    assert second.disqualified
    with pytest.raises(services.Invalid):
        services.reinstate_attempt(
            db_session, attempt_id=second.id, actor=judge, reason="nhầm", clock=clock
        )
    services.reinstate_contestant(
        db_session, round_id=rnd.id, user_id=hoa.id, actor=judge, reason="Đã xác minh", clock=clock
    )
    db_session.commit()
    db_session.refresh(first)
    db_session.refresh(second)
    assert first.disqualified and not second.disqualified
    actions = db_session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == [
        audit.DISQUALIFY_ATTEMPT,
        audit.DISQUALIFY_CONTESTANT,
        audit.REINSTATE_CONTESTANT,
    ]


def test_the_audit_log_refuses_changes_and_deletions(
    app: Flask, db_session: Session, clock: FrozenClock
) -> None:
    rnd = _tied_round(db_session)
    services.finalise_round(db_session, round_id=rnd.id, actor=_actor(db_session), clock=clock)
    db_session.commit()
    entry = db_session.scalars(select(AuditEntry)).one()
    entry.reason = "sửa lại"
    with pytest.raises(AuditLogIsAppendOnly):
        db_session.flush()
    db_session.rollback()
    db_session.delete(db_session.scalars(select(AuditEntry)).one())
    with pytest.raises(AuditLogIsAppendOnly):
        db_session.flush()
    db_session.rollback()


def test_boards_get_their_own_prize_lists(
    app: Flask, db_session: Session, clock: FrozenClock
) -> None:
    rnd = closed_round(db_session, boards=("Bảng A", "Bảng B"), prizes=[1, 0, 0, 1])
    a, b = board_of(db_session, rnd, "Bảng A"), board_of(db_session, rnd, "Bảng B")
    for name, score, board in [
        ("A1", 10, a),
        ("A2", 9, a),
        ("A3", 8, a),
        ("B1", 7, b),
        ("B2", 6, b),
    ]:
        take(db_session, rnd, contestant(db_session, name), score=score, prediction=0, board=board)
    services.finalise_round(db_session, round_id=rnd.id, actor=_actor(db_session), clock=clock)
    rows = list(stored_rows(db_session, rnd.id))
    assert [(r.board, r.rank, r.full_name, r.prize) for r in rows] == [
        ("Bảng A", 1, "A1", "first"),
        ("Bảng A", 2, "A2", "consolation"),
        ("Bảng A", 3, "A3", None),
        ("Bảng B", 1, "B1", "first"),
        ("Bảng B", 2, "B2", "consolation"),
    ]


def test_a_person_wins_at_most_once_per_contest_when_the_organiser_says_so(
    app: Flask, db_session: Session, clock: FrozenClock
) -> None:
    week1 = closed_round(db_session, prizes=[1, 0, 0, 1], title="Tuần 1")
    week2 = closed_round(db_session, contest=week1.contest, prizes=[1, 0, 0, 1], title="Tuần 2")
    star, second, third = (contestant(db_session, n) for n in ("Sao", "Nhì", "Ba"))
    for rnd in (week1, week2):
        take(db_session, rnd, star, score=10, prediction=1)
        take(db_session, rnd, second, score=9, prediction=1)
        take(db_session, rnd, third, score=8, prediction=1)
    judge = _actor(db_session)
    services.configure_prizes(
        db_session,
        round_id=week2.id,
        actor=judge,
        clock=clock,
        prizes=[1, 0, 0, 1],
        once_per_contest=True,
        unit_formula="none",
        unit_prizes=[0, 0, 0, 0],
        prize_points=[10, 8, 6, 4],
    )
    services.finalise_round(db_session, round_id=week1.id, actor=judge, clock=clock)
    services.finalise_round(db_session, round_id=week2.id, actor=judge, clock=clock)
    db_session.commit()

    week2_rows = list(stored_rows(db_session, week2.id))
    # Sao and Nhì won in week 1: they keep their ranks but the prizes pass to Ba.
    assert [(r.rank, r.full_name, r.prize) for r in week2_rows] == [
        (1, "Sao", None),
        (2, "Nhì", None),
        (3, "Ba", "first"),
    ]
    notes = db_session.scalars(
        select(FinalResult.prize_note)
        .where(FinalResult.round_id == week2.id)
        .order_by(FinalResult.position)
    ).all()
    assert notes == ["won_before", "won_before", None]


@pytest.mark.parametrize(
    ("formula", "winner", "score"),
    [
        ("participants", "CDCS-A", "3"),  # 3 participants beat 2
        ("rate", "CDCS-B", "20"),  # 2 of 10 members (20 %) beat 3 of 100 (3 %)
        ("rate_points", "CDCS-B", "28"),  # B: 20 % + 8 (a second prize); A: 3 % + 10 + 4
    ],
)
def test_unit_prizes_follow_the_organisers_formula(
    app: Flask, db_session: Session, clock: FrozenClock, formula: str, winner: str, score: str
) -> None:
    _, _, leaf1, leaf2 = union_tree(db_session)
    leaf1.members, leaf2.members = 100, 10
    rnd = closed_round(db_session, prizes=[1, 1, 0, 1])
    take(db_session, rnd, contestant(db_session, "A-1", unit=leaf1), score=10, prediction=0)
    take(db_session, rnd, contestant(db_session, "B-1", unit=leaf2), score=9, prediction=0)
    take(db_session, rnd, contestant(db_session, "A-2", unit=leaf1), score=8, prediction=0)
    take(db_session, rnd, contestant(db_session, "A-3", unit=leaf1), score=1, prediction=0)
    take(db_session, rnd, contestant(db_session, "B-2", unit=leaf2), score=0, prediction=0)
    judge = _actor(db_session)
    services.configure_prizes(
        db_session,
        round_id=rnd.id,
        actor=judge,
        clock=clock,
        prizes=[1, 1, 0, 1],
        once_per_contest=False,
        unit_formula=formula,
        unit_prizes=[1, 0, 0, 0],
        prize_points=[10, 8, 6, 4],
    )
    services.finalise_round(db_session, round_id=rnd.id, actor=judge, clock=clock)
    top = db_session.scalars(
        select(UnitPrize).where(UnitPrize.round_id == rnd.id).order_by(UnitPrize.rank)
    ).all()
    assert (top[0].unit_code, top[0].prize, top[0].score) == (winner, "first", score)
    assert top[1].prize is None
    assert top[0].unit_path.startswith("Liên đoàn Lao động tỉnh Quảng Ngãi / Công đoàn huyện")


def test_unit_member_counts_are_audited(
    app: Flask, db_session: Session, clock: FrozenClock
) -> None:
    _, _, leaf1, _ = union_tree(db_session)
    organiser = Actor.of(db_session, make_organiser(db_session).id)
    changed = services.set_unit_members(
        db_session, actor=organiser, clock=clock, members={leaf1.id: "1.250"}
    )
    assert changed == 1 and leaf1.members == 1250
    entry = db_session.scalars(select(AuditEntry)).one()
    assert (entry.action, entry.before, entry.after) == (
        audit.UNIT_MEMBERS,
        {"code": "CDCS-A", "members": None},
        {"code": "CDCS-A", "members": 1250},
    )
    assert (
        services.set_unit_members(
            db_session, actor=organiser, clock=clock, members={leaf1.id: "1250"}
        )
        == 0
    )


def test_a_disqualified_contestant_stays_off_the_board_after_finishing_another_attempt(
    app: Flask, db_session: Session, clock: FrozenClock, store: Store
) -> None:
    rnd = _tied_round(db_session)
    cheat = contestant(db_session, "Mạc Văn Gian")
    take(db_session, rnd, cheat, score=10, prediction=3, duration_s=10)
    db_session.commit()
    services.disqualify_contestant(
        db_session,
        round_id=rnd.id,
        user_id=cheat.id,
        actor=_actor(db_session),
        reason="Dùng nhiều tài khoản",
        clock=clock,
    )
    db_session.commit()

    # An attempt finished after the decision (it was in progress, or the round reopened).
    later = take(db_session, rnd, cheat, score=10, prediction=3, duration_s=5)
    db_session.commit()
    with app.app_context():
        lb_services.record_result(db_session, store, later)
        board = lb_services.board_view(db_session, store, rnd.id, viewer_id=None, now=clock.now())
        assert "Mạc Văn Gian" not in [e.name for e in board.entries]
        assert lb_services.rank_of(db_session, store, rnd.id, cheat.id, now=clock.now()) is None
