"""The console's Report panel, end to end in Debian's Chromium against a real server
on loopback: the daily report of a day with traffic opened in the console (only what
the party may see), its PDF downloaded, a request the server refuses, and the panel in
Arabic.

One server for the module (SQLite): two parties, the protocol in effect at sharing
level ``conflicts``, and an encounter flown today (VIPER11 of the coalition across the
Euphrates line, head-on with RF93 of Russia). Under ``conflicts`` each party's report
names its own aircraft and reduces the other's ("an aircraft of ..."), as
``tests/integration/test_report.py`` checks for the report itself.

Like ``test_console.py`` these need ``/usr/bin/chromium`` (skipped without it, a
failure with ``CI=true``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Server, add_party, start_server
from tests.integration.helpers import encounter, put_in_effect
from tests.integration.test_console import (
    CHROMIUM,
    CHROMIUM_ARGS,
    Console,
    _post,
    _require_chromium,
)

SECTIONS = (
    "Summary",
    "Sorties per party",
    "Conflict alerts by level",
    "Map of the day",
)
ARABIC = re.compile(r"[\u0600-\u06ff]")
REPORT_PATH = "/v1/reports/daily"


def _utc_day(t_s: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(t_s))


@dataclass
class Day:
    """The server, the parties' tokens and the UTC day the encounter was flown."""

    server: Server
    tokens: dict[str, str]
    day: str


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Day]:
    tmp = tmp_path_factory.mktemp("console-report")
    db = f"sqlite:///{tmp / 'console.db'}"
    tokens = {
        "coalition": add_party(db, "coalition", "officer"),
        "russia": add_party(db, "russia", "officer", "ru"),
    }
    server = start_server(db, tmp / "server.log")
    try:
        put_in_effect(server.url, tokens, sharing="conflicts")
        now = time.time()
        viper, rf = encounter(now)
        _post(server, tokens["coalition"], "v1", viper)
        _post(server, tokens["russia"], "r1", rf)
        # Detection ticks every 0.5 s: wait until both see the alert and incidents.
        deadline = time.monotonic() + 20.0
        for party, token in tokens.items():
            with server.client(token) as client:
                while not (
                    client.get("/v1/alerts").json()
                    and client.get("/v1/incidents").json()
                ):
                    assert time.monotonic() < deadline, f"{party}: no alert"
                    time.sleep(0.2)
        yield Day(server, tokens, _utc_day(now))
    finally:
        server.stop()


@pytest.fixture
def officers(browser: Any, seeded: Day, tmp_path: Path) -> Iterator[dict[str, Console]]:
    opened = {
        name: Console(browser, seeded.server, tmp_path, name)
        for name in ("coalition", "russia")
    }
    yield opened
    for officer in opened.values():
        officer.close()


def _report_tab(page: Any) -> None:
    page.click("#tabs button[data-tab='report']")
    page.wait_for_selector("#panel-report.active #report-open")


def _open_report(page: Any) -> Any:
    """Click "Open report"; the report's request and the frame, once shown."""
    with page.expect_request(lambda r: REPORT_PATH in r.url) as request:
        page.click("#report-open")
    page.wait_for_selector("#report-viewer:not([hidden])")
    frame = page.frame_locator("#report-frame")
    frame.locator("h1").wait_for()
    return request.value, frame


