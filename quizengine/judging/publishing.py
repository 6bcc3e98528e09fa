"""What a round's export holds: the stored final list (with its hash) once the round is
finalised, the provisional list (no hash, marked as not final) before; and the bundle.

Formats: ``csv`` and ``xlsx`` (the full ranking, or winners only), ``pdf`` (the printed
winner list for signatures — always winners only, with the collective prizes), and ``zip``:
the round's bundle — ``ket-qua.csv`` (full ranking), ``danh-sach-dat-giai.csv`` (winners),
``giai-tap-the.csv`` (unit standings), ``nhat-ky.csv`` (the round's audit log, oldest
first) and ``danh-sach-dat-giai.pdf`` when a font is available.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO

from sqlalchemy import select
from sqlalchemy.orm import Session

from quizengine.errors import NotFound
from quizengine.judging import audit
from quizengine.judging.canonical import ResultRow
from quizengine.judging.exports import (
    ExportError,
    csv_byte_chunks,
    csv_text_chunks,
    prize_label,
    table_csv_chunks,
    write_xlsx,
)
from quizengine.judging.pdf import PdfFontMissing, PrintHeader, UnitPrizeLine, write_pdf
from quizengine.judging.standings import (
    compute_ranking,
    prize_settings,
    provisional_truth,
    stored_rows,
)
from quizengine.models import Round
from quizengine.models.judging import UnitFormula, UnitPrize

FORMATS = ("csv", "xlsx", "pdf", "zip")
UNIT_FORMULA_LABELS = {
    UnitFormula.NONE.value: "không xét giải tập thể",
    UnitFormula.PARTICIPANTS.value: "số người dự thi",
    UnitFormula.RATE.value: "tỉ lệ đoàn viên tham gia (%)",
    UnitFormula.RATE_POINTS.value: "tỉ lệ tham gia (%) cộng điểm giải của đoàn viên",
}
UNIT_HEADERS = (
    "Hạng",
    "Giải",
    "Mã đơn vị",
    "Đơn vị",
    "Số người dự thi",
    "Số đoàn viên",
    "Điểm giải cá nhân",
    "Điểm xét",
)
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "zip": "application/zip",
}


@dataclass
class ResultSource:
    """The rows to export and the hash to print (None: not final)."""

    round: Round
    final_hash: str | None
    winners_only: bool
    _session: Session
    _now: datetime
    _unit_lines: list[UnitPrizeLine] | None = None

    def rows(self) -> Iterator[ResultRow]:
        if self.final_hash is not None:
            yield from stored_rows(self._session, self.round.id, winners_only=self.winners_only)
            return
        truth = provisional_truth(self._session, self.round, self._now)
        ranking = compute_ranking(self._session, self.round, truth=truth)
        for row in ranking.rows:
            if row.prize or not self.winners_only:
                yield row

    def winners_by_board(self) -> list[tuple[str, list[ResultRow]]]:
        groups: dict[str, list[ResultRow]] = {}
        for row in self.rows():
            if row.prize:
                groups.setdefault(row.board, []).append(row)
        return list(groups.items())

    def unit_lines(self) -> list[UnitPrizeLine]:
        """The stored collective standings (final rounds only: they are computed then)."""
        if self._unit_lines is None:
            self._unit_lines = [
                UnitPrizeLine(
                    rank=u.rank,
                    prize=u.prize,
                    unit_path=u.unit_path,
                    participants=u.participants,
                    members=u.members,
                    score=u.score,
                )
                for u in self._session.scalars(
                    select(UnitPrize)
                    .where(UnitPrize.round_id == self.round.id)
                    .order_by(UnitPrize.rank)
                )
            ]
        return self._unit_lines


def source(
    session: Session, round_id: int, *, now: datetime, winners_only: bool = False
) -> ResultSource:
    round_ = session.get(Round, round_id)
    if round_ is None:
        raise NotFound()
    final_hash = round_.result_hash if round_.finalized_at is not None else None
    return ResultSource(round_, final_hash, winners_only, session, now)


def filename(round_: Round, fmt: str, *, winners_only: bool) -> str:
    kind = "dat-giai" if winners_only or fmt == "pdf" else "ket-qua"
    state = "" if round_.finalized_at is not None else "-tam-thoi"
    return f"vong-{round_.id}-{kind}{state}.{fmt}"


def csv_download(src: ResultSource, *, delimiter: str = ",") -> Iterator[bytes]:
    return csv_byte_chunks(
        csv_text_chunks(src.rows(), final_hash=src.final_hash, delimiter=delimiter)
    )


def write_export(
    session: Session,
    round_id: int,
    fmt: str,
    out: IO[bytes],
    *,
    now: datetime,
    winners_only: bool = False,
    delimiter: str = ",",
) -> ResultSource:
    """Write one export to a binary file; raises ExportError or PdfFontMissing."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    if delimiter not in (",", ";"):
        raise ExportError("the CSV delimiter must be ',' or ';'")
    src = source(session, round_id, now=now, winners_only=winners_only or fmt == "pdf")
    if fmt == "csv":
        for chunk in csv_download(src, delimiter=delimiter):
            out.write(chunk)
    elif fmt == "xlsx":
        write_xlsx(src.rows(), out, final_hash=src.final_hash)
    elif fmt == "pdf":
        _pdf(src, out, now)
    else:
        _bundle(session, round_id, out, now=now, delimiter=delimiter)
    return src


