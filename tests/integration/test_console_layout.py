"""The console's layout at 1280x800 in English, Russian and Arabic, in Debian's
Chromium against a real server on loopback, with a screenshot of each panel.

One server for the module (SQLite): two parties, euphrates-2017 in effect at sharing
level ``conflicts``, an encounter kept alive by a feeder (VIPER11 of the coalition
and RF93 of Russia head-on over the Euphrates line, posted afresh every few seconds,
so the conflict is always about a minute ahead) and an operation of each party across
the line. Each test signs in in one language and checks what a duty
officer would see go wrong: the top bar keeping its height when the pending counter
appears, the tabs on one row, nothing wider than its panel, no select too narrow for
its options, the map's labels overlapping nothing, text in the language (units, party
names from the protocol, country names), time fields in ISO 8601 UTC, the evidence map
with its base map. The assertions are on layout, never on time.

Like ``test_console.py`` these need ``/usr/bin/chromium`` (skipped without it, a
failure with ``CI=true``); screenshots go to each test's ``tmp_path`` and, with
``DECONFLICTION_SCREENSHOTS=DIR``, to DIR as well.
"""

from __future__ import annotations

import re
import threading
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

PANELS = ("hotline", "incidents", "operations", "protocol", "report")
FEED_EVERY_S = 4.0  # well inside the protocol's 60 s stale time
# Who signs in for each language: both parties' views get a turn.
OFFICER = {"en": "coalition", "ru": "russia", "ar": "russia"}
OTHER = {"coalition": "russia", "russia": "coalition"}
# What the protocol calls the parties (shortened at the first parenthesis).
NAMES = {"coalition": "US-led coalition", "russia": "Russian Federation"}
ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}Z$")
SYRIA = {"en": "Syria", "ru": "Сирия", "ar": "سوريا"}
# Units as the daily report writes them in each language.
NM = {"en": " NM", "ru": " м. миль", "ar": " ميل بحري"}
MINUTES = {"en": " min", "ru": " мин", "ar": " دقيقة"}
# A line violation's depth, named (across the line, or into the buffer on its side).
DEPTH = {
    "en": ("across the line", "into the buffer"),
    "ru": ("за линией", "внутри буферной зоны"),
    "ar": ("عبر الخط", "داخل المنطقة العازلة"),
}


@dataclass
class Live:
    """The server, the parties' tokens."""

    server: Server
    tokens: dict[str, str]


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


def _feed(live: Live, stop: threading.Event) -> None:
    """Post the encounter afresh until stopped: the conflict stays about a minute
    ahead and the incidents stay ongoing."""
    k = 0
    while not stop.is_set():
        viper, rf = encounter(time.time())
        _post(live.server, live.tokens["coalition"], f"feed-v{k}", viper)
        _post(live.server, live.tokens["russia"], f"feed-r{k}", rf)
        k += 1
        stop.wait(FEED_EVERY_S)


def _file_operation(live: Live, party: str, ident: str) -> None:
    """A party files a reconnaissance orbit across the Euphrates line (under
    ``conflicts`` each party sees only its own operations)."""
    start_s = (int(time.time()) // 300 + 30) * 300

    def rfc3339(t_s: float) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t_s))

    volume = {
        "volume": {
            "outline_circle": {
                "center": {"lat": 35.9, "lng": 39.0},
                "radius": {"value": 12, "units": "NM"},
            },
            "altitude_lower": {"value": 15000, "units": "FT"},
            "altitude_upper": {"value": 25000, "units": "FT"},
        },
        "time_start": {"value": rfc3339(start_s)},
        "time_end": {"value": rfc3339(start_s + 7200)},
    }
    with live.server.client(live.tokens[party]) as client:
        r = client.post(
            "/v1/operations",
            json={"id": ident, "kind": "reconnaissance", "volumes": [volume]},
        )
        assert r.status_code == 201, r.text
        assert r.json()["conflicted"] is True


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp("console-layout")
    db = f"sqlite:///{tmp / 'console.db'}"
    tokens = {
        "coalition": add_party(db, "coalition", "officer"),
        "russia": add_party(db, "russia", "officer", "ru"),
    }
    server = start_server(db, tmp / "server.log")
    stop = threading.Event()
    feeder: threading.Thread | None = None
    try:
        put_in_effect(server.url, tokens, sharing="conflicts")
        state = Live(server, tokens)
        _file_operation(state, "russia", "RUS-ISR")
        _file_operation(state, "coalition", "COA-ISR")
        feeder = threading.Thread(target=_feed, args=(state, stop), daemon=True)
        feeder.start()
        yield state
    finally:
        stop.set()
        if feeder is not None:
            feeder.join(timeout=30)
        server.stop()


