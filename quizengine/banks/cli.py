"""``quizengine banks import|export|list``.

    quizengine banks import FILE --bank SLUG [--title TITLE] [--dry-run] [--sheet NAME]
    quizengine banks export SLUG --format csv|xlsx -o PATH
    quizengine banks list

``import`` prints ``imported N, updated M, unchanged K`` and exits 0, or prints every
error (``line N: …`` / ``row N: …`` / ``file: …``) to stderr, writes nothing and exits 1.
Warnings go to stderr and do not fail the import.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from quizengine.banks.estimate import estimate_rows
from quizengine.banks.export import export_bank
from quizengine.banks.queries import bank_lines
from quizengine.banks.services import (
    ImportRejected,
    ImportReport,
    announce_bank_changed,
    import_bank,
)
from quizengine.config import Settings
from quizengine.console import fail
from quizengine.db import database
from quizengine.errors import DomainError, NotFound
from quizengine.extensions import current_clock, current_store

# Files with more rows than this get a progress bar on stderr.
PROGRESS_FROM_ROWS = 3000


@click.group("banks", help="Question banks: import, export, list.")
def banks_group() -> None:
    pass


@contextmanager
def _progress(path: str, sheet: str | None) -> Iterator[Callable[[int], None] | None]:
    total = estimate_rows(path, sheet=sheet)
    if total < PROGRESS_FROM_ROWS:
        yield None
        return
    with click.progressbar(length=total, label="importing", file=sys.stderr, show_pos=True) as bar:
        done = 0

        def advance(position: int) -> None:
            nonlocal done
            step = min(position, total) - done
            if step > 0:
                bar.update(step)
                done += step

        yield advance
        advance(total)


@banks_group.command("import", help="Import a CSV/XLSX question file into a bank.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--bank", "slug", required=True, help="The bank's slug (created if missing).")
@click.option("--title", default=None, help="Title for a new bank (or a new title).")
@click.option("--dry-run", is_flag=True, help="Check and report without writing anything.")
@click.option("--sheet", default=None, help="XLSX: the worksheet to read (default: the first).")
@with_appcontext
def import_command(
    file: str, slug: str, title: str | None, dry_run: bool, sheet: str | None
) -> None:
    settings: Settings = current_app.config["QUIZENGINE"]
    report: ImportReport
    try:
        with _progress(file, sheet) as progress, database().session_scope() as session:
            report = import_bank(
                session,
                file,
                slug=slug,
                title=title,
                sheet=sheet,
                dry_run=dry_run,
                clock=current_clock(),
                max_bytes=settings.max_upload_bytes,
                progress=progress,
            )
    except ImportRejected as exc:
        # The report only: every line starts with "line N:", "row N:" or "file:".
        for problem in exc.report.problems:
            click.echo(_tagged(problem), err=True)
        sys.exit(1)
    except DomainError as exc:
        fail(str(exc.message))
    if not dry_run and report.bank_id is not None:
        announce_bank_changed(current_store(), report.bank_id)
    for problem in report.warnings:
        click.echo(_tagged(problem), err=True)
    if dry_run:
        click.echo("dry run: nothing was written", err=True)
    click.echo(report.summary())


def _tagged(problem: Any) -> str:
    text = str(problem)
    return f"{text} (warning)" if problem.severity == "warning" else text


@banks_group.command("export", help="Export a bank's active questions (CSV with BOM, or XLSX).")
@click.argument("slug")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "xlsx"]), required=True, help="File format."
)
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(dir_okay=False),
    required=True,
    help="File to write.",
)
@with_appcontext
def export_command(slug: str, fmt: str, output: str) -> None:
    try:
        with database().session_scope() as session:
            count = export_bank(session, slug, "csv" if fmt == "csv" else "xlsx", output)
    except NotFound:
        fail(f'there is no bank "{slug}" (see: quizengine banks list)')
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror or exc}")
    click.echo(f"exported {count} question{'s' if count != 1 else ''} to {os.fspath(output)}")


@banks_group.command("list", help="Banks: slug, title, active question count.")
@with_appcontext
def list_command() -> None:
    with database().session_scope() as session:
        lines = bank_lines(session)
        rows = [(line.bank.slug, line.bank.title, line.active) for line in lines]
    if not rows:
        click.echo("no banks yet (import one: quizengine banks import FILE --bank SLUG)", err=True)
        return
    slug_width = max(len(slug) for slug, _title, _n in rows)
    title_width = max(len(title) for _slug, title, _n in rows)
    for slug, title, active in rows:
        click.echo(f"{slug:<{slug_width}}  {title:<{title_width}}  {active:>6}")


commands: list[click.Command] = [banks_group]
