"""Settings read from the environment once, validated, and handed to the app factory."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the message says which and how to fix it."""


def normalise_database_url(url: str) -> str:
    """Accept the three PostgreSQL spellings people paste and route them to psycopg 3.

    psycopg2 is not a dependency, so SQLAlchemy's default driver for ``postgresql://``
    would fail at connect time with a confusing ImportError.
    """
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def default_instance_path() -> Path:
    override = os.environ.get("QUIZENGINE_INSTANCE_PATH")
    if override:
        return Path(override).resolve()
    return Path(__file__).resolve().parent.parent / "instance"


def _dev_secret_key(instance_path: Path) -> str:
    """A random key generated once per instance folder, so sessions survive restarts."""
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    # O_EXCL: two processes starting together must agree on one key.
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return key_file.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


@dataclass
class Settings:
    env: str
    instance_path: Path
    database_url: str
    redis_url: str | None
    secret_key: str
    timezone: str = DEFAULT_TIMEZONE
    answer_grace_seconds: float = 5.0
    max_upload_bytes: int = 20 * 1024 * 1024
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def embedded_store(self) -> bool:
        return not self.redis_url

    @classmethod
    def from_env(cls, overrides: dict[str, Any] | None = None) -> Settings:
        overrides = dict(overrides or {})
        env_vars = os.environ
        env = str(overrides.pop("QUIZENGINE_ENV", env_vars.get("QUIZENGINE_ENV", "development")))
        instance_path = Path(
            overrides.pop("INSTANCE_PATH", None) or default_instance_path()
        ).resolve()
        database_url = overrides.pop("DATABASE_URL", None) or env_vars.get("DATABASE_URL")
        if not database_url:
            instance_path.mkdir(parents=True, exist_ok=True)
            database_url = f"sqlite:///{instance_path / 'quizengine.sqlite3'}"
        redis_url = overrides.pop("REDIS_URL", env_vars.get("REDIS_URL")) or None
        secret_key = overrides.pop("SECRET_KEY", None) or env_vars.get("SECRET_KEY")
        if not secret_key:
            if env == "production":
                raise ConfigError(
                    "SECRET_KEY is not set. With QUIZENGINE_ENV=production every app host "
                    "must share one secret key: set SECRET_KEY to a long random string "
                    "(python -c 'import secrets; print(secrets.token_hex(32))')."
                )
            secret_key = _dev_secret_key(instance_path)
        grace = float(
            overrides.pop(
                "ANSWER_GRACE_SECONDS", env_vars.get("QUIZENGINE_ANSWER_GRACE_SECONDS", 5)
            )
        )
        max_upload = int(
            overrides.pop(
                "MAX_UPLOAD_BYTES", env_vars.get("QUIZENGINE_MAX_UPLOAD_BYTES", 20 * 1024 * 1024)
            )
        )
        # PROXY_HOPS: trusted X-Forwarded-For hops (1 behind one load balancer, see
        # docs/scaling.md); without it every request seems to come from the balancer.
        for name in (
            "STORE_PREFIX",
            "RATELIMIT_KEY_PREFIX",
            "PROXY_HOPS",
            "LEADERBOARD_CACHE_SECONDS",
        ):
            if name not in overrides and env_vars.get(f"QUIZENGINE_{name}"):
                overrides[name] = env_vars[f"QUIZENGINE_{name}"]
        return cls(
            env=env,
            instance_path=instance_path,
            database_url=normalise_database_url(str(database_url)),
            redis_url=redis_url,
            secret_key=str(secret_key),
            answer_grace_seconds=grace,
            max_upload_bytes=max_upload,
            extra=overrides,
        )
