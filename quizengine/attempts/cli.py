"""CLI commands of this feature; ``commands`` lists the groups quizengine registers."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from quizengine.attempts import services
from quizengine.db import database
from quizengine.extensions import current_clock, current_store
from quizengine.leaderboard.services import record_result


@click.group("attempts", help="Attempts (lượt thi).")
def attempts_group() -> None:
    pass


@attempts_group.command(
    "finalize-expired",
    help=(
        "Finalise attempts past their deadline (plus the grace) with the answers saved. "
        "Run it every minute from cron on one host; it is idempotent, and two runs at "
        "once never grade an attempt twice."
    ),
)
@click.option("--batch", default=200, show_default=True, help="Attempts per transaction.")
@with_appcontext
def finalize_expired_command(batch: int) -> None:
    grace = float(current_app.config["QUIZENGINE"].answer_grace_seconds)
    clock = current_clock()
    store = current_store()
    total = 0
    while True:
        with database().session_scope() as session:
            attempts = services.finalize_expired(
                session, clock=clock, grace_seconds=grace, batch=batch
            )
            finished = services.finished_in(session)
        # Committed: now the live boards (record_result never raises for Redis trouble).
        if finished:
            with database().session_scope() as session:
                for attempt in finished:
                    record_result(session, store, session.merge(attempt, load=False))
        total += len(attempts)
        if len(attempts) < batch:
            break
    click.echo(f"finalised {total} expired attempt(s)")


commands: list[click.Command] = [attempts_group]
