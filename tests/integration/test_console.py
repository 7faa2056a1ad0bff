"""The console (``/``): the shipped assets, the routes, and end to end in Debian's
Chromium against a real server on loopback, signed in as each of two parties.

The end-to-end tests need ``/usr/bin/chromium`` (``apt-get install chromium``; never a
downloaded browser). Without it they are skipped with a message saying so; with
``CI=true`` a missing Chromium fails the run. Screenshots go to each test's
``tmp_path``; set ``DECONFLICTION_SCREENSHOTS`` to a directory to keep a copy there.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import create_engine

from deconfliction import web
from deconfliction.api import errors
from deconfliction.api.routes import console
from deconfliction.domain.geodesy import destination
from deconfliction.domain.operation_kinds import OPERATION_KINDS
from deconfliction.service.store_health import StoreHealth
from tests.conftest import Server, add_party, start_server
from tests.integration.helpers import encounter, flight, put_in_effect

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 800}
WAIT_MS = 20_000  # detection ticks every 0.5 s in tests; a conflict shows within a few
REPO = Path(__file__).resolve().parents[2]
STATIC = web.static_path()
LANGS = ("en", "ru", "ar")


# -- the shipped assets (fast: no browser, no server) --------------------------------


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href") and value is not None:
                self.urls.append(value)


def _is_local(url: str) -> bool:
    """A URL that can only name this server (relative, or a data: URL)."""
    return url.startswith("data:") or not re.match(
        r"^([a-z][a-z0-9+.-]*:|//)", url, re.I
    )


class TestShippedAssets:
    def test_built_files_are_in_the_package(self) -> None:
        for name in ("index.html", "app.js", "app.css", "LICENSES.txt"):
            assert (STATIC / name).is_file(), f"{name} missing: run web/build.sh"
        for lang in LANGS:
            assert (STATIC / "i18n" / f"{lang}.json").is_file()
        assert sorted(p.name for p in (STATIC / "fonts").glob("*.woff2"))

    def test_index_references_only_local_files(self) -> None:
        parser = _Refs()
        parser.feed((STATIC / "index.html").read_text(encoding="utf-8"))
        assert parser.urls, "index.html references nothing?"
        for url in parser.urls:
            assert _is_local(url), url
            if not url.startswith("data:"):
                assert (STATIC.parent / url).is_file(), url
        css = (STATIC / "app.css").read_text(encoding="utf-8")
        for url in re.findall(r"url\(\s*['\"]?([^'\")]+)", css):
            assert _is_local(url), url
            if not url.startswith("data:"):
                assert (STATIC / url).is_file(), url
        # No absolute http(s) URL the bundle could load (licence texts name sites, but
        # as comments they are not in the minified bundle).
        js = (STATIC / "app.js").read_text(encoding="utf-8")
        assert "fonts.googleapis" not in js and "api.maptiler" not in js

    def test_catalogs_agree(self) -> None:
        catalogs = {
            lang: json.loads((STATIC / "i18n" / f"{lang}.json").read_text("utf-8"))
            for lang in LANGS
        }
        keys = set(catalogs["en"])
        for lang, catalog in catalogs.items():
            assert set(catalog) == keys, f"{lang}: {sorted(set(catalog) ^ keys)}"
            for key, text in catalog.items():
                wanted = set(re.findall(r"\{(\w+)\}", catalogs["en"][key]))
                assert set(re.findall(r"\{(\w+)\}", text)) == wanted, (lang, key)
                assert text.strip(), (lang, key)

    def test_every_string_the_source_uses_is_in_the_catalog(self) -> None:
        source = REPO / "web" / "src"
        if not source.is_dir():
            pytest.skip("web/src is not in this tree (an installed package)")
        keys = set(json.loads((STATIC / "i18n" / "en.json").read_text("utf-8")))
        used: set[str] = set()
        for path in [*source.glob("*.js"), *source.glob("panels/*.js")]:
            text = path.read_text(encoding="utf-8")
            used |= set(re.findall(r"\bt\(\s*\"([a-z_.]+)\"", text))
        used |= set(
            re.findall(
                r'data-i18n="([a-z_.]+)"',
                (source / "index.html").read_text(encoding="utf-8"),
            )
        )
        assert used, "no strings found: has the source layout changed?"
        assert used <= keys, sorted(used - keys)

    def test_operation_kinds_are_the_servers(self) -> None:
        # One list of kinds everywhere: the operation form offers the server's, in
        # its order, each with a label in every language.
        source = REPO / "web" / "src" / "panels" / "operations.js"
        if not source.is_file():
            pytest.skip("web/src is not in this tree (an installed package)")
        block = re.search(r"const KINDS = \[(.*?)\];", source.read_text("utf-8"), re.S)
        assert block, "KINDS not found in operations.js: has the source changed?"
        assert tuple(re.findall(r'"(\w+)"', block.group(1))) == OPERATION_KINDS
        for lang in LANGS:
            catalog = json.loads((STATIC / "i18n" / f"{lang}.json").read_text("utf-8"))
            assert all(f"opkind.{kind}" in catalog for kind in OPERATION_KINDS), lang

    def test_built_catalogs_match_the_source(self) -> None:
        source = REPO / "web" / "src" / "i18n"
        if not source.is_dir():
            pytest.skip("web/src is not in this tree (an installed package)")
        for lang in LANGS:
            built = json.loads((STATIC / "i18n" / f"{lang}.json").read_text("utf-8"))
            src = json.loads((source / f"{lang}.json").read_text("utf-8"))
            assert built == src, (
                f"{lang}: the shipped catalog is stale: run web/build.sh"
            )


async def _get_all(paths: list[str]) -> dict[str, httpx.Response]:
    app = FastAPI()
    # The console's routes touch no store: a store of nothing, for the error handlers.
    errors.install(app, StoreHealth(create_engine("sqlite://")))
    app.include_router(console.router)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://console") as c:
        return {p: await c.get(p) for p in paths}


class TestConsoleRoutes:
    def test_page_assets_and_map_data(self) -> None:
        got = asyncio.run(
            _get_all(
                [
                    "/",
                    "/static/app.js",
                    "/static/i18n/ar.json",
                    "/geo/countries.geojson",
                    "/geo/rivers.geojson",
                ]
            )
        )
        assert got["/"].headers["content-type"] == "text/html; charset=utf-8"
        assert "<html" in got["/"].text
        for response in got.values():
            assert response.status_code == 200
            assert response.headers["cache-control"] == "no-cache"
        assert (
            got["/static/app.js"].headers["content-type"].startswith("text/javascript")
        )
        countries = got["/geo/countries.geojson"].json()
        assert any(f["properties"]["name"] == "Syria" for f in countries["features"])
        assert got["/geo/rivers.geojson"].headers["content-type"] == (
            "application/geo+json"
        )

    def test_nothing_else_is_served(self) -> None:
        got = asyncio.run(
            _get_all(
                [
                    "/geo/README.md",
                    "/geo/..%2F..%2Fconfig.py",
                    "/static/../api/app.py",
                    "/static/nope.js",
                ]
            )
        )
        for path, response in got.items():
            assert response.status_code == 404, path
            assert response.headers["content-type"] == "application/problem+json"


# -- end to end in Chromium ------------------------------------------------------------


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    message = (
        f"{CHROMIUM} is not installed (apt-get install chromium; scripts/setup does "
        "it): the console's browser tests need Debian's Chromium"
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("CI requires Chromium: " + message)
    pytest.skip(message)


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
    """A server on a fresh SQLite file, the two parties, the protocol in effect."""
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


class Console:
    """One browser context signed in as one party; records every request."""

    def __init__(self, browser: Any, server: Server, tmp_path: Path, name: str):
        self.server = server
        self.tmp_path = tmp_path
        self.name = name
        # Playwright's wait_for_function compiles its predicate with eval, which
        # the console's Content-Security-Policy forbids: these tests bypass it, and
        # tests/security/test_hardening_console_csp.py runs the console under it.
        self.context = browser.new_context(
            viewport=VIEWPORT, locale="en-GB", bypass_csp=True
        )
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.set_default_timeout(WAIT_MS)

    def sign_in(self, token: str, lang: str = "en") -> Console:
        page = self.page
        page.goto(self.server.url + "/")
        page.select_option("#signin-lang", lang)
        page.fill("#signin-token", token)
        page.click("#signin-submit")
        page.wait_for_selector("body[data-ready='1']")
        page.wait_for_function("window.dcf.stats.connected === true")
        return self

    def outside_requests(self) -> list[str]:
        """Requests to anywhere but this server (data: and blob: URLs are local)."""
        origin = self.server.url + "/"
        return [
            u
            for u in self.requests
            if not (u.startswith(origin) or u.startswith(("data:", "blob:")))
        ]

    def screenshot(self, name: str) -> Path:
        path = self.tmp_path / f"{self.name}-{name}.png"
        self.page.screenshot(path=str(path))
        keep = os.environ.get("DECONFLICTION_SCREENSHOTS")
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, Path(keep) / path.name)
        return path

    def close(self) -> None:
        self.context.close()
        assert not self.errors, f"{self.name}: errors in the page: {self.errors}"
        assert not self.outside_requests(), self.outside_requests()


@pytest.fixture
def consoles(
    browser: Any, live: tuple[Server, dict[str, str]], tmp_path: Path
) -> Iterator[dict[str, Console]]:
    server, _ = live
    opened = {
        "coalition": Console(browser, server, tmp_path, "coalition"),
        "russia": Console(browser, server, tmp_path, "russia"),
    }
    yield opened
    for c in opened.values():
        c.close()


def _post(server: Server, token: str, batch: str, positions: list[Any]) -> None:
    with server.client(token) as client:
        r = client.post("/v1/tracks", json={"batch_id": batch, "positions": positions})
        assert r.is_success, r.text


def _at(positions: list[dict[str, Any]], t_s: float) -> list[dict[str, Any]]:
    """The positions moved in time so that the last is at ``t_s``."""
    shift = t_s - positions[-1]["time"]
    return [{**p, "time": p["time"] + shift} for p in positions]


def _alert_when(server: Server, token: str, holds: Any) -> dict[str, Any]:
    """The party's one alert once ``holds(alert)`` (detection ticks every 0.5 s)."""
    deadline = time.monotonic() + WAIT_MS / 1000
    with server.client(token) as client:
        while True:
            alerts = client.get("/v1/alerts").json()
            if len(alerts) == 1 and holds(alerts[0]):
                return dict(alerts[0])
            assert time.monotonic() < deadline, f"alert not as wanted: {alerts}"
            time.sleep(0.2)


