"""Tests of the hotline message templates (hotline/templates.py).

The facts are those of 13 December 2017 over the Euphrates: a Russian aircraft
12.5 NM across the line for 4 min 30 s, a coalition patrol notice, the check-ins.
"""

from __future__ import annotations

import io
import re
import shutil
import unicodedata
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po
from hypothesis import given, settings
from hypothesis import strategies as st

from deconfliction.domain.operation_kinds import OPERATION_KINDS
from deconfliction.errors import InputError
from deconfliction.hotline import catalogs, templates
from deconfliction.hotline.templates import (
    FSI,
    KINDS,
    LANGUAGES,
    LRI,
    PDI,
    RLI,
    Rendered,
    direction,
    optional_fields,
    render,
    required_fields,
)

T0_S = 1_513_159_200.0  # 2017-12-13T10:00:00Z
NBSP = "\u00a0"
NNBSP = "\u202f"  # CLDR puts a narrow no-break space before "г."
BIDI_CONTROLS = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e") | {
    LRI,
    RLI,
    FSI,
    PDI,
}
TIME_RE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})?Z")

COMPLAINT: dict[str, Any] = {
    "incident_id": 42,
    "offending_party": "Russia",
    "boundary_kind": "line",
    "boundary_id": "euphrates",
    "boundary_name": "Euphrates",
    "entry_t_s": T0_S + 30.0,
    "exit_t_s": T0_S + 300.0,
    "lat_deg": 35.34,
    "lon_deg": 40.14,
    "depth_across_line_nm": 12.5,
    "depth_from_buffer_edge_nm": 22.5,
    "buffer_nm": 10.0,
    "alt_ft": 25_000.0,
    "aircraft_id": "RF-93561",
}
LINE_DEPTHS = ("depth_across_line_nm", "depth_from_buffer_edge_nm", "buffer_nm")
NOTICE: dict[str, Any] = {
    "operation_id": "OP-17/3",
    "operation_kind": "air_patrol",
    "lat_deg": 35.95,
    "lon_deg": 39.01,
    "radius_nm": 20.0,
    "floor_ft": 15_000.0,
    "ceiling_ft": 30_000.0,
    "start_t_s": T0_S - 3600.0,
    "end_t_s": T0_S + 3 * 3600.0,
    "aircraft_count": 4,
}
FACTS: dict[str, dict[str, Any]] = {
    "violation_complaint": COMPLAINT,
    "notice_of_operation": NOTICE,
    "daily_checkin": {
        "party": "Coalition",
        "date": "2017-12-13",
        "open_incidents": 3,
        "unacknowledged_messages": 21,
    },
    "request_for_information": {
        "subject_kind": "aircraft",
        "subject_id": "VIPER11",
        "question": "identity_of_aircraft",
        "t_s": T0_S + 30.0,
    },
    "reply": {
        "reply_to_id": 17,
        "answer": "will_investigate",
        "remarks": "Checking with the crew.\nТрек пришлём к 12:00Z.",
    },
    "escalation_notice": {
        "message_id": 17,
        "deadline_t_s": T0_S + 300.0,
        "priority": "flash",
        "awaiting_party": "Russia",
    },
    "missed_checkin": {
        "party": "Russia",
        "date": "2017-12-13",
        "due_t_s": T0_S - 3 * 3600,
    },
    "request_for_manoeuvre": {
        "alert_id": "9f3c2a",
        "manoeuvre": "turn_right",
        "heading_deg": 275.0,
        "aircraft_id": "RF-93561",
        "t_s": T0_S,
    },
    "manoeuvre_intention": {
        "alert_id": "9f3c2a",
        "aircraft_id": "VIPER11",
        "manoeuvre": "climb",
        "alt_ft": 25_000.0,
        "t_s": T0_S,
    },
    "free_text": {"text": "Confirm guard frequency 243.0 MHz."},
}
VARIANTS: dict[str, dict[str, Any]] = {
    "complaint_zone_ongoing": {
        **{k: v for k, v in COMPLAINT.items() if k not in LINE_DEPTHS},
        "depth_inside_zone_nm": 4.5,
        "boundary_kind": "zone",
        "boundary_id": "hmeimim",
        "boundary_name": "Hmeimim",
        "exit_t_s": None,
        "duration_s": 95.0,
        "aircraft_id": None,
    },
    "notice_box": {
        **{
            k: v
            for k, v in NOTICE.items()
            if k not in ("lat_deg", "lon_deg", "radius_nm")
        },
        "south_lat_deg": 34.45,
        "north_lat_deg": 35.34,
        "west_lon_deg": 40.14,
        "east_lon_deg": 40.92,
        "aircraft_count": 1,
    },
    "checkin_bare": {"party": "Russia", "date": date(2017, 12, 13)},
    "checkin_zero": {
        "party": "Russia",
        "date": "2017-12-13",
        "open_incidents": 0,
        "unacknowledged_messages": 0,
    },
    "reply_no_remarks": {"reply_to_id": "M-17", "answer": "received"},
    "escalation_no_party": {
        "message_id": 18,
        "deadline_t_s": T0_S,
        "priority": "routine",
    },
}
VARIANT_KIND = {
    "complaint_zone_ongoing": "violation_complaint",
    "notice_box": "notice_of_operation",
    "checkin_bare": "daily_checkin",
    "checkin_zero": "daily_checkin",
    "reply_no_remarks": "reply",
    "escalation_no_party": "escalation_notice",
}
# The same facts with every value free of English words, to show that no English
# comes from the templates themselves.
NEUTRAL_NAMES = {"ru": "Сторона-1", "ar": "الطرف الأول"}


