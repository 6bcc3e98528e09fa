"""Settings from the environment: the operator's knobs reach the app's config."""

from __future__ import annotations

import pytest

from quizengine.config import Settings


def test_operator_knobs_are_read_from_quizengine_variables(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.setenv("QUIZENGINE_PROXY_HOPS", "1")
    monkeypatch.setenv("QUIZENGINE_LEADERBOARD_CACHE_SECONDS", "0")
    settings = Settings.from_env({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "k"})
    assert settings.extra["PROXY_HOPS"] == "1"
    assert settings.extra["LEADERBOARD_CACHE_SECONDS"] == "0"
    # An explicit setting wins over the environment.
    given = Settings.from_env(
        {"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "k", "LEADERBOARD_CACHE_SECONDS": 2}
    )
    assert given.extra["LEADERBOARD_CACHE_SECONDS"] == 2