def _canvas_point(page: Any, lon_deg: float, lat_deg: float) -> tuple[float, float]:
    """Where a position is on the screen."""
    box = page.locator("#map canvas").bounding_box()
    x, y = page.evaluate(
        "([lon, lat]) => { const p = window.dcf.mapView.map.project([lon, lat]);"
        " return [p.x, p.y]; }",
        [lon_deg, lat_deg],
    )
    return box["x"] + x, box["y"] + y


@pytest.mark.slow
class TestTwoDutyOfficers:
    def test_conflict_appears_for_both_and_the_hotline_works(
        self, consoles: dict[str, Console], live: tuple[Server, dict[str, str]]
    ) -> None:
        server, tokens = live
        coalition = consoles["coalition"].sign_in(tokens["coalition"], "en")
        russia = consoles["russia"].sign_in(tokens["russia"], "ru")
        assert russia.page.evaluate("document.documentElement.lang") == "ru"

        viper, rf = encounter(time.time())
        _post(server, tokens["coalition"], "v1", viper)
        _post(server, tokens["russia"], "r1", rf)

        # The conflict, for both: own aircraft named, the other reduced; on the map
        # a line from the own aircraft with the time to CPA.
        c_row = coalition.page.locator("#alerts-list li.alert").first
        r_row = russia.page.locator("#alerts-list li.alert").first
        c_row.wait_for()
        r_row.wait_for()
        assert "VIPER11" in c_row.inner_text()
        assert "RF93" not in c_row.inner_text()
        assert "RF93" in r_row.inner_text()
        for officer in (coalition, russia):
            officer.page.wait_for_function("window.dcf.pairs().length === 1")
            pair = officer.page.evaluate("window.dcf.pairs()[0]")
            assert pair["label"].startswith("CPA ")
            assert pair["level"] in {"conflict", "advisory", "warning"}
        # The coalition's own line violation is an incident on its list and map.
        coalition.page.locator("#incidents-list li.incident").first.wait_for(
            state="attached"
        )

        # Acknowledged on the console with the keyboard shortcut.
        coalition.page.keyboard.press("a")
        coalition.page.wait_for_selector("#alerts-list li.alert.acked")
        coalition.screenshot("conflict")
        russia.screenshot("conflict")

        # The coalition writes free text; Russia acknowledges it with the button.
        page = coalition.page
        page.select_option("#composer-kind", "free_text")
        page.select_option("#composer-to", "russia")
        page.select_option("#composer-priority", "flash")
        page.fill("#composer-text", "VIPER11 turns east now. Confirm RF93 intentions.")
        page.click("#composer-send")
        incoming = russia.page.locator("#messages-list li.message.incoming.pending")
        incoming.wait_for()
        assert "VIPER11 turns east now" in incoming.inner_text()
        assert incoming.locator(".countdown").inner_text().startswith("(")
        incoming.locator("button.ack").click()
        russia.page.wait_for_selector(
            "#messages-list li.message.incoming:not(.pending)"
        )
        page.wait_for_selector("#messages-list li.message.outgoing .receipt.ok")

        # Russia replies from a template; the coalition acknowledges with "k".
        rp = russia.page
        rp.locator("#messages-list li.message.incoming button.secondary").click()
        rp.select_option("#composer-answer", "will_investigate")
        rp.click("#composer-send")
        reply = page.locator("#messages-list li.message.incoming.pending")
        reply.wait_for()
        assert "We will investigate" in reply.inner_text()
        page.keyboard.press("k")
        page.wait_for_selector("#messages-list li.message.incoming:not(.pending)")
        rp.wait_for_selector("#messages-list li.message.outgoing .receipt.ok")
        page.evaluate(
            "window.dcf.mapView.map.jumpTo({center: [38.75, 35.84], zoom: 8.2})"
        )
        page.evaluate("new Promise((r) => window.dcf.mapView.map.once('idle', r))")
        coalition.screenshot("hotline")
        russia.screenshot("hotline")

    def test_file_operations_by_drawing_them(
        self, consoles: dict[str, Console], live: tuple[Server, dict[str, str]]
    ) -> None:
        server, tokens = live
        officer = consoles["coalition"].sign_in(tokens["coalition"])
        page = officer.page

        page.evaluate(
            "window.dcf.mapView.map.jumpTo({center: [40.4, 36.0], zoom: 6.6})"
        )
        page.wait_for_function("!window.dcf.mapView.map.isMoving()")
        # A polygon: four corners clicked, Enter to finish (well east of the river).
        page.click("#draw-polygon")
        corners = [(41.2, 36.0), (41.8, 36.0), (41.8, 36.5), (41.2, 36.5)]
        for lon, lat in corners:
            page.mouse.click(*_canvas_point(page, lon, lat))
        page.keyboard.press("Enter")
        assert "4" in page.locator("#operation-shape").inner_text()
        page.fill("#op-id", "CAP-NORTH")
        page.select_option("#op-kind", "air_patrol")
        page.fill("#op-lower", "20000")
        page.fill("#op-upper", "26000")
        page.click("#operation-file")
        page.wait_for_selector("#operation-result .filed")
        assert "CAP-NORTH" in page.locator("#operation-result").inner_text()

        # A circle: pressed at the centre, dragged to the radius, across the river.
        page.click("#draw-circle")
        cx, cy = _canvas_point(page, 39.0, 35.9)
        ex, ey = _canvas_point(page, 39.25, 35.9)
        page.mouse.move(cx, cy)
        page.mouse.down()
        page.mouse.move((cx + ex) / 2, cy, steps=3)
        page.mouse.move(ex, ey, steps=3)
        page.mouse.up()
        page.fill("#op-id", "ISR-RAQQA")
        page.select_option("#op-kind", "reconnaissance")
        page.click("#operation-file")
        page.wait_for_selector("#operation-result .check.bad")
        result = page.locator("#operation-result").inner_text()
        assert "ISR-RAQQA" in result
        page.wait_for_selector("#operations-list li.operation >> text=ISR-RAQQA")
        officer.screenshot("operations")

        with server.client(tokens["coalition"]) as client:
            ops = {o["id"]: o for o in client.get("/v1/operations").json()}
        polygon = ops["CAP-NORTH"]["operation"]["volumes"][0]["volume"]
        vertices = polygon["outline_polygon"]["vertices"]
        assert len(vertices) == 4
        for v, (lon, lat) in zip(vertices, corners, strict=True):
            assert abs(v["lat"] - lat) < 0.02 and abs(v["lng"] - lon) < 0.02
        assert polygon["altitude_lower"]["value"] == 20000
        circle = ops["ISR-RAQQA"]["operation"]["volumes"][0]["volume"]
        radius_nm = circle["outline_circle"]["radius"]["value"]
        assert 11.0 < radius_nm < 13.5  # 0.25 deg of longitude at 35.9 N: 12.2 NM
        assert ops["ISR-RAQQA"]["conflicted"] is True  # it crosses the Euphrates line
        assert any(c["kind"] == "line" for c in ops["ISR-RAQQA"]["conflicts"])

    def test_arabic_lays_the_page_out_right_to_left(
        self, consoles: dict[str, Console], live: tuple[Server, dict[str, str]]
    ) -> None:
        server, tokens = live
        with server.client(tokens["coalition"]) as client:
            sent = client.post(
                "/v1/hotline/messages",
                json={
                    "to": "russia",
                    "kind": "request_for_information",
                    "priority": "urgent",
                    "facts": {
                        "subject_kind": "aircraft",
                        "subject_id": "RF93",
                        "question": "confirm_altitude",
                        "t_s": time.time() - 120,
                    },
                },
            )
            assert sent.status_code == 201, sent.text
        officer = consoles["russia"].sign_in(tokens["russia"], "en")
        page = officer.page
        page.locator("#messages-list li.message").first.wait_for()
        assert page.evaluate("document.documentElement.dir") == "ltr"

        page.select_option("#lang", "ar")
        page.wait_for_function("document.documentElement.dir === 'rtl'")
        assert page.evaluate("document.documentElement.lang") == "ar"
        body = page.locator("#messages-list li.message .body").first
        page.wait_for_function(
            "document.querySelector('#messages-list li.message .body')"
            ".getAttribute('dir') === 'rtl'"
        )
        assert body.get_attribute("lang") == "ar"
        assert re.search(r"[\u0600-\u06ff]", body.inner_text()), body.inner_text()
        assert "RF93" in body.inner_text()  # an isolate keeps the identifier intact
        # The whole layout mirrors: the side panels are now left of the map.
        side = page.locator("#side").bounding_box()
        map_box = page.locator("#map").bounding_box()
        assert side["x"] < map_box["x"]
        assert (
            page.locator("#tabs button[data-tab='hotline']")
            .inner_text()
            .startswith("الخط الساخن")
        )
        officer.screenshot("arabic")
        # Back to Russian: the server renders the same message in Russian.
        page.select_option("#lang", "ru")
        page.wait_for_function("document.documentElement.dir === 'ltr'")
        page.wait_for_function(
            "document.querySelector('#messages-list li.message .body')"
            ".getAttribute('lang') === 'ru'"
        )

    def test_the_page_requests_nothing_outside_the_server(
        self, consoles: dict[str, Console], live: tuple[Server, dict[str, str]]
    ) -> None:
        server, tokens = live
        officer = consoles["russia"]
        officer.sign_in(tokens["russia"])
        viper, rf = encounter(time.time())
        _post(server, tokens["coalition"], "v1", viper)
        _post(server, tokens["russia"], "r1", rf)
        page = officer.page
        # Every feature that loads something: the incident's evidence map, the
        # protocol, help, each language (catalogs, fonts for Cyrillic and Arabic).
        # On the way, the coalition's violation becomes a complaint from Russia.
        theirs = page.locator(
            "#incidents-list li.incident", has_text="by US-led coalition"
        )
        theirs.first.wait_for(state="attached")
        page.click("#tabs button[data-tab='incidents']")
        theirs.first.click()
        page.wait_for_selector("#evidence-map canvas")
        page.click("#complain")
        page.wait_for_selector("#incident-detail dd >> text=reported")
        with server.client(tokens["coalition"]) as client:
            inbox = client.get("/v1/hotline/messages", params={"box": "in"}).json()
        assert [m["kind"] for m in inbox] == ["violation_complaint"]
        page.click("#tabs button[data-tab='protocol']")
        page.keyboard.press("?")
        for lang in ("ru", "ar", "en"):
            page.select_option("#lang", lang)
            page.wait_for_function(f"document.documentElement.lang === '{lang}'")
        page.wait_for_function("document.fonts.status === 'loaded'")
        page.reload()
        page.wait_for_selector("body[data-ready='1']")
        assert officer.requests, "no request recorded?"
        origin = server.url + "/"
        assert any(u.startswith(origin + "geo/") for u in officer.requests)
        assert any(u.startswith(origin + "static/fonts/") for u in officer.requests)
        assert officer.outside_requests() == []
        # And the check itself works: a request elsewhere would be caught. (The
        # request is aborted in the browser: nothing leaves the machine.)
        elsewhere = "http://console-test.invalid/"
        page.route(elsewhere + "**", lambda route: route.abort())
        with page.expect_request(elsewhere):
            page.evaluate(f"fetch('{elsewhere}').catch(() => null)")
        assert officer.outside_requests() == [elsewhere]
        officer.requests.clear()  # so that the fixture's own check passes

    def test_a_cleared_alert_shows_its_worst(
        self, consoles: dict[str, Console], live: tuple[Server, dict[str, str]]
    ) -> None:
        # Head-on (predicted miss 0 NM), then 3 NM apart abeam (still a conflict,
        # the latest prediction 3 NM), then far apart: the alert clears. Its row shows
        # the highest level and the smallest predicted miss while it was active, not
        # the last prediction.
        server, tokens = live
        officer = consoles["coalition"].sign_in(tokens["coalition"])
        page = officer.page
        viper, rf = encounter(time.time())
        _post(server, tokens["coalition"], "head-on", viper)
        _post(server, tokens["russia"], "head-on-r", rf)
        first = _alert_when(server, tokens["coalition"], lambda a: a["active"])
        lat, lon = destination(35.70, 38.60, 90.0, 3.0)
        abeam = flight("VIPER11", float(lat), float(lon), 0.0, 420.0, 25000.0, 0, 1)
        now = time.time()
        _post(server, tokens["coalition"], "abeam", _at(abeam, now))
        _post(server, tokens["russia"], "abeam-r", _at(rf[:1], now))
        last = _alert_when(
            server, tokens["coalition"], lambda a: a["active"] and a["dcpa_nm"] > 2.5
        )
        away = flight("VIPER11", 35.0, 40.5, 90.0, 420.0, 25000.0, 0, 1)
        now = time.time()
        _post(server, tokens["coalition"], "away", _at(away, now))
        _post(server, tokens["russia"], "away-r", _at(rf[:1], now))
        cleared = _alert_when(server, tokens["coalition"], lambda a: not a["active"])
        assert first["id"] == last["id"] == cleared["id"]
        assert cleared["min_dcpa_nm"] < 0.5 < 2.5 < cleared["dcpa_nm"]

        row = page.locator("#alerts-list li.alert.cleared")
        row.wait_for()
        text = row.inner_text()
        assert cleared["max_level"].upper() in text, text
        assert f"smallest predicted miss {cleared['min_dcpa_nm']:.1f} NM" in text, text
        assert f"{cleared['dcpa_nm']:.1f} NM" not in text, text
        officer.screenshot("cleared")

    def test_a_thousand_live_aircraft(
        self,
        consoles: dict[str, Console],
        live: tuple[Server, dict[str, str]],
    ) -> None:
        # What the console does with 1,000 aircraft; how fast it does it is measured
        # by bench/bench_console.py (figures in bench/README.md), not asserted here.
        server, tokens = live
        officer = consoles["coalition"].sign_in(tokens["coalition"])
        page = officer.page
        now = time.time()
        positions = []
        for k in range(1000):  # a 40 x 25 grid in north-east Syria, east of the line
            lat = 35.9 + 0.04 * (k // 40)
            lon = 40.6 + 0.04 * (k % 40)
            positions += flight(
                f"AC{k:04d}", lat, lon, 90.0, 300.0, 20000.0, now - 5, 2
            )
        _post(server, tokens["coalition"], "many", positions)
        page.wait_for_function("window.dcf.stats.aircraft === 1000", timeout=30_000)
        drawn = page.evaluate(
            """async () => {
              const map = window.dcf.mapView.map;
              map.jumpTo({center: [41.4, 36.4], zoom: 7});
              await new Promise((r) => map.once('idle', r));
              const ids = map.queryRenderedFeatures({layers: ['aircraft']})
                .map((f) => f.properties.key);
              return new Set(ids).size;
            }"""
        )
        assert drawn == 1000  # every aircraft is on the map, none dropped or merged
        page.click("#tabs button[data-tab='protocol']")
        page.wait_for_selector("#panel-protocol.active")  # the page still answers
        officer.screenshot("thousand")
