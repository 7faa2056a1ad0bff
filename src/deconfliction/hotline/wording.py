"""Formatting in one language: numbers, times, places and the directions of text.

:class:`_Ctx` fills a message's templates for one language (Babel's formats, Latin
digits, UTC times) and keeps, beside the plain text, the text with bidirectional
isolates for display (see :mod:`deconfliction.hotline.templates`). Its unit
labels are gettext messages, extracted with the others.
"""

from __future__ import annotations

import gettext
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime

from babel.dates import format_date
from babel.numbers import format_decimal

from deconfliction.hotline.phrases import (
    _BIDI_CONTROLS,
    _LTR_CLASSES,
    _NUMBERING_SYSTEM,
    _RTL_CLASSES,
    FLIGHT_LEVEL_FROM_FT,
    FSI,
    LRI,
    PDI,
    _Msg,
)

# --- formatting in one language ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Piece:
    """A bit of rendered text, plain and with isolates for plain-text display."""

    plain: str
    bidi: str


def _has_rtl(text: str) -> bool:
    return any(unicodedata.bidirectional(ch) in _RTL_CLASSES for ch in text)


def _has_ltr(text: str) -> bool:
    return any(unicodedata.bidirectional(ch) in _LTR_CLASSES for ch in text)


def _first_strong_direction(text: str) -> str | None:
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        if kind in _RTL_CLASSES:
            return "rtl"
        if kind == "L":
            return "ltr"
    return None


def _utc_text(t_s: float, *, seconds: bool) -> str:
    stamp = datetime.fromtimestamp(round(t_s), tz=UTC)
    if seconds or stamp.second:
        return stamp.strftime("%Y-%m-%d %H:%M:%SZ")
    return stamp.strftime("%Y-%m-%d %H:%MZ")


