"""Uploaded bank files kept on the server between the preview and the confirmation.

The organiser uploads once; the preview and the import both read the stored copy, so the
file is never sent twice and the import is exactly what was previewed. Each upload lives
under a random token in the instance folder, belongs to the organiser who sent it (the
view also keeps the token in that organiser's session), and is removed after the import,
on cancel, or once it is older than ``UPLOAD_TTL``.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO

from flask_babel import gettext as _

from quizengine.clock import Clock
from quizengine.errors import Invalid, NotFound

__all__ = ["UPLOAD_TTL", "PendingUpload", "UploadStore"]

UPLOAD_TTL = timedelta(hours=2)
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class PendingUpload:
    token: str
    user_id: int
    slug: str
    title: str | None
    sheet: str | None
    filename: str
    created_at: str  # ISO 8601, UTC

    @property
    def created(self) -> datetime:
        return datetime.fromisoformat(self.created_at)


class UploadStore:
    def __init__(self, folder: Path, clock: Clock) -> None:
        self.folder = folder
        self.clock = clock

    def _paths(self, token: str) -> tuple[Path, Path]:
        if not _TOKEN.fullmatch(token):
            raise NotFound()
        return self.folder / f"{token}.upload", self.folder / f"{token}.json"

    def data_path(self, upload: PendingUpload) -> Path:
        return self._paths(upload.token)[0]

    def save(
        self,
        stream: IO[bytes],
        *,
        user_id: int,
        slug: str,
        title: str | None,
        sheet: str | None,
        filename: str,
        max_bytes: int,
    ) -> PendingUpload:
        self.sweep()
        self.folder.mkdir(parents=True, exist_ok=True)
        token = secrets.token_urlsafe(24)
        data, meta = self._paths(token)
        size = 0
        with open(data, "wb") as out:
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    break
                out.write(chunk)
        if size > max_bytes:
            data.unlink(missing_ok=True)
            raise Invalid(
                _(
                    "Tệp quá lớn; giới hạn là %(mb)s MB.",
                    mb=f"{max_bytes / (1024 * 1024):.0f}",
                ),
                fields={"file": _("Tệp quá lớn.")},
            )
        upload = PendingUpload(
            token=token,
            user_id=user_id,
            slug=slug,
            title=title or None,
            sheet=sheet or None,
            filename=os.path.basename(filename or "")[:200] or "upload",
            created_at=self.clock.now().isoformat(),
        )
        meta.write_text(json.dumps(asdict(upload)), encoding="utf-8")
        return upload

    def get(self, token: str, *, user_id: int) -> PendingUpload:
        """The upload, if it exists, is the caller's and has not expired; else NotFound."""
        data, meta = self._paths(token)
        try:
            upload = PendingUpload(**json.loads(meta.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError) as exc:
            raise NotFound() from exc
        if upload.user_id != user_id or not data.exists():
            raise NotFound()
        if self.clock.now() - upload.created > UPLOAD_TTL:
            self.discard(token)
            raise NotFound()
        return upload

    def discard(self, token: str) -> None:
        for path in self._paths(token):
            path.unlink(missing_ok=True)

    def sweep(self) -> None:
        """Remove uploads older than UPLOAD_TTL (left behind by organisers who walked away)."""
        if not self.folder.is_dir():
            return
        cutoff = self.clock.now() - UPLOAD_TTL
        for meta in self.folder.glob("*.json"):
            try:
                created = datetime.fromisoformat(json.loads(meta.read_text())["created_at"])
            except (OSError, ValueError, KeyError, TypeError):
                created = None
            if created is not None and created >= cutoff:
                continue
            if _TOKEN.fullmatch(meta.stem):
                self.discard(meta.stem)
            else:
                meta.unlink(missing_ok=True)
        # Data files whose metadata was never written (a crash mid-upload).
        for data in self.folder.glob("*.upload"):
            if not data.with_suffix(".json").exists():
                try:
                    stale = data.stat().st_mtime < cutoff.timestamp()
                except OSError:
                    continue
                if stale:
                    data.unlink(missing_ok=True)
