"""`quizengine contests create …` and `quizengine rounds create …`: thin, one service call each.

A created object's id is printed alone on the last line of stdout; refusals go to stderr
with exit status 1 and nothing written.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NoReturn

import click
from flask.cli import with_appcontext

from quizengine.clock import parse_local_iso, to_local
from quizengine.console import fail
from quizengine.contests import services
from quizengine.contests.parsing import DrawSpec, minutes_to_seconds, parse_draw_spec, parse_prizes
from quizengine.db import database
from quizengine.errors import DomainError
from quizengine.extensions import current_clock
from quizengine.models import DEFAULT_LADDER, PredictionTarget, ReviewPolicy

# Service field names → the option the user typed.
_OPTION_FOR = {
    "title": "--title",
    "access_code": "--access-code",
    "boards": "--board",
    "opens_at": "--opens",
    "closes_at": "--closes",
    "draws": "--draw",
    "time_limit_seconds": "--minutes",
    "attempts_allowed": "--attempts",
    "review_policy": "--review",
    "prediction_text": "--prediction",
    "ladder": "--ladder",
    "prediction_target": "--prediction-target",
    "prizes": "--prizes",
}


def _fail_domain(exc: DomainError, draws: Sequence[DrawSpec] = ()) -> NoReturn:
    fields = exc.details.get("fields") or {}
    if not fields:
        fail(str(exc.message))
    lines = []
    for name, message in fields.items():
        option = _OPTION_FOR.get(name, name)
        if name.startswith("draws-") and name[6:].isdigit() and int(name[6:]) < len(draws):
            option = f"--draw {draws[int(name[6:])].label()}"
        lines.append(f"error: {option}: {message}")
    fail("\n".join(lines))


@click.group("contests", help="Contests (cuộc thi).")
def contests_group() -> None:
    pass


@contests_group.command("create", help="Create a contest; prints its id.")
@click.option("--title", required=True, help="The contest's title.")
@click.option("--description", default="", help="Shown on the contest page.")
@click.option("--rules", default="", help="Rules text shown before starting.")
@click.option("--access-code", default=None, help="Asked once, before a first attempt.")
@click.option(
    "--board",
    "boards",
    multiple=True,
    help="A board (bảng) contestants pick on first entry; repeat for several.",
)
@with_appcontext
def create_contest(
    title: str,
    description: str,
    rules: str,
    access_code: str | None,
    boards: Sequence[str],
) -> None:
    try:
        with database().session_scope() as session:
            contest = services.create_contest(
                session,
                title=title,
                clock=current_clock(),
                description=description,
                rules=rules,
                access_code=access_code,
                boards=list(boards),
            )
            contest_id = contest.id
            summary = f"contest {contest.id}: {contest.title} ({len(contest.boards)} boards)"
    except DomainError as exc:
        _fail_domain(exc)
    # stdout carries the id alone, so that `id=$(quizengine contests create …)` works.
    click.echo(summary, err=True)
    click.echo(contest_id)


@click.group("rounds", help="Rounds (tuần thi) of a contest.")
def rounds_group() -> None:
    pass


_DRAW_HELP = (
    "SLUG:COUNT — draw COUNT active questions from bank SLUG; repeat for several banks. "
    "Optional filters: SLUG:COUNT:difficulty=easy|medium|hard, SLUG:COUNT:topic=TEXT "
    "(both: SLUG:COUNT:difficulty=hard:topic=TEXT; the topic comes last). Rules draw in "
    "the order given and never repeat a question: put filtered rules before broad ones."
)


@rounds_group.command("create", help="Create a round of a contest; prints its id.")
@click.option("--contest", "contest_id", required=True, type=int, help="The contest's id.")
@click.option("--draw", "draws", required=True, multiple=True, help=_DRAW_HELP)
@click.option(
    "--minutes", required=True, help="Time limit per attempt in minutes; decimals allowed (0.5)."
)
@click.option("--attempts", required=True, type=int, help="Attempts per contestant (best counts).")
@click.option(
    "--opens", required=True, help="ISO 8601; without an offset it is Asia/Ho_Chi_Minh time."
)
@click.option(
    "--closes", required=True, help="ISO 8601; without an offset it is Asia/Ho_Chi_Minh time."
)
@click.option("--title", default=None, help='Defaults to "Tuần N".')
@click.option("--prediction", default=None, help="The prediction question (a whole number).")
@click.option(
    "--review",
    type=click.Choice([p.value for p in ReviewPolicy]),
    default=ReviewPolicy.AFTER_CLOSE.value,
    show_default=True,
    help="When contestants may review their answers.",
)
@click.option("--no-shuffle", is_flag=True, help="Keep the question and option order.")
@click.option("--prizes", default=None, help="Prize counts FIRST,SECOND,THIRD,CONSOLATION.")
@click.option(
    "--ladder",
    default=DEFAULT_LADDER,
    show_default=True,
    help="Ranking steps from points, prediction, duration, submitted_at, started_at.",
)
@click.option(
    "--prediction-target",
    type=click.Choice([t.value for t in PredictionTarget]),
    default=PredictionTarget.FULL_MARKS.value,
    show_default=True,
    help="The prediction's true value: full-mark contestants or all participants.",
)
@with_appcontext
def create_round(
    contest_id: int,
    draws: Sequence[str],
    minutes: str,
    attempts: int,
    opens: str,
    closes: str,
    title: str | None,
    prediction: str | None,
    review: str,
    no_shuffle: bool,
    prizes: str | None,
    ladder: str,
    prediction_target: str,
) -> None:
    specs: list[DrawSpec] = []
    try:
        specs = [parse_draw_spec(text) for text in draws]
        seconds = minutes_to_seconds(minutes)
        prize_counts = parse_prizes(prizes) if prizes is not None else None
    except ValueError as exc:
        fail(str(exc))
    opens_at = _local_time("--opens", opens)
    closes_at = _local_time("--closes", closes)
    try:
        with database().session_scope() as session:
            rnd = services.create_round(
                session,
                contest_id=contest_id,
                clock=current_clock(),
                opens_at=opens_at,
                closes_at=closes_at,
                draws=specs,
                time_limit_seconds=seconds,
                attempts_allowed=attempts,
                title=title,
                shuffle_questions=not no_shuffle,
                shuffle_options=not no_shuffle,
                review_policy=review,
                prediction_text=prediction,
                ladder=ladder,
                prediction_target=prediction_target,
                prizes=prize_counts,
            )
            round_id = rnd.id
            summary = (
                f"round {rnd.id} of contest {contest_id}: {rnd.title}; "
                f"{rnd.question_count} questions, {rnd.time_limit_seconds} s, "
                f"{rnd.attempts_allowed} attempt(s); "
                f"{to_local(rnd.opens_at):%Y-%m-%d %H:%M} → "
                f"{to_local(rnd.closes_at):%Y-%m-%d %H:%M} Asia/Ho_Chi_Minh"
            )
    except DomainError as exc:
        _fail_domain(exc, specs)
    click.echo(summary, err=True)
    click.echo(round_id)


def _local_time(option: str, text: str) -> datetime:
    try:
        return parse_local_iso(text)
    except ValueError:
        fail(f"{option} '{text}' is not an ISO 8601 time, e.g. 2026-03-02T10:00")


commands: list[click.Command] = [contests_group, rounds_group]
