"""CLI commands of this feature; ``commands`` lists the groups quizengine registers."""

from __future__ import annotations

import click

commands: list[click.Command] = []
