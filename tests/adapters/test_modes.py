"""Raw Mode-S / ADS-B: pyModeS's documented examples, recorded-style flights in every
line form, and every kind of bad frame."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deconfliction.adapters.modes import ModeSDecoder, parse_reference
from deconfliction.adapters.track_stream import TrackRecord
from deconfliction.errors import InputError
from tests.adapters.interop_samples import (
    DOC_CALLSIGN,
    DOC_EVEN,
    DOC_LAT_DEG,
    DOC_LON_DEG,
    DOC_ODD,
    DOC_VELOCITY,
    callsign_message,
    flight,
    modes_lines,
    position_message,
    velocity_message,
)

T0 = 1446332400.0


def _decode(lines: list[str], **kw: object) -> tuple[list[TrackRecord], ModeSDecoder]:
    d = ModeSDecoder("test.hex", **kw)  # type: ignore[arg-type]
    records = d.feed(("\n".join(lines) + "\n").encode()) + d.finish()
    return records, d


class TestDocumentedExamples:
    def test_cpr_pair_even_newer(self) -> None:
        # pyModeS's example: the even frame 8D40621D58C382D690C8AC2863A7 (newer) and
        # the odd frame 8D40621D58C386435CC412692AD6 decode to 52.2572 N, 3.9193 E.
        records, d = _decode([f"{T0} {DOC_ODD}", f"{T0 + 1} {DOC_EVEN}"])
        (r,) = records
        assert r.lat_deg == pytest.approx(DOC_LAT_DEG, abs=1e-4)
        assert r.lon_deg == pytest.approx(DOC_LON_DEG, abs=1e-4)
        assert (r.id, r.alt_ft, r.t_s) == ("40621D", 38000.0, T0 + 1)
        assert d.stats.positions == 1

    def test_single_message_with_a_reference(self) -> None:
        records, _ = _decode([f"{T0} {DOC_EVEN}"], reference=(52.258, 3.918))
        (r,) = records
        assert r.lat_deg == pytest.approx(DOC_LAT_DEG, abs=1e-4)
        assert r.lon_deg == pytest.approx(DOC_LON_DEG, abs=1e-4)

    def test_velocity_and_callsign_are_merged(self) -> None:
        # 485020: 159 kt, 182.88 deg, -832 ft/min (pyModeS's example); the position
        # frames are re-addressed to it.
        even = position_message("485020", 52.2572, 3.9193, 38000.0, odd=False)
        odd = position_message("485020", 52.2572, 3.9193, 38000.0, odd=True)
        callsign = callsign_message("485020", "KLM1023")
        records, _ = _decode(
            [
                f"{T0} {callsign}",
                f"{T0} {DOC_VELOCITY}",
                f"{T0} {odd}",
                f"{T0 + 1} {even}",
            ]
        )
        (r,) = records
        assert r.gs_kt == 159 and r.trk_deg == pytest.approx(182.88, abs=0.01)
        assert r.vs_fpm == -832 and r.callsign == "KLM1023"

    def test_documented_identification(self) -> None:
        _, d = _decode([f"{T0} {DOC_CALLSIGN}"])
        assert d.stats.accepted == 1 and d._aircraft["4840D6"].callsign == "KLM1023"


class TestRecordedFlights:
    @pytest.fixture
    def truth(self) -> list:  # type: ignore[type-arg]
        return flight(
            "4CA2D6", "VIPER11", 35.5, 38.2, 45.0, 420.0, 25000.0, 1513159200.0, 60
        )

    def _check(
        self, records: list[TrackRecord], truth: list, t_offset: float = 0.0
    ) -> None:  # type: ignore[type-arg]
        by_time = {round(s.t_s + t_offset, 3): s for s in truth}
        assert len(records) >= len(truth) - 3  # the older halves of the first pairs
        for r in records:
            s = by_time[round(r.t_s, 3)]
            assert r.lat_deg == pytest.approx(
                s.lat_deg, abs=1e-4
            )  # ~10 m: CPR resolution
            assert r.lon_deg == pytest.approx(s.lon_deg, abs=1e-4)
            assert r.alt_ft == 25000.0 and r.callsign == "VIPER11"
            assert r.gs_kt == 420.0 and r.trk_deg == pytest.approx(45.0, abs=0.2)
        assert [r.t_s for r in records] == sorted(r.t_s for r in records)

    def test_epoch_timed_lines(self, truth: list) -> None:  # type: ignore[type-arg]
        records, d = _decode(modes_lines(truth, "epoch"))
        self._check(records, truth)
        assert d.stats.rejected_total == 0

    def test_mlat_counter_lines(self, truth: list) -> None:  # type: ignore[type-arg]
        records, _ = _decode(modes_lines(truth, "mlat"), start_t_s=truth[0].t_s)
        self._check(records, truth)

    def test_avr_lines_take_the_clock(self, truth: list) -> None:  # type: ignore[type-arg]
        # AVR lines carry no time: one clock reading per line, the time of arrival.
        per_line = []
        for k, s in enumerate(truth):
            per_line += [s.t_s] * (1 + (k % 4 == 0) + (k % 10 == 0))
        stamps = iter(per_line)
        records, _ = _decode(modes_lines(truth, "avr"), clock=lambda: next(stamps))
        self._check(records, truth)

    def test_pymodes_plausibility_checks_reject(self, truth: list) -> None:  # type: ignore[type-arg]
        last = truth[-1]
        lines = [
            *modes_lines(truth, "epoch"),
            f"{last.t_s + 0.5} "
            + position_message("4CA2D6", 40.0, 30.0, 25000.0, True),
            f"{last.t_s + 0.6} " + velocity_message("4CA2D6", 100.0, 270.0, 0.0),
            f"{last.t_s + 0.7} "
            + position_message("4CA2D6", last.lat_deg, last.lon_deg, 35000.0, False),
        ]
        records, d = _decode(lines)
        assert d.stats.rejected == {
            "implausible position": 1,
            "inconsistent velocity": 1,
            "inconsistent altitude": 1,
        }
        assert all(r.lat_deg < 36.0 for r in records)

    def test_mlat_counter_wraps(self) -> None:
        lines = [
            f"@{(1 << 48) - 12_000_000:012X}{DOC_ODD};",
            f"@{12_000_000 - 12_000_000 + 6_000_000:012X}{DOC_EVEN};",
        ]
        records, _ = _decode(lines, start_t_s=T0)
        assert records[0].t_s == pytest.approx(T0 + 1.5)

    def test_reference_gives_the_first_positions_at_once(self, truth: list) -> None:  # type: ignore[type-arg]
        d = ModeSDecoder("x", reference=(35.6, 38.3))
        first = d.feed(("\n".join(modes_lines(truth[:1], "epoch")) + "\n").encode())
        assert len(first) == 1


class TestBadFrames:
    @pytest.mark.parametrize(
        ("line", "reason"),
        [
            (f"*{DOC_EVEN[:-1]}8;", "bad CRC"),
            (f"*{DOC_EVEN}", "bad frame"),
            ("*8D40621D58C382D690C8AC2863AZ;", "bad hex"),
            ("*8D40621D58C3;", "bad length"),
            ("*8D40621D58C382;", "bad length"),
            ("*0840621D58C382D690C8AC2863A7;", "unknown downlink format"),
            (f"abc {DOC_EVEN}", "bad time"),
            (f"-5 {DOC_EVEN}", "bad time"),
            (f"1 2 {DOC_EVEN}", "bad frame"),
            ("@12345;", "bad frame"),
            (f"@XXXXXXXXXXXX{DOC_EVEN};", "bad time"),
            ("*8D_0621D58C382D690C8AC2863A7;", "bad hex"),
        ],
    )
    def test_rejected_with_the_line_and_the_rest_kept(
        self, line: str, reason: str
    ) -> None:
        lines = [f"{T0} {DOC_ODD}", line, f"{T0 + 1} {DOC_EVEN}"]
        records, d = _decode(lines)
        assert len(records) == 1
        assert d.stats.rejected == {reason: 1}
        assert d.stats.examples[0].line == 2

    @pytest.mark.parametrize(
        ("line", "reason"),
        [
            ("*2000;", "Mode A/C"),
            ("*5D4840D6F8C3E5;", "DF 11 (not ADS-B)"),
            ("*A0001838CA380031440000F24177;", "DF 20 (not ADS-B)"),
        ],
    )
    def test_other_replies_are_ignored(self, line: str, reason: str) -> None:
        _, d = _decode([line])
        assert d.stats.ignored == {reason: 1}

    @settings(max_examples=120, deadline=None)
    @given(st.integers(0, 111), st.sampled_from([DOC_EVEN, DOC_ODD, DOC_VELOCITY]))
    def test_any_single_bit_flip_fails_the_crc(self, bit: int, message: str) -> None:
        flipped = f"{int(message, 16) ^ (1 << bit):028X}"
        _, d = _decode([f"{T0} {flipped}"])
        assert d.stats.accepted == 0
        assert d.stats.rejected_total + d.stats.ignored_total == 1

    @settings(max_examples=150, deadline=None)
    @given(
        st.lists(
            st.one_of(
                st.text(max_size=40),
                st.text(alphabet="0123456789ABCDEF*@;., ", max_size=40),
                st.builds(lambda n: f"*{DOC_EVEN}"[:n], st.integers(0, 30)),
            ),
            max_size=12,
        )
    )
    def test_garbage_never_stops_the_valid_frames(self, garbage: list[str]) -> None:
        lines = [f"{T0} {DOC_ODD}"] + [
            g.replace("\n", " ").replace("\r", " ") for g in garbage
        ]
        lines.append(f"{T0 + 1} {DOC_EVEN}")
        records, d = _decode(lines)
        ours = [r for r in records if r.id == "40621D"]
        assert ours and ours[-1].lat_deg == pytest.approx(DOC_LAT_DEG, abs=1e-4)
        s = d.stats
        assert s.read == s.accepted + s.ignored_total + s.rejected_total


class TestParseReference:
    def test_good(self) -> None:
        assert parse_reference("52.25,3.92") == (52.25, 3.92)

    @pytest.mark.parametrize("text", ["52.25", "a,b", "95,3", "1,2,3", "nan,1"])
    def test_bad(self, text: str) -> None:
        with pytest.raises(InputError, match="reference: expected LAT,LON") as err:
            parse_reference(text)
        assert "--" not in str(err.value)  # the adapter knows no command line


def test_velocity_encoder_round_trip() -> None:
    """The test encoder itself, against pyModeS."""
    import pyModeS

    decoded = pyModeS.decode(velocity_message("ABCDEF", 420.0, 135.0, -1472.0))
    assert decoded["groundspeed"] == 420 and decoded["track"] == pytest.approx(
        135.0, abs=0.2
    )
    assert decoded["vertical_rate"] == -1472
    assert not math.isnan(decoded["track"])
