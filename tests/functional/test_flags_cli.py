"""Flags raised by real attempts through the API, listed by `quizengine flags list`."""

from __future__ import annotations

from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from quizengine.clock import FrozenClock
from quizengine.models import Flag
from tests.factories import make_bank, make_contestant, make_round
from tests.functional.test_leaderboard_pages import _answer_everything, login


def test_a_lightning_full_marks_attempt_is_flagged_and_listed(
    client: FlaskClient, runner: FlaskCliRunner, db_session: Session, clock: FrozenClock
) -> None:
    rnd = make_round(db_session, bank=make_bank(db_session, questions=5), draw=5)
    other = make_round(db_session)
    cheat = make_contestant(db_session, full_name="Phạm Thị Nhanh")
    db_session.commit()
    token = login(client, cheat)
    attempt_id = _answer_everything(client, db_session, token, rnd.id)  # all at one instant
    clock.advance(seconds=4)
    submitted = client.post(
        f"/api/v1/attempts/{attempt_id}/submit", json={}, headers={"X-CSRFToken": token}
    )
    assert submitted.status_code == 200  # flags never block
    kinds = sorted(db_session.scalars(select(Flag.kind).where(Flag.attempt_id == attempt_id)))
    assert kinds == ["quick_full_marks", "too_fast"]

    listed = runner.invoke(args=["flags", "list", "--round", str(rnd.id)])
    assert listed.exit_code == 0, listed.output
    lines = listed.output.strip().splitlines()
    assert len(lines) == 2
    for line in lines:
        kind, attempt, name, _evidence = line.split("\t")
        assert kind in ("quick_full_marks", "too_fast")
        assert attempt == str(attempt_id) and name == "Phạm Thị Nhanh"
    assert any("duration_ms=4000" in line for line in lines)
    assert any("median_seconds=0.0" in line for line in lines)

    assert runner.invoke(args=["flags", "list", "--round", str(other.id)]).output == ""
    assert len(runner.invoke(args=["flags", "list"]).output.strip().splitlines()) == 2
    missing = runner.invoke(args=["flags", "list", "--round", "99999"])
    assert missing.exit_code == 1 and "does not exist" in missing.output
