"""The daily report for a seeded day, on SQLite and PostgreSQL: its PDF in each
language turned into pictures and checked for the charts and the map, disclosure,
the command and the API route.

The day is seeded by flying an hour of the reference traffic (with an excursion, a
near-collision and a loss of separation) through the service layer as the live
server would (ingestion, then a detection tick every 5 s), and a few hotline
messages: complaints acknowledged on time and late, and one left unanswered.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from deconfliction.adapters.protocol_file import builtin_protocol_path
from deconfliction.analysis.demo import scenario_line
from deconfliction.cli import report as report_cli
from deconfliction.reports import charts
from deconfliction.reports.daily import DailyReport
from deconfliction.reports.render import render_html, write_report
from deconfliction.scenario.traffic import (
    REFERENCE_START_T_S,
    TrafficConfig,
    simulate_traffic,
)
from deconfliction.service import auth, hotline, incidents, protocols
from deconfliction.service.auth import Principal, Role
from deconfliction.service.clock import ManualClock
from deconfliction.service.daily_report import gather
from deconfliction.service.ingest import ingest_batch
from deconfliction.service.keys import KeyRing
from deconfliction.service.live import LiveDetection
from deconfliction.store import engine as store_engine
from tests.conftest import PG_ADMIN_URL
from tests.unit.analysis.helpers import euphrates

DAY = date(2017, 12, 13)
COALITION = Principal("coalition", Role.OFFICER)
RUSSIA = Principal("russia", Role.OFFICER)
SEED_HOURS = 1.0
SEED = 9  # a seed whose hour holds an excursion and a near-collision


def _needs(tool: str, why: str) -> None:
    message = f"{tool} is not installed ({why})"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("CI requires it: " + message)
    pytest.skip(message)


@dataclass
class Seeded:
    url: str
    now_t_s: float
    keys_dir: Path


def _seed(url: str, keys_dir: Path) -> Seeded:
    engine = store_engine.make_engine(url)
    try:
        store_engine.upgrade(engine)
        clock = ManualClock(REFERENCE_START_T_S - 600.0)
        with engine.begin() as conn:
            auth.ensure_party(conn, "coalition", "US-led coalition", "en", clock.t_s)
            auth.ensure_party(conn, "russia", "Russian Federation", "ru", clock.t_s)
            text = builtin_protocol_path("euphrates-2017").read_text(encoding="utf-8")
            protocols.propose(conn, COALITION, text, clock.t_s)
            protocols.accept(conn, RUSSIA, "euphrates-2017", 1, clock.t_s)
        config = TrafficConfig(
            seed=SEED,
            duration_s=SEED_HOURS * 3600.0,
            excursions_per_day=96.0,
            encounters_per_day=96.0,
        )
        tr = simulate_traffic(scenario_line(euphrates()), config)
        live = LiveDetection(engine, clock)
        who = {"coalition": COALITION, "russia": RUSSIA}
        for k in range(tr.n_steps):
            lo, hi = int(tr.step_offsets[k]), int(tr.step_offsets[k + 1])
            clock.t_s = float(tr.step_t_s[k])
            with engine.begin() as conn:
                for party, principal in who.items():
                    rows = [
                        {
                            "id": str(tr.ids[i]),
                            "time": clock.t_s,
                            "lat": float(tr.lat_deg[i]),
                            "lon": float(tr.lon_deg[i]),
                            "alt_ft": float(tr.alt_ft[i]),
                            "gs_kt": float(tr.gs_kt[i]),
                            "trk_deg": float(tr.trk_deg[i]),
                            "vs_fpm": float(tr.vs_fpm[i]),
                        }
                        for i in np.flatnonzero(tr.party[lo:hi] == party) + lo
                    ]
                    if rows:
                        ingest_batch(
                            conn, principal, f"{party}-{k}", rows, clock.t_s, 5.0
                        )
            live.tick()
        keys = KeyRing(keys_dir)
        with engine.begin() as conn:
            sharing = protocols.current_sharing(conn)
            seen = incidents.list_visible(conn, COALITION, sharing)
            complaints = [
                hotline.complaint_from_incident(
                    conn, keys, COALITION, i["id"], hotline.Priority.URGENT, clock.t_s
                )
                for i in seen
                if i["kind"] == "line_violation" and i["party_id"] == "russia"
            ]
            assert len(complaints) >= 2, "the seeded hour needs two Russian excursions"
            question = hotline.Outgoing(
                to="coalition",
                kind=hotline.MessageKind.FREE_TEXT,
                priority=hotline.Priority.FLASH,
                facts={},
                text="Прошу подтвердить.",
            )
            asked = hotline.send(conn, keys, RUSSIA, question, clock.t_s)
            sent_t_s = clock.t_s
            hotline.acknowledge(
                conn, keys, RUSSIA, complaints[0]["id"], sent_t_s + 120.0
            )
            hotline.acknowledge(
                conn, keys, RUSSIA, complaints[1]["id"], sent_t_s + 1500.0
            )
            hotline.acknowledge(conn, keys, COALITION, asked["id"], sent_t_s + 60.0)
        return Seeded(url, sent_t_s + 3600.0, keys_dir)
    finally:
        engine.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def seeded(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    pg_status: str | None,
) -> Iterator[Seeded]:
    tmp = tmp_path_factory.mktemp("report-db")
    if request.param == "sqlite":
        yield _seed(f"sqlite:///{tmp / 'deconfliction.db'}", tmp / "keys")
        return
    if pg_status is not None:
        message = f"PostgreSQL at {PG_ADMIN_URL} is not reachable ({pg_status})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI requires PostgreSQL: " + message)
        pytest.skip(message)
    import psycopg

    name = f"dcf_report_{uuid.uuid4().hex[:12]}"
    admin = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    try:
        yield _seed(f"{base}/{name}", tmp / "keys")
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _gather(seeded: Seeded, viewer: str | None) -> DailyReport:
    engine = store_engine.make_engine(seeded.url)
    try:
        with engine.connect() as conn:
            return gather(conn, DAY, viewer, seeded.now_t_s)
    finally:
        engine.dispose()


def _pages(pdf: Path, out: Path) -> list[Any]:
    if shutil.which("pdftoppm") is None:
        _needs("pdftoppm", "Debian package poppler-utils")
    from PIL import Image

    subprocess.run(
        ["pdftoppm", "-r", "40", "-png", str(pdf), str(out / "page")],
        check=True,
        capture_output=True,
    )
    pages = sorted(out.glob("page-*.png"))
    return [np.asarray(Image.open(p).convert("RGB"), dtype=np.int16) for p in pages]


def _pixels(pages: list[Any], colour: str, tolerance: int = 12) -> int:
    """How many pixels of ``colour`` (``#rrggbb``) the pages hold, over all."""
    rgb = np.array([int(colour[k : k + 2], 16) for k in (1, 3, 5)], dtype=np.int16)
    return sum(int(np.all(np.abs(p - rgb) <= tolerance, axis=-1).sum()) for p in pages)


class TestGather:
    def test_the_seeded_day(self, seeded: Seeded) -> None:
        report = _gather(seeded, None)
        assert report.sorties["coalition"] and report.sorties["russia"]
        assert report.conflicts_by_level()["warning"] >= 1
        assert len(report.violations()) >= 2
        assert len(report.losses()) >= 1
        stats = report.hotline_by_direction()
        assert stats["russia"].acknowledged >= 2 and stats["russia"].late >= 1
        assert stats["coalition"].median_ack_s == 60.0
        assert report.open_incidents

    def test_a_party_sees_the_others_reduced(self, seeded: Seeded) -> None:
        mine = _gather(seeded, "russia")
        assert mine.sorties["coalition"] is None and mine.positions["coalition"] is None
        assert mine.sorties["russia"] == _gather(seeded, None).sorties["russia"]
        assert set(mine.tracks.states.party.tolist()) == {"russia"}
        for alert in mine.alerts:
            for side in alert.sides:
                assert side["party"] == "russia" or side["id"] is None
        html = render_html(mine, "en").html
        assert "COA0" not in html  # no coalition aircraft is named
        everything = render_html(_gather(seeded, None), "en").html
        assert "COA0" in everything and "RUS0" in everything

    def test_hotline_only_its_own(self, seeded: Seeded) -> None:
        mine = _gather(seeded, "russia")
        for receipt in mine.receipts:
            assert "russia" in (receipt.sender, receipt.recipient)
        assert set(mine.hotline_by_direction()) == {"received", "sent"}


@pytest.mark.parametrize("lang", ["en", "ru", "ar"])
def test_pdf_has_the_charts_and_the_map(
    seeded: Seeded, lang: str, tmp_path: Path
) -> None:
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError):
        _needs("WeasyPrint", "PyPI weasyprint, with Debian's Pango")
    report = _gather(seeded, "russia")
    html_path, pdf_path = write_report(report, lang, tmp_path)
    html = html_path.read_text(encoding="utf-8")
    direction = "rtl" if lang == "ar" else "ltr"
    assert f'<html dir="{direction}" lang="{lang}">' in html
    assert "http://" not in html and "https://" not in html
    assert html.count('src="data:image/png;base64,') == 6  # five charts and the map
    script = {"ru": ("\u0400", "\u04ff"), "ar": ("\u0600", "\u06ff")}.get(lang)
    if script is not None:
        assert any(script[0] <= ch <= script[1] for ch in html)
    assert pdf_path.read_bytes()[:5] == b"%PDF-"
    pages = _pages(pdf_path, tmp_path)
    assert len(pages) >= 3
    assert _pixels(pages, "#c0272d") > 200  # Russia's sorties bar (and its violations)
    assert _pixels(pages, charts.LEVEL_COLOURS["warning"]) > 50  # the warning bar
    assert _pixels(pages, charts.PREDICTED_COLOUR) > 20  # the closest-approach bars
    assert _pixels(pages, charts.ON_TIME_COLOUR) > 5  # acknowledgements on time
    assert _pixels(pages, "#dbe8f3", tolerance=4) > 1500  # the map's sea


