"""Hotline messages rendered from facts, in English, Russian and Arabic.

Every sentence is a gettext message marked in this file and translated in
``locale/<lang>/LC_MESSAGES/messages.po``. The ``.po`` files are read at run time
with Babel, compiled in memory and cached per language: there is no build step and
no ``.mo`` file. ``locale/messages.pot`` is extracted from this file by Babel::

    python -m deconfliction.hotline.catalogs --check    # .pot current, .po complete
    python -m deconfliction.hotline.catalogs --extract  # rewrite messages.pot
    python -m deconfliction.hotline.catalogs --update   # merge it into every .po

Facts use the project's unit-suffixed names (``entry_t_s``, ``depth_nm``,
``alt_ft``...). Times are shown in UTC (``2017-12-13 10:00:30Z``, the same digits in
every language) and dates also in the locale's words; numbers are formatted by
Babel for the locale, in Latin digits in every language (as in ICAO practice, so
that the figures of two versions of a message can be compared digit by digit).

Arabic is right to left. ``Rendered.body`` is the text with no bidirectional
control characters (for storage and search); ``Rendered.text_bidi`` is the same
text for plain-text display: each Arabic line in a right-to-left isolate
(U+2067 ... U+2069) and every number, time, identifier or coordinate in it in a
left-to-right isolate (U+2066 ... U+2069), so that ``2017-12-13 10:00Z`` and
``35.3400°`` keep their order inside Arabic text. Free text (remarks, ``free_text``)
stays as written; in ``text_bidi`` each of its lines is in a first-strong isolate
(U+2068) with its own explicit direction controls removed, so it can neither take
its direction from the template around it nor reverse the text after it.
"""

from __future__ import annotations

import functools
import gettext
import io
import math
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from babel.core import Locale
from babel.dates import format_date
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from deconfliction.errors import InputError, Problem
from deconfliction.hotline import facts as fact_checks

LANGUAGES: Final = ("en", "ru", "ar")
KINDS: Final = (
    "violation_complaint",
    "notice_of_operation",
    "daily_checkin",
    "request_for_information",
    "reply",
    "escalation_notice",
    "missed_checkin",
    "request_for_manoeuvre",
    "manoeuvre_intention",
    "free_text",
)
BOUNDARY_KINDS: Final = ("line", "zone")
PRIORITIES: Final = ("routine", "urgent", "flash")


DOMAIN: Final = "messages"
SOURCE_LANGUAGE: Final = "en"  # the language of the msgids in this file
LOCALE_DIR: Final = Path(__file__).with_name("locale")

# Babel locale used for numbers and dates where it differs from the language code:
# British English writes "13 December 2017", as military correspondence does.
_FORMAT_LOCALE: Final = MappingProxyType({"en": "en_GB"})
# Latin digits everywhere (see the module docstring); Babel's default, said aloud.
_NUMBERING_SYSTEM: Final = "latn"

LRI: Final = "\u2066"  # left-to-right isolate
RLI: Final = "\u2067"  # right-to-left isolate
FSI: Final = "\u2068"  # first-strong isolate
PDI: Final = "\u2069"  # pop directional isolate
# Explicit direction controls removed from free text in text_bidi (kept in body).
_BIDI_CONTROLS: Final = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
) | {
    LRI,
    RLI,
    FSI,
    PDI,
}
_RTL_CLASSES: Final = frozenset({"R", "AL"})
_LTR_CLASSES: Final = frozenset({"L", "EN", "AN"})


@dataclass(frozen=True, slots=True)
class _Msg:
    """A message marked for extraction, translated when used (``_msg`` below)."""

    context: str
    text: str


def _msg(context: str, text: str) -> _Msg:
    """Mark a message with its context for extraction (keyword ``_msg``)."""
    return _Msg(context, text)