def _send_message(live: Live, sender: str) -> None:
    """An urgent request for information to the other party: one more to acknowledge."""
    with live.server.client(live.tokens[sender]) as client:
        r = client.post(
            "/v1/hotline/messages",
            json={
                "to": OTHER[sender],
                "kind": "request_for_information",
                "priority": "urgent",
                "facts": {
                    "subject_kind": "aircraft",
                    "subject_id": "RF93" if sender == "coalition" else "VIPER11",
                    "question": "confirm_altitude",
                    "t_s": time.time() - 120,
                },
            },
        )
        assert r.status_code == 201, r.text


# -- what each check measures, in the page --------------------------------------------

# Every element of `root` that sticks out of it sideways, and the root's own overflow.
OVERFLOW_JS = """(selector) => {
  const root = document.querySelector(selector);
  const box = root.getBoundingClientRect();
  const out = [];
  if (root.scrollWidth > root.clientWidth) {
    out.push(`${selector} scrolls: ${root.scrollWidth} > ${root.clientWidth}`);
  }
  for (const el of root.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    if (el.closest('.evidence-map canvas, .maplibregl-control-container')) continue;
    if (r.left < box.left - 0.5 || r.right > box.right + 0.5) {
      const name = el.id ? `#${el.id}` : `${el.tagName.toLowerCase()}.${el.className}`;
      out.push(`${name}: ${Math.round(r.left)}..${Math.round(r.right)} outside `
        + `${Math.round(box.left)}..${Math.round(box.right)}`);
    }
  }
  return out;
}"""

# Every visible select too narrow for one of its options (the text measured in the
# select's own font; 24 px kept for the arrow).
SELECTS_JS = """(selector) => {
  const ctx = document.createElement('canvas').getContext('2d');
  const out = [];
  for (const sel of document.querySelectorAll(`${selector} select`)) {
    const r = sel.getBoundingClientRect();
    if (r.width === 0) continue;
    const style = getComputedStyle(sel);
    ctx.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
    const room = sel.clientWidth - parseFloat(style.paddingLeft)
      - parseFloat(style.paddingRight) - 24;
    for (const option of sel.options) {
      const need = ctx.measureText(option.text).width;
      if (need > room) {
        out.push(`${sel.id || sel.name}: "${option.text}" needs ${Math.ceil(need)}`
          + ` px, has ${Math.floor(room)}`);
      }
    }
  }
  return out;
}"""

# The boxes of the map's labels on screen, and of the symbols they must not cover.
LABELS_JS = """() => {
  const canvas = document.querySelector('#map canvas').getBoundingClientRect();
  const labels = [...document.querySelectorAll('#map .map-label')]
    .filter((el) => !el.hidden)
    .map((el) => {
      const r = el.getBoundingClientRect();
      return {text: el.textContent, kind: el.className,
              x0: r.left, y0: r.top, x1: r.right, y1: r.bottom};
    });
  const obstacles = window.dcf.mapView.labels.snapshot().obstacles.map((o) => ({
    x0: o.x0 + canvas.left, y0: o.y0 + canvas.top,
    x1: o.x1 + canvas.left, y1: o.y1 + canvas.top}));
  return {labels, obstacles};
}"""


def _intersects(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["x0"] < b["x1"]
        and b["x0"] < a["x1"]
        and a["y0"] < b["y1"]
        and (b["y0"] < a["y1"])
    )


def _check_labels(page: Any, where: str) -> list[dict[str, Any]]:
    """No map label covers another label or a symbol; returns the labels."""
    page.evaluate(
        "new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))"
    )
    got = page.evaluate(LABELS_JS)
    labels, obstacles = got["labels"], got["obstacles"]
    for i, a in enumerate(labels):
        for b in labels[i + 1 :]:
            assert not _intersects(a, b), f"{where}: {a} overlaps {b}"
        for o in obstacles:
            assert not _intersects(a, o), f"{where}: {a} covers a symbol at {o}"
    return labels


