"""The skeleton every feature plugs into: pages, language, JSON errors, CLI, configuration."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from flask.testing import FlaskClient, FlaskCliRunner

from quizengine.config import ConfigError, Settings, normalise_database_url
from tests.conftest import ROOT


def test_home_page_speaks_vietnamese_by_default(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="vi">' in html
    assert "Cuộc thi trực tuyến" in html
    assert 'name="csrf-token"' in html


def test_language_switch_is_remembered_and_redirects_back(client: FlaskClient) -> None:
    response = client.get("/lang/en?next=/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/")
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in html
    client.get("/lang/vi")
    assert '<html lang="vi">' in client.get("/").get_data(as_text=True)


def test_language_switch_never_redirects_off_site(client: FlaskClient) -> None:
    response = client.get("/lang/en?next=//evil.example/")
    assert response.headers["Location"] == "/"


def test_unknown_api_path_is_a_json_not_found(client: FlaskClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


def test_anonymous_json_write_is_unauthorized_before_csrf(client: FlaskClient) -> None:
    response = client.post("/api/v1/rounds/1/attempts", json={})
    assert response.status_code == 401
    body = response.get_json()
    assert body["error"] == "unauthorized"
    assert body["message"]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_database_url_spellings_all_use_psycopg3(given: str, expected: str) -> None:
    assert normalise_database_url(given) == expected


def test_production_refuses_to_start_without_a_secret_key(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        Settings.from_env({"QUIZENGINE_ENV": "production", "INSTANCE_PATH": str(tmp_path)})


def test_development_secret_key_is_generated_once_and_kept(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = Settings.from_env({"INSTANCE_PATH": str(tmp_path)}).secret_key
    second = Settings.from_env({"INSTANCE_PATH": str(tmp_path)}).secret_key
    assert first == second and len(first) >= 32


def test_default_database_is_a_sqlite_file_in_the_instance_folder(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    settings = Settings.from_env({"INSTANCE_PATH": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'quizengine.sqlite3'}"
    assert settings.embedded_store


def test_gunicorn_refuses_several_workers_without_redis() -> None:
    env = {"PATH": "/usr/bin:/bin", "WEB_CONCURRENCY": "3"}
    result = subprocess.run(
        [sys.executable, "-c", "import runpy; runpy.run_path('gunicorn.conf.py')"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "REDIS_URL is not set" in result.stderr


def test_cli_help_lists_the_commands(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["--help"])
    assert result.exit_code == 0
    assert "db" in result.output and "demo" in result.output


def test_db_upgrade_is_idempotent(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "schema at head" in result.output


def test_models_and_migrations_agree(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output


def test_healthz_is_json(client: FlaskClient) -> None:
    assert json.loads(client.get("/healthz").data) == {"status": "ok"}


def test_create_app_accepts_a_config_mapping(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # In a child process: a second create_app() here would re-point the shared limiter.
    code = (
        "from quizengine import create_app; "
        f"app = create_app({{'DATABASE_URL': 'sqlite:///{tmp_path}/x.db', 'SECRET_KEY': 'k', "
        f"'INSTANCE_PATH': '{tmp_path}'}}); "
        "print(app.config['SECRET_KEY'], app.template_folder)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["k", "../templates"]


def test_an_id_beyond_the_database_integer_range_is_not_found(client: FlaskClient) -> None:
    response = client.get("/api/v1/rounds/99999999999/leaderboard")
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


def test_a_newcomer_finds_registration_on_the_home_page(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)
    assert 'href="/register"' in html and "Đăng ký dự thi" in html
