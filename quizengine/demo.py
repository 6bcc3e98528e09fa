"""`quizengine demo`: seed what exists so a first try has something to click. Idempotent."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.orm import Session

from quizengine.accounts import demo as accounts_demo
from quizengine.banks import demo as banks_demo
from quizengine.contests import demo as contests_demo
from quizengine.judging import demo as judging_demo

DemoLogin = tuple[str, str, str, str]


def seed_demo(session: Session, app: Flask) -> list[DemoLogin]:
    logins: list[DemoLogin] = []
    # Accounts first: contestants belong to the unit tree seeded here.
    logins += accounts_demo.seed(session, app.extensions["quizengine.clock"])
    # The sample question banks, before the contests that draw from them.
    banks_demo.seed(session, app.extensions["quizengine.clock"])
    # Contests last: their rounds draw from the banks seeded above.
    contests_demo.seed(session, app.extensions["quizengine.clock"])
    # A past week of the demo contest, closed, for the jury to review and finalise.
    judging_demo.seed(session, app.extensions["quizengine.clock"])
    return logins
