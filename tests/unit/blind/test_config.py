"""blind.toml: parsing, defaults and every problem located."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest

from deconfliction.blind.config import (
    DEFAULTS,
    HELPER,
    BlindConfigError,
    load_blind_config,
    parse_blind_config,
)
from tests.unit.blind.conftest import CONFIG_TEXT


class TestParseBlindConfig:
    def test_defaults_and_order(self) -> None:
        config = parse_blind_config(CONFIG_TEXT, "blind.toml")
        assert [p.party for p in config.peers] == ["coalition", "russia", HELPER]
        assert config.parties == ("coalition", "russia")
        assert (config.reference_lat_deg, config.reference_lon_deg) == (35.0, 39.0)
        assert config.max_aircraft == 8
        assert config.max_conflicts == 8  # defaults to max_aircraft
        assert config.radius_nm == DEFAULTS["radius_nm"]
        assert config.horizontal_steps == DEFAULTS["horizontal_steps"]
        assert config.horizontal_nm is None
        assert config.peer("russia").address == "127.0.0.1:11366"

    def test_ipv6_address(self) -> None:
        text = CONFIG_TEXT.replace('"127.0.0.1:11366"', '"[::1]:11366"')
        peer = parse_blind_config(text).peer("russia")
        assert (peer.host, peer.port, peer.address) == ("::1", 11366, "[::1]:11366")

    def test_every_problem_with_its_line(self) -> None:
        text = """\
[blind]
reference = [95.0, 39.0]
max_aircraft = 0
radius_nm = "far"
horizontal_steps = 2.5
colour = "blue"
min_alt_ft = 5000
max_alt_ft = 1000

[peers]
coalition = "127.0.0.1"
russia = "127.0.0.1:11366"
helper = "127.0.0.1:11367"
"""
        with pytest.raises(BlindConfigError) as info:
            parse_blind_config(text, "b.toml")
        found = {(p.line, p.field) for p in info.value.problems}
        assert found == {
            (2, "blind.reference"),
            (3, "blind.max_aircraft"),
            (4, "blind.radius_nm"),
            (5, "blind.horizontal_steps"),
            (6, "blind.colour"),
            (7, "blind.min_alt_ft"),
            (11, "peers.coalition"),
        }
        assert "b.toml:2: blind.reference:" in str(info.value)

    @pytest.mark.parametrize(
        "peers",
        [
            'a = "h:1"\nb = "h:2"',
            'a = "h:1"\nb = "h:2"\nc = "h:3"',
            'a = "h:1"\nb = "h:2"\nhelper = "h:3"\nc = "h:4"',
        ],
    )
    def test_peers_must_be_two_parties_and_the_helper(self, peers: str) -> None:
        with pytest.raises(BlindConfigError, match="exactly two parties"):
            parse_blind_config(f"[peers]\n{peers}\n")

    def test_addresses_must_differ(self) -> None:
        text = '[peers]\na = "h:1"\nb = "h:1"\nhelper = "h:3"\n'
        with pytest.raises(BlindConfigError, match="must differ"):
            parse_blind_config(text)

    def test_syntax_error(self) -> None:
        with pytest.raises(BlindConfigError, match="TOML syntax error"):
            parse_blind_config("[blind\n")

    def test_unknown_participant(self) -> None:
        config = parse_blind_config(CONFIG_TEXT)
        with pytest.raises(BlindConfigError, match="no participant 'usa'"):
            config.peer("usa")


class TestLoadBlindConfig:
    def test_reads_a_file(self, tmp_path: Path) -> None:
        path = tmp_path / "blind.toml"
        path.write_text(CONFIG_TEXT, encoding="utf-8")
        assert load_blind_config(path).source == str(path)

    def test_missing_file(self, tmp_path: Path) -> None:
        with pytest.raises(FileNotFoundError):
            load_blind_config(tmp_path / "nope.toml")


class TestPins:
    PINS: ClassVar[dict[str, str]] = {
        n: "sha256:" + c * 64 for n, c in (("coalition", "a"), ("russia", "b"))
    }

    def test_pins_in_participant_order(self) -> None:
        text = (
            CONFIG_TEXT
            + "\n[pins]\n"
            + "".join(
                f'{n} = "{f}"\n'
                for n, f in {**self.PINS, HELPER: "sha256:" + "c" * 64}.items()
            )
        )
        config = parse_blind_config(text)
        assert config.pins == (
            self.PINS["coalition"],
            self.PINS["russia"],
            "sha256:" + "c" * 64,
        )

    def test_no_pins_no_tls(self) -> None:
        assert parse_blind_config(CONFIG_TEXT).pins is None

    def test_every_pin_problem_with_its_line(self) -> None:
        text = CONFIG_TEXT + (
            '\n[pins]\ncoalition = "sha256:AB"\nrussia = "'
            + self.PINS["russia"]
            + '"\n'
            'nobody = "' + self.PINS["russia"] + '"\n'
        )
        with pytest.raises(BlindConfigError) as info:
            parse_blind_config(text, "b.toml")
        fields = sorted(p.field for p in info.value.problems)
        assert fields == ["pins", "pins.coalition", "pins.nobody"]
        assert any("pin all three or none" in p.message for p in info.value.problems)
