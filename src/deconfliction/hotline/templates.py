"""Hotline messages rendered from facts, in English, Russian and Arabic.

Every sentence is a gettext message marked in :mod:`~deconfliction.hotline.phrases`
(labels), :mod:`~deconfliction.hotline.wording` (units) and
:mod:`~deconfliction.hotline.builders` (the templates of each kind), and translated
in ``locale/<lang>/LC_MESSAGES/messages.po``. The ``.po`` files are read at run time
with Babel, compiled in memory and cached per language: there is no build step and
no ``.mo`` file. ``locale/messages.pot`` is extracted from those modules by Babel::

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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import Any, Final

from babel.core import Locale
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from deconfliction.errors import InputError, Problem
from deconfliction.hotline import facts as fact_checks
from deconfliction.hotline.builders import (
    _build_daily_checkin,
    _build_escalation_notice,
    _build_free_text,
    _build_manoeuvre_intention,
    _build_missed_checkin,
    _build_notice_of_operation,
    _build_reply,
    _build_request_for_information,
    _build_request_for_manoeuvre,
    _build_violation_complaint,
    _Built,
)
from deconfliction.hotline.phrases import _FORMAT_LOCALE
from deconfliction.hotline.phrases import ANSWERS as ANSWERS
from deconfliction.hotline.phrases import BOUNDARY_KINDS as BOUNDARY_KINDS
from deconfliction.hotline.phrases import DOMAIN as DOMAIN
from deconfliction.hotline.phrases import FLIGHT_LEVEL_FROM_FT as FLIGHT_LEVEL_FROM_FT
from deconfliction.hotline.phrases import FSI as FSI
from deconfliction.hotline.phrases import KINDS as KINDS
from deconfliction.hotline.phrases import LANGUAGES as LANGUAGES
from deconfliction.hotline.phrases import LOCALE_DIR as LOCALE_DIR
from deconfliction.hotline.phrases import LRI as LRI
from deconfliction.hotline.phrases import MANOEUVRE_TARGETS as MANOEUVRE_TARGETS
from deconfliction.hotline.phrases import OPERATION_KINDS as OPERATION_KINDS
from deconfliction.hotline.phrases import PDI as PDI
from deconfliction.hotline.phrases import PRIORITIES as PRIORITIES
from deconfliction.hotline.phrases import QUESTIONS as QUESTIONS
from deconfliction.hotline.phrases import RLI as RLI
from deconfliction.hotline.phrases import SOURCE_LANGUAGE as SOURCE_LANGUAGE
from deconfliction.hotline.phrases import SUBJECT_KINDS as SUBJECT_KINDS
from deconfliction.hotline.wording import _Ctx, _first_strong_direction

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


# The facts of a manoeuvre message and how each is checked (both manoeuvre kinds).
_MANOEUVRE_CHECKS: Final = {
    "alert_id": fact_checks.check_id,
    "aircraft_id": fact_checks.check_id,
    "manoeuvre": fact_checks.code(MANOEUVRE_TARGETS),
    "heading_deg": fact_checks.HEADING,
    "alt_ft": fact_checks.ALT,
    "gs_kt": fact_checks.SPEED,
    "t_s": fact_checks.TIME,
}

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
            checks=_MANOEUVRE_CHECKS,
            build=_build_manoeuvre_intention,
            cross=_cross_intention,
        ),
        "request_for_manoeuvre": _Kind(
            required=("alert_id", "manoeuvre"),
            optional=("aircraft_id", *MANOEUVRE_FACTS, "t_s"),
            checks=_MANOEUVRE_CHECKS,
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