# The codes a fact may take, each with its translatable label or sentence.
# Operation kinds: a label for each of domain.operation_kinds.OPERATION_KINDS, in
# its order (a test checks they are the same).
OPERATION_KINDS: Final = MappingProxyType(
    {
        "air_patrol": _msg("operation kind", "air patrol"),
        "reconnaissance": _msg("operation kind", "reconnaissance"),
        "air_refuelling": _msg("operation kind", "air-to-air refuelling"),
        "airlift": _msg("operation kind", "airlift"),
        "search_and_rescue": _msg("operation kind", "search and rescue"),
        "medical_evacuation": _msg("operation kind", "medical evacuation"),
        "humanitarian_airdrop": _msg("operation kind", "humanitarian airdrop"),
        "uav_flight": _msg("operation kind", "unmanned aircraft flight"),
        "training_flight": _msg("operation kind", "training flight"),
        "air_operations": _msg("operation kind", "air operations"),
    }
)
SUBJECT_KINDS: Final = MappingProxyType(
    {
        "incident": _msg("subject", "incident %(id)s"),
        "conflict_alert": _msg("subject", "conflict alert %(id)s"),
        "operation": _msg("subject", "operation %(id)s"),
        "aircraft": _msg("subject", "aircraft %(id)s"),
        "message": _msg("subject", "message %(id)s"),
    }
)
QUESTIONS: Final = MappingProxyType(
    {
        "identity_of_aircraft": _msg(
            "question",
            "Please identify the aircraft concerned: callsign, type and unit.",
        ),
        "intentions": _msg("question", "Please state the intentions of your aircraft."),
        "confirm_position": _msg(
            "question", "Please confirm the position of your aircraft at that time."
        ),
        "confirm_altitude": _msg(
            "question", "Please confirm the altitude of your aircraft at that time."
        ),
        "confirm_operation_ended": _msg(
            "question", "Please confirm that the operation has ended."
        ),
        "status_of_investigation": _msg(
            "question", "Please report the status of your investigation."
        ),
    }
)
ANSWERS: Final = MappingProxyType(
    {
        "received": _msg("answer", "Your message has been received."),
        "will_investigate": _msg("answer", "We will investigate and report back."),
        "corrective_action_taken": _msg("answer", "Corrective action has been taken."),
        "dispute": _msg("answer", "We dispute the facts as stated."),
        "not_our_aircraft": _msg("answer", "The aircraft concerned is not ours."),
        "no_information": _msg("answer", "We have no information on this matter."),
    }
)
_PRIORITY_LABELS: Final = MappingProxyType(
    {
        "routine": _msg("priority", "routine"),
        "urgent": _msg("priority", "urgent"),
        "flash": _msg("priority", "flash"),
    }
)
# Manoeuvres (#17.5), each with the fact that gives its target: what we will do
# (``manoeuvre_intention``) and what we ask of the other party
# (``request_for_manoeuvre``), as the duty officer decides from the guidance.
MANOEUVRE_TARGETS: Final = MappingProxyType(
    {
        "turn_right": "heading_deg",
        "turn_left": "heading_deg",
        "climb": "alt_ft",
        "descend": "alt_ft",
        "speed_up": "gs_kt",
        "slow_down": "gs_kt",
    }
)
_INTENTIONS: Final = MappingProxyType(
    {
        "turn_right": _msg(
            "intention", "Our aircraft %(aircraft)s will turn right to %(target)s."
        ),
        "turn_left": _msg(
            "intention", "Our aircraft %(aircraft)s will turn left to %(target)s."
        ),
        "climb": _msg(
            "intention", "Our aircraft %(aircraft)s will climb to %(target)s."
        ),
        "descend": _msg(
            "intention", "Our aircraft %(aircraft)s will descend to %(target)s."
        ),
        "speed_up": _msg(
            "intention", "Our aircraft %(aircraft)s will speed up to %(target)s."
        ),
        "slow_down": _msg(
            "intention", "Our aircraft %(aircraft)s will slow down to %(target)s."
        ),
    }
)
_REQUESTS: Final = MappingProxyType(
    {
        "turn_right": _msg("request", "We ask that your aircraft turn right."),
        "turn_left": _msg("request", "We ask that your aircraft turn left."),
        "climb": _msg("request", "We ask that your aircraft climb."),
        "descend": _msg("request", "We ask that your aircraft descend."),
        "speed_up": _msg("request", "We ask that your aircraft speed up."),
        "slow_down": _msg("request", "We ask that your aircraft slow down."),
    }
)
_REQUESTS_TO: Final = MappingProxyType(
    {
        "turn_right": _msg(
            "request", "We ask that your aircraft turn right to %(target)s."
        ),
        "turn_left": _msg(
            "request", "We ask that your aircraft turn left to %(target)s."
        ),
        "climb": _msg("request", "We ask that your aircraft climb to %(target)s."),
        "descend": _msg("request", "We ask that your aircraft descend to %(target)s."),
        "speed_up": _msg(
            "request", "We ask that your aircraft speed up to %(target)s."
        ),
        "slow_down": _msg(
            "request", "We ask that your aircraft slow down to %(target)s."
        ),
    }
)
FLIGHT_LEVEL_FROM_FT: Final = 10_000.0
"""Targets at or above this are said as flight levels (FL250), below it in feet: a
transition altitude lower than any in the region the hotline serves."""


# --- the result ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rendered:
    """A message rendered in one language.

    Attributes:
        kind: the message kind (``violation_complaint``...).
        lang: the language it is written in (``en``, ``ru``, ``ar``).
        direction: ``ltr`` or ``rtl``: set ``dir`` from it wherever it is shown.
        subject: one line, no direction controls.
        body: the text, lines separated by ``\\n``, no direction controls.
        text_bidi: ``body`` for plain-text display, with Unicode isolates (see the
            module docstring); what a terminal, a log or a transcript should show.
        subject_bidi: ``subject`` the same way.
    """

    kind: str
    lang: str
    direction: str
    subject: str
    body: str
    text_bidi: str
    subject_bidi: str

    def as_json(self) -> dict[str, str]:
        """The stored form (the ``rendered`` key of a hotline record body)."""
        return {
            "kind": self.kind,
            "lang": self.lang,
            "direction": self.direction,
            "subject": self.subject,
            "body": self.body,
            "text_bidi": self.text_bidi,
            "subject_bidi": self.subject_bidi,
        }


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


# --- the templates ----------------------------------------------------------------

_Built = tuple[_Piece, list[_Piece]]


