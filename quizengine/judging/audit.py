"""The append-only audit log: every judge or organiser action that changes a result.

Each entry says who (the account and its name at the time), what (an action and its
target), when (the server's clock), why (the reason given) and the state before and after.
Entries are only ever added (the model refuses updates and deletes).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from quizengine.judging.exports import format_local, table_csv_chunks
from quizengine.models import User
from quizengine.models.judging import AuditEntry

DISQUALIFY_ATTEMPT = "attempt.disqualify"
REINSTATE_ATTEMPT = "attempt.reinstate"
DISQUALIFY_CONTESTANT = "contestant.disqualify"
REINSTATE_CONTESTANT = "contestant.reinstate"
FINALISE = "round.finalise"
REOPEN = "round.reopen"
PRIZES = "round.prizes"
UNIT_MEMBERS = "unit.members"

ACTION_LABELS = {
    DISQUALIFY_ATTEMPT: "Loại lượt thi",
    REINSTATE_ATTEMPT: "Khôi phục lượt thi",
    DISQUALIFY_CONTESTANT: "Loại thí sinh",
    REINSTATE_CONTESTANT: "Khôi phục thí sinh",
    FINALISE: "Chốt kết quả",
    REOPEN: "Mở lại kết quả",
    PRIZES: "Cấu hình giải thưởng",
    UNIT_MEMBERS: "Cập nhật số đoàn viên",
}
AUDIT_HEADERS = (
    "Mã",
    "Thời điểm",
    "Người thực hiện",
    "Thao tác",
    "Đối tượng",
    "Vòng thi",
    "Lý do",
    "Trước",
    "Sau",
)


@dataclass(frozen=True)
class Actor:
    """Who acts: an account (web) or the command line (``user_id`` None)."""

    user_id: int | None
    label: str

    @classmethod
    def of(cls, session: Session, user_id: int) -> Actor:
        user = session.get(User, user_id)
        name = user.full_name if user is not None else f"#{user_id}"
        return cls(user_id, name)

    @classmethod
    def cli(cls, os_user: str) -> Actor:
        return cls(None, f"CLI ({os_user})")


def record(
    session: Session,
    *,
    actor: Actor,
    action: str,
    target_type: str,
    target_id: int | None,
    round_id: int | None,
    at: datetime,
    reason: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        actor_id=actor.user_id,
        actor_label=actor.label,
        action=action,
        target_type=target_type,
        target_id=target_id,
        round_id=round_id,
        reason=reason,
        before=before,
        after=after,
        at=at,
    )
    session.add(entry)
    session.flush()
    return entry


def entries(
    session: Session,
    *,
    round_id: int | None = None,
    limit: int | None = None,
    offset: int = 0,
    newest_first: bool = True,
) -> list[AuditEntry]:
    query = select(AuditEntry)
    if round_id is not None:
        query = query.where(AuditEntry.round_id == round_id)
    query = query.order_by(AuditEntry.id.desc() if newest_first else AuditEntry.id)
    if offset:
        query = query.offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def _state(value: dict[str, Any] | None) -> str:
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(", ", ": "))


def entry_cells(entry: AuditEntry) -> list[str]:
    return [
        str(entry.id),
        format_local(entry.at),
        entry.actor_label,
        ACTION_LABELS.get(entry.action, entry.action),
        f"{entry.target_type} #{entry.target_id}" if entry.target_id else entry.target_type,
        "" if entry.round_id is None else str(entry.round_id),
        entry.reason,
        _state(entry.before),
        _state(entry.after),
    ]


def audit_csv_chunks(rows: Iterable[AuditEntry], *, delimiter: str = ",") -> Iterator[str]:
    """The log as CSV text (oldest first, as given), formula-neutralised like the results."""
    return table_csv_chunks(
        AUDIT_HEADERS, (entry_cells(e) for e in rows), trailer=None, delimiter=delimiter
    )