def _neutral(facts: dict[str, Any], lang: str) -> dict[str, Any]:
    out = dict(facts)
    for key in ("offending_party", "boundary_name", "party", "awaiting_party"):
        if key in out:
            out[key] = NEUTRAL_NAMES[lang]
    for key in (
        "incident_id",
        "boundary_id",
        "operation_id",
        "subject_id",
        "aircraft_id",
        "reply_to_id",
        "message_id",
        "alert_id",
    ):
        if out.get(key) is not None:
            out[key] = "17-3"
    if "remarks" in out:
        out["remarks"] = "١٢٣"
    if "text" in out:
        out["text"] = "123"
    return out


def _all_cases() -> list[tuple[str, dict[str, Any]]]:
    cases = [(kind, FACTS[kind]) for kind in KINDS]
    cases += [(VARIANT_KIND[name], facts) for name, facts in VARIANTS.items()]
    return cases


def _isolate_walk(line: str) -> list[tuple[str, tuple[str, ...]]]:
    """Each character of a line with the isolates open around it; checks balance."""
    stack: list[str] = []
    out: list[tuple[str, tuple[str, ...]]] = []
    for ch in line:
        if ch in (LRI, RLI, FSI):
            stack.append(ch)
        elif ch == PDI:
            assert stack, f"unbalanced PDI in {line!r}"
            stack.pop()
        else:
            out.append((ch, tuple(stack)))
    assert not stack, f"unclosed isolate in {line!r}"
    return out


def _english_fragments() -> set[str]:
    """Pieces of English template text long enough to be unmistakable."""
    with catalogs.POT_PATH.open("rb") as handle:
        pot = read_po(handle)
    fragments: set[str] = set()
    for message in pot:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        for text in ids:
            for piece in re.split(r"%\(\w+\)s", text):
                piece = piece.strip(" .,:;()“”")
                if len(piece) >= 6 and re.search(r"[A-Za-z]{3}", piece):
                    fragments.add(piece)
    return fragments


