"""The console's feeds (issue 21, item 3): in Debian's Chromium against a real server
on loopback, an officer whose party's feed goes silent past the protocol's
``stale_after_s`` sees it STALE in the top bar and in the feeds panel, and sees it
clear when positions return; the other party, under ``conflicts``, is told nothing
of it (its console knows its own feed only).

The feed is made to go stale without waiting a minute: its positions are posted
already ``stale_after_s - AHEAD_S`` old (still live), so that they pass the limit
``AHEAD_S`` later. The waits are bounds for a loaded machine, never measured
durations.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Server, add_party, start_server
from tests.integration.helpers import flight, put_in_effect
from tests.integration.test_console import (
    CHROMIUM,
    CHROMIUM_ARGS,
    Console,
    _post,
    _require_chromium,
)

STALE_AFTER_S = 60.0  # euphrates-2017's stale_after_s
AHEAD_S = 6.0  # the feed passes stale_after_s this long after it is posted
STATUS_POLL_S = 5.0  # the console reads /healthz this often (panels/status.js)
MARGIN_S = 15.0  # a loaded machine's margin on top of one poll and one tick


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


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[Server, dict[str, str]]]:
    """A server on a fresh SQLite file, the two parties, sharing ``conflicts``."""
    db = f"sqlite:///{tmp_path / 'console.db'}"
    tokens = {
        "coalition": add_party(db, "coalition", "officer"),
        "russia": add_party(db, "russia", "officer", "ru"),
    }
    srv = start_server(db, tmp_path / "server.log")
    try:
        put_in_effect(srv.url, tokens, sharing="conflicts")
        yield srv, tokens
    finally:
        srv.stop()


def _fly(server: Server, token: str, ident: str, batch: str, age_s: float) -> None:
    """Three positions of a flight far from the line, the last ``age_s`` old."""
    now = time.time()
    lat, lon = (36.6, 37.6) if ident.startswith("VIPER") else (35.2, 40.2)
    positions = flight(ident, lat, lon, 90.0, 300.0, 20000.0, now - age_s - 10, 3)
    _post(server, token, batch, positions)


def _feeds(page: Any) -> dict[str, bool]:
    return dict(
        page.evaluate(
            "Object.fromEntries([...window.dcf.store.state.feeds.values()]"
            ".map((f) => [f.party, f.stale]))"
        )
    )


@pytest.mark.slow
def test_a_silent_feed_shows_stale_to_its_party_only_and_clears(
    browser: Any, live: tuple[Server, dict[str, str]], tmp_path: Path
) -> None:
    server, tokens = live
    coalition = Console(browser, server, tmp_path, "coalition")
    russia = Console(browser, server, tmp_path, "russia")
    try:
        coalition.sign_in(tokens["coalition"], "en")
        russia.sign_in(tokens["russia"], "ru")
        page = coalition.page
        _fly(server, tokens["russia"], "RF93", "r1", 0.0)
        _fly(server, tokens["coalition"], "VIPER11", "v1", STALE_AFTER_S - AHEAD_S)

        # Before it passes the limit: the own feed, live, in the top bar and panel.
        page.wait_for_function(
            "window.dcf.store.state.feeds.has('coalition')",
            timeout=(STATUS_POLL_S + MARGIN_S) * 1000,
        )
        page.click("#status")
        page.wait_for_selector("#status-panel:not([hidden])")
        row = page.locator("#status-feeds li.feed[data-party='coalition']")
        row.wait_for()
        if row.get_attribute("data-stale") == "false":
            assert page.get_attribute("#status", "data-level") == "ok"
            assert "Feeds OK" in page.inner_text("#status")
        text = row.inner_text()
        assert "lag" in text and "clock skew" in text and "silent" in text, text

        # Past stale_after_s: STALE in the top bar and in the panel, with the
        # newest position's time.
        page.wait_for_selector(
            "#status[data-level='stale']",
            timeout=(AHEAD_S + STATUS_POLL_S + MARGIN_S) * 1000,
        )
        assert "STALE" in page.inner_text("#status")
        stale_row = page.locator("#status-feeds li.feed.stale[data-party='coalition']")
        stale_row.wait_for()
        assert "STALE" in stale_row.inner_text()
        assert "newest position" in stale_row.inner_text()
        coalition.screenshot("feed-stale")
        # The server says the same (the console shows what /healthz and the stream
        # say, nothing of its own).
        with server.client(tokens["coalition"]) as client:
            assert client.get("/healthz").json()["feeds"]["coalition"]["stale"] is True

        # Russia, under `conflicts`: its own feed only, nothing of the coalition's.
        _fly(server, tokens["russia"], "RF93", "r2", 0.0)
        russia.page.wait_for_function(
            "window.dcf.store.state.feeds.has('russia')",
            timeout=(STATUS_POLL_S + MARGIN_S) * 1000,
        )
        time.sleep(STATUS_POLL_S)  # one more poll, and any event, has come
        assert _feeds(russia.page) == {"russia": False}
        assert russia.page.get_attribute("#status", "data-level") == "ok"
        russia.page.click("#status")
        shown = russia.page.locator("#status-feeds li.feed")
        assert shown.count() == 1 and shown.get_attribute("data-party") == "russia"
        assert russia.page.locator("#status-links-box").is_hidden()  # not a node

        # Positions again: STALE clears.
        _fly(server, tokens["coalition"], "VIPER11", "v2", 0.0)
        page.wait_for_selector(
            "#status[data-level='ok']", timeout=(STATUS_POLL_S + MARGIN_S) * 1000
        )
        page.locator("#status-feeds li.feed.live[data-party='coalition']").wait_for()
        assert _feeds(page) == {"coalition": False}
    finally:
        coalition.close()
        russia.close()


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["ru", "ar"])
def test_stale_is_said_in_the_language(
    lang: str, browser: Any, live: tuple[Server, dict[str, str]], tmp_path: Path
) -> None:
    server, tokens = live
    russia = Console(browser, server, tmp_path, f"russia-{lang}")
    try:
        russia.sign_in(tokens["russia"], lang)
        _fly(server, tokens["russia"], "RF93", "r1", STALE_AFTER_S + 5)
        page = russia.page
        page.wait_for_selector(
            "#status[data-level='stale']", timeout=(STATUS_POLL_S + MARGIN_S) * 1000
        )
        words = {"ru": "УСТАРЕЛ", "ar": "قديمة"}[lang]
        assert words in page.inner_text("#status")
        page.click("#status")
        row = page.locator("#status-feeds li.feed.stale[data-party='russia']")
        row.wait_for()
        assert words in row.inner_text()
        assert "STALE" not in row.inner_text() and "lag" not in row.inner_text()
        assert page.evaluate("document.documentElement.dir") == (
            "rtl" if lang == "ar" else "ltr"
        )
        russia.screenshot("feed-stale")
    finally:
        russia.close()