def _build_violation_complaint(c: _Ctx, f: Mapping[str, Any]) -> _Built:
    incident = c.leaf(f["incident_id"])
    subject = c.fill(
        c.tr.gettext("Violation complaint: incident %(incident_id)s"),
        incident_id=incident,
    )
    party = c.leaf(f["offending_party"])
    name = c.leaf(f["boundary_name"])
    boundary = c.leaf(f["boundary_id"])
    if f["boundary_kind"] == "line":
        # TRANSLATORS: boundary_name is the line's name, in your language's
        # quotation marks; boundary_id its identifier; party the offending party.
        opening = c.tr.gettext(
            "We report a violation of the deconfliction line “%(boundary_name)s” "
            "(%(boundary_id)s) by an aircraft of %(party)s."
        )
    else:
        # TRANSLATORS: as above, for a zone that only its owner's aircraft may enter.
        opening = c.tr.gettext(
            "We report an incursion into the zone of responsibility "
            "“%(boundary_name)s” (%(boundary_id)s) by an aircraft of %(party)s."
        )
    lines = [
        c.fill(opening, boundary_name=name, boundary_id=boundary, party=party),
        c.fill(c.tr.gettext("Incident: %(incident_id)s."), incident_id=incident),
    ]
    if f.get("aircraft_id") is not None:
        lines.append(
            c.fill(
                c.tr.gettext("Aircraft: %(aircraft_id)s."),
                aircraft_id=c.leaf(f["aircraft_id"]),
            )
        )
    else:
        lines.append(c.fill(c.tr.gettext("Aircraft: not identified.")))
    lines.append(c.fill(c.tr.gettext("Entry: %(time)s."), time=c.time(f["entry_t_s"])))
    exit_t_s = f.get("exit_t_s")
    duration_s = f.get("duration_s")
    if exit_t_s is not None:
        lines.append(c.fill(c.tr.gettext("Exit: %(time)s."), time=c.time(exit_t_s)))
        if duration_s is None:
            duration_s = exit_t_s - f["entry_t_s"]
    else:
        lines.append(
            c.fill(
                c.tr.gettext("The aircraft had not left when this message was sent.")
            )
        )
    if duration_s is not None:
        lines.append(
            c.fill(
                c.tr.gettext("Duration: %(duration)s."), duration=c.duration(duration_s)
            )
        )
    lines.append(_deepest_point(c, f))
    lines.append(
        c.fill(
            c.tr.gettext(
                "We request an investigation and a report of the corrective action "
                "taken."
            )
        )
    )
    return subject, lines


def _deepest_point(c: _Ctx, f: Mapping[str, Any]) -> Any:
    """The sentence of a complaint that says where and how deep: across a line and
    from its buffer's edge, inside a line's buffer, or inside a zone (docs/protocol.md
    defines each depth). A message recorded before they were named gave one
    ``depth_nm`` and reads as it was sent."""
    where = {
        "position": c.position(f["lat_deg"], f["lon_deg"]),
        "altitude": c.altitude(f["alt_ft"]),
    }
    if f.get("depth_inside_zone_nm") is not None:
        # TRANSLATORS: depth is how far inside the zone's outline the aircraft was.
        text = c.tr.gettext(
            "Deepest point: %(depth)s inside the zone, at %(position)s, "
            "altitude %(altitude)s."
        )
        return c.fill(text, depth=c.distance(f["depth_inside_zone_nm"]), **where)
    if f.get("depth_across_line_nm") is not None:
        buffer = c.distance(f["buffer_nm"])
        edge = c.distance(f["depth_from_buffer_edge_nm"])
        if f["depth_across_line_nm"] > 0.0:
            # TRANSLATORS: across is how far past the line, on the side the party
            # must not be on; from_edge the same point's distance from the edge of
            # the buffer on the party's own side (the buffer plus across); buffer
            # the half-width of the buffer.
            text = c.tr.gettext(
                "Deepest point: %(across)s across the line, %(from_edge)s from the "
                "edge of its %(buffer)s buffer, at %(position)s, altitude "
                "%(altitude)s."
            )
            across = c.distance(f["depth_across_line_nm"])
            return c.fill(text, across=across, from_edge=edge, buffer=buffer, **where)
        # TRANSLATORS: the aircraft stayed on its own side of the line, but came
        # depth into the buffer (of half-width buffer) from its edge.
        text = c.tr.gettext(
            "Deepest point: %(depth)s into the %(buffer)s buffer on the aircraft's "
            "own side of the line, at %(position)s, altitude %(altitude)s."
        )
        return c.fill(text, depth=edge, buffer=buffer, **where)
    text = c.tr.gettext(
        "Deepest penetration: %(depth)s at %(position)s, altitude %(altitude)s."
    )
    return c.fill(text, depth=c.distance(f["depth_nm"]), **where)