class TestRender:
    @pytest.mark.parametrize("lang", LANGUAGES)
    @pytest.mark.parametrize(
        ("kind", "facts"),
        _all_cases(),
        ids=[f"{k}-{i}" for i, (k, _) in enumerate(_all_cases())],
    )
    def test_every_template_in_every_language(
        self, kind: str, facts: dict[str, Any], lang: str
    ) -> None:
        rendered = render(kind, facts, lang)
        assert isinstance(rendered, Rendered)
        assert (rendered.kind, rendered.lang) == (kind, lang)
        assert rendered.subject.strip() and rendered.body.strip()
        assert "\n" not in rendered.subject
        assert not BIDI_CONTROLS & set(rendered.body + rendered.subject)
        assert "%(" not in rendered.body + rendered.subject
        assert ".." not in rendered.body.replace("...", "")

    def test_complaint_in_english(self) -> None:
        rendered = render("violation_complaint", COMPLAINT, "en")
        assert rendered.subject == "Violation complaint: incident 42"
        assert rendered.body.split("\n") == [
            "We report a violation of the deconfliction line “Euphrates” (euphrates) "
            "by an aircraft of Russia.",
            "Incident: 42.",
            "Aircraft: RF-93561.",
            "Entry: 2017-12-13 10:00:30Z.",
            "Exit: 2017-12-13 10:05:00Z.",
            "Duration: 4 minutes 30 seconds.",
            "Deepest point: 12.5 NM across the line, 22.5 NM from the edge of its "
            "10.0 NM buffer, at 35.3400°N 40.1400°E, altitude 25,000 ft.",
            "We request an investigation and a report of the corrective action taken.",
        ]
        assert rendered.direction == "ltr"
        assert rendered.text_bidi == rendered.body

    @pytest.mark.parametrize(
        ("lang", "expected"),
        [
            ("en", "12.5 NM across the line, 22.5 NM from the edge of its 10.0 NM"),
            ("ru", "12,5 м. миль за линией, в 22,5 м. миль от края"),
            ("ar", "12.5 ميل بحري عبر الخط، على بعد 22.5 ميل بحري من حافة"),
        ],
    )
    def test_complaint_names_both_depths_of_a_line(
        self, lang: str, expected: str
    ) -> None:
        # Issue 13: 28.4 NM across the line was said as "38.4 NM" (the buffer plus
        # the line), unnamed. Both are said, each for what it is.
        assert expected in render("violation_complaint", COMPLAINT, lang).body

    @pytest.mark.parametrize(
        ("facts", "expected"),
        [
            (
                {**COMPLAINT, "depth_across_line_nm": 0.0,
                 "depth_from_buffer_edge_nm": 3.5},
                "Deepest point: 3.5 NM into the 10.0 NM buffer on the aircraft's own "
                "side of the line, at",
            ),
            (
                VARIANTS["complaint_zone_ongoing"],
                "Deepest point: 4.5 NM inside the zone, at",
            ),
            (
                {**{k: v for k, v in COMPLAINT.items() if k not in LINE_DEPTHS},
                 "depth_nm": 38.4},
                "Deepest penetration: 38.4 NM at",  # recorded before they were named
            ),
        ],
    )  # fmt: skip
    def test_complaint_depth_sentences(
        self, facts: dict[str, Any], expected: str
    ) -> None:
        assert expected in render("violation_complaint", facts, "en").body

    def test_complaint_in_russian(self) -> None:
        body = render("violation_complaint", COMPLAINT, "ru").body
        assert "линии разграничения «Euphrates» (euphrates)" in body
        assert "Время входа: 2017-12-13 10:00:30Z." in body
        assert "Продолжительность: 4 минуты 30 секунд." in body
        assert (
            "12,5 м. миль за линией, в 22,5 м. миль от края её буферной зоны "
            "(10,0 м. миль), в точке 35,3400° с. ш., 40,1400° в. д., "
            f"высота 25{NBSP}000 фт." in body
        )

    def test_complaint_in_arabic(self) -> None:
        rendered = render("violation_complaint", COMPLAINT, "ar")
        assert rendered.direction == "rtl"
        assert rendered.subject == "شكوى خرق: الحادث 42"
        assert "المدة: 4 دقائق و30 ثانية." in rendered.body
        assert (
            "12.5 ميل بحري عبر الخط، على بعد 22.5 ميل بحري من حافة منطقته العازلة "
            "(10.0 ميل بحري)، عند النقطة 35.3400° شمالاً، 40.1400° شرقاً" in rendered.body
        )
        assert "على ارتفاع 25,000 قدم." in rendered.body

    def test_complaint_zone_ongoing_unidentified(self) -> None:
        body = render(
            "violation_complaint", VARIANTS["complaint_zone_ongoing"], "en"
        ).body
        assert "incursion into the zone of responsibility “Hmeimim” (hmeimim)" in body
        assert "Aircraft: not identified." in body
        assert "The aircraft had not left when this message was sent." in body
        assert "Duration: 1 minute 35 seconds." in body
        assert "Exit:" not in body

    def test_notice_times_to_the_minute(self) -> None:
        body = render("notice_of_operation", NOTICE, "en").body
        assert "Time: 2017-12-13 09:00Z to 2017-12-13 13:00Z." in body
        assert "Area: within 20.0 NM of 35.9500°N 39.0100°E." in body
        assert "Altitudes: 15,000 ft to 30,000 ft." in body

    def test_notice_box_and_hemispheres(self) -> None:
        facts = {
            **VARIANTS["notice_box"],
            "south_lat_deg": -12.5,
            "north_lat_deg": -10.0,
            "west_lon_deg": -70.25,
            "east_lon_deg": -69.0,
        }
        assert (
            "Area: between 12.5000°S and 10.0000°S, "
            "and between 70.2500°W and 69.0000°W."
            in render("notice_of_operation", facts, "en").body
        )
        assert "12,5000° ю. ш." in render("notice_of_operation", facts, "ru").body
        assert "70.2500° غرباً" in render("notice_of_operation", facts, "ar").body

    @pytest.mark.parametrize(
        ("lang", "words"),
        [
            ("en", "13 December 2017"),
            ("ru", f"13 декабря 2017{NNBSP}г."),
            ("ar", "13 ديسمبر 2017"),
        ],
    )
    def test_dates_in_the_locales_words(self, lang: str, words: str) -> None:
        for kind in ("daily_checkin", "missed_checkin"):
            rendered = render(kind, FACTS[kind], lang)
            assert words in rendered.body
            assert "2017-12-13" in rendered.subject

    def test_russian_abbreviation_ends_the_sentence_once(self) -> None:
        body = render("missed_checkin", FACTS["missed_checkin"], "ru").body
        assert f"за 13 декабря 2017{NNBSP}г.; срок доклада — 2017-12-13 07:00Z." in body
        notice = render("notice_of_operation", NOTICE, "ru").body
        assert "39,0100° в. д.\n" in notice

    def test_codes_are_translated(self) -> None:
        ru = render("escalation_notice", FACTS["escalation_notice"], "ru").body
        assert "(приоритет: «Молния»)" in ru
        ar = render("request_for_information", FACTS["request_for_information"], "ar")
        assert "نرجو تحديد هوية الطائرة المعنية" in ar.body
        assert ar.subject == "طلب معلومات: الطائرة VIPER11"

    @pytest.mark.parametrize("lang", LANGUAGES)
    def test_remarks_stay_as_written(self, lang: str) -> None:
        remarks = FACTS["reply"]["remarks"]
        assert render("reply", FACTS["reply"], lang).body.endswith("\n" + remarks)

    @pytest.mark.parametrize("lang", LANGUAGES)
    def test_free_text_stays_as_written(self, lang: str) -> None:
        text = "Line 1 ‮reversed‬\n\nسطر ٢"
        rendered = render("free_text", {"text": text}, lang)
        assert rendered.body == text
        assert rendered.direction == "ltr"  # from the text, not from lang
        assert "\u202e" not in rendered.text_bidi  # its own controls cannot leak
        assert "reversed" in rendered.text_bidi

    def test_free_text_direction_follows_the_text(self) -> None:
        assert render("free_text", {"text": "١٢ تأكيد"}, "en").direction == "rtl"
        assert render("free_text", {"text": "123"}, "ar").direction == "rtl"
        assert render("free_text", {"text": "123"}, "ru").direction == "ltr"

    @pytest.mark.parametrize("lang", ["ru", "ar"])
    def test_no_english_template_text_in_ru_or_ar(self, lang: str) -> None:
        fragments = _english_fragments()
        assert len(fragments) > 50  # the check looks at something
        for kind, facts in _all_cases():
            rendered = render(kind, _neutral(facts, lang), lang)
            text = rendered.subject + "\n" + rendered.body
            leaked = [f for f in fragments if f in text]
            assert not leaked, f"{kind} in {lang}: {leaked}"
            # Apart from the Z of UTC times, no Latin letter at all.
            assert not re.search(r"[A-Za-z]", TIME_RE.sub("", text)), f"{kind}: {text}"

    def test_does_not_change_the_callers_facts(self) -> None:
        facts = dict(COMPLAINT)
        render("violation_complaint", facts, "ar")
        assert facts == COMPLAINT


