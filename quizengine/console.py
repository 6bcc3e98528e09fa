"""What every CLI command shares: how a user error is reported."""

from __future__ import annotations

import sys
from typing import NoReturn

import click


def fail(message: str, status: int = 1) -> NoReturn:
    """A user error: clear lines on stderr, exit status 1 (2 for usage), no traceback."""
    click.echo(
        message
        if message.startswith(("error:", "line ", "row ", "file:"))
        else f"error: {message}",
        err=True,
    )
    sys.exit(status)
