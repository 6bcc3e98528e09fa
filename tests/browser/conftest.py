"""A real server process and a phone-sized Chromium page (Debian's chromium, never downloaded)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from tests.conftest import ROOT, require

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 360, "height": 740}
SCREENSHOTS = ROOT / "tests" / "browser" / "screenshots"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    def __init__(self, url: str, process: subprocess.Popen[bytes]) -> None:
        self.url = url
        self.process = process


def start_server(
    app_config: dict[str, object], *, port: int, extra_env: dict[str, str] | None = None
) -> LiveServer:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": str(app_config["DATABASE_URL"]),
            "SECRET_KEY": str(app_config["SECRET_KEY"]),
            "QUIZENGINE_INSTANCE_PATH": str(app_config["INSTANCE_PATH"]),
            "QUIZENGINE_STORE_PREFIX": str(app_config["STORE_PREFIX"]),
            "QUIZENGINE_RATELIMIT_KEY_PREFIX": str(app_config["RATELIMIT_KEY_PREFIX"]),
            "QUIZENGINE_BIND": f"127.0.0.1:{port}",
            "WEB_CONCURRENCY": "1",
        }
    )
    if app_config.get("REDIS_URL"):
        env["REDIS_URL"] = str(app_config["REDIS_URL"])
    else:
        env.pop("REDIS_URL", None)
    env.update(extra_env or {})
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1):
                return LiveServer(url, process)
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("server did not start within 30 s")


def stop_server(server: LiveServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()


@pytest.fixture(scope="session")
def live_server(app_config: dict[str, object]) -> Iterator[LiveServer]:
    server = start_server(app_config, port=free_port())
    yield server
    stop_server(server)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    chromium = shutil.which("chromium")
    require(chromium is not None, "Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: object, app: Flask) -> Iterator[object]:
    context = browser.new_context(viewport=PHONE, locale="vi-VN", is_mobile=True, has_touch=True)  # type: ignore[attr-defined]
    pg = context.new_page()
    pg.set_default_timeout(10_000)
    yield pg
    context.close()


def screenshot(page: object, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    return path


def assert_fits_phone(page: object) -> None:
    """No sideways scrolling at 360 px, measured once the page and its stylesheet have loaded
    (right after a click the old or an unstyled page may still be what is measured)."""
    page.wait_for_load_state("load")  # type: ignore[attr-defined]
    wide = page.evaluate(  # type: ignore[attr-defined]
        """() => [...document.querySelectorAll('body *')]
        .filter(e => !e.parentElement.closest('.table-wrap')
                && Math.max(e.getBoundingClientRect().right, e.scrollWidth) > 361)
        .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))
        .slice(0, 8)"""
    )
    width = page.evaluate("document.documentElement.scrollWidth")  # type: ignore[attr-defined]
    assert width <= PHONE["width"], f"page is {width} px wide; widest elements: {wide}"