class TestBidi:
    @pytest.mark.parametrize(("kind", "facts"), _all_cases())
    def test_arabic_lines_are_rtl_isolates_with_ltr_values(
        self, kind: str, facts: dict[str, Any]
    ) -> None:
        rendered = render(kind, facts, "ar")
        # Free text takes its direction from the text (English here).
        assert rendered.direction == ("ltr" if kind == "free_text" else "rtl")
        plain_lines = rendered.body.split("\n")
        bidi_lines = rendered.text_bidi.split("\n")
        assert len(bidi_lines) == len(plain_lines)
        for plain, line in zip(plain_lines, bidi_lines, strict=True):
            assert line.startswith(RLI) and line.endswith(PDI)
            walked = _isolate_walk(line)
            for ch, open_isolates in walked:
                if ch.isascii() and (ch.isdigit() or ch.isalpha()):
                    assert len(open_isolates) >= 2, f"{ch!r} not isolated in {line!r}"
                    assert open_isolates[-1] in (LRI, FSI)
            stripped = "".join(ch for ch, _ in walked)
            if kind in ("free_text", "reply"):
                stripped_plain = "".join(c for c in plain if c not in BIDI_CONTROLS)
                assert stripped == stripped_plain
            else:
                assert stripped == plain
        assert rendered.subject_bidi.startswith(RLI)
        assert rendered.subject_bidi.endswith(PDI)

    def test_times_and_coordinates_are_whole_ltr_isolates(self) -> None:
        bidi = render("violation_complaint", COMPLAINT, "ar").text_bidi
        assert f"{LRI}2017-12-13 10:00:30Z{PDI}" in bidi
        assert (
            f"{LRI}35.3400°{PDI} شمالاً" in bidi
        )  # the degree sign stays with the number
        assert f"{LRI}RF-93561{PDI}" in bidi

    def test_rtl_value_in_ltr_text_is_isolated(self) -> None:
        facts = {**COMPLAINT, "boundary_name": "خط الفرات"}
        rendered = render("violation_complaint", facts, "en")
        assert f"“{FSI}خط الفرات{PDI}”" in rendered.text_bidi
        assert "“خط الفرات”" in rendered.body

    def test_remarks_each_line_first_strong(self) -> None:
        rendered = render("reply", FACTS["reply"], "en")
        assert rendered.text_bidi.endswith(
            f"{FSI}Checking with the crew.{PDI}\n{FSI}Трек пришлём к 12:00Z.{PDI}"
        )


class TestPluralForms:
    @pytest.mark.parametrize(
        ("count", "expected"),
        [
            (1, "Участвует 1 воздушное судно."),
            (2, "Участвуют 2 воздушных судна."),
            (4, "Участвуют 4 воздушных судна."),
            (5, "Участвуют 5 воздушных судов."),
            (11, "Участвуют 11 воздушных судов."),
            (12, "Участвуют 12 воздушных судов."),
            (21, "Участвует 21 воздушное судно."),
            (22, "Участвуют 22 воздушных судна."),
            (111, "Участвуют 111 воздушных судов."),
        ],
    )
    def test_russian_three_forms(self, count: int, expected: str) -> None:
        body = render(
            "notice_of_operation", {**NOTICE, "aircraft_count": count}, "ru"
        ).body
        assert expected in body

    @pytest.mark.parametrize(
        ("count", "expected"),
        [
            (1, "تشارك في العملية طائرة واحدة."),
            (2, "تشارك في العملية طائرتان."),
            (3, "تشارك في العملية 3 طائرات."),
            (10, "تشارك في العملية 10 طائرات."),
            (11, "تشارك في العملية 11 طائرة."),
            (99, "تشارك في العملية 99 طائرة."),
            (100, "تشارك في العملية 100 طائرة."),
            (102, "تشارك في العملية 102 طائرة."),
            (103, "تشارك في العملية 103 طائرات."),
        ],
    )
    def test_arabic_six_forms(self, count: int, expected: str) -> None:
        body = render(
            "notice_of_operation", {**NOTICE, "aircraft_count": count}, "ar"
        ).body
        assert expected in body

    @pytest.mark.parametrize(
        ("lang", "expected"),
        [
            ("en", "The number of aircraft taking part was not given."),
            ("ru", "Число участвующих воздушных судов не указано."),
            ("ar", "لم يُحدَّد عدد الطائرات المشاركة."),
        ],
    )
    def test_no_aircraft_named(self, lang: str, expected: str) -> None:
        # Issue 13: a notice with no aircraft entered said "1 aircraft will take
        # part". Without a count it says the number was not given.
        facts = {k: v for k, v in NOTICE.items() if k != "aircraft_count"}
        body = render("notice_of_operation", facts, lang).body
        assert expected in body
        one = render("notice_of_operation", {**NOTICE, "aircraft_count": 1}, lang)
        (one_aircraft,) = set(one.body.splitlines()) - set(body.splitlines())
        assert one_aircraft not in body and expected not in one.body

    @pytest.mark.parametrize(
        ("duration_s", "lang", "expected"),
        [
            (60.0, "en", "1 minute"),
            (3725.0, "en", "1 hour 2 minutes 5 seconds"),
            (0.0, "en", "0 seconds"),
            (121.0, "ru", "2 минуты 1 секунда"),
            (300.0, "ru", "5 минут"),
            (7200.0, "ru", "2 часа"),
            (60.0, "ar", "دقيقة واحدة"),
            (122.0, "ar", "دقيقتان وثانيتان"),
            (3660.0, "ar", "ساعة واحدة ودقيقة واحدة"),
            (665.0, "ar", "11 دقيقة و5 ثوانٍ"),
        ],
    )
    def test_durations(self, duration_s: float, lang: str, expected: str) -> None:
        facts = {**COMPLAINT, "duration_s": duration_s}
        body = render("violation_complaint", facts, lang).body
        assert f": {expected}." in body

    @pytest.mark.parametrize(
        ("lang", "expected"),
        [
            ("en", ["No incidents are open.", "No messages await acknowledgement."]),
            ("ru", ["Открытых инцидентов нет.", "Неподтверждённых сообщений нет."]),
            ("ar", ["لا توجد حوادث مفتوحة.", "لا توجد رسائل بانتظار تأكيد الاستلام."]),
        ],
    )
    def test_zero_counts_read_naturally(self, lang: str, expected: list[str]) -> None:
        body = render("daily_checkin", VARIANTS["checkin_zero"], lang).body
        assert all(line in body for line in expected)

    def test_checkin_counts(self) -> None:
        assert (
            "Не закрыто 3 инцидента."
            in render("daily_checkin", FACTS["daily_checkin"], "ru").body
        )
        assert "Не подтверждено 21 сообщение." in (
            render("daily_checkin", FACTS["daily_checkin"], "ru").body
        )
        ar = render("daily_checkin", FACTS["daily_checkin"], "ar").body
        assert "توجد 3 حوادث مفتوحة." in ar
        assert "توجد 21 رسالة بانتظار تأكيد الاستلام." in ar