def _build_notice_of_operation(c: _Ctx, f: Mapping[str, Any]) -> _Built:
    operation = c.leaf(f["operation_id"])
    subject = c.fill(
        c.tr.gettext("Notice of operation %(operation_id)s"), operation_id=operation
    )
    lines = [
        c.fill(
            c.tr.gettext("We give notice of operation %(operation_id)s."),
            operation_id=operation,
        ),
        c.fill(
            c.tr.gettext("Type of operation: %(operation_kind)s."),
            operation_kind=c.label(OPERATION_KINDS[f["operation_kind"]]),
        ),
    ]
    if f.get("radius_nm") is not None:
        lines.append(
            c.fill(
                c.tr.gettext("Area: within %(radius)s of %(position)s."),
                radius=c.distance(f["radius_nm"]),
                position=c.position(f["lat_deg"], f["lon_deg"]),
            )
        )
    elif f.get("south_lat_deg") is not None:
        lines.append(
            c.fill(
                c.tr.gettext(
                    "Area: between %(south)s and %(north)s, "
                    "and between %(west)s and %(east)s."
                ),
                south=c.latitude(f["south_lat_deg"]),
                north=c.latitude(f["north_lat_deg"]),
                west=c.longitude(f["west_lon_deg"]),
                east=c.longitude(f["east_lon_deg"]),
            )
        )
    if f.get("floor_ft") is not None:
        lines.append(
            c.fill(
                c.tr.gettext("Altitudes: %(floor)s to %(ceiling)s."),
                floor=c.altitude(f["floor_ft"]),
                ceiling=c.altitude(f["ceiling_ft"]),
            )
        )
    if f.get("start_t_s") is not None:
        lines.append(
            c.fill(
                c.tr.gettext("Time: %(start)s to %(end)s."),
                start=c.time(f["start_t_s"], seconds=False),
                end=c.time(f["end_t_s"], seconds=False),
            )
        )
    if f.get("aircraft_count") is not None:
        lines.append(
            c.fill(
                c.tr.ngettext(
                    "%(count)s aircraft will take part.",
                    "%(count)s aircraft will take part.",
                    f["aircraft_count"],
                ),
                count=c.count(f["aircraft_count"]),
            )
        )
    else:
        # TRANSLATORS: the filer named no aircraft; the number is not known.
        unknown = c.tr.gettext("The number of aircraft taking part was not given.")
        lines.append(c.fill(unknown))
    lines.append(c.fill(c.tr.gettext("Please acknowledge receipt.")))
    return subject, lines


def _build_daily_checkin(c: _Ctx, f: Mapping[str, Any]) -> _Built:
    party = c.leaf(f["party"])
    day: date = f["date"]
    subject = c.fill(
        c.tr.gettext("Daily check-in: %(party)s, %(date)s"),
        party=party,
        date=c.leaf(day.isoformat()),
    )
    lines = [
        c.fill(
            # TRANSLATORS: date is in words, as in "13 December 2017".
            c.tr.gettext("Daily check-in from %(party)s for %(date)s."),
            party=party,
            date=c.date_words(day),
        ),
        c.fill(c.tr.gettext("The duty officer is on watch and the line is working.")),
    ]
    incidents = f.get("open_incidents")
    if incidents == 0:
        lines.append(c.fill(c.tr.gettext("No incidents are open.")))
    elif incidents is not None:
        lines.append(
            c.fill(
                c.tr.ngettext(
                    "%(count)s incident is open.",
                    "%(count)s incidents are open.",
                    incidents,
                ),
                count=c.count(incidents),
            )
        )
    pending = f.get("unacknowledged_messages")
    if pending == 0:
        lines.append(c.fill(c.tr.gettext("No messages await acknowledgement.")))
    elif pending is not None:
        lines.append(
            c.fill(
                c.tr.ngettext(
                    "%(count)s message awaits acknowledgement.",
                    "%(count)s messages await acknowledgement.",
                    pending,
                ),
                count=c.count(pending),
            )
        )
    return subject, lines


def _build_request_for_information(c: _Ctx, f: Mapping[str, Any]) -> _Built:
    about = c.fill(
        c.translate(SUBJECT_KINDS[f["subject_kind"]]),
        id=c.leaf(f["subject_id"]),
    )
    subject = c.fill(
        c.tr.gettext("Request for information: %(subject)s"), subject=about
    )
    lines = [
        c.fill(c.tr.gettext("Subject: %(subject)s."), subject=about),
        c.fill(c.tr.gettext("Time: %(time)s."), time=c.time(f["t_s"])),
        c.label(QUESTIONS[f["question"]]),
        c.fill(c.tr.gettext("Please reply on this line.")),
    ]
    return subject, lines


def _build_reply(c: _Ctx, f: Mapping[str, Any]) -> _Built:
    message = c.leaf(f["reply_to_id"])
    subject = c.fill(
        c.tr.gettext("Reply to message %(message_id)s"), message_id=message
    )
    lines = [
        c.fill(c.tr.gettext("In reply to message %(message_id)s."), message_id=message),
        c.label(ANSWERS[f["answer"]]),
    ]
    remarks = f.get("remarks")
    if remarks is not None and remarks.strip():
        lines.append(c.fill(c.tr.gettext("Remarks (as written):")))
        lines.append(c.free(remarks))
    return subject, lines


def _build_escalation_notice(c: _Ctx, f: Mapping[str, Any]) -> _Built:
    message = c.leaf(f["message_id"])
    priority = c.label(_PRIORITY_LABELS[f["priority"]])
    subject = c.fill(
        c.tr.gettext("Overdue: message %(message_id)s not acknowledged"),
        message_id=message,
    )
    if f.get("awaiting_party") is not None:
        first = c.fill(
            c.tr.gettext(
                "Message %(message_id)s (priority: %(priority)s) has not been "
                "acknowledged by %(party)s."
            ),
            message_id=message,
            priority=priority,
            party=c.leaf(f["awaiting_party"]),
        )
    else:
        first = c.fill(
            c.tr.gettext(
                "Message %(message_id)s (priority: %(priority)s) has not been "
                "acknowledged."
            ),
            message_id=message,
            priority=priority,
        )
    lines = [
        first,
        c.fill(
            c.tr.gettext("The deadline for acknowledgement passed at %(deadline)s."),
            deadline=c.time(f["deadline_t_s"]),
        ),
        c.fill(c.tr.gettext("Acknowledge the message at once.")),
    ]
    return subject, lines


