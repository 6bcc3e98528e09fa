"""Alembic migrations and the helpers that run them (CLI and tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

HERE = Path(__file__).resolve().parent


def alembic_config(url: str, connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(url: str, connection: Connection | None = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(url, connection), revision)


def check(url: str) -> None:
    """Raise when the models and the migrations disagree."""
    command.check(alembic_config(url))