class TestNumberFormatting:
    @pytest.mark.parametrize(
        ("lang", "depth", "altitude"),
        [
            ("en", "1,234.6 NM", "41,000 ft"),
            ("ru", f"1{NBSP}234,6 м. миль", f"41{NBSP}000 фт"),
            ("ar", "1,234.6 ميل بحري", "41,000 قدم"),
        ],
    )
    def test_grouping_and_decimals_follow_the_locale(
        self, lang: str, depth: str, altitude: str
    ) -> None:
        facts = {
            **COMPLAINT,
            "depth_across_line_nm": 1234.56,
            "depth_from_buffer_edge_nm": 1244.56,
            "alt_ft": 41_000.4,
        }
        body = render("violation_complaint", facts, lang).body
        assert depth in body and altitude in body

    def test_latin_digits_in_arabic(self) -> None:
        body = render("violation_complaint", COMPLAINT, "ar").body
        assert not any(unicodedata.bidirectional(ch) == "AN" for ch in body)

    def test_small_negative_prints_as_zero(self) -> None:
        body = render("violation_complaint", {**COMPLAINT, "alt_ft": -0.3}, "en").body
        assert "altitude 0 ft." in body
        body = render(
            "violation_complaint", {**COMPLAINT, "lat_deg": -0.00001}, "en"
        ).body
        assert "0.0000°N" in body

    def test_big_counts_grouped(self) -> None:
        body = render(
            "daily_checkin", {**FACTS["daily_checkin"], "open_incidents": 12_345}, "ru"
        ).body
        assert f"Не закрыто 12{NBSP}345 инцидентов." in body


class TestValidation:
    def _problems(
        self, kind: str, facts: dict[str, Any], lang: str = "en"
    ) -> dict[str, str]:
        with pytest.raises(InputError) as caught:
            render(kind, facts, lang)
        return {p.field: p.message for p in caught.value.problems}

    def test_missing_fact_is_named(self) -> None:
        facts = {k: v for k, v in COMPLAINT.items() if k != "lat_deg"}
        assert self._problems("violation_complaint", facts) == {"lat_deg": "missing"}

    def test_a_line_complaint_states_both_depths(self) -> None:
        facts = {k: v for k, v in COMPLAINT.items() if k not in LINE_DEPTHS}
        assert self._problems("violation_complaint", facts) == dict.fromkeys(
            LINE_DEPTHS, "missing"
        )
        wrong = {**COMPLAINT, "depth_inside_zone_nm": 1.0}
        assert self._problems("violation_complaint", wrong) == {
            "depth_inside_zone_nm": "not a depth of a line violation"
        }
        # Across the line, the depth from the buffer's edge is the buffer plus it.
        unsummed = {**COMPLAINT, "depth_from_buffer_edge_nm": 12.5}
        assert set(self._problems("violation_complaint", unsummed)) == {
            "depth_from_buffer_edge_nm"
        }

    def test_a_zone_complaint_states_its_depth_inside(self) -> None:
        zone = VARIANTS["complaint_zone_ongoing"]
        facts = {k: v for k, v in zone.items() if k != "depth_inside_zone_nm"}
        assert self._problems("violation_complaint", facts) == {
            "depth_inside_zone_nm": "missing"
        }
        mixed = {**zone, "depth_across_line_nm": 2.0}
        assert set(self._problems("violation_complaint", mixed)) == {
            "depth_across_line_nm"
        }

    def test_every_problem_at_once(self) -> None:
        facts = {**COMPLAINT, "alt_ft": "high", "lat_deg": 95.0, "depth_m": 3.0}
        problems = self._problems("violation_complaint", facts)
        assert set(problems) == {"alt_ft", "lat_deg", "depth_m"}
        assert "must be a number" in problems["alt_ft"]
        assert "outside [-90, 90]" in problems["lat_deg"]
        assert "unknown fact" in problems["depth_m"]

    @pytest.mark.parametrize(
        ("field", "value", "message"),
        [
            ("depth_nm", True, "must be a number, not bool"),
            ("depth_nm", float("nan"), "must be finite"),
            ("depth_nm", -1.0, "outside"),
            ("entry_t_s", float("inf"), "must be finite"),
            ("incident_id", "", "must not be empty"),
            ("incident_id", "42\x1b[2J", "control character U+001B"),
            ("incident_id", 4.2, "must be text or an integer"),
            ("boundary_kind", "circle", "'circle' is not one of: line, zone"),
            ("aircraft_id", "x" * 65, "longer than 64"),
            ("offending_party", "Rus\u202esia", "control character U+202E"),
        ],
    )
    def test_bad_fact_is_named(self, field: str, value: Any, message: str) -> None:
        problems = self._problems("violation_complaint", {**COMPLAINT, field: value})
        assert list(problems) == [field]
        assert message in problems[field]

    def test_exit_before_entry(self) -> None:
        facts = {**COMPLAINT, "exit_t_s": COMPLAINT["entry_t_s"] - 1}
        assert self._problems("violation_complaint", facts) == {
            "exit_t_s": "is before entry_t_s"
        }

    def test_notice_gives_at_most_one_area(self) -> None:
        both = {**NOTICE, "south_lat_deg": 1.0}
        assert "not both" in self._problems("notice_of_operation", both)["area"]
        # None: the area is withheld (a protocol's notice_discloses), not stated.
        none = {
            k: v
            for k, v in NOTICE.items()
            if k not in ("lat_deg", "lon_deg", "radius_nm")
        }
        shown = render("notice_of_operation", {**none, "withheld": ["area"]}, "en")
        assert "Area" not in shown.body
        partial = {k: v for k, v in NOTICE.items() if k != "radius_nm"}
        assert self._problems("notice_of_operation", partial) == {
            "radius_nm": "missing"
        }

    def test_notice_ranges(self) -> None:
        facts = {
            **VARIANTS["notice_box"],
            "south_lat_deg": 36.0,
            "ceiling_ft": 1000.0,
            "end_t_s": 0.0,
        }
        problems = self._problems("notice_of_operation", facts)
        assert set(problems) == {"north_lat_deg", "ceiling_ft", "end_t_s"}
        assert "aircraft_count" in self._problems(
            "notice_of_operation", {**NOTICE, "aircraft_count": 0}
        )

    @pytest.mark.parametrize(
        "value",
        [
            "2017-13-01",
            "13/12/2017",
            20171213,
            datetime(2017, 12, 13, 10, 0, tzinfo=UTC),
        ],
    )
    def test_bad_date(self, value: Any) -> None:
        problems = self._problems(
            "missed_checkin", {**FACTS["missed_checkin"], "date": value}
        )
        assert list(problems) == ["date"]

    def test_remarks_accept_crlf_but_not_a_lone_carriage_return(self) -> None:
        crlf = render("reply", {**FACTS["reply"], "remarks": "a\r\nb"}, "en")
        assert crlf.body.endswith("a\r\nb")
        problems = self._problems(
            "reply", {**FACTS["reply"], "remarks": "received\rdispute"}
        )
        assert "U+000D" in problems["remarks"]

    def test_remarks_refuse_terminal_controls_but_keep_newlines(self) -> None:
        problems = self._problems("reply", {**FACTS["reply"], "remarks": "ok\x1b[31m"})
        assert "U+001B" in problems["remarks"]
        assert render(
            "reply", {**FACTS["reply"], "remarks": "a\n\tb"}, "en"
        ).body.endswith("a\n\tb")

    def test_unknown_kind_lists_the_known_ones(self) -> None:
        with pytest.raises(InputError) as caught:
            render("complaint", {}, "en")
        (problem,) = caught.value.problems
        assert problem.field == "kind"
        assert all(kind in problem.message for kind in KINDS)

    def test_unknown_language_lists_the_known_ones(self) -> None:
        with pytest.raises(InputError) as caught:
            render("violation_complaint", COMPLAINT, "fr")
        (problem,) = caught.value.problems
        assert problem.field == "lang"
        assert "en, ru, ar" in problem.message

    def test_facts_must_be_a_mapping(self) -> None:
        with pytest.raises(InputError):
            render("reply", [("answer", "received")], "en")  # type: ignore[arg-type]


