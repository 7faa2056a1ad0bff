"""The daily report's incident table: each depth named, both parties of a loss."""

from __future__ import annotations

import dataclasses
import html as html_text
import re

import pytest

from deconfliction.reports.daily import DailyReport, IncidentItem
from deconfliction.reports.render import render_html
from tests.unit.reports.test_map_labels import _report


def _side(party: str, ident: str) -> dict[str, object]:
    return {"party": party, "id": ident, "lat_deg": 35.9, "lon_deg": 39.1,
            "alt_ft": 25_000.0, "t_s": 0.0}  # fmt: skip


def _with(*items: IncidentItem) -> DailyReport:
    report = _report()
    return dataclasses.replace(report, incidents=items, open_incidents=items)


def _rows(report: DailyReport, lang: str = "en") -> list[str]:
    html = render_html(report, lang).html
    return [
        html_text.unescape(re.sub(r"<[^>]+>", " ", row))
        for row in re.findall(r"<tr>.*?</tr>", html)
    ]


def _incident(
    kind: str, party: str, severity_nm: float, **depths: float
) -> IncidentItem:
    return IncidentItem(
        7, kind, "open", party, ("russia", "coalition"),
        "euphrates" if kind == "line_violation" else None,
        _report().incidents[0].start_t_s, None, severity_nm,
        (_side(party, "RUS064"),), **depths,
    )  # fmt: skip


def _row_of(report: DailyReport, lang: str = "en") -> str:
    rows = {" ".join(r.split()) for r in _rows(report, lang) if "RUS064" in r}
    (row,) = rows  # the same in the day's incidents and the open ones
    return row


class TestDepths:
    def test_a_line_violation_says_both_depths(self) -> None:
        # Issue 13: 28.4 NM across the line was said as "38.4 NM".
        item = _incident(
            "line_violation", "russia", 38.4,
            depth_across_line_nm=28.4, depth_from_buffer_edge_nm=38.4,
        )  # fmt: skip
        row = _row_of(_with(item))
        assert "28.40 NM across the line, 38.40 NM from the buffer's edge" in row

    @pytest.mark.parametrize(
        ("lang", "expected"),
        [
            ("ru", "28,40 м. миль за линией, 38,40 м. миль от края буферной зоны"),
            ("ar", "28.40 ميل بحري عبر الخط"),
        ],
    )
    def test_in_each_language(self, lang: str, expected: str) -> None:
        item = _incident(
            "line_violation", "russia", 38.4,
            depth_across_line_nm=28.4, depth_from_buffer_edge_nm=38.4,
        )  # fmt: skip
        assert expected in _row_of(_with(item), lang)

    def test_inside_the_buffer_on_its_own_side(self) -> None:
        item = _incident(
            "line_violation", "russia", 3.5,
            depth_across_line_nm=0.0, depth_from_buffer_edge_nm=3.5,
        )  # fmt: skip
        assert "3.50 NM into the buffer, on its own side" in _row_of(_with(item))

    def test_a_zone_incursion(self) -> None:
        item = _incident("zone_incursion", "russia", 4.5, depth_inside_zone_nm=4.5)
        assert "4.50 NM inside the zone" in _row_of(_with(item))

    def test_an_incident_recorded_before_the_depths_were_named(self) -> None:
        item = _incident("line_violation", "russia", 38.4)
        assert "38.40 NM" in _row_of(_with(item))


class TestParties:
    def test_a_loss_of_separation_shows_both_parties(self) -> None:
        # Issue 13: a loss between COA065 and RUS064 read "by coalition".
        item = IncidentItem(
            8, "loss_of_separation", "open", "coalition", ("coalition", "russia"),
            None, _report().incidents[0].start_t_s, None, 0.19,
            (_side("coalition", "COA065"), _side("russia", "RUS064")),
        )  # fmt: skip
        row = _row_of(_with(item))
        start = row.index("loss of separation") + len("loss of separation")
        assert row[start:].split("COA065")[0].split() == ["coalition", "russia"]

    def test_a_violation_shows_its_offender(self) -> None:
        item = _incident("line_violation", "russia", 38.4)
        row = _row_of(_with(item))
        start = row.index("line violation") + len("line violation")
        assert row[start:].split("RUS064")[0].split() == ["russia"]
