"""The console of a node shows its links (issue 16, item 5, console part): in
Debian's Chromium against two real nodes on loopback (HTTPS, mutual TLS between
them), the coalition's officer sees "link to … up since …"; when Russia's node
stops, "link to … down since HH:MM:SSZ" in the feeds and links panel and "Link
down" in the top bar; up again when it returns.

SQLite only: the console reads the links route and the stream, which the node
tests (test_links.py) already run on both backends. The waits are bounds for a
loaded machine, never measured durations.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Server
from tests.federation.conftest import Node, make_node
from tests.federation.test_links import _agree
from tests.integration.test_console import (
    CHROMIUM,
    CHROMIUM_ARGS,
    VIEWPORT,
    WAIT_MS,
    Console,
    _require_chromium,
)

INTERVAL_S = 0.5  # the nodes' link interval (Node.start)
MARGIN_S = 15.0  # a loaded machine's margin on top of two intervals
SINCE = re.compile(r"down since \d\d:\d\d:\d\dZ")


class NodeConsole(Console):
    """A console of a node: HTTPS with the node's self-signed certificate."""

    def __init__(self, browser: Any, server: Server, tmp_path: Path, name: str):
        self.server = server
        self.tmp_path = tmp_path
        self.name = name
        self.context = browser.new_context(
            viewport=VIEWPORT,
            locale="en-GB",
            bypass_csp=True,
            ignore_https_errors=True,  # the node's certificate is its own
        )
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.set_default_timeout(WAIT_MS)


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
def nodes(tmp_path: Path) -> Iterator[tuple[Node, Node]]:
    """The coalition's and Russia's nodes on SQLite, running, agreed on a version."""
    made = [
        make_node(tmp_path, party, f"sqlite:///{tmp_path / f'{party}.db'}")
        for party in ("coalition", "russia")
    ]
    try:
        for node in made:
            node.start(INTERVAL_S)
        _agree(made[0], made[1])
        yield made[0], made[1]
    finally:
        for node in made:
            node.stop()


@pytest.mark.slow
def test_a_stopped_peer_is_shown_down_since_and_up_again(
    browser: Any, nodes: tuple[Node, Node], tmp_path: Path
) -> None:
    coalition, russia = nodes
    assert coalition.server is not None
    officer = NodeConsole(browser, coalition.server, tmp_path, "coalition-node")
    try:
        officer.sign_in(coalition.token, "en")
        page = officer.page
        page.click("#status")
        link = page.locator("#status-links li.link[data-party='russia']")
        link.wait_for()
        page.wait_for_selector("#status-links li.link[data-status='up']")
        assert "up since" in link.inner_text()
        assert page.locator("#status-links-box").is_visible()

        russia.stop()
        page.wait_for_selector(
            "#status-links li.link[data-party='russia'][data-status='down']",
            timeout=(2 * INTERVAL_S + MARGIN_S) * 1000,
        )
        text = link.inner_text()
        assert text.startswith("Link to ") and SINCE.search(text), text
        assert page.get_attribute("#status", "data-level") == "down"
        assert "Link down" in page.inner_text("#status")
        officer.screenshot("link-down")

        russia.start(INTERVAL_S)
        page.wait_for_selector(
            "#status-links li.link[data-party='russia'][data-status='up']",
            timeout=(2 * INTERVAL_S + MARGIN_S) * 1000,
        )
        assert "up since" in link.inner_text()
        assert page.get_attribute("#status", "data-level") == "ok"
    finally:
        officer.close()