class TestOperationKinds:
    def test_a_label_for_each_kind_of_the_domain_list(self) -> None:
        assert tuple(templates.OPERATION_KINDS) == OPERATION_KINDS


class TestRequiredFields:
    @pytest.mark.parametrize("kind", KINDS)
    def test_required_facts_alone_suffice(self, kind: str) -> None:
        facts = {k: v for k, v in FACTS[kind].items() if k in required_fields(kind)}
        if kind == "notice_of_operation":  # plus one area
            facts |= {k: NOTICE[k] for k in ("lat_deg", "lon_deg", "radius_nm")}
        if kind == "violation_complaint":  # plus the depths of its kind
            facts |= {k: COMPLAINT[k] for k in LINE_DEPTHS}
        if kind == "manoeuvre_intention":  # plus its target
            facts |= {"alt_ft": 25_000.0}
        for lang in LANGUAGES:
            render(kind, facts, lang)

    @pytest.mark.parametrize("kind", KINDS)
    def test_each_required_fact_is_needed(self, kind: str) -> None:
        for name in required_fields(kind):
            facts = {k: v for k, v in FACTS[kind].items() if k != name}
            with pytest.raises(InputError) as caught:
                render(kind, facts, "en")
            assert name in {p.field for p in caught.value.problems}

    def test_required_and_optional_do_not_overlap(self) -> None:
        for kind in KINDS:
            assert not set(required_fields(kind)) & set(optional_fields(kind))

    def test_unknown_kind(self) -> None:
        with pytest.raises(InputError):
            required_fields("nope")
        with pytest.raises(InputError):
            optional_fields("nope")


class TestDirection:
    def test_directions(self) -> None:
        assert [direction(lang) for lang in LANGUAGES] == ["ltr", "ltr", "rtl"]

    def test_unknown_language(self) -> None:
        with pytest.raises(InputError):
            direction("he")