def _jump(page: Any, lon: float, lat: float, zoom: float) -> None:
    page.evaluate(
        """([lon, lat, zoom]) => new Promise((r) => {
             const map = window.dcf.mapView.map;
             map.jumpTo({center: [lon, lat], zoom});
             map.once('idle', r);
           })""",
        [lon, lat, zoom],
    )


def _open_panel(page: Any, name: str) -> None:
    page.click(f"#tabs button[data-tab='{name}']")
    page.wait_for_selector(f"#panel-{name}.active")
    if name == "incidents":
        page.locator("#incidents-list li.incident").first.click()
        page.wait_for_selector("#evidence-map canvas")
        page.wait_for_function(
            "window.dcf.evidenceMap() && window.dcf.evidenceMap().loaded()"
        )
        page.locator("#evidence-map").scroll_into_view_if_needed()
    if name == "operations":
        summary = page.locator("#operations-list details summary").first
        summary.click()


@pytest.fixture
def officers(browser: Any, live: Live, tmp_path: Path) -> Iterator[list[Console]]:
    opened: list[Console] = []
    yield opened
    for officer in opened:
        officer.close()


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "ru", "ar"])
def test_the_console_at_1280_by_800(
    lang: str, browser: Any, live: Live, officers: list[Console], tmp_path: Path
) -> None:
    party = OFFICER[lang]
    officer = Console(browser, live.server, tmp_path, f"{lang}-{party}")
    officers.append(officer)
    officer.sign_in(live.tokens[party], lang)
    page = officer.page
    page.wait_for_function("window.dcf.pairs().length === 1")
    page.locator("#incidents-list li.incident").first.wait_for(state="attached")

    # The top bar keeps its height (one row) when the pending counter appears.
    page.wait_for_function("document.fonts.status === 'loaded'")
    before = page.locator("#topbar").bounding_box()
    _send_message(live, OTHER[party])
    page.wait_for_function("document.querySelector('#counters').textContent !== ''")
    after = page.locator("#topbar").bounding_box()
    assert after["height"] == before["height"], (before, after)
    assert page.evaluate(
        "(() => { const t = document.querySelector('#topbar');"
        " return t.scrollWidth <= t.clientWidth; })()"
    )
    # The feeds and links indicator keeps the top bar on one row in each state it
    # can show. The states are dispatched as the stream would bring them (the feeds
    # here never go stale, and this server is not a node): a link up, a feed STALE,
    # a link down. Its panel fits its box.
    assert page.get_attribute("#status", "data-level") in {"ok", "none"}
    for level, action in _status_actions(party, OTHER[party]):
        page.evaluate("(action) => window.dcf.store.dispatch(action)", action)
        page.wait_for_selector(f"#status[data-level='{level}']")
        assert page.locator("#topbar").bounding_box()["height"] == before["height"]
        assert page.evaluate(
            "(() => { const t = document.querySelector('#topbar');"
            " return t.scrollWidth <= t.clientWidth; })()"
        ), level
    page.click("#status")
    page.wait_for_selector("#status-panel:not([hidden]) #status-links li.link")
    assert page.evaluate(OVERFLOW_JS, "#status-panel") == []
    officer.screenshot("status")
    page.click("#status-close")
    for action in _status_restored(party):  # the screenshots below say
        page.evaluate("(action) => window.dcf.store.dispatch(action)", action)  # OK
    page.wait_for_selector("#status[data-level='ok']")

    # The tabs on one row, each showing its whole name.
    tops = {round(b["y"]) for b in _boxes(page, "#tabs button")}
    assert len(tops) == 1, tops
    cut = page.evaluate(
        "[...document.querySelectorAll('#tabs button')]"
        ".filter((b) => b.scrollWidth > b.clientWidth).map((b) => b.dataset.tab)"
    )
    assert cut == [], cut

    # Each panel: nothing wider than the side column, every select wide enough.
    for name in PANELS:
        _open_panel(page, name)
        assert page.evaluate(OVERFLOW_JS, "#side") == [], name
        assert page.evaluate(SELECTS_JS, "#side") == [], name
        officer.screenshot(name)

    # The map's labels: none overlaps another or a symbol, where the encounter is
    # (the aircraft, its incident ring, the CPA point and the conflict line meet) and
    # from further out, where they all fall within a few pixels.
    for lon, lat, zoom in ((38.6, 35.88, 9.0), (38.6, 35.88, 7.0), (38.9, 35.3, 5.6)):
        _jump(page, lon, lat, zoom)
        labels = _check_labels(page, f"zoom {zoom}")
        texts = " ".join(label["text"] for label in labels)
        assert "CPA " in texts, texts  # the conflict's label is never dropped
        own = "VIPER11" if party == "coalition" else "RF93"
        assert own in texts, texts  # nor the label of an aircraft in conflict
    officer.screenshot("encounter")
    # Country names in the language, among the labels (zoomed out, they are shown).
    assert any(SYRIA[lang] == label["text"] for label in labels), labels

    # Text in the language: units, party names from the protocol, country names.
    page.click("#tabs button[data-tab='protocol']")
    facts = page.inner_text("#protocol-view dl.facts")
    assert NM[lang] in facts and MINUTES[lang] in facts, facts
    if lang != "en":
        assert not re.search(r"\d (NM|ft|min|s)\b", facts), facts
    assert NAMES[OTHER[party]] in page.inner_text("#alerts-list")
    assert NAMES[party] in page.inner_text("#who")

    # Time fields: ISO 8601 UTC text, never the browser's date pickers.
    page.click("#tabs button[data-tab='operations']")
    for field in ("#op-start", "#op-end"):
        assert ISO_UTC.match(page.input_value(field)), page.input_value(field)
    pickers = page.locator("input[type=date], input[type=datetime-local]").count()
    assert pickers == 0
    check = page.inner_text("#operations-list li.operation .conflicts")
    if lang != "en":
        assert not re.search(r"\d (NM|ft)\b", check), check

    # The evidence map has the base map: land, borders and rivers drawn. The
    # violations' depths are named.
    page.click("#tabs button[data-tab='incidents']")
    rows = page.inner_text("#incidents-list")
    assert any(phrase in rows for phrase in DEPTH[lang]), rows
    drawn = page.evaluate(
        """() => {
          const map = window.dcf.evidenceMap();
          const layers = map.getStyle().layers.map((l) => l.id);
          return {layers, land: map.queryRenderedFeatures({layers: ['land']}).length};
        }"""
    )
    assert {"sea", "land", "borders", "rivers"} <= set(drawn["layers"]), drawn
    assert drawn["land"] > 0