def _app() -> typer.Typer:
    app = typer.Typer()
    report_cli.register(app)

    @app.callback()
    def _root() -> None:
        pass

    return app


class TestCommand:
    def test_writes_html_and_pdf_in_the_party_language(
        self, seeded: Seeded, tmp_path: Path
    ) -> None:
        result = CliRunner().invoke(
            _app(),
            [
                "report",
                "--day",
                "2017-12-13",
                "--party",
                "russia",
                "--out",
                str(tmp_path),
                "--database",
                seeded.url,
            ],
        )
        assert result.exit_code == 0, result.output
        assert (tmp_path / "report-2017-12-13-russia-ru.html").exists()
        assert (tmp_path / "report-2017-12-13-russia-ru.pdf").read_bytes()[
            :5
        ] == b"%PDF-"

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["--day", "13/12/2017"], "expected YYYY-MM-DD"),
            (["--day", "2017-12-13", "--party", "nobody"], "no registered party"),
            (["--day", "2017-12-13", "--lang", "fr"], "unknown language"),
        ],
    )
    def test_bad_input_exits_2(
        self, seeded: Seeded, tmp_path: Path, args: list[str], message: str
    ) -> None:
        result = CliRunner().invoke(
            _app(),
            ["report", *args, "--out", str(tmp_path), "--database", seeded.url],
        )
        assert result.exit_code == 2
        assert message in result.output