def _build_missed_checkin(c: _Ctx, f: Mapping[str, Any]) -> _Built:
    party = c.leaf(f["party"])
    day: date = f["date"]
    subject = c.fill(
        c.tr.gettext("Missed check-in: %(party)s, %(date)s"),
        party=party,
        date=c.leaf(day.isoformat()),
    )
    lines = [
        c.fill(
            # TRANSLATORS: date is in words; due is a UTC time, "2017-12-13 06:00Z".
            c.tr.gettext(
                "No check-in was received from %(party)s for %(date)s; it was due by "
                "%(due)s."
            ),
            party=party,
            date=c.date_words(day),
            due=c.time(f["due_t_s"], seconds=False),
        ),
        c.fill(
            c.tr.gettext("The duty officer of %(party)s is asked to check in at once."),
            party=party,
        ),
    ]
    return subject, lines


def _manoeuvre_target(c: _Ctx, f: Mapping[str, Any]) -> _Piece | None:
    field = MANOEUVRE_TARGETS[f["manoeuvre"]]
    value = f.get(field)
    if value is None:
        return None
    if field == "heading_deg":
        return c.heading(value)
    if field == "alt_ft":
        return c.level(value)
    return c.speed(value)


def _manoeuvre_closing(c: _Ctx, f: Mapping[str, Any]) -> list[_Piece]:
    lines = []
    if f.get("t_s") is not None:
        lines.append(
            c.fill(c.tr.gettext("Guidance as of %(time)s."), time=c.time(f["t_s"]))
        )
    lines.append(
        c.fill(
            c.tr.gettext(
                "Decided by our duty officer; the system's guidance is advice only."
            )
        )
    )
    return lines


def _build_manoeuvre_intention(c: _Ctx, f: Mapping[str, Any]) -> _Built:
    alert = c.leaf(f["alert_id"])
    subject = c.fill(
        c.tr.gettext("Manoeuvre intention: alert %(alert_id)s"), alert_id=alert
    )
    target = _manoeuvre_target(c, f)
    assert target is not None  # required by _cross_intention
    lines = [
        c.fill(c.tr.gettext("Regarding alert %(alert_id)s."), alert_id=alert),
        c.fill(
            c.translate(_INTENTIONS[f["manoeuvre"]]),
            aircraft=c.leaf(f["aircraft_id"]),
            target=target,
        ),
        *_manoeuvre_closing(c, f),
        c.fill(c.tr.gettext("Please acknowledge.")),
    ]
    return subject, lines


def _build_request_for_manoeuvre(c: _Ctx, f: Mapping[str, Any]) -> _Built:
    alert = c.leaf(f["alert_id"])
    subject = c.fill(
        c.tr.gettext("Request for manoeuvre: alert %(alert_id)s"), alert_id=alert
    )
    target = _manoeuvre_target(c, f)
    lines = [c.fill(c.tr.gettext("Regarding alert %(alert_id)s."), alert_id=alert)]
    if f.get("aircraft_id") is not None:
        lines.append(
            c.fill(
                c.tr.gettext("Your aircraft: %(aircraft)s."),
                aircraft=c.leaf(f["aircraft_id"]),
            )
        )
    if target is None:
        lines.append(c.label(_REQUESTS[f["manoeuvre"]]))
    else:
        lines.append(c.fill(c.translate(_REQUESTS_TO[f["manoeuvre"]]), target=target))
    lines += _manoeuvre_closing(c, f)
    lines.append(
        c.fill(c.tr.gettext("Please acknowledge and say whether you will comply."))
    )
    return subject, lines


def _build_free_text(c: _Ctx, f: Mapping[str, Any]) -> _Built:
    # TRANSLATORS: the subject of a message written as free text.
    return c.fill(c.tr.gettext("Message")), [c.free(f["text"])]


# --- the kinds --------------------------------------------------------------------

_Cross = Callable[[Mapping[str, Any]], list[tuple[str, str]]]


@dataclass(frozen=True, slots=True)
class _Kind:
    required: tuple[str, ...]
    optional: tuple[str, ...]
    checks: Mapping[str, fact_checks.Check]
    build: Callable[[_Ctx, Mapping[str, Any]], _Built]
    cross: _Cross | None = None


_LINE_DEPTHS: Final = ("depth_across_line_nm", "depth_from_buffer_edge_nm", "buffer_nm")
_DEPTHS: Final = ("depth_nm", *_LINE_DEPTHS, "depth_inside_zone_nm")


