"""Attack: script or content from elsewhere in the duty officer's console.

The server sends a Content-Security-Policy that allows this server only (no CDN,
no inline script). This runs the console under that policy in Debian's Chromium,
against a real server on loopback, through what a duty officer does (sign in, the
map with its workers, the live stream, the daily report in its sandboxed frame),
and finds no violation of the policy and no error in the page: the policy is strict
and the console lives with it. Skipped without ``/usr/bin/chromium`` (a failure
with ``CI=true``), like the console's own tests.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Server, add_party, start_server
from tests.integration.helpers import encounter, put_in_effect
from tests.integration.test_console import (
    CHROMIUM,
    CHROMIUM_ARGS,
    VIEWPORT,
    WAIT_MS,
    _post,
    _require_chromium,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def browser() -> Iterator[Any]:
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[Server, dict[str, str]]]:
    db = f"sqlite:///{tmp_path / 'console.db'}"
    tokens = {
        "coalition": add_party(db, "coalition", "officer"),
        "russia": add_party(db, "russia", "officer", "ru"),
    }
    server = start_server(db, tmp_path / "server.log")
    try:
        put_in_effect(server.url, tokens, sharing="conflicts")
        viper, rf = encounter(time.time())
        _post(server, tokens["coalition"], "v1", viper)
        _post(server, tokens["russia"], "r1", rf)
        yield server, tokens
    finally:
        server.stop()


def _until(page: Any, expression: str) -> None:
    """Poll ``expression`` through the DevTools protocol (which the page's policy
    does not govern, unlike Playwright's wait_for_function)."""
    deadline = time.monotonic() + WAIT_MS / 1000
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"never true: {expression}"
        time.sleep(0.1)


def test_console_runs_under_a_policy_that_allows_only_this_server(
    browser: Any, live: tuple[Server, dict[str, str]]
) -> None:
    server, tokens = live
    context = browser.new_context(viewport=VIEWPORT, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    violations: list[str] = []
    errors: list[str] = []
    page.on(
        "console",
        lambda m: (
            violations.append(m.text)
            if "Content Security Policy" in m.text or "Refused to" in m.text
            else None
        ),
    )
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        response = page.goto(server.url + "/")
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        page.fill("#signin-token", tokens["coalition"])
        page.click("#signin-submit")
        page.wait_for_selector("body[data-ready='1']")
        _until(page, "window.dcf.stats.connected === true")
        _until(page, "window.dcf.mapView.map.loaded()")
        page.click("#tabs button[data-tab='report']")
        page.wait_for_selector("#panel-report.active #report-open")
        page.fill("#report-day", time.strftime("%Y-%m-%d", time.gmtime()))
        page.click("#report-open")
        page.wait_for_selector("#report-viewer:not([hidden])")
        page.frame_locator("#report-frame").locator("h1").wait_for()
        page.frame_locator("#report-frame").locator("img").first.wait_for()
    finally:
        context.close()
    assert not violations, violations
    assert not errors, errors
