"""Demo data: the three sample banks shipped in ``question_banks/``, imported idempotently.

Importing is itself idempotent (a second run finds every question "unchanged"), so the demo
simply imports each file through the same service organisers use.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from quizengine.banks.services import ImportReport, import_bank
from quizengine.clock import Clock

__all__ = ["SAMPLES_DIR", "SAMPLE_BANKS", "seed"]

SAMPLES_DIR = Path(__file__).resolve().parents[2] / "question_banks"

# slug (= file stem) → (file name, title)
SAMPLE_BANKS: dict[str, tuple[str, str]] = {
    "luat-giao-thong": (
        "luat-giao-thong.csv",
        "Luật Trật tự, an toàn giao thông đường bộ",
    ),
    "phong-chong-covid-19": ("phong-chong-covid-19.csv", "Phòng, chống dịch COVID-19"),
    "an-toan-ve-sinh-lao-dong": (
        "an-toan-ve-sinh-lao-dong.xlsx",
        "An toàn, vệ sinh lao động",
    ),
}


def seed(session: Session, clock: Clock, folder: Path = SAMPLES_DIR) -> list[ImportReport]:
    """Import every sample bank found in ``folder``; a missing file is skipped.

    A sample that fails to import raises ``ImportRejected``: the shipped files must be clean.
    """
    reports = []
    for slug, (name, title) in SAMPLE_BANKS.items():
        path = folder / name
        if path.is_file():
            reports.append(import_bank(session, path, slug=slug, title=title, clock=clock))
    return reports