def _cross_complaint(f: Mapping[str, Any]) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    exit_t_s = f.get("exit_t_s")
    if exit_t_s is not None and exit_t_s < f["entry_t_s"]:
        problems.append(("exit_t_s", "is before entry_t_s"))
    given = [k for k in _DEPTHS if f.get(k) is not None]
    # depth_nm alone: a complaint recorded before the depths were named.
    if f["boundary_kind"] == "line":
        wanted = list(_LINE_DEPTHS)
        if given != ["depth_nm"]:
            problems += [(k, "missing") for k in wanted if k not in given]
            problems += [
                (k, "not a depth of a line violation") for k in given if k not in wanted
            ]
        if not problems and given == wanted:
            across, edge = f["depth_across_line_nm"], f["depth_from_buffer_edge_nm"]
            if across > 0.0 and not math.isclose(
                edge, f["buffer_nm"] + across, rel_tol=1e-6, abs_tol=1e-3
            ):
                problems.append(
                    (
                        "depth_from_buffer_edge_nm",
                        "across the line, must be buffer_nm plus depth_across_line_nm",
                    )
                )
            elif across == 0.0 and edge > f["buffer_nm"]:
                problems.append(
                    ("depth_from_buffer_edge_nm", "on its own side, at most buffer_nm")
                )
    elif given not in (["depth_nm"], ["depth_inside_zone_nm"]):
        problems += [
            (k, "not a depth of a zone incursion")
            for k in given
            if k != "depth_inside_zone_nm"
        ]
        if "depth_inside_zone_nm" not in given:
            problems.append(("depth_inside_zone_nm", "missing"))
    return problems


def _cross_request(f: Mapping[str, Any]) -> list[tuple[str, str]]:
    """A target, when given, is the one of the manoeuvre: a turn's heading, a climb
    or descent's altitude, a change of speed's speed."""
    wanted = MANOEUVRE_TARGETS[f["manoeuvre"]]
    return [
        (k, f"not the target of {f['manoeuvre']} (that is {wanted})")
        for k in MANOEUVRE_FACTS
        if k != wanted and f.get(k) is not None
    ]


def _cross_intention(f: Mapping[str, Any]) -> list[tuple[str, str]]:
    """As :func:`_cross_request`, and an intention states its target."""
    wanted = MANOEUVRE_TARGETS[f["manoeuvre"]]
    problems = _cross_request(f)
    if f.get(wanted) is None:
        problems.append((wanted, f"missing: the target of {f['manoeuvre']}"))
    return problems


MANOEUVRE_FACTS: Final = ("heading_deg", "alt_ft", "gs_kt")


_CIRCLE: Final = ("lat_deg", "lon_deg", "radius_nm")
_BOX: Final = ("south_lat_deg", "north_lat_deg", "west_lon_deg", "east_lon_deg")


NOTICE_DETAILS: Final = ("area", "altitudes", "times", "aircraft_count")
"""What a notice of operation may withhold (``withheld``), as the protocol's
``[planning] notice_discloses`` chooses (``domain.protocol.NOTICE_DETAILS``)."""