def _status_actions(party: str, peer: str) -> list[tuple[str, dict[str, Any]]]:
    """What the stream would say: the link to ``peer`` up, ``party``'s feed stale,
    the link down (stamped an hour ahead: the console's polls, older, keep them)."""
    later_s = time.time() + 3600
    link = {
        "party": peer,
        "since_t_s": later_s,
        "checked_t_s": later_s,
        "queued": 0,
        "oldest_queued_t_s": None,
    }
    down = {**link, "status": "down", "reason": "[Errno 111] Connection refused"}
    down.update(checked_t_s=later_s + 1, queued=3, oldest_queued_t_s=later_s)
    stale = {
        "type": "feed.stale",
        "t_s": later_s,
        "data": {
            "party": party,
            "newest_t_s": later_s - 75,
            "lag_s": 75,
            "stale_after_s": 60,
        },
    }
    return [
        ("ok", {"type": "link/changed", "link": {**link, "status": "up"}}),
        ("stale", {"type": "feed/event", "event": stale}),
        ("down", {"type": "link/changed", "link": down}),
    ]


def _status_restored(party: str) -> list[dict[str, Any]]:
    """Undo :func:`_status_actions`: not a node, the feed live again."""
    later_s = time.time() + 3600
    resumed = {
        "type": "feed.resumed",
        "t_s": later_s + 2,
        "data": {
            "party": party,
            "newest_t_s": later_s,
            "lag_s": 2,
            "stale_after_s": 60,
        },
    }
    return [
        {"type": "links/loaded", "links": None},
        {"type": "feed/event", "event": resumed},
    ]


def _boxes(page: Any, selector: str) -> list[dict[str, float]]:
    return [
        page.locator(selector).nth(i).bounding_box()
        for i in range(page.locator(selector).count())
    ]
