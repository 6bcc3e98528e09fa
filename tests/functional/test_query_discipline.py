"""Query discipline on the contest-opening hot path: start, save answer, submit, leaderboard.

1. No N+1: the number of SQL statements a request sends (counted with SQLAlchemy's
   ``before_cursor_execute`` event on the app's engine, so everything the request does is
   counted — the user loader, the services, the leaderboard's reads) is the same whether
   an attempt has 10 or 50 questions, and a leaderboard read costs the same with 3 or 25
   contestants on the board.
2. Indexes (PostgreSQL): every statement the start, answer-save, submit and leaderboard
   requests send is EXPLAINed with the parameters it was really sent with, and no plan may
   hold a sequential scan of ``attempts``, ``attempt_items`` or ``answer_events``. Two ways,
   because each alone could mislead:
   - with realistic table sizes (a thousand other attempts, 20,000 drawn questions and
     as many answer events, in other rounds, then ANALYZE): the plan the planner
     really picks;
   - with ``SET LOCAL enable_seqscan = off`` (that transaction only): the planner then
     avoids a sequential scan whenever ANY index can serve the query, so a Seq Scan left in
     that plan means no index exists for it — on tiny tables PostgreSQL rightly prefers
     sequential scans, which proves nothing either way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, event, insert, text
from sqlalchemy.orm import Session

from quizengine.clock import FrozenClock
from quizengine.db import database
from quizengine.models import Attempt, Bank, User
from tests.conftest import require
from tests.factories import NOW, make_bank, make_contest, make_contestant, make_round

API = "/api/v1"
HOT_TABLES = {"attempts", "attempt_items", "answer_events"}
PREDICTION = "Dự đoán có bao nhiêu người trả lời đúng tất cả các câu hỏi của tuần này?"


# --------------------------------------------------------------------------- helpers


@dataclass
class Sent:
    statement: str
    parameters: Any
    many: bool


@dataclass
class StatementLog:
    """The SQL statements the app's engine sends, grouped by the request that sent them."""

    by_request: dict[str, list[Sent]] = field(default_factory=dict)

    @contextmanager
    def request(self, app: Flask, name: str) -> Iterator[None]:
        sent: list[Sent] = []

        def record(
            _conn: Any, _cursor: Any, statement: str, parameters: Any, _ctx: Any, many: bool
        ) -> None:
            sent.append(Sent(statement, parameters, many))

        engine = database(app).engine
        event.listen(engine, "before_cursor_execute", record)
        try:
            yield
        finally:
            event.remove(engine, "before_cursor_execute", record)
        self.by_request[name] = sent

    def counts(self) -> dict[str, int]:
        return {name: len(sent) for name, sent in self.by_request.items()}


class Phone:
    """A signed-in contestant talking JSON through the app's test client."""

    def __init__(self, app: Flask, user: User) -> None:
        self.client: FlaskClient = app.test_client()
        with self.client.session_transaction() as s:
            s["_user_id"] = str(user.id)
            s["_fresh"] = True
        html = self.client.get("/").get_data(as_text=True)
        found = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
        assert found, "every page carries the CSRF token"
        self.headers = {"X-CSRFToken": found.group(1)}

    def start(self, round_id: int) -> dict[str, Any]:
        r = self.client.post(f"{API}/rounds/{round_id}/attempts", json={}, headers=self.headers)
        assert r.status_code == 201, r.get_data(as_text=True)
        body: dict[str, Any] = r.get_json()
        return body

    def answer(self, attempt_id: int, question: dict[str, Any]) -> None:
        r = self.client.put(
            f"{API}/attempts/{attempt_id}/answers/{question['id']}",
            json={"choice": [question["options"][0]["key"]]},
            headers=self.headers,
        )
        assert r.status_code == 200, r.get_data(as_text=True)

    def submit(self, attempt_id: int) -> dict[str, Any]:
        r = self.client.post(
            f"{API}/attempts/{attempt_id}/submit", json={"prediction": 7}, headers=self.headers
        )
        assert r.status_code == 200, r.get_data(as_text=True)
        body: dict[str, Any] = r.get_json()
        return body

    def leaderboard(self, round_id: int) -> dict[str, Any]:
        r = self.client.get(f"{API}/rounds/{round_id}/leaderboard?limit=20")
        assert r.status_code == 200, r.get_data(as_text=True)
        body: dict[str, Any] = r.get_json()
        return body