@dataclass(frozen=True, slots=True)
class _Ctx:
    """Everything a template needs to write in one language."""

    lang: str
    rtl: bool
    tr: gettext.GNUTranslations
    fmt_locale: str

    def fill(self, template: str, **values: _Piece) -> _Piece:
        """A translated template with its placeholders filled.

        A value that ends with a full stop (an abbreviation: ``в. д.``,
        ``2017 г.``) takes the place of the template's own full stop after it.
        """
        for name, value in values.items():
            if value.plain.endswith("."):
                template = template.replace(f"%({name})s.", f"%({name})s")
        return _Piece(
            template % {k: v.plain for k, v in values.items()},
            template % {k: v.bidi for k, v in values.items()},
        )

    def leaf(self, text: str) -> _Piece:
        """A value written in no language (a number, id, time or name).

        In right-to-left text anything with left-to-right characters goes in a
        left-to-right isolate (or a first-strong one when it also has Arabic
        letters); in left-to-right text only values with right-to-left letters
        need one.
        """
        if self.rtl:
            if not _has_ltr(text):
                return _Piece(text, text)
            return _Piece(text, (FSI if _has_rtl(text) else LRI) + text + PDI)
        if _has_rtl(text):
            return _Piece(text, FSI + text + PDI)
        return _Piece(text, text)

    def translate(self, message: _Msg) -> str:
        """A message marked with ``_msg``, translated."""
        return self.tr.pgettext(message.context, message.text)

    def label(self, message: _Msg) -> _Piece:
        """A translated code label or sentence, used as it is."""
        text = self.translate(message)
        return _Piece(text, text)

    def number(self, value: float, decimals: int) -> _Piece:
        """A number in the locale's format, grouped, with ``decimals`` decimals."""
        pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
        # Rounded first so that a small negative value prints as 0, not -0.
        text = format_decimal(
            round(value, decimals) + 0.0,
            pattern,
            locale=self.fmt_locale,
            numbering_system=_NUMBERING_SYSTEM,
        )
        return self.leaf(text)

    def count(self, value: int) -> _Piece:
        """A count of things, grouped as the locale groups thousands."""
        return self.number(value, 0)

    def time(self, t_s: float, *, seconds: bool = True) -> _Piece:
        """A UTC time, ``2017-12-13 10:00:30Z`` (``10:00Z`` when ``seconds`` is off
        and there are none)."""
        return self.leaf(_utc_text(t_s, seconds=seconds))

    def date_words(self, day: date) -> _Piece:
        """A date in the locale's words: 13 December 2017, 13 декабря 2017 г."""
        return self.leaf(format_date(day, "long", locale=self.fmt_locale))

    def distance(self, value_nm: float) -> _Piece:
        """A distance in nautical miles, with the unit."""
        # TRANSLATORS: a distance in nautical miles, e.g. "12.5 NM".
        unit = self.tr.pgettext("unit", "%(value)s NM")
        return self.fill(unit, value=self.number(value_nm, 1))

    def heading(self, value_deg: float) -> _Piece:
        """A heading in whole degrees, three digits: ``095°`` (360 for north)."""
        whole = round(value_deg) % 360
        return self.leaf(f"{whole or 360:03d}°")

    def level(self, value_ft: float) -> _Piece:
        """A target altitude: a flight level from :data:`FLIGHT_LEVEL_FROM_FT` up
        (FL250, эшелон 250), else in feet."""
        if value_ft < FLIGHT_LEVEL_FROM_FT:
            return self.altitude(value_ft)
        # TRANSLATORS: a flight level, hundreds of feet, e.g. "FL250".
        template = self.tr.pgettext("unit", "FL%(level)s")
        return self.fill(template, level=self.leaf(f"{round(value_ft / 100.0):03d}"))

    def speed(self, value_kt: float) -> _Piece:
        """A ground speed in knots, with the unit."""
        # TRANSLATORS: a ground speed in knots, e.g. "420 kt".
        unit = self.tr.pgettext("unit", "%(value)s kt")
        return self.fill(unit, value=self.number(value_kt, 0))

    def altitude(self, value_ft: float) -> _Piece:
        """An altitude in feet, with the unit."""
        # TRANSLATORS: an altitude in feet, e.g. "25,000 ft".
        unit = self.tr.pgettext("unit", "%(value)s ft")
        return self.fill(unit, value=self.number(value_ft, 0))

    def latitude(self, lat_deg: float) -> _Piece:
        """A latitude in decimal degrees with its hemisphere."""
        degrees = self._degrees(lat_deg)
        if round(lat_deg, 4) >= 0:
            # TRANSLATORS: a latitude north; the value ends with the degree sign.
            template = self.tr.pgettext("coordinate", "%(degrees)sN")
        else:
            # TRANSLATORS: a latitude south; the value ends with the degree sign.
            template = self.tr.pgettext("coordinate", "%(degrees)sS")
        return self.fill(template, degrees=degrees)

    def longitude(self, lon_deg: float) -> _Piece:
        """A longitude in decimal degrees with its hemisphere."""
        degrees = self._degrees(lon_deg)
        if round(lon_deg, 4) >= 0:
            # TRANSLATORS: a longitude east; the value ends with the degree sign.
            template = self.tr.pgettext("coordinate", "%(degrees)sE")
        else:
            # TRANSLATORS: a longitude west; the value ends with the degree sign.
            template = self.tr.pgettext("coordinate", "%(degrees)sW")
        return self.fill(template, degrees=degrees)

    def position(self, lat_deg: float, lon_deg: float) -> _Piece:
        """A position, latitude first."""
        # TRANSLATORS: a position, e.g. "35.3400°N 40.1400°E".
        template = self.tr.pgettext("coordinate", "%(latitude)s %(longitude)s")
        return self.fill(
            template, latitude=self.latitude(lat_deg), longitude=self.longitude(lon_deg)
        )

    def _degrees(self, value_deg: float) -> _Piece:
        # The degree sign belongs to the number, inside its isolate: outside it,
        # right-to-left text would show it on the left of the digits.
        text = format_decimal(
            round(abs(value_deg), 4) + 0.0,
            "0.0000",
            locale=self.fmt_locale,
            numbering_system=_NUMBERING_SYSTEM,
        )
        return self.leaf(text + "°")

    def duration(self, duration_s: float) -> _Piece:
        """A duration in hours, minutes and seconds, in words."""
        total = round(duration_s)
        hours, rest = divmod(total, 3600)
        minutes, seconds = divmod(rest, 60)
        parts: list[_Piece] = []
        if hours:
            parts.append(
                self.fill(
                    self.tr.ngettext("%(count)s hour", "%(count)s hours", hours),
                    count=self.count(hours),
                )
            )
        if minutes:
            parts.append(
                self.fill(
                    self.tr.ngettext("%(count)s minute", "%(count)s minutes", minutes),
                    count=self.count(minutes),
                )
            )
        if seconds or not parts:
            parts.append(
                self.fill(
                    self.tr.ngettext("%(count)s second", "%(count)s seconds", seconds),
                    count=self.count(seconds),
                )
            )
        # TRANSLATORS: joins two parts of a duration: "4 minutes" and "30 seconds".
        join = self.tr.pgettext("duration", "%(first)s %(second)s")
        result = parts[0]
        for part in parts[1:]:
            result = self.fill(join, first=result, second=part)
        return result

    def free(self, text: str) -> _Piece:
        """Free text as written; for display each line in a first-strong isolate."""
        lines = text.splitlines() or [""]
        bidi = "\n".join(
            FSI + "".join(ch for ch in line if ch not in _BIDI_CONTROLS) + PDI
            for line in lines
        )
        return _Piece(text, bidi)