def _get(app: Any, url: str, headers: dict[str, str] | None = None) -> Any:
    """One request to the application in process (no server, no lifespan: the
    report route needs only the context ``create_app`` builds)."""
    import asyncio

    import httpx

    async def call() -> Any:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            return await c.get(url, headers=headers or {})

    return asyncio.run(call())


class TestRoute:
    def test_html_and_pdf_for_the_caller(self, seeded: Seeded) -> None:
        from deconfliction.api.app import create_app
        from deconfliction.api.routes import reports
        from deconfliction.config import Settings

        engine = store_engine.make_engine(seeded.url)
        with engine.begin() as conn:
            token = auth.issue_token(conn, "russia", Role.OBSERVER, seeded.now_t_s)
        engine.dispose()
        settings = Settings(
            database_url=seeded.url,
            run_detection=False,
            migrate_on_start=False,
            keys_dir=str(seeded.keys_dir),
        )
        app = create_app(settings, ManualClock(seeded.now_t_s))
        app.include_router(reports.router)
        me = {"Authorization": f"Bearer {token}"}
        url = "/v1/reports/daily?day=2017-12-13"
        try:
            page = _get(app, url + "&lang=ar", me)
            assert page.status_code == 200, page.text
            assert page.headers["content-type"].startswith("text/html")
            assert '<html dir="rtl" lang="ar">' in page.text
            assert "COA0" not in page.text
            pdf = _get(app, url + "&format=pdf", me)
            assert pdf.status_code == 200
            assert pdf.headers["content-type"] == "application/pdf"
            assert pdf.content[:5] == b"%PDF-"
            assert "russia-ru.pdf" in pdf.headers["content-disposition"]
            assert _get(app, "/v1/reports/daily?day=2017-13-01", me).status_code == 422
            assert _get(app, url + "&format=docx", me).status_code == 422
            assert _get(app, url).status_code == 401
        finally:
            app.state.ctx.engine.dispose()


class TestCatalogs:
    def test_every_text_is_translated(self) -> None:
        from deconfliction.reports.i18n import missing

        assert missing() == {}

    def test_update_changes_nothing_when_current(self, tmp_path: Path) -> None:
        from deconfliction.reports.i18n import LOCALE_DIR, update_catalogs

        copy = tmp_path / "locale"
        shutil.copytree(LOCALE_DIR, copy)
        assert update_catalogs(copy) == []

    def test_placeholders_survive_translation(self) -> None:
        import re

        from deconfliction.reports.i18n import LANGUAGES, read_catalog

        for lang in LANGUAGES:
            for message in read_catalog(lang):
                if message.id and message.string:
                    wanted = set(re.findall(r"%\((\w+)\)s", str(message.id)))
                    assert (
                        set(re.findall(r"%\((\w+)\)s", str(message.string))) == wanted
                    )
