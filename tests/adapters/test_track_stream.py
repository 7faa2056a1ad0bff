"""The normalised track stream: records, batches, counts, party rules, line framing."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deconfliction.adapters.track_stream import (
    MAX_LINE_BYTES,
    LineDecoder,
    PartyRules,
    ReadStats,
    TrackBatch,
    TrackRecord,
    cot_affiliation,
)
from deconfliction.errors import InputError
from deconfliction.timetext import parse_rfc3339_s

RULES_TOML = """\
default = "unknown"

[cot]
other_affiliation = "neutral"

[[rules]]
party = "russia"
icao24 = ["140000-157FFF"]

[[rules]]
party = "coalition"
callsign_prefix = ["viper", "RCH"]

[[rules]]
party = "coalition"
cot_affiliation = "friend"

[[rules]]
party = "syria"
id_prefix = "SY-"
source = ["cot"]
"""


def _record(**kw: object) -> TrackRecord:
    base: dict[str, object] = {"id": "X", "t_s": 0.0, "lat_deg": 1.0, "lon_deg": 2.0}
    base.update(kw)
    return TrackRecord(**base)  # type: ignore[arg-type]


class TestTrackRecord:
    def test_unknown_values_are_nan_and_incomplete(self) -> None:
        r = _record()
        assert math.isnan(r.gs_kt) and not r.is_complete
        assert _record(alt_ft=1, gs_kt=2, trk_deg=3, vs_fpm=0).is_complete


class TestTrackBatch:
    def test_records_round_trip(self) -> None:
        records = [
            _record(id="A", t_s=2.0, callsign="VIPER11", party="coalition"),
            _record(id="B", t_s=1.0, alt_ft=100.0, squawk="0412"),
        ]
        batch = TrackBatch.from_records(records)
        back = list(batch.records())
        assert back[0].callsign == "VIPER11" and back[1].squawk == "0412"
        assert back[1].party is None and back[0].party == "coalition"
        assert math.isnan(back[0].alt_ft) and back[1].alt_ft == 100.0

    def test_sorted_by_time_is_stable(self) -> None:
        batch = TrackBatch.from_columns(
            ids=["a", "b", "c"],
            t_s=[1.0, 0.0, 1.0],
            lat_deg=[0, 0, 0],
            lon_deg=[0, 0, 0],
        )
        assert batch.sorted_by_time().ids.tolist() == ["b", "a", "c"]

    def test_concat_and_empty(self) -> None:
        one = TrackBatch.from_records([_record()])
        assert len(TrackBatch.concat([one, TrackBatch.empty(), one])) == 2
        assert len(TrackBatch.concat([])) == 0

    def test_columns_must_agree(self) -> None:
        batch = TrackBatch.from_records([_record()])
        with pytest.raises(ValueError, match="has 2 entries"):
            TrackBatch(
                **{
                    **{
                        f.name: getattr(batch, f.name)
                        for f in dataclasses.fields(batch)
                    },
                    "t_s": np.zeros(2),
                }
            )


class TestReadStats:
    def test_counts_and_examples(self) -> None:
        stats = ReadStats(source="f")
        for line in range(1, 6):
            stats.read += 1
            stats.reject("bad CRC", line, "message", "x")
        stats.read += 1
        stats.ignore("DF 11 (not ADS-B)")
        assert stats.rejected_total == 5 and stats.ignored_total == 1
        assert [p.line for p in stats.examples] == [1, 2, 3]  # the first three only
        assert "5 bad CRC" in stats.summary()

    def test_merge_keeps_the_sum(self) -> None:
        a, b = ReadStats("a"), ReadStats("b")
        a.read, a.accepted = 3, 3
        b.read = 2
        b.reject("bad hex", 4, "", "x")
        b.ignore("Mode A/C")
        a.merge(b)
        assert a.as_json()["rejected"] == {"bad hex": 1}
        assert a.read == a.accepted + a.ignored_total + a.rejected_total


class TestParseRfc3339:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("2017-12-13T10:00:00Z", 1513159200.0),
            ("2017-12-13T10:00:00.250Z", 1513159200.25),
            ("2017-12-13T12:00:00+02:00", 1513159200.0),
            ("2017-12-13T10:00:00.123456789Z", 1513159200.123456),
            ("1513159200", 1513159200.0),
        ],
    )
    def test_accepted(self, text: str, expected: float) -> None:
        assert parse_rfc3339_s(text) == pytest.approx(expected)

    @pytest.mark.parametrize(
        "text", ["2017-12-13T10:00:00", "noon", "nan", "2017-13-45T99:00:00Z"]
    )
    def test_refused(self, text: str) -> None:
        with pytest.raises(ValueError):
            parse_rfc3339_s(text)


class TestCotAffiliation:
    def test_letters(self) -> None:
        assert cot_affiliation("a-h-A") == "h" and cot_affiliation("u-d-f") is None


class TestPartyRules:
    @pytest.fixture
    def rules(self, tmp_path: Path) -> PartyRules:
        path = tmp_path / "rules.toml"
        path.write_text(RULES_TOML, encoding="utf-8")
        return PartyRules.load(path)

    def test_each_criterion(self, rules: PartyRules) -> None:
        assert rules.party_of(_record(icao24="150000")) == "russia"
        assert (
            rules.party_of(_record(icao24="4CA2D6", callsign="VIPER11")) == "coalition"
        )
        assert rules.party_of(_record(cot_type="a-f-A-M-F")) == "coalition"
        assert rules.party_of(_record(id="SY-1", source="cot")) == "syria"
        assert rules.party_of(_record(id="SY-1", source="sbs")) == "unknown"
        assert rules.party_of(_record(party="given")) == "given"

    def test_first_match_wins(self, rules: PartyRules) -> None:
        both = _record(icao24="150000", callsign="VIPER1")
        assert rules.party_of(both) == "russia"

    def test_affiliation_setting_and_default(self, rules: PartyRules) -> None:
        assert rules.cot_other_affiliation == "n"
        assert PartyRules().cot_other_affiliation == "u"  # never hostile by default

    def test_apply_batch(self, rules: PartyRules) -> None:
        batch = TrackBatch.from_records([_record(icao24="150000"), _record()])
        assert rules.apply_batch(batch).party.tolist() == ["russia", "unknown"]

    def test_every_problem_with_line_and_field(self, tmp_path: Path) -> None:
        path = tmp_path / "bad.toml"
        path.write_text(
            'colour = "red"\n\n[[rules]]\nparty = "russia"\nicao24 = ["XYZ"]\n\n'
            '[[rules]]\nparty = "bad name"\ncallsign_prefix = 3\n\n'
            '[[rules]]\nparty = "x"\n',
            encoding="utf-8",
        )
        with pytest.raises(InputError) as err:
            PartyRules.load(path)
        text = str(err.value)
        assert f"{path}:1: colour: unknown key" in text
        assert f"{path}:5: rules[0].icao24: not an address or range" in text
        assert f"{path}:8: rules[1].party" in text
        assert f"{path}:9: rules[1].callsign_prefix" in text
        assert "rules[2].party: a rule needs at least one of" in text

    def test_not_toml(self, tmp_path: Path) -> None:
        path = tmp_path / "bad.toml"
        path.write_text("[[rules]\n", encoding="utf-8")
        with pytest.raises(InputError, match="not valid TOML"):
            PartyRules.load(path)

    def test_from_mapping(self) -> None:
        rules = PartyRules.from_mapping({"rules": [{"party": "p", "icao24": "000001"}]})
        assert rules.party_of(_record(icao24="000001")) == "p"
        with pytest.raises(InputError, match="affiliation"):
            PartyRules.from_mapping({"cot": {"other_affiliation": "enemy"}})


class _Echo(LineDecoder):
    def __init__(self) -> None:
        super().__init__("echo")
        self.lines: list[tuple[int, str]] = []

    def feed_line(self, line: str, line_no: int) -> list[TrackRecord]:
        self.stats.read += 1
        self.stats.accepted += 1
        self.lines.append((line_no, line))
        return []


class TestLineDecoder:
    @settings(max_examples=60, deadline=None)
    @given(
        st.lists(st.text(alphabet="ab,\r", max_size=20), max_size=15),
        st.lists(st.integers(0, 400), max_size=8),
    )
    def test_chunking_does_not_matter(self, lines: list[str], cuts: list[int]) -> None:
        data = "\n".join(lines).encode()
        whole = _Echo()
        whole.feed(data)
        whole.finish()
        pieces = _Echo()
        points = sorted({min(c, len(data)) for c in cuts})
        start = 0
        for cut in [*points, len(data)]:
            pieces.feed(data[start:cut])
            start = cut
        pieces.finish()
        assert pieces.lines == whole.lines

    def test_too_long_line_is_rejected_and_skipped(self) -> None:
        d = _Echo()
        d.feed(b"ok1\n" + b"x" * (MAX_LINE_BYTES + 10))
        d.feed(b"y" * 100 + b"\nok2\n")
        assert [line for _, line in d.lines] == ["ok1", "ok2"]
        assert d.stats.rejected == {"line too long": 1}
        assert d.lines[1][0] == 3

    def test_truncated_line_on_reset(self) -> None:
        d = _Echo()
        d.feed(b"ok\npart")
        d.reset_stream()
        d.feed(b"next\n")
        assert [line for _, line in d.lines] == ["ok", "next"]
        assert d.stats.rejected == {"truncated line": 1}