def _check_withheld(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(
        isinstance(v, str) and v in NOTICE_DETAILS for v in value
    ):
        raise fact_checks.BadFact(f"must be a list of: {', '.join(NOTICE_DETAILS)}")
    return tuple(value)


def _cross_notice(f: Mapping[str, Any]) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    # A detail not given is not stated (a protocol's notice_discloses may withhold
    # it: the notice lists it as ``withheld``); one given must be whole.
    for low, high in (("floor_ft", "ceiling_ft"), ("start_t_s", "end_t_s")):
        if (f.get(low) is None) != (f.get(high) is None):
            missing = low if f.get(low) is None else high
            problems.append((missing, "missing"))
    if problems:
        return problems
    circle = [k for k in _CIRCLE if f.get(k) is not None]
    box = [k for k in _BOX if f.get(k) is not None]
    if circle and box:
        problems.append(
            ("area", "give either a circle (centre and radius) or a box, not both")
        )
    elif circle or box:
        group = _CIRCLE if circle else _BOX
        problems += [(k, "missing") for k in group if f.get(k) is None]
        if not circle and not problems and f["south_lat_deg"] > f["north_lat_deg"]:
            problems.append(("north_lat_deg", "is south of south_lat_deg"))
    if f.get("floor_ft") is not None and f["ceiling_ft"] < f["floor_ft"]:
        problems.append(("ceiling_ft", "is below floor_ft"))
    if f.get("start_t_s") is not None and f["end_t_s"] < f["start_t_s"]:
        problems.append(("end_t_s", "is before start_t_s"))
    return problems


_KIND_SPECS: Final = MappingProxyType(
    {
        "violation_complaint": _Kind(
            required=(
                "incident_id",
                "offending_party",
                "boundary_kind",
                "boundary_id",
                "boundary_name",
                "entry_t_s",
                "lat_deg",
                "lon_deg",
                "alt_ft",
            ),
            optional=(
                "exit_t_s",
                "duration_s",
                "aircraft_id",
                *_DEPTHS,
            ),
            checks={
                "incident_id": fact_checks.check_id,
                "offending_party": fact_checks.check_name,
                "boundary_kind": fact_checks.code(BOUNDARY_KINDS),
                "boundary_id": fact_checks.check_id,
                "boundary_name": fact_checks.check_name,
                "entry_t_s": fact_checks.TIME,
                "exit_t_s": fact_checks.TIME,
                "duration_s": fact_checks.DURATION,
                "lat_deg": fact_checks.LAT,
                "lon_deg": fact_checks.LON,
                "depth_nm": fact_checks.DISTANCE,
                "depth_across_line_nm": fact_checks.DISTANCE,
                "depth_from_buffer_edge_nm": fact_checks.DISTANCE,
                "buffer_nm": fact_checks.DISTANCE,
                "depth_inside_zone_nm": fact_checks.DISTANCE,
                "alt_ft": fact_checks.ALT,
                "aircraft_id": fact_checks.check_id,
            },
            build=_build_violation_complaint,
            cross=_cross_complaint,
        ),
        "notice_of_operation": _Kind(
            # Area, altitudes and times are stated when given (_cross_notice).
            required=("operation_id", "operation_kind"),
            optional=(
                *_CIRCLE,
                *_BOX,
                "floor_ft",
                "ceiling_ft",
                "start_t_s",
                "end_t_s",
                "aircraft_count",
                "withheld",
            ),
            checks={
                "withheld": _check_withheld,
                "operation_id": fact_checks.check_id,
                "operation_kind": fact_checks.code(OPERATION_KINDS),
                "lat_deg": fact_checks.LAT,
                "lon_deg": fact_checks.LON,
                "radius_nm": fact_checks.DISTANCE,
                "south_lat_deg": fact_checks.LAT,
                "north_lat_deg": fact_checks.LAT,
                "west_lon_deg": fact_checks.LON,
                "east_lon_deg": fact_checks.LON,
                "floor_ft": fact_checks.ALT,
                "ceiling_ft": fact_checks.ALT,
                "start_t_s": fact_checks.TIME,
                "end_t_s": fact_checks.TIME,
                "aircraft_count": fact_checks.count(1),
            },
            build=_build_notice_of_operation,
            cross=_cross_notice,
        ),
        "daily_checkin": _Kind(
            required=("party", "date"),
            optional=("open_incidents", "unacknowledged_messages"),
            checks={
                "party": fact_checks.check_name,
                "date": fact_checks.check_date,
                "open_incidents": fact_checks.count(0),
                "unacknowledged_messages": fact_checks.count(0),
            },
            build=_build_daily_checkin,
        ),
        "request_for_information": _Kind(
            required=("subject_kind", "subject_id", "question", "t_s"),
            optional=(),
            checks={
                "subject_kind": fact_checks.code(SUBJECT_KINDS),
                "subject_id": fact_checks.check_id,
                "question": fact_checks.code(QUESTIONS),
                "t_s": fact_checks.TIME,
            },
            build=_build_request_for_information,
        ),
        "reply": _Kind(
            required=("reply_to_id", "answer"),
            optional=("remarks",),
            checks={
                "reply_to_id": fact_checks.check_id,
                "answer": fact_checks.code(ANSWERS),
                "remarks": fact_checks.check_text,
            },
            build=_build_reply,
        ),
        "escalation_notice": _Kind(
            required=("message_id", "deadline_t_s", "priority"),
            optional=("awaiting_party",),
            checks={
                "message_id": fact_checks.check_id,
                "deadline_t_s": fact_checks.TIME,
                "priority": fact_checks.code(PRIORITIES),
                "awaiting_party": fact_checks.check_name,
            },
            build=_build_escalation_notice,
        ),
        "missed_checkin": _Kind(
            required=("party", "date", "due_t_s"),
            optional=(),
            checks={
                "party": fact_checks.check_name,
                "date": fact_checks.check_date,
                "due_t_s": fact_checks.TIME,
            },
            build=_build_missed_checkin,
        ),
        "manoeuvre_intention": _Kind(
            required=("alert_id", "aircraft_id", "manoeuvre"),
            optional=(*MANOEUVRE_FACTS, "t_s"),
            checks={
                "alert_id": fact_checks.check_id,
                "aircraft_id": fact_checks.check_id,
                "manoeuvre": fact_checks.code(MANOEUVRE_TARGETS),
                "heading_deg": fact_checks.HEADING,
                "alt_ft": fact_checks.ALT,
                "gs_kt": fact_checks.SPEED,
                "t_s": fact_checks.TIME,
            },
            build=_build_manoeuvre_intention,
            cross=_cross_intention,
        ),
        "request_for_manoeuvre": _Kind(
            required=("alert_id", "manoeuvre"),
            optional=("aircraft_id", *MANOEUVRE_FACTS, "t_s"),
            checks={
                "alert_id": fact_checks.check_id,
                "aircraft_id": fact_checks.check_id,
                "manoeuvre": fact_checks.code(MANOEUVRE_TARGETS),
                "heading_deg": fact_checks.HEADING,
                "alt_ft": fact_checks.ALT,
                "gs_kt": fact_checks.SPEED,
                "t_s": fact_checks.TIME,
            },
            build=_build_request_for_manoeuvre,
            cross=_cross_request,
        ),
        "free_text": _Kind(
            required=("text",),
            optional=(),
            checks={"text": fact_checks.check_text},
            build=_build_free_text,
        ),
    }
)


# --- catalogs ---------------------------------------------------------------------


def _unknown(field: str, value: object, known: Sequence[str]) -> InputError:
    return InputError(
        [
            Problem(
                "hotline",
                None,
                field,
                f"unknown {field} {value!r}; known: {', '.join(known)}",
            )
        ]
    )


def _check_lang(lang: object) -> str:
    if not isinstance(lang, str) or lang not in LANGUAGES:
        raise _unknown("lang", lang, LANGUAGES)
    return lang


def _check_kind(kind: object) -> _Kind:
    if not isinstance(kind, str) or kind not in _KIND_SPECS:
        raise _unknown("kind", kind, KINDS)
    return _KIND_SPECS[kind]


def read_catalog(lang: str) -> Catalog:
    """The catalog of one language, as Babel reads it from its ``.po`` file.

    Raises:
        InputError: for a language that is not in ``LANGUAGES``.
    """
    _check_lang(lang)
    po = resources.files("deconfliction.hotline").joinpath(
        "locale", lang, "LC_MESSAGES", f"{DOMAIN}.po"
    )
    with po.open("rb") as handle:
        return read_po(handle, locale=lang, domain=DOMAIN)


@functools.cache
def _translations(lang: str) -> gettext.GNUTranslations:
    # Cached per language for the life of the process: the catalogs are package
    # data, read-only at run time, and compiling one takes a few milliseconds.
    buffer = io.BytesIO()
    write_mo(buffer, read_catalog(lang))
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


@functools.cache
def direction(lang: str) -> str:
    """``rtl`` for a language written right to left, else ``ltr``.

    Raises:
        InputError: for a language that is not in ``LANGUAGES``.

    >>> direction("ar"), direction("ru")
    ('rtl', 'ltr')
    """
    _check_lang(lang)
    order = Locale.parse(lang).character_order
    return "rtl" if order == "right-to-left" else "ltr"


def required_fields(kind: str) -> tuple[str, ...]:
    """The facts a kind of message always needs.

    ``notice_of_operation`` also needs one area: a circle (centre ``lat_deg``,
    ``lon_deg`` and ``radius_nm``) or a box (``south_lat_deg``, ``north_lat_deg``,
    ``west_lon_deg`` and ``east_lon_deg``).

    Raises:
        InputError: for an unknown kind.

    >>> required_fields("missed_checkin")
    ('party', 'date', 'due_t_s')
    """
    return _check_kind(kind).required


def optional_fields(kind: str) -> tuple[str, ...]:
    """The facts a kind of message may carry besides the required ones.

    Raises:
        InputError: for an unknown kind.
    """
    return _check_kind(kind).optional


def _checked_facts(kind: str, spec: _Kind, facts: Mapping[str, Any]) -> dict[str, Any]:
    source = f"{kind} facts"
    if not isinstance(facts, Mapping):
        raise InputError(
            [
                Problem(
                    source,
                    None,
                    "facts",
                    f"must be a mapping, not {type(facts).__name__}",
                )
            ]
        )
    problems: list[Problem] = []
    known = spec.required + spec.optional
    for name in facts:
        if name not in known:
            problems.append(
                Problem(
                    source, None, str(name), f"unknown fact; known: {', '.join(known)}"
                )
            )
    checked: dict[str, Any] = {}
    for name in known:
        value = facts.get(name)
        if value is None:
            if name in spec.required:
                problems.append(Problem(source, None, name, "missing"))
            continue
        try:
            checked[name] = spec.checks[name](value)
        except fact_checks.BadFact as bad:
            problems.append(Problem(source, None, name, str(bad)))
    if not problems and spec.cross is not None:
        problems += [Problem(source, None, k, m) for k, m in spec.cross(checked)]
    if problems:
        raise InputError(problems)
    return checked


def render(kind: str, facts: Mapping[str, Any], lang: str) -> Rendered:
    """A message of ``kind`` filled with ``facts``, written in ``lang``.

    Args:
        kind: one of ``KINDS``.
        facts: the facts, named as ``required_fields(kind)`` and
            ``optional_fields(kind)`` say; ``None`` counts as absent.
        lang: one of ``LANGUAGES``.

    Returns:
        The subject and body, plain and for plain-text display.

    Raises:
        InputError: for an unknown kind or language, or facts that are missing,
            unknown, of the wrong type or out of range (every problem at once,
            each naming its fact).
    """
    spec = _check_kind(kind)
    _check_lang(lang)
    checked = _checked_facts(kind, spec, facts)
    rtl = direction(lang) == "rtl"
    ctx = _Ctx(lang, rtl, _translations(lang), _FORMAT_LOCALE.get(lang, lang))
    subject, lines = spec.build(ctx, checked)
    text_direction = "rtl" if rtl else "ltr"
    if kind == "free_text":
        # Free text is in whatever language its writer used, not in ``lang``.
        text_direction = _first_strong_direction(checked["text"]) or text_direction
    body = "\n".join(line.plain for line in lines)
    text_bidi = "\n".join(line.bidi for line in lines)
    subject_bidi = subject.bidi
    if rtl:
        # Isolates end at a line break, so every line gets its own.
        text_bidi = "\n".join(RLI + line + PDI for line in text_bidi.split("\n"))
        subject_bidi = RLI + subject_bidi + PDI
    return Rendered(
        kind=kind,
        lang=lang,
        direction=text_direction,
        subject=subject.plain,
        body=body,
        text_bidi=text_bidi,
        subject_bidi=subject_bidi,
    )