class TestReportPanel:
    def test_open_the_report_shows_only_what_the_party_may_see(
        self, officers: dict[str, Console], seeded: Day
    ) -> None:
        before = _utc_day(time.time())
        russia = officers["russia"].sign_in(seeded.tokens["russia"], "en")
        page = russia.page
        _report_tab(page)
        # Defaults: today (UTC) and the console's language, not the party's (ru).
        assert page.input_value("#report-day") in {before, _utc_day(time.time())}
        assert page.input_value("#report-lang") == "en"
        page.fill("#report-day", seeded.day)

        request, frame = _open_report(page)
        token = seeded.tokens["russia"]
        assert request.headers.get("authorization") == f"Bearer {token}"
        assert token not in request.url
        assert "format=html" in request.url and "lang=en" in request.url
        # Shown in a sandbox: no scripts, not this page's origin.
        assert page.get_attribute("#report-frame", "sandbox") == ""
        assert seeded.day in frame.locator("h1").inner_text()
        assert "Daily report" in frame.locator("h1").inner_text()
        headings = frame.locator("h2").all_inner_texts()
        for section in SECTIONS:
            assert section in headings, headings
        text = frame.locator("body").inner_text()
        assert "For Russia" in text
        assert "RF93" in text  # its own aircraft, by name
        # The coalition's aircraft only reduced, its sorties not shared.
        assert "VIPER11" not in text
        assert re.search(r"an aircraft of coalition", text, re.IGNORECASE), text
        assert "not shared" in text
        assert seeded.day in page.inner_text("#report-viewer-title")
        # Over the map, the panels still beside it.
        viewer = page.locator("#report-viewer").bounding_box()
        pane = page.locator(".map-pane").bounding_box()
        assert (
            abs(viewer["x"] - pane["x"]) < 1
            and abs(viewer["width"] - pane["width"]) < 1
        )
        assert page.locator("#panel-alerts").is_visible()
        russia.screenshot("report")
        page.keyboard.press("Escape")
        page.wait_for_selector("#report-viewer", state="hidden")

        # The coalition's report of the same day: the other way round.
        coalition = officers["coalition"].sign_in(seeded.tokens["coalition"], "en")
        cpage = coalition.page
        _report_tab(cpage)
        cpage.fill("#report-day", seeded.day)
        _, cframe = _open_report(cpage)
        ctext = cframe.locator("body").inner_text()
        assert "For Coalition" in ctext
        assert "VIPER11" in ctext
        assert "RF93" not in ctext
        cpage.click("#report-close")
        cpage.wait_for_selector("#report-viewer", state="hidden")

    def test_download_the_pdf(
        self, officers: dict[str, Console], seeded: Day, tmp_path: Path
    ) -> None:
        russia = officers["russia"].sign_in(seeded.tokens["russia"], "en")
        page = russia.page
        _report_tab(page)
        page.fill("#report-day", seeded.day)
        page.select_option("#report-lang", "ar")
        # Record whether the panel went busy (and the buttons off) while rendering.
        page.evaluate(
            """() => {
              window.__busy = [];
              const panel = document.querySelector('#panel-report');
              new MutationObserver(() => {
                if (panel.getAttribute('aria-busy') === 'true') {
                  window.__busy.push([
                    document.querySelector('#report-pdf').disabled,
                    document.querySelector('#report-open').disabled,
                    document.querySelector('#report-status').textContent,
                  ]);
                }
              }).observe(panel, {attributes: true, attributeFilter: ['aria-busy']});
            }"""
        )
        with (
            page.expect_download(timeout=60_000) as download_info,
            page.expect_request(lambda r: REPORT_PATH in r.url) as request,
        ):
            page.click("#report-pdf")
        download = download_info.value
        token = seeded.tokens["russia"]
        assert request.value.headers.get("authorization") == f"Bearer {token}"
        assert token not in request.value.url
        assert "format=pdf" in request.value.url and "lang=ar" in request.value.url
        # The server's file name, from Content-Disposition.
        name = f"report-{seeded.day}-russia-ar.pdf"
        assert download.suggested_filename == name
        saved = tmp_path / name
        download.save_as(str(saved))
        pdf = saved.read_bytes()
        assert pdf[:5] == b"%PDF-"
        assert len(pdf) > 20_000  # five charts and a map, not an empty page
        busy = page.evaluate("window.__busy")
        assert busy and busy[0][:2] == [True, True], busy
        assert "PDF" in busy[0][2]
        page.wait_for_selector("#panel-report[aria-busy='false']")
        assert not page.is_disabled("#report-pdf")
        assert name in page.inner_text("#report-status")
        assert page.inner_text("#report-error") == ""

    def test_a_refused_request_shows_the_problem(
        self, officers: dict[str, Console], seeded: Day
    ) -> None:
        russia = officers["russia"].sign_in(seeded.tokens["russia"], "en")
        page = russia.page
        _report_tab(page)
        # A year of five digits: a valid date for the browser, not for the server.
        page.fill("#report-day", "10000-01-01")
        with page.expect_response(lambda r: REPORT_PATH in r.url) as response:
            page.click("#report-open")
        assert response.value.status == 422
        error = page.locator("#report-error")
        error.wait_for()
        text = error.inner_text()
        assert "HTTP 422" in text
        assert "expected YYYY-MM-DD, got '10000-01-01'" in text
        assert page.locator("#report-viewer").is_hidden()
        assert not page.is_disabled("#report-open")
        # No day at all: said at once, nothing asked of the server.
        asked = len([u for u in russia.requests if REPORT_PATH in u])
        page.fill("#report-day", "")
        page.click("#report-pdf")
        page.wait_for_function(
            "document.querySelector('#report-error').textContent === 'Choose a day.'"
        )
        assert len([u for u in russia.requests if REPORT_PATH in u]) == asked

    def test_arabic_right_to_left(
        self, officers: dict[str, Console], seeded: Day
    ) -> None:
        coalition = officers["coalition"].sign_in(seeded.tokens["coalition"], "en")
        page = coalition.page
        _report_tab(page)
        assert page.input_value("#report-lang") == "en"
        # The report's language follows the console's.
        page.select_option("#lang", "ar")
        page.wait_for_function("document.documentElement.dir === 'rtl'")
        assert page.input_value("#report-lang") == "ar"
        tab = page.inner_text("#tabs button[data-tab='report']")
        assert tab.strip() == "التقرير"
        for selector in ("#report-open", "#report-pdf", "label[for='report-day']"):
            assert ARABIC.search(page.inner_text(selector)), selector
        # The panel is left of the map, its fields laid out right to left.
        side = page.locator("#side").bounding_box()
        map_box = page.locator("#map").bounding_box()
        assert side["x"] < map_box["x"]
        assert (
            page.evaluate(
                "getComputedStyle(document.querySelector('#panel-report')).direction"
            )
            == "rtl"
        )
        opened = page.locator("#report-open").bounding_box()
        pdf = page.locator("#report-pdf").bounding_box()
        assert pdf["x"] < opened["x"]  # the first button is on the right
        page.fill("#report-day", seeded.day)
        _, frame = _open_report(page)
        root = frame.locator("html")
        assert root.get_attribute("dir") == "rtl"
        assert root.get_attribute("lang") == "ar"
        assert ARABIC.search(frame.locator("h1").inner_text())
        assert seeded.day in frame.locator("h1").inner_text()
        assert "VIPER11" in frame.locator("body").inner_text()
        coalition.screenshot("report-arabic")
        page.click("#report-close")
        # A refusal, in Arabic, with the server's words inside.
        page.fill("#report-day", "10000-01-01")
        page.press("#report-day", "Enter")  # submits the form, as "Open report"
        page.wait_for_function(
            "document.querySelector('#report-error').textContent !== ''"
        )
        text = page.inner_text("#report-error")
        assert text.startswith("رفض الخادم"), text
        assert "10000-01-01" in text
