"""`quizengine results finalize|reopen|export|verify`: the judges' commands.

    quizengine results finalize --round ID
    quizengine results reopen --round ID --reason TEXT
    quizengine results export --round ID --format csv|xlsx|pdf|zip -o PATH
                              [--winners-only] [--delimiter ';']
    quizengine results verify FILE --round ID

``finalize`` prints the SHA-256 alone on its last line (the same one when run again);
``verify`` exits 0 when the file matches the stored final ranking, 1 with the first
difference otherwise.
"""

from __future__ import annotations

import getpass
import os
import tempfile
from pathlib import Path

import click
from flask.cli import with_appcontext

from quizengine.clock import to_local
from quizengine.console import fail
from quizengine.db import database
from quizengine.errors import DomainError
from quizengine.extensions import current_clock, current_store
from quizengine.judging import publishing, services
from quizengine.judging.audit import Actor
from quizengine.judging.exports import ExportError
from quizengine.judging.pdf import PdfFontMissing
from quizengine.judging.verify import verify_export
from quizengine.models import Round


def _cli_actor() -> Actor:
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    return Actor.cli(who)


def _refresh_board(round_id: int) -> None:
    """After the commit: the live board follows (never fails the command for Redis)."""
    with database().session_scope() as session:
        services.refresh_live_board(session, current_store(), round_id, now=current_clock().now())


@click.group("results", help="Final results: finalise a round, export and verify lists.")
def results_group() -> None:
    pass


@results_group.command("finalize", help="Finalise a closed round; prints its SHA-256 last.")
@click.option("--round", "round_id", type=int, required=True, help="The round's id.")
@with_appcontext
def finalize(round_id: int) -> None:
    clock = current_clock()
    with database().session_scope() as session:
        round_ = session.get(Round, round_id)
        if round_ is None:
            fail(f"round {round_id} does not exist")
        if round_.finalized_at is None and clock.now() < round_.closes_at:
            closes = to_local(round_.closes_at).strftime("%Y-%m-%d %H:%M")
            fail(
                f"round {round_id} is still open (it closes at {closes} Vietnam time); "
                "a round can only be finalised after it closes"
            )
        try:
            outcome = services.finalise_round(
                session, round_id=round_id, actor=_cli_actor(), clock=clock
            )
        except services.AttemptsStillRunning:
            fail(
                f"round {round_id} still has attempts in progress; run "
                "`quizengine attempts finalize-expired` (or wait a minute) and try again"
            )
        except DomainError as exc:
            fail(str(exc.message))
    if outcome.created:
        _refresh_board(round_id)
        truth = "" if outcome.truth is None else f"; prediction's true value {outcome.truth}"
        click.echo(
            f"round {round_id} finalised: {outcome.contestants} contestants ranked, "
            f"{outcome.winners} prizes{truth}"
        )
    else:
        click.echo(f"round {round_id} was already finalised; nothing changed")
    click.echo(outcome.result_hash)


@results_group.command("reopen", help="Unlock a finalised round (discards its final list).")
@click.option("--round", "round_id", type=int, required=True, help="The round's id.")
@click.option("--reason", required=True, help="Why (kept in the audit log).")
@with_appcontext
def reopen(round_id: int, reason: str) -> None:
    clock = current_clock()
    with database().session_scope() as session:
        try:
            services.reopen_round(
                session, round_id=round_id, actor=_cli_actor(), reason=reason, clock=clock
            )
        except DomainError as exc:
            fail(str(exc.message))
    _refresh_board(round_id)
    click.echo(f"round {round_id} reopened: its final ranking and hash were discarded")


@results_group.command("export", help="Write the round's results as CSV, XLSX, PDF or ZIP.")
@click.option("--round", "round_id", type=int, required=True, help="The round's id.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(publishing.FORMATS),
    required=True,
    help="csv/xlsx: the ranking; pdf: the signed winner list; zip: the bundle with the audit log.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    required=True,
    help="The file to write.",
)
@click.option("--winners-only", is_flag=True, help="Only contestants with a prize.")
@click.option(
    "--delimiter",
    type=click.Choice([",", ";"]),
    default=",",
    show_default=True,
    help="CSV separator (';' for Excel with Vietnamese regional settings).",
)
@with_appcontext
def export(round_id: int, fmt: str, output: Path, winners_only: bool, delimiter: str) -> None:
    clock = current_clock()
    directory = output.resolve().parent
    if not directory.is_dir():
        fail(f"the folder {directory} does not exist")
    # Written next to the target and renamed at the end: a failure leaves no half file.
    handle, temp_name = tempfile.mkstemp(prefix=".export-", dir=directory)
    try:
        with database().session_scope() as session:
            if session.get(Round, round_id) is None:
                fail(f"round {round_id} does not exist")
            with os.fdopen(handle, "wb") as out:
                src = publishing.write_export(
                    session,
                    round_id,
                    fmt,
                    out,
                    now=clock.now(),
                    winners_only=winners_only,
                    delimiter=delimiter,
                )
            final_hash = src.final_hash
        os.replace(temp_name, output)
    except (ExportError, PdfFontMissing) as exc:
        fail(str(exc))
    finally:
        if os.path.exists(temp_name):
            os.unlink(temp_name)
    if final_hash:
        click.echo(f"wrote {output} (final results, SHA-256 {final_hash})")
    else:
        click.echo(
            f"wrote {output} — NOT FINAL: round {round_id} is not finalised, "
            "the list is provisional and has no hash"
        )


@results_group.command("verify", help="Check an exported CSV/XLSX against the final ranking.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--round", "round_id", type=int, required=True, help="The round's id.")
@with_appcontext
def verify(file: Path, round_id: int) -> None:
    with database().session_scope() as session:
        verdict = verify_export(session, round_id, file)
    if not verdict.ok:
        fail(verdict.message)
    click.echo(verdict.message)


commands: list[click.Command] = [results_group]
