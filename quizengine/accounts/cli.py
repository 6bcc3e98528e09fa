"""`quizengine users ...` and `quizengine units ...`: thin wrappers around the services.

A command that creates something prints the new id alone on the last line; user errors go
to stderr with exit status 1 and never a traceback.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import aliased, joinedload

from quizengine.accounts.services import FieldErrors, create_user, reset_password
from quizengine.accounts.units import UnitImportFailed, import_unit_table
from quizengine.accounts.validation import phone_key
from quizengine.console import fail
from quizengine.db import database
from quizengine.errors import NotFound
from quizengine.extensions import current_clock
from quizengine.models import Role, Unit, User
from quizengine.tabular import TableFileError, open_table

# How the service's field names are spelled on the command line.
_OPTION_NAMES = {
    "full_name": "--name",
    "phone": "--phone",
    "password": "--password",
    "unit": "--unit",
    "role": "--role",
}
_MAX_PROBLEMS_SHOWN = 100


def _fail_fields(exc: FieldErrors) -> None:
    lines = [
        f"error: {_OPTION_NAMES.get(name, name)}: {message}" for name, message in exc.errors.items()
    ]
    for line in lines[:-1]:
        click.echo(line, err=True)
    fail(lines[-1])


@click.group("users", help="User accounts: create staff and contestants, list them.")
def users_group() -> None:
    pass


@users_group.command("create")
@click.option(
    "--role", required=True, type=click.Choice([role.value for role in Role]), help="Account role."
)
@click.option("--phone", required=True, help="Mobile number, e.g. 0912345678 or +84912345678.")
@click.option("--name", "full_name", required=True, help="Full name, as it should be shown.")
@click.option(
    "--unit", default=None, help="Unit code (required for contestants: a grassroots unit)."
)
@click.option("--password", default=None, help="Password (asked for, hidden, when left out).")
@click.option(
    "--must-change-password", is_flag=True, help="Make the user choose a new password at sign-in."
)
@with_appcontext
def users_create(
    role: str,
    phone: str,
    full_name: str,
    unit: str | None,
    password: str | None,
    must_change_password: bool,
) -> None:
    """Create an account with the registration form's rules; print its id last."""
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with database().session_scope() as session:
            user = create_user(
                session,
                role=role,
                full_name=full_name,
                phone=phone,
                password=password,
                unit=unit,
                clock=current_clock(),
                must_change_password=must_change_password,
            )
            user_id, stored_phone = user.id, user.phone
    except FieldErrors as exc:
        _fail_fields(exc)
    click.echo(f"created {role} {stored_phone}")
    click.echo(user_id)


@users_group.command("list")
@click.option("--role", type=click.Choice([role.value for role in Role]), default=None)
@with_appcontext
def users_list(role: str | None) -> None:
    """One tab-separated line per user: id, role, phone, full name, unit code."""
    with database().session_scope() as session:
        query = select(User).options(joinedload(User.unit)).order_by(User.id)
        if role:
            query = query.where(User.role == role)
        for user in session.scalars(query):
            unit = user.unit.code if user.unit else "-"
            click.echo(f"{user.id}\t{user.role}\t{user.phone}\t{user.full_name}\t{unit}")


@users_group.command("reset-password")
@click.option("--phone", required=True, help="The user's mobile number.")
@with_appcontext
def users_reset_password(phone: str) -> None:
    """Give a user a temporary password (printed last) to change at the next sign-in."""
    key = phone_key(phone)
    if key is None:
        fail(f"--phone: {phone!r} is not a Vietnamese mobile number")
    try:
        with database().session_scope() as session:
            user_id = session.scalar(select(User.id).where(User.phone == key))
            if user_id is None:
                raise NotFound()
            user, temporary = reset_password(session, user_id=user_id)
            name = user.full_name
    except NotFound:
        fail(f"no user with the phone number {key}")
    click.echo(f"temporary password for {name} ({key}); it must be changed at the next sign-in:")
    click.echo(temporary)


@click.group("units", help="The union's unit tree: import it from a spreadsheet, list it.")
def units_group() -> None:
    pass


@units_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--sheet", default=None, help="XLSX worksheet name (default: the first).")
@click.option("--dry-run", is_flag=True, help="Check the file and print the counts; save nothing.")
@with_appcontext
def units_import(file: Path, sheet: str | None, dry_run: bool) -> None:
    """Import units from CSV or XLSX (columns code, name, parent_code[, short_name, members]).

    All or nothing; re-importing updates units by code and keeps units not in the file.
    """
    limit = current_app.config["QUIZENGINE"].max_upload_bytes
    try:
        with (
            open_table(file, sheet=sheet, max_bytes=limit) as table,
            database().session_scope() as session,
        ):
            counts = import_unit_table(session, table, clock=current_clock(), dry_run=dry_run)
    except TableFileError as exc:
        fail(str(exc))
    except UnitImportFailed as exc:
        problems = [str(problem) for problem in exc.problems]
        shown = problems[:_MAX_PROBLEMS_SHOWN]
        if len(problems) > len(shown):
            shown.append(f"file: {len(problems) - len(shown)} more problems not shown")
        for line in shown[:-1]:
            click.echo(line, err=True)
        fail(shown[-1])
    click.echo(("dry run: would have " if dry_run else "") + str(counts))


@units_group.command("list")
@with_appcontext
def units_list() -> None:
    """One tab-separated line per unit: code, parent code, name, short name."""
    parent = aliased(Unit)
    with database().session_scope() as session:
        rows = session.execute(
            select(Unit.code, parent.code, Unit.name, Unit.short_name)
            .outerjoin(parent, Unit.parent_id == parent.id)
            .order_by(Unit.code)
        )
        for code, parent_code, name, short_name in rows:
            click.echo(f"{code}\t{parent_code or '-'}\t{name}\t{short_name or ''}")


commands: list[click.Command] = [users_group, units_group]
