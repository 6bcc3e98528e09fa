"""`quizengine leaderboard rebuild` and `quizengine flags list`: thin, one service call each."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from quizengine.console import fail
from quizengine.db import database
from quizengine.errors import NotFound
from quizengine.extensions import current_clock, current_store
from quizengine.leaderboard import services
from quizengine.leaderboard.flags import flag_lines
from quizengine.models import Attempt, Round
from quizengine.store import StoreUnavailable


@click.group("leaderboard", help="Live leaderboards (Redis, rebuilt from the database).")
def leaderboard_group() -> None:
    pass


@leaderboard_group.command(
    "rebuild", help="Rebuild the live boards from the database (every round with attempts)."
)
@click.option("--round", "round_id", type=int, help="Only this round.")
@with_appcontext
def rebuild_command(round_id: int | None) -> None:
    store, now = current_store(), current_clock().now()
    with database().session_scope() as session:
        if round_id is not None:
            round_ids = [round_id]
        else:
            round_ids = list(
                session.scalars(select(Round.id).where(Round.id.in_(select(Attempt.round_id))))
            )
        for rid in sorted(round_ids):
            try:
                count = services.rebuild_round(session, store, rid, now=now)
            except NotFound:
                fail(f"round {rid} does not exist")
            except services.RebuildRunning as exc:
                fail(f"{exc}; try again in a moment")
            except StoreUnavailable as exc:
                fail(f"Redis is unavailable ({exc}); nothing rebuilt")
            click.echo(f"round {rid}: {count} contestants")


@click.group("flags", help="Anti-cheat flags (never blocking; judges decide).")
def flags_group() -> None:
    pass


@flags_group.command(
    "list", help="One line per flag: flag, attempt id, contestant, evidence (tab-separated)."
)
@click.option("--round", "round_id", type=int, help="Only this round's attempts and contestants.")
@with_appcontext
def flags_list_command(round_id: int | None) -> None:
    with database().session_scope() as session:
        if round_id is not None and session.get(Round, round_id) is None:
            fail(f"round {round_id} does not exist")
        for line in flag_lines(session, round_id):
            attempt = str(line.attempt_id) if line.attempt_id is not None else "-"
            click.echo(f"{line.kind}\t{attempt}\t{line.name}\t{line.short_evidence()}")


commands: list[click.Command] = [leaderboard_group, flags_group]