def take_part(app: Flask, user: User, round_id: int) -> None:
    """Another contestant's attempt, not logged: start, answer a few, submit."""
    phone = Phone(app, user)
    started = phone.start(round_id)
    for q in started["questions"][:3]:
        phone.answer(started["attempt_id"], q)
    phone.submit(started["attempt_id"])


def journey(app: Flask, db: Session, log: StatementLog, *, bank: Bank, questions: int) -> None:
    """One contestant's hot path with every request's statements logged (others' attempts
    on the board first, so the leaderboard and the rank have something to look at)."""
    rnd = make_round(db, bank=bank, draw=questions, prediction=PREDICTION)
    others = [make_contestant(db) for _ in range(3)]
    user = make_contestant(db)
    db.commit()
    for other in others:
        take_part(app, other, rnd.id)
    phone = Phone(app, user)
    # Counted cold: without the process's cached question versions, so the count includes
    # reading them (one statement, whatever the number of questions).
    app.extensions.pop("quizengine.attempts.versions", None)
    with log.request(app, "start"):
        started = phone.start(rnd.id)
    assert len(started["questions"]) == questions
    attempt_id = started["attempt_id"]
    first, *rest = started["questions"]
    with log.request(app, "save answer"):
        phone.answer(attempt_id, first)
    for q in rest:
        phone.answer(attempt_id, q)
    with log.request(app, "submit"):
        result = phone.submit(attempt_id)
    assert result["total"] == questions
    phone.leaderboard(rnd.id)  # the first read may (re)build the board: count a steady one
    with log.request(app, "leaderboard"):
        board = phone.leaderboard(rnd.id)
    assert board["me"] is not None


# --------------------------------------------------------------------------- no N+1


def test_statements_per_request_are_the_same_for_10_and_50_questions(
    app: Flask, db_session: Session, clock: FrozenClock
) -> None:
    bank = make_bank(db_session, questions=60, multi_every=7)
    counts = {}
    for n in (10, 50):
        log = StatementLog()
        journey(app, db_session, log, bank=bank, questions=n)
        counts[n] = log.counts()
    assert set(counts[10]) == {"start", "save answer", "submit", "leaderboard"}
    assert counts[10] == counts[50], counts


def test_a_leaderboard_read_costs_the_same_with_3_or_25_contestants_on_the_board(
    app: Flask, db_session: Session, clock: FrozenClock
) -> None:
    bank = make_bank(db_session, questions=10)
    counts = {}
    for n in (3, 25):
        rnd = make_round(db_session, bank=bank, draw=3, prediction=PREDICTION)
        users = [make_contestant(db_session) for _ in range(n)]
        db_session.commit()
        for user in users:
            take_part(app, user, rnd.id)
        phone = Phone(app, users[0])
        assert len(phone.leaderboard(rnd.id)["entries"]) == min(n, 20)
        log = StatementLog()
        with log.request(app, "leaderboard"):
            phone.leaderboard(rnd.id)
        counts[n] = log.counts()["leaderboard"]
    assert counts[3] == counts[25], counts


# --------------------------------------------------------------------------- indexes