class TestCatalogs:
    def test_catalogs_are_complete_and_current(self) -> None:
        assert catalogs.check_catalogs() == []

    def test_pot_is_up_to_date_with_the_code(self) -> None:
        with catalogs.POT_PATH.open("rb") as handle:
            pot = read_po(handle)
        extracted = catalogs.extract_messages()
        ids = {(m.id, m.context) for m in extracted if m.id}
        assert ids == {(m.id, m.context) for m in pot if m.id}
        assert len(ids) > 80

    @pytest.mark.parametrize(("lang", "forms"), [("ru", 3), ("ar", 6)])
    def test_every_message_translated(self, lang: str, forms: int) -> None:
        with catalogs.POT_PATH.open("rb") as handle:
            pot = read_po(handle)
        catalog = templates.read_catalog(lang)
        assert catalog.num_plurals == forms
        for message in pot:
            if not message.id:
                continue
            found = catalog.get(message.id, message.context)
            assert found is not None, message.id
            assert not found.fuzzy, message.id
            strings = (
                found.string if isinstance(found.string, tuple) else (found.string,)
            )
            if isinstance(message.id, tuple):
                assert len(strings) == forms, message.id
            assert all(s and s.strip() for s in strings), message.id
            if re.search(r"[A-Za-z]", re.sub(r"%\(\w+\)s", "", str(message.id))):
                assert all(s != message.id for s in strings), message.id

    @pytest.mark.parametrize("lang", ["ru", "ar"])
    def test_no_latin_letters_outside_placeholders(self, lang: str) -> None:
        for message in templates.read_catalog(lang):
            if not message.id:
                continue
            strings = (
                message.string
                if isinstance(message.string, tuple)
                else (message.string,)
            )
            for text in strings:
                assert not re.search(r"[A-Za-z]", re.sub(r"%\(\w+\)s", "", text)), text

    def test_no_mo_files_are_needed(self) -> None:
        assert not list(templates.LOCALE_DIR.rglob("*.mo"))

    def test_main_check(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert catalogs.main(["--check"]) == 0
        assert capsys.readouterr().out.startswith("ok: ")

    def test_update_template_leaves_a_current_file_alone(self) -> None:
        before = catalogs.POT_PATH.read_bytes()
        assert catalogs.update_template() is False
        assert catalogs.POT_PATH.read_bytes() == before


# --- hypothesis: rendering never fails for valid facts -------------------------------

_ids = st.one_of(
    st.integers(0, 10**12),
    st.text(
        st.characters(categories=("L", "N", "Pd", "Pc")), min_size=1, max_size=30
    ).filter(str.strip),
)
_names = st.text(
    st.characters(categories=("L", "N", "Zs", "Pd")), min_size=1, max_size=60
).filter(str.strip)
_times = st.floats(0.0, 4.0e9)
_lats = st.floats(-90.0, 90.0)
_lons = st.floats(-180.0, 180.0)
_alts = st.floats(-1500.0, 100_000.0)
_dist = st.floats(0.0, 5000.0)
_texts = st.text(
    st.characters(categories=("L", "N", "P", "S", "Zs"), include_characters="\n\t"),
    max_size=200,
)


@st.composite
def _complaint(draw: st.DrawFn) -> dict[str, Any]:
    entry = draw(_times)
    facts: dict[str, Any] = {
        "incident_id": draw(_ids),
        "offending_party": draw(_names),
        "boundary_kind": draw(st.sampled_from(templates.BOUNDARY_KINDS)),
        "boundary_id": draw(_ids),
        "boundary_name": draw(_names),
        "entry_t_s": entry,
        "exit_t_s": draw(
            st.none() | st.floats(0.0, 30 * 86_400.0).map(lambda d: entry + d)
        ),
        "duration_s": draw(st.none() | st.floats(0.0, 86_400.0)),
        "lat_deg": draw(_lats),
        "lon_deg": draw(_lons),
        "alt_ft": draw(_alts),
        "aircraft_id": draw(st.none() | _ids),
    }
    depth = draw(_dist)
    if draw(st.booleans()):
        facts["depth_nm"] = depth  # as recorded before the depths were named
    elif facts["boundary_kind"] == "zone":
        facts["depth_inside_zone_nm"] = depth
    else:
        buffer = draw(st.floats(0.1, 50.0))
        across = draw(st.sampled_from([0.0, depth]))
        facts["buffer_nm"] = buffer
        facts["depth_across_line_nm"] = across
        facts["depth_from_buffer_edge_nm"] = (
            buffer + across if across else min(depth, buffer)
        )
    return facts


@st.composite
def _notice(draw: st.DrawFn) -> dict[str, Any]:
    start = draw(_times)
    floor = draw(_alts)
    facts: dict[str, Any] = {
        "operation_id": draw(_ids),
        "operation_kind": draw(st.sampled_from(sorted(templates.OPERATION_KINDS))),
        "floor_ft": floor,
        "ceiling_ft": floor + draw(st.floats(0.0, 50_000.0)),
        "start_t_s": start,
        "end_t_s": start + draw(st.floats(0.0, 86_400.0)),
        "aircraft_count": draw(st.integers(1, 100_000)),
    }
    if draw(st.booleans()):
        facts |= {
            "lat_deg": draw(_lats),
            "lon_deg": draw(_lons),
            "radius_nm": draw(_dist),
        }
    else:
        a, b = sorted((draw(_lats), draw(_lats)))
        facts |= {
            "south_lat_deg": a,
            "north_lat_deg": b,
            "west_lon_deg": draw(_lons),
            "east_lon_deg": draw(_lons),
        }
    return facts


_dates = st.dates(date(1970, 1, 1), date(9999, 12, 30))
_targets = {
    "heading_deg": st.floats(0.0, 360.0),
    "alt_ft": st.floats(-200_000.0, 200_000.0),
    "gs_kt": st.floats(0.0, 2_000.0),
}
_STRATEGIES: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "violation_complaint": _complaint(),
    "notice_of_operation": _notice(),
    "daily_checkin": st.fixed_dictionaries(
        {"party": _names, "date": _dates | _dates.map(date.isoformat)},
        optional={
            "open_incidents": st.integers(0, 10**6),
            "unacknowledged_messages": st.integers(0, 10**6),
        },
    ),
    "request_for_information": st.fixed_dictionaries(
        {
            "subject_kind": st.sampled_from(sorted(templates.SUBJECT_KINDS)),
            "subject_id": _ids,
            "question": st.sampled_from(sorted(templates.QUESTIONS)),
            "t_s": _times,
        }
    ),
    "reply": st.fixed_dictionaries(
        {"reply_to_id": _ids, "answer": st.sampled_from(sorted(templates.ANSWERS))},
        optional={"remarks": _texts},
    ),
    "escalation_notice": st.fixed_dictionaries(
        {
            "message_id": _ids,
            "deadline_t_s": _times,
            "priority": st.sampled_from(templates.PRIORITIES),
        },
        optional={"awaiting_party": _names},
    ),
    "missed_checkin": st.fixed_dictionaries(
        {"party": _names, "date": _dates, "due_t_s": _times}
    ),
    "request_for_manoeuvre": st.sampled_from(
        sorted(templates.MANOEUVRE_TARGETS)
    ).flatmap(
        lambda m: st.fixed_dictionaries(
            {"alert_id": _ids, "manoeuvre": st.just(m)},
            optional={
                "aircraft_id": _ids,
                "t_s": _times,
                templates.MANOEUVRE_TARGETS[m]: _targets[
                    templates.MANOEUVRE_TARGETS[m]
                ],
            },
        )
    ),
    "manoeuvre_intention": st.sampled_from(sorted(templates.MANOEUVRE_TARGETS)).flatmap(
        lambda m: st.fixed_dictionaries(
            {
                "alert_id": _ids,
                "aircraft_id": _ids,
                "manoeuvre": st.just(m),
                templates.MANOEUVRE_TARGETS[m]: _targets[
                    templates.MANOEUVRE_TARGETS[m]
                ],
            },
            optional={"t_s": _times},
        )
    ),
    "free_text": st.fixed_dictionaries({"text": _texts.filter(str.strip)}),
}


