"""Manoeuvre messages (#17.5): the templates in three languages and their facts
filled from an alert's guidance."""

from __future__ import annotations

from typing import Any

import pytest

from deconfliction.errors import InputError
from deconfliction.hotline.manoeuvres import intention_facts, request_facts
from deconfliction.hotline.templates import LRI, PDI, RLI, render

T0_S = 1_513_159_200.0  # 2017-12-13T10:00:00Z

# The guidance of a head-on encounter, as the live server gives it (its shape).
GUIDANCE: dict[str, Any] = {
    "config": "do-365b",
    "t_s": T0_S,
    "resolution": {
        "direction_deg": {"right": 95.0, "left": 265.0, "preferred": "right"},
        "altitude_ft": {"up": 25_000.0, "down": 23_000.0, "preferred": "up"},
        "horizontal_speed_kt": {"up": "inf", "down": 250.0, "preferred": "down"},
        "vertical_speed_fpm": {"up": 1000.0, "down": -1000.0, "preferred": "up"},
    },
}


class TestIntention:
    @pytest.mark.parametrize(
        ("lang", "words"),
        [
            ("en", "Our aircraft VIPER11 will turn right to 095°."),
            (
                "ru",
                "Наше воздушное судно VIPER11 выполнит правый разворот на курс 095°.",
            ),
            ("ar", "ستنعطف طائرتنا VIPER11 يميناً إلى الاتجاه 095°."),
        ],
    )
    def test_turn_from_the_guidance(self, lang: str, words: str) -> None:
        facts = intention_facts(GUIDANCE, "a1", "VIPER11")
        rendered = render("manoeuvre_intention", facts, lang)
        assert words in rendered.body
        assert "2017-12-13 10:00:00Z" in rendered.body
        assert rendered.direction == ("rtl" if lang == "ar" else "ltr")

    @pytest.mark.parametrize(
        ("lang", "words"),
        [
            ("en", "will climb to FL250."),
            ("ru", "выполнит набор высоты до эшелон 250."),
            ("ar", "ستصعد طائرتنا VIPER11 إلى مستوى الطيران 250."),
        ],
    )
    def test_climb_to_a_flight_level(self, lang: str, words: str) -> None:
        facts = intention_facts(GUIDANCE, "a1", "VIPER11", "altitude_ft")
        assert words in render("manoeuvre_intention", facts, lang).body

    def test_arabic_keeps_heading_and_callsign_left_to_right(self) -> None:
        facts = intention_facts(GUIDANCE, "a1", "VIPER11")
        line = render("manoeuvre_intention", facts, "ar").text_bidi.split("\n")[1]
        assert line.startswith(RLI) and line.endswith(PDI)
        assert f"{LRI}095°{PDI}" in line and f"{LRI}VIPER11{PDI}" in line

    def test_below_the_flight_levels_in_feet(self) -> None:
        facts = {**intention_facts(GUIDANCE, "a1", "V", "altitude_ft")}
        facts["alt_ft"] = 9_999.0
        assert "climb to 9,999 ft." in render("manoeuvre_intention", facts, "en").body
        facts["alt_ft"] = 10_000.0
        assert "climb to FL100." in render("manoeuvre_intention", facts, "en").body

    def test_north_is_360_and_a_person_decides(self) -> None:
        facts = intention_facts(GUIDANCE, "a1", "V") | {"heading_deg": 0.0}
        body = render("manoeuvre_intention", facts, "en").body
        assert "turn right to 360°." in body
        assert "Decided by our duty officer" in body

    def test_speed(self) -> None:
        facts = intention_facts(GUIDANCE, "a1", "V", "horizontal_speed_kt")
        assert facts["manoeuvre"] == "slow_down"
        body = render("manoeuvre_intention", facts, "en").body
        assert "slow down to 250 kt." in body


class TestRequest:
    @pytest.mark.parametrize(
        ("lang", "words"),
        [
            ("en", "We ask that your aircraft descend."),
            ("ru", "Просим ваше воздушное судно выполнить снижение."),
            ("ar", "نطلب أن تهبط طائرتكم."),
        ],
    )
    def test_the_other_vertical_sense(self, lang: str, words: str) -> None:
        facts = request_facts(GUIDANCE, "a1", "altitude_ft")
        assert facts["manoeuvre"] == "descend"
        assert words in render("request_for_manoeuvre", facts, lang).body

    def test_head_on_both_turn_right(self) -> None:
        facts = request_facts(GUIDANCE, "a1")
        assert facts["manoeuvre"] == "turn_right"
        facts |= {"heading_deg": 275.0, "aircraft_id": "RF93"}
        body = render("request_for_manoeuvre", facts, "en").body
        assert "Your aircraft: RF93." in body
        assert "We ask that your aircraft turn right to 275°." in body
        assert "say whether you will comply" in body


class TestFacts:
    def test_an_intention_states_its_target(self) -> None:
        facts = {"alert_id": "a", "aircraft_id": "V", "manoeuvre": "climb"}
        with pytest.raises(InputError) as caught:
            render("manoeuvre_intention", facts, "en")
        assert [p.field for p in caught.value.problems] == ["alt_ft"]

    def test_the_target_of_another_manoeuvre_is_refused(self) -> None:
        facts = {"alert_id": "a", "manoeuvre": "climb", "heading_deg": 90.0}
        with pytest.raises(InputError) as caught:
            render("request_for_manoeuvre", facts, "en")
        assert [p.field for p in caught.value.problems] == ["heading_deg"]

    @pytest.mark.parametrize(
        ("field", "value"),
        [("heading_deg", 360.0), ("heading_deg", 0.0), ("gs_kt", 2000.0)],
    )
    def test_ranges_at_their_ends(self, field: str, value: float) -> None:
        manoeuvre = "turn_left" if field == "heading_deg" else "speed_up"
        render(
            "request_for_manoeuvre",
            {"alert_id": "a", "manoeuvre": manoeuvre, field: value},
            "en",
        )

    @pytest.mark.parametrize(
        ("field", "value"),
        [("heading_deg", 360.001), ("heading_deg", -0.001), ("gs_kt", 2000.001)],
    )
    def test_ranges_beyond_their_ends(self, field: str, value: float) -> None:
        manoeuvre = "turn_left" if field == "heading_deg" else "speed_up"
        facts = {"alert_id": "a", "manoeuvre": manoeuvre, field: value}
        with pytest.raises(InputError) as caught:
            render("request_for_manoeuvre", facts, "en")
        assert [p.field for p in caught.value.problems] == [field]

    def test_unknown_manoeuvre(self) -> None:
        with pytest.raises(InputError) as caught:
            render(
                "request_for_manoeuvre", {"alert_id": "a", "manoeuvre": "loop"}, "en"
            )
        assert [p.field for p in caught.value.problems] == ["manoeuvre"]

    @pytest.mark.parametrize("dimension", ["horizontal_speed_kt", "vertical_speed_fpm"])
    def test_no_resolution_to_state(self, dimension: str) -> None:
        guidance = {
            "resolution": {
                "horizontal_speed_kt": {"up": None, "down": None, "preferred": "up"}
            }
        }
        with pytest.raises(InputError):
            intention_facts(guidance, "a", "V", dimension)

    def test_infinite_side_is_no_resolution(self) -> None:
        guidance = {
            "resolution": {"direction_deg": {"right": "inf", "preferred": "right"}}
        }
        with pytest.raises(InputError):
            intention_facts(guidance, "a", "V")
