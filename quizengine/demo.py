"""`quizengine demo`: seed what exists so a first try has something to click. Idempotent."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.orm import Session

DemoLogin = tuple[str, str, str, str]


def seed_demo(session: Session, app: Flask) -> list[DemoLogin]:
    return []