def _pdf(src: ResultSource, out: IO[bytes], now: datetime) -> None:
    from_formula = ""
    if src.final_hash is not None and src.unit_lines():
        settings = prize_settings(src._session, src.round.id)
        if settings is not None:
            from_formula = UNIT_FORMULA_LABELS.get(settings.unit_formula, "")
    header = PrintHeader(
        contest_title=src.round.contest.title,
        round_title=src.round.title,
        final_hash=src.final_hash,
        finalized_at=src.round.finalized_at,
        printed_at=now,
        unit_formula_label=from_formula,
    )
    write_pdf(header, src.winners_by_board(), src.unit_lines(), out)


def unit_csv_cells(lines: Iterable[UnitPrize]) -> Iterator[list[str]]:
    for u in lines:
        yield [
            str(u.rank),
            prize_label(u.prize),
            u.unit_code,
            u.unit_path,
            str(u.participants),
            "" if u.members is None else str(u.members),
            str(u.prize_points),
            u.score,
        ]


def _bundle(
    session: Session, round_id: int, out: IO[bytes], *, now: datetime, delimiter: str
) -> None:
    full = source(session, round_id, now=now)
    winners = source(session, round_id, now=now, winners_only=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        with bundle.open("ket-qua.csv", "w", force_zip64=True) as member:
            for chunk in csv_download(full, delimiter=delimiter):
                member.write(chunk)
        with bundle.open("danh-sach-dat-giai.csv", "w") as member:
            for chunk in csv_download(winners, delimiter=delimiter):
                member.write(chunk)
        units = session.scalars(
            select(UnitPrize).where(UnitPrize.round_id == round_id).order_by(UnitPrize.rank)
        )
        with bundle.open("giai-tap-the.csv", "w") as member:
            for chunk in csv_byte_chunks(
                table_csv_chunks(UNIT_HEADERS, unit_csv_cells(units), delimiter=delimiter)
            ):
                member.write(chunk)
        with bundle.open("nhat-ky.csv", "w") as member:
            log_rows = audit.entries(session, round_id=round_id, newest_first=False)
            for chunk in csv_byte_chunks(audit.audit_csv_chunks(log_rows, delimiter=delimiter)):
                member.write(chunk)
        try:
            buffer = io.BytesIO()
            _pdf(winners, buffer, now)
        except PdfFontMissing:
            pass  # the CSVs are the record; the printout needs a font this host lacks
        else:
            bundle.writestr("danh-sach-dat-giai.pdf", buffer.getvalue())
