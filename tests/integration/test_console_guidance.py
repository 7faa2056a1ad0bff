"""The console's manoeuvre guidance (#17.5) end to end: a real server process on
SQLite, Debian's Chromium driven by Playwright, in English, Russian and Arabic.

The encounter is made to last: VIPER7 (coalition) and RF7 (russia) fly side by side,
0.3 NM apart at the same level, speed and track, already inside DO-365's well-clear
volume. The alert is raised at the first tick after both are posted, with the
guidance of that moment (recovery bands; the preferred resolution a turn away), and
it stays as long as both are heard: the protocol keeps silent tracks an hour
(``stale_after_s``), so nothing clears while three consoles sign in one after the
other on a loaded machine. Every wait is on a condition, never a fixed sleep.

Set ``DECONFLICTION_SCREENSHOTS`` to keep the screenshots (docs/img/console-guidance
is taken that way).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from deconfliction.hotline.templates import render
from tests.conftest import Server, add_party, start_server
from tests.integration.helpers import flight, protocol_text
from tests.integration.test_console import (  # noqa: F401  (browser is a fixture)
    STATIC,
    WAIT_MS,
    Console,
    browser,
)

pytestmark = pytest.mark.slow

LANGS = ("en", "ru", "ar")
GS_KT = 300.0


def _protocol(version: int = 1) -> str:
    text = protocol_text(version, "conflicts").replace(
        "stale_after_s = 60", "stale_after_s = 3600"
    )
    assert "stale_after_s = 3600" in text, "the shipped protocol changed"
    return text + '\n[guidance]\nconfig = "do-365b"\n'


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[Server, dict[str, str]]]:
    """A server on a fresh SQLite file, two parties, guidance in the protocol."""
    db = f"sqlite:///{tmp_path / 'guidance.db'}"
    tokens = {
        "coalition": add_party(db, "coalition", "officer"),
        "russia": add_party(db, "russia", "officer", "ru"),
    }
    srv = start_server(db, tmp_path / "server.log")
    try:
        r = httpx.post(
            f"{srv.url}/v1/protocols",
            content=_protocol().encode(),
            headers={
                "Authorization": f"Bearer {tokens['coalition']}",
                "content-type": "application/toml",
            },
        )
        assert r.status_code == 201, r.text
        r = httpx.post(
            f"{srv.url}/v1/protocols/euphrates-2017/versions/1/accept",
            headers={"Authorization": f"Bearer {tokens['russia']}"},
        )
        assert r.json()["status"] == "in_effect", r.text
        yield srv, tokens
    finally:
        srv.stop()


def _side_by_side(server: Server, tokens: dict[str, str]) -> dict[str, Any]:
    """Post the formation; the coalition's alert once it carries its guidance."""
    now = time.time()
    viper = flight("VIPER7", 35.30, 38.000, 0.0, GS_KT, 25000.0, now - 25, 6)
    rf = flight("RF7", 35.30, 38.006, 0.0, GS_KT, 25000.0, now - 25, 6)
    for party, batch, rows in (("coalition", "v7", viper), ("russia", "r7", rf)):
        with server.client(tokens[party]) as client:
            r = client.post("/v1/tracks", json={"batch_id": batch, "positions": rows})
            assert r.is_success, r.text
    deadline = time.monotonic() + WAIT_MS / 1000
    with server.client(tokens["coalition"]) as client:
        while True:
            alerts = client.get("/v1/alerts").json()
            if alerts and any(s.get("guidance") for s in alerts[0]["aircraft"]):
                return dict(alerts[0])
            assert time.monotonic() < deadline, f"no alert with guidance: {alerts}"
            time.sleep(0.2)


def _catalog(lang: str) -> dict[str, str]:
    return dict(json.loads((STATIC / "i18n" / f"{lang}.json").read_text("utf-8")))


def _words(lang: str, resolution: dict[str, Any]) -> str:
    """What the console must say of the direction's preferred resolution."""
    side = resolution["preferred"]
    heading = round(resolution[side]) % 360 or 360
    key = "guidance.turn_right" if side == "right" else "guidance.turn_left"
    return _catalog(lang)[key].replace("{target}", f"{heading:03d}°")