class TestRenderNeverFails:
    @settings(max_examples=150, deadline=None)
    @given(
        kind_facts=st.sampled_from(KINDS).flatmap(
            lambda kind: st.tuples(st.just(kind), _STRATEGIES[kind])
        ),
        lang=st.sampled_from(LANGUAGES),
    )
    def test_valid_facts_always_render(
        self, kind_facts: tuple[str, dict[str, Any]], lang: str
    ) -> None:
        kind, facts = kind_facts
        rendered = render(kind, facts, lang)
        assert rendered.body and rendered.subject
        for line in rendered.text_bidi.split("\n"):
            _isolate_walk(line)  # balanced on every line


def _copy_locale(tmp_path: Path) -> Path:
    target = tmp_path / "locale"
    shutil.copytree(templates.LOCALE_DIR, target)
    return target


def _edit_po(path: Path, lang: str, edit: Callable[[Catalog], None]) -> None:
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    edit(catalog)
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=0, no_location=True)
    path.write_bytes(buffer.getvalue())


RU_PO = Path("ru/LC_MESSAGES/messages.po")
EXIT_ID = "Exit: %(time)s."


class TestCatalogMaintenance:
    def test_update_is_idempotent(self, tmp_path: Path) -> None:
        locale = _copy_locale(tmp_path)
        assert catalogs.update_template(locale) is False
        assert catalogs.update_catalogs(locale) == []
        assert catalogs.check_catalogs(locale) == []

    def test_missing_then_untranslated(self, tmp_path: Path) -> None:
        locale = _copy_locale(tmp_path)
        _edit_po(locale / RU_PO, "ru", lambda c: c.delete(EXIT_ID))
        assert catalogs.check_catalogs(locale) == [f"ru: {EXIT_ID!r}: missing"]
        assert catalogs.update_catalogs(locale) == ["ru"]
        assert catalogs.check_catalogs(locale) == [
            f"ru: {EXIT_ID!r}: form 0 untranslated"
        ]

    def test_a_new_message_stays_untranslated_after_english(
        self, tmp_path: Path
    ) -> None:
        # English fills its msgstr with the msgid; that must not leak into the
        # languages updated after it (they shared the template's message objects,
        # so a new message arrived in ru and ar in English and passed the check).
        locale = _copy_locale(tmp_path)
        for lang in templates.LANGUAGES:
            path = locale / f"{lang}/LC_MESSAGES/messages.po"
            _edit_po(path, lang, lambda c: c.delete(EXIT_ID))
        assert catalogs.update_catalogs(locale) == list(templates.LANGUAGES)
        assert catalogs.check_catalogs(locale) == [
            f"ru: {EXIT_ID!r}: form 0 untranslated",
            f"ar: {EXIT_ID!r}: form 0 untranslated",
        ]

    def test_english_fills_itself(self, tmp_path: Path) -> None:
        locale = _copy_locale(tmp_path)
        en_po = locale / "en/LC_MESSAGES/messages.po"
        _edit_po(en_po, "en", lambda c: c.delete(EXIT_ID))
        assert catalogs.update_catalogs(locale) == ["en"]
        assert catalogs.check_catalogs(locale) == []

    def test_fuzzy_and_lost_placeholder(self, tmp_path: Path) -> None:
        locale = _copy_locale(tmp_path)

        def edit(catalog: Catalog) -> None:
            message = catalog.get(EXIT_ID)
            assert message is not None
            message.string = "Время выхода."
            message.flags.add("fuzzy")

        _edit_po(locale / RU_PO, "ru", edit)
        assert catalogs.check_catalogs(locale) == [
            f"ru: {EXIT_ID!r}: marked fuzzy",
            f"ru: {EXIT_ID!r}: form 0 lacks ['time']",
        ]

    def test_unknown_placeholder(self, tmp_path: Path) -> None:
        locale = _copy_locale(tmp_path)

        def edit(catalog: Catalog) -> None:
            message = catalog.get(EXIT_ID)
            assert message is not None
            message.string = "Время выхода: %(time)s, %(place)s."

        _edit_po(locale / RU_PO, "ru", edit)
        problems = catalogs.check_catalogs(locale)
        assert f"ru: {EXIT_ID!r}: form 0 has unknown ['place']" in problems

    def test_stale_template(self, tmp_path: Path) -> None:
        locale = _copy_locale(tmp_path)
        _edit_po(locale / "messages.pot", "en", lambda c: c.add("Gone message"))
        problems = catalogs.check_catalogs(locale)
        assert "messages.pot: has stale 'Gone message' (run --extract)" in problems
        assert catalogs.update_template(locale) is True
        assert catalogs.check_catalogs(locale) == []

    def test_new_language(self, tmp_path: Path) -> None:
        locale = _copy_locale(tmp_path)
        assert catalogs.update_catalogs(locale, languages=("fr",)) == ["fr"]
        with (locale / "fr/LC_MESSAGES/messages.po").open("rb") as handle:
            catalog = read_po(handle, locale="fr")
        assert catalog.num_plurals == 2
        extracted = [m for m in catalogs.extract_messages() if m.id]
        assert len([m for m in catalog if m.id]) == len(extracted)
        assert all(not m.string or m.string == ("", "") for m in catalog if m.id)