def _load_other_attempts(db: Session, bank: Bank, *, rounds: int, per_round: int) -> int:
    """Realistic table sizes: other rounds' submitted attempts, 20 questions each, every one
    answered. The attempts go in with Core; their items and answer events are generated by
    PostgreSQL itself (INSERT … SELECT), which is fast. Returns the answer events written."""
    contest = make_contest(db)
    users = [make_contestant(db) for _ in range(per_round)]
    round_ids = [
        make_round(db, contest=contest, bank=bank, draw=20, opens_at=NOW - timedelta(days=8 + i)).id
        for i in range(rounds)
    ]
    started = NOW - timedelta(days=1)
    db.execute(
        insert(Attempt),
        [
            {
                "round_id": rid,
                "user_id": u.id,
                "number": 1,
                "status": "submitted",
                "started_at": started,
                "deadline_at": started + timedelta(minutes=20),
                "submitted_at": started + timedelta(minutes=10),
                "duration_ms": 600_000,
                "score": 10,
                "correct_count": 10,
                "total": 20,
                "prediction": 5,
            }
            for rid in round_ids
            for u in users
        ],
    )
    params = {"bank": bank.id, "rounds": round_ids, "at": started}
    db.execute(
        text(
            """
            WITH q AS (
                SELECT id, current_version_id, row_number() OVER (ORDER BY id) - 1 AS k,
                       count(*) OVER () AS n
                FROM questions WHERE bank_id = :bank
            )
            INSERT INTO attempt_items (attempt_id, position, question_id, version_id,
                                       option_order, chosen, answered_at, is_correct, points)
            SELECT a.id, p, q.id, q.current_version_id, '[0, 1, 2, 3]',
                   to_jsonb(ARRAY[p % 4]), :at, p % 2 = 0, 1
            FROM attempts a
            CROSS JOIN generate_series(1, 20) AS p
            JOIN q ON q.k = (a.id + p) % q.n
            WHERE a.round_id = ANY(:rounds)
            """
        ),
        params,
    )
    written = db.execute(
        text(
            """
            INSERT INTO answer_events (attempt_id, question_id, chosen, at, ip)
            SELECT i.attempt_id, i.question_id, i.chosen, i.answered_at, '10.0.0.1'
            FROM attempt_items i JOIN attempts a ON a.id = i.attempt_id
            WHERE a.round_id = ANY(:rounds)
            """
        ),
        params,
    ).rowcount
    db.commit()
    return int(written)


def _seq_scans(plan: Any) -> list[str]:
    found: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        if node.get("Node Type") == "Seq Scan" and node.get("Relation Name") in HOT_TABLES:
            found.append(str(node["Relation Name"]))
        for child in node.get("Plans", []):
            walk(child)

    for top in plan:
        walk(top["Plan"])
    return found


def _explain(conn: Connection, sent: Sent, *, seqscan: bool) -> list[str]:
    params = sent.parameters[0] if sent.many else sent.parameters
    with conn.begin():
        if not seqscan:
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        raw = conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {sent.statement}", params).scalar_one()
    plan = json.loads(raw) if isinstance(raw, str) else raw
    return _seq_scans(plan)


def _dml(sent: Sent) -> bool:
    head = sent.statement.lstrip().split(None, 1)[0].upper()
    return head in {"SELECT", "UPDATE", "DELETE", "INSERT", "WITH"} and any(
        re.search(rf"\b{t}\b", sent.statement) for t in HOT_TABLES
    )


@pytest.mark.slow
@pytest.mark.postgres
def test_hot_path_queries_never_scan_the_attempts_and_answers_tables(
    app: Flask, db_session: Session, clock: FrozenClock
) -> None:
    engine = database(app).engine
    require(engine.dialect.name == "postgresql", "PostgreSQL (TEST_DATABASE_URL)")
    bank = make_bank(db_session, questions=60)
    events = _load_other_attempts(db_session, bank, rounds=25, per_round=40)
    assert events == 20_000
    log = StatementLog()
    journey(app, db_session, log, bank=bank, questions=20)
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE attempts, attempt_items, answer_events")
        conn.commit()
        checked = 0
        problems: list[str] = []
        for request_name, sent_list in log.by_request.items():
            for sent in filter(_dml, sent_list):
                checked += 1
                for seqscan, how in ((True, "at realistic size"), (False, "seqscan off")):
                    scans = _explain(conn, sent, seqscan=seqscan)
                    if scans:
                        problems.append(
                            f"{request_name} ({how}): Seq Scan on {', '.join(scans)}: "
                            f"{' '.join(sent.statement.split())[:300]}"
                        )
    assert log.by_request["save answer"] and log.by_request["submit"]
    assert checked >= 4, log.counts()
    assert not problems, "\n".join(problems)