# What the console shows of the guidance and what it shows it from, read in one go:
# the view is rebuilt as the aircraft moves (every tick), so element by element
# reads could straddle two versions.
SNAPSHOT_JS = """(alertId) => {
  const state = window.dcf.store.state;
  const alert = state.alerts.get(alertId);
  const side = alert.aircraft.find((s) => s.party === state.me.party_id);
  const view = document.querySelector('.guidance');
  if (!view) return null;
  const ring = view.querySelector('.guidance-ring').getBoundingClientRect();
  const canvas = document.querySelector('#map canvas').getBoundingClientRect();
  const track = state.tracks.get(side.party + '/' + side.id);
  const at = window.dcf.mapView.map.project([track.lon, track.lat]);
  const cx = ring.x + ring.width / 2, cy = ring.y + ring.height / 2;
  const words = view.querySelector('.guidance-words');
  return {
    guidance: side.guidance,
    aircraft: view.dataset.aircraft,
    arcs: [...view.querySelectorAll('.guidance-ring path')].map((p) => [
      Number(p.dataset.from), Number(p.dataset.to), p.dataset.region,
      p.getAttribute('fill')]),
    track: view.querySelectorAll('.guidance-ring .guidance-track').length,
    preferred: view.querySelectorAll('.guidance-ring .guidance-resolution').length,
    strips: ['altitude', 'vertical_speed'].map((n) =>
      view.querySelectorAll('.strip-' + n + ' rect[data-region]').length),
    words: words.textContent.trim(),
    wordsDirection: getComputedStyle(words).direction,
    advice: view.querySelector('.guidance-advice').textContent.trim(),
    ring: [ring.x, ring.y, ring.width, ring.height],
    canvas: [canvas.x, canvas.y, canvas.width, canvas.height],
    centreOffset: [cx - (canvas.x + at.x), cy - (canvas.y + at.y)],
    centreOnMap: document.elementFromPoint(cx, cy)?.closest('#map') !== null,
  };
}"""


def test_the_ring_in_three_languages(
    browser: Any,  # noqa: F811
    live: tuple[Server, dict[str, str]],
    tmp_path: Path,
) -> None:
    server, tokens = live
    alert = _side_by_side(server, tokens)
    mine = next(s for s in alert["aircraft"] if s["party"] == "coalition")
    guidance = mine["guidance"]
    assert (
        guidance["resolution"]["direction_deg"]["recovery"] is True
    )  # already inside well-clear
    regions = {region for _, _, region in guidance["direction_deg"]}
    assert {"RECOVERY", "NEAR"} <= regions, guidance["direction_deg"]

    for lang in LANGS:
        officer = Console(browser, server, tmp_path, f"guidance-{lang}")
        try:
            officer.sign_in(tokens["coalition"], lang)
            page = officer.page
            assert page.evaluate("document.documentElement.lang") == lang
            want_dir = "rtl" if lang == "ar" else "ltr"
            assert page.evaluate("document.documentElement.dir") == want_dir

            row = page.locator("#alerts-list li.alert").first
            row.wait_for()
            assert page.locator(".guidance").count() == 0  # only once clicked
            row.locator(".pair").click()  # not a button of the row
            page.locator(".guidance").wait_for()
            # The console eases to the aircraft; then the view stays on it.
            page.wait_for_function("() => !window.dcf.mapView.map.isMoving()")
            got = page.evaluate(SNAPSHOT_JS, alert["id"])
            assert got is not None and got["aircraft"] == "VIPER7"

            # Centred on the own aircraft, on the map, not under a panel (right to
            # left too: the sidebar is then on the left).
            dx, dy = got["centreOffset"]
            assert abs(dx) <= 2 and abs(dy) <= 2, got["centreOffset"]
            assert got["centreOnMap"], (got["ring"], got["canvas"])

            # The ring: one arc per direction band, coloured by its region, in
            # the guidance's order; the current track and the preferred heading.
            shown = got["guidance"]
            assert [a[:3] for a in got["arcs"]] == [
                [f, t, r] for f, t, r in shown["direction_deg"] if t > f
            ]
            colour = {region: fill for _, _, region, fill in got["arcs"]}
            assert len(set(colour.values())) == len(colour) >= 2, colour
            assert got["track"] == 1 and got["preferred"] == 1
            # The altitude and vertical-speed strips, each band a coloured rect.
            assert all(n >= 1 for n in got["strips"]), got["strips"]

            # The preferred resolution in words, in the officer's language, and
            # the reminder that the officer decides.
            resolution = shown["resolution"]["direction_deg"]
            assert got["words"] == _words(lang, resolution)
            assert got["advice"] == _catalog(lang)["guidance.advice"]
            assert got["wordsDirection"] == want_dir
            officer.screenshot("ring")
        finally:
            officer.close()


def _composer(page: Any) -> dict[str, str]:
    """The composer's fields, by name."""
    return dict(
        page.evaluate(
            "() => Object.fromEntries([...document.querySelectorAll('#composer "
            "[name]')].map((el) => [el.name, el.value]))"
        )
    )


def _rendered(kind: str, facts: dict[str, Any], lang: str) -> list[str]:
    """The lines the server's template writes for these facts."""
    return render(kind, facts, lang).body.splitlines()


def test_manoeuvre_messages_composed_from_the_guidance(
    browser: Any,  # noqa: F811
    live: tuple[Server, dict[str, str]],
    tmp_path: Path,
) -> None:
    server, tokens = live
    alert = _side_by_side(server, tokens)
    russia = Console(browser, server, tmp_path, "russia").sign_in(
        tokens["russia"], "ru"
    )
    coalition = Console(browser, server, tmp_path, "coalition").sign_in(
        tokens["coalition"], "en"
    )
    try:
        page = coalition.page
        row = page.locator("#alerts-list li.alert").first
        row.locator("button.announce-manoeuvre").wait_for()
        # Only the party whose aircraft has guidance is offered the buttons: the
        # Russian side of this alert has its own, and never the coalition's.
        r_row = russia.page.locator("#alerts-list li.alert").first
        r_row.locator("button.announce-manoeuvre").wait_for()

        # Announce: our preferred resolution, proposed; the officer decides on
        # five degrees more and says why.
        row.locator("button.announce-manoeuvre").click()
        page.wait_for_selector("#composer-manoeuvre")
        resolution = page.evaluate(
            "(id) => window.dcf.store.state.alerts.get(id).aircraft"
            ".find((s) => s.party === 'coalition').guidance.resolution.direction_deg",
            alert["id"],
        )
        side = resolution["preferred"]
        heading = round(resolution[side]) % 360 or 360
        proposed = _composer(page)
        assert proposed["kind"] == "manoeuvre_intention"
        assert proposed["to"] == "russia" and proposed["priority"] == "urgent"
        assert proposed["alert_id"] == alert["id"]
        assert proposed["aircraft_id"] == "VIPER7"
        assert proposed["manoeuvre"] == f"turn_{side}"
        assert proposed["target"] == str(heading)
        label = page.locator("#composer [data-field=target] label").inner_text()
        assert label == _catalog("en")["composer.target_heading_deg"]
        decided = (heading + (5 if side == "right" else -5)) % 360 or 360
        page.fill("#composer-target", str(decided))
        page.fill("#composer-remarks_text", "Traffic on our right.")
        page.click("#composer-send")
        page.wait_for_selector("#messages-list li.message.outgoing")
        coalition.screenshot("announce")

        # The Russian officer reads it in Russian, with the officer's heading, and
        # that a person decided; and acknowledges it.
        facts = {
            "alert_id": alert["id"],
            "aircraft_id": "VIPER7",
            "manoeuvre": f"turn_{side}",
            "heading_deg": float(decided),
        }
        incoming = russia.page.locator("#messages-list li.message.incoming.pending")
        incoming.wait_for()
        text = incoming.locator(".body").inner_text()
        for line in _rendered("manoeuvre_intention", facts, "ru"):
            assert line in text, (line, text)
        assert f"{decided:03d}°" in text
        assert "Traffic on our right." in incoming.inner_text()
        incoming.locator("button.ack").click()
        russia.page.wait_for_selector(
            "#messages-list li.message.incoming:not(.pending)"
        )
        page.wait_for_selector("#messages-list li.message.outgoing .receipt.ok")

        # Request: the manoeuvre that complements ours, without a target (the
        # other aircraft's bands were not computed for us); the officer may add one.
        row.locator("button.request-manoeuvre").click()
        page.wait_for_function(
            "() => document.querySelector('#composer-kind')?.value"
            " === 'request_for_manoeuvre'"
        )
        proposed = _composer(page)
        assert proposed["manoeuvre"] == f"turn_{side}"  # head on, each turns alike
        assert proposed["target"] == "" and "aircraft_id" not in proposed
        page.click("#composer-send")
        request = russia.page.locator(
            "#messages-list li.message.incoming.pending"
        ).first
        request.wait_for()
        facts = {"alert_id": alert["id"], "manoeuvre": f"turn_{side}"}
        text = request.locator(".body").inner_text()
        for line in _rendered("request_for_manoeuvre", facts, "ru"):
            assert line in text, (line, text)
        russia.screenshot("request")

        # A bad target is refused by the server and said in the form.
        row.locator("button.announce-manoeuvre").click()
        page.wait_for_selector("#composer-target")
        page.fill("#composer-target", "400")
        page.click("#composer-send")
        errors = page.locator("#composer-errors")
        errors.locator("div").first.wait_for()
        assert "heading_deg" in errors.inner_text()
    finally:
        coalition.close()
        russia.close()
