"""ASTERIX in (issue 19, item 1): CAT021, CAT048 and CAT062 encoded by libasterix (an
encoder independent of the reader's library) read back with every field we use;
hostile bytes counted and skipped, never a crash and never a record out of garbage;
pcap and pcapng captures; the radar-sites file."""

from __future__ import annotations

import math
import random
import socket
from pathlib import Path

import dpkt
import pytest

from deconfliction.adapters.asterix import (
    AsterixDecoder,
    RadarSite,
    RadarSites,
    looks_like_asterix,
)
from deconfliction.adapters.track_files import (
    ReadOptions,
    detect_format,
    read_track_file,
)
from deconfliction.domain.geodesy import geodesic_distance_nm
from deconfliction.errors import InputError
from deconfliction.units import S_PER_DAY
from tests.adapters.asterix_samples import (
    DAY_S,
    RADAR,
    RADARS,
    SAC,
    SIC,
    Truth,
    cat062_record,
    encode,
    scenario,
)

TRUTHS = scenario()


def _read(data: bytes, start_t_s: float = DAY_S) -> tuple[list, AsterixDecoder]:
    decoder = AsterixDecoder("test.ast", radars=RADARS, start_t_s=start_t_s)
    records = decoder.feed(data) + decoder.finish()
    return records, decoder


def _check_fields(
    record, truth: Truth, *, position_nm: float, vs: bool = True, trk_deg: float = 0.02
) -> None:
    assert record.id == truth.icao24
    assert record.icao24 == truth.icao24
    assert record.callsign == truth.callsign
    assert record.squawk == truth.squawk
    assert record.source == "asterix"
    assert record.t_s == pytest.approx(truth.t_s, abs=1 / 128)
    miss_nm = float(
        geodesic_distance_nm(
            record.lat_deg, record.lon_deg, truth.lat_deg, truth.lon_deg
        )
    )
    assert miss_nm < position_nm
    assert record.alt_ft == pytest.approx(truth.fl * 100.0, abs=25.0)  # 1/4 FL
    assert record.gs_kt == pytest.approx(truth.gs_kt, abs=0.5)
    assert record.trk_deg == pytest.approx(truth.trk_deg, abs=trk_deg)
    if vs:
        assert record.vs_fpm == pytest.approx(truth.vs_fpm, abs=6.25)
    else:
        assert math.isnan(record.vs_fpm)


class TestRoundTrips:
    def test_cat021_every_field(self) -> None:
        records, decoder = _read(encode(21, TRUTHS))
        assert decoder.stats.accepted == len(TRUTHS) == len(records)
        assert decoder.stats.rejected_total == 0
        for record, truth in zip(records, TRUTHS, strict=True):
            # I021/131: 180/2^30 degrees; the rest at their own resolutions
            _check_fields(record, truth, position_nm=0.001)

    def test_cat048_polar_positions_from_the_radar_site(self) -> None:
        records, decoder = _read(encode(48, TRUTHS))
        assert decoder.stats.accepted == len(TRUTHS) == len(records)
        for record, truth in zip(records, TRUTHS, strict=True):
            # rho 1/256 NM, theta 360/2^16 degrees (0.0096 NM at 100 NM)
            _check_fields(record, truth, position_nm=0.02, vs=False)

    def test_cat048_slant_range_is_not_ground_range(self) -> None:
        """An aircraft at FL400 straight above 10 NM out: ignoring the height would
        put it 0.7 NM too far."""
        truth = Truth("4840D6", "A", "1200", 1, DAY_S + 10.0, 0, 0, 400.0, 0, 0, 0)
        lat, lon = 35.41 + 10.0 / 60.0, 35.95  # about 10 NM north of the radar
        truth = Truth("4840D6", "A", "1200", 1, DAY_S + 10.0, lat, lon, 400.0, 1, 0, 0)
        (record,), _ = _read(encode(48, [truth]))
        miss = geodesic_distance_nm(record.lat_deg, record.lon_deg, lat, lon)
        assert float(miss) < 0.01

    def test_cat062_every_field(self) -> None:
        records, decoder = _read(encode(62, TRUTHS))
        assert decoder.stats.accepted == len(TRUTHS) == len(records)
        for record, truth in zip(records, TRUTHS, strict=True):
            # I062/185: 0.25 m/s a component, so the track is within 0.1 degrees
            _check_fields(record, truth, position_nm=0.001, trk_deg=0.1)

    def test_cat062_without_an_address_is_named_by_source_and_track_number(
        self,
    ) -> None:
        from tests.adapters.asterix_samples import Cat062

        data = Cat062.create([cat062_record(TRUTHS[0], address=False)])
        (record,), _ = _read(data.unparse().to_bytes())
        assert record.id == f"{SAC:03d}{SIC:03d}-{TRUTHS[0].track_number}"
        assert record.icao24 is None

    def test_altitude_is_the_flight_level_times_100_ft(self) -> None:
        truth = TRUTHS[0]
        for cat in (21, 48, 62):
            (record,), _ = _read(encode(cat, [truth]))
            assert record.alt_ft == truth.fl * 100.0


class TestRadarSites:
    def test_cat048_of_an_unknown_radar_is_rejected_with_its_sac_sic(self) -> None:
        decoder = AsterixDecoder("x.ast", start_t_s=DAY_S)
        records = decoder.feed(encode(48, TRUTHS)) + decoder.finish()
        assert records == []
        assert decoder.stats.rejected["no radar site"] == len(TRUTHS)
        assert "SAC 25 SIC 10" in str(decoder.stats.examples[0])

    def test_file(self, tmp_path: Path) -> None:
        path = tmp_path / "radars.toml"
        path.write_text(
            "[[radar]]\nsac = 25\nsic = 10\nlat = 35.41\nlon = 35.95\n"
            'height_ft = 150\nname = "Latakia"\n'
        )
        assert RadarSites.load(path).get(25, 10) == RadarSite(
            25, 10, 35.41, 35.95, 150.0, "Latakia"
        )

    def test_bad_file_names_every_problem(self, tmp_path: Path) -> None:
        path = tmp_path / "radars.toml"
        path.write_text(
            "[[radar]]\nsac = 300\nsic = 10\nlat = 95\nlon = 35.95\ncolour = 1\n"
            "[[radar]]\nsic = 1\nlat = 1\nlon = 1\n"
        )
        with pytest.raises(InputError) as info:
            RadarSites.load(path)
        text = str(info.value)
        for where in (
            "radar[0].sac",
            "radar[0].lat",
            "radar[0].colour",
            "radar[1].sac",
        ):
            assert where in text


def _blocks() -> list[bytes]:
    return [encode(62, [t]) for t in TRUTHS]


class TestHostileInput:
    def test_garbage_between_blocks_is_skipped_and_the_rest_kept(self) -> None:
        blocks = _blocks()
        rng = random.Random(19)
        junk = bytes(rng.randrange(256) for _ in range(500))
        data = b"".join(blocks[:5]) + junk + b"".join(blocks[5:])
        records, decoder = _read(data)
        assert len(records) == len(TRUTHS)
        assert decoder.stats.rejected_total == 1
        assert decoder.stats.read == len(TRUTHS) + 1

    def test_a_length_field_too_long_is_not_trusted(self) -> None:
        """A corrupted length would swallow the next blocks if trusted."""
        blocks = _blocks()
        bad = bytearray(blocks[3])
        bad[1:3] = (len(bad) + len(blocks[4]) + len(blocks[5])).to_bytes(2, "big")
        data = b"".join(blocks[:3]) + bytes(bad) + b"".join(blocks[4:])
        records, decoder = _read(data)
        assert len(records) == len(TRUTHS) - 1
        assert decoder.stats.rejected["malformed block"] == 1

    def test_a_length_field_too_short(self) -> None:
        blocks = _blocks()
        bad = bytearray(blocks[3])
        bad[1:3] = (len(bad) - 4).to_bytes(2, "big")
        data = b"".join(blocks[:3]) + bytes(bad) + b"".join(blocks[4:])
        records, decoder = _read(data)
        assert len(records) == len(TRUTHS) - 1
        assert decoder.stats.rejected_total == 1

    def test_truncated_last_block(self) -> None:
        data = b"".join(_blocks())
        records, decoder = _read(data[:-7])
        assert len(records) == len(TRUTHS) - 1
        assert decoder.stats.rejected["truncated block"] == 1

    def test_unknown_category_is_skipped_by_its_length(self) -> None:
        blocks = _blocks()
        cat034 = bytes([34, 0, 10]) + bytes(7)
        data = blocks[0] + cat034 + b"".join(blocks[1:])
        records, decoder = _read(data)
        assert len(records) == len(TRUTHS)
        assert decoder.stats.ignored["CAT034 block"] == 1
        assert decoder.stats.rejected_total == 0

    def test_a_block_split_across_reads(self) -> None:
        data = b"".join(_blocks())
        decoder = AsterixDecoder("x", start_t_s=DAY_S)
        records = []
        for k in range(0, len(data), 7):
            records += decoder.feed(data[k : k + 7])
        records += decoder.finish()
        assert len(records) == len(TRUTHS)
        assert decoder.stats.rejected_total == 0

    @pytest.mark.parametrize("seed", range(12))
    def test_random_bytes_never_give_a_record(self, seed: int) -> None:
        rng = random.Random(seed)
        junk = rng.randbytes(64 * 1024)
        decoder = AsterixDecoder("udp", radars=RADARS, clock=lambda: DAY_S)
        assert decoder.feed_datagram(junk) == []
        assert decoder.stats.positions == 0
        assert (
            decoder.stats.read
            == decoder.stats.rejected_total + decoder.stats.ignored_total
        )
        assert decoder.stats.rejected_total >= 1

    @pytest.mark.parametrize("seed", range(6))
    def test_random_bytes_with_our_categories_planted(self, seed: int) -> None:
        """Garbage made of plausible headers (our categories, fitting lengths)."""
        rng = random.Random(seed)
        junk = bytearray(rng.randbytes(32 * 1024))
        for at in range(0, len(junk) - 3, 97):
            junk[at] = rng.choice((21, 48, 62))
            junk[at + 1 : at + 3] = rng.randrange(5, 200).to_bytes(2, "big")
        records, decoder = _read(bytes(junk))
        assert records == []
        assert decoder.stats.rejected_total >= 1

    def test_every_truncation_of_a_record_is_counted(self) -> None:
        block = encode(62, TRUTHS[:1])
        for cut in range(1, len(block)):
            records, decoder = _read(block[:cut])
            assert records == []
            assert decoder.stats.rejected_total == 1, cut

    def test_every_single_byte_corruption_never_crashes(self) -> None:
        data = b"".join(_blocks()[:3])
        for at in range(len(data)):
            corrupted = bytearray(data)
            corrupted[at] ^= 0xFF
            records, decoder = _read(bytes(corrupted))
            s = decoder.stats
            assert s.read == s.accepted + s.ignored_total + s.rejected_total
            assert len(records) <= 3

    def test_impossible_values_are_rejected_and_the_block_kept(self) -> None:
        truths = list(TRUTHS[:2])
        bad = Truth(**{**_asdict(truths[0]), "gs_kt": 3000.0})
        records, decoder = _read(encode(62, [truths[1], bad]))
        assert len(records) == 1
        assert decoder.stats.rejected["impossible value"] == 1


def _asdict(t: Truth) -> dict:
    return {name: getattr(t, name) for name in Truth.__slots__}


class TestTimes:
    def test_the_day_comes_from_the_start_time_and_crosses_midnight(self) -> None:
        late = Truth(**{**_asdict(TRUTHS[0]), "t_s": DAY_S + S_PER_DAY - 2.0})
        early = Truth(**{**_asdict(TRUTHS[1]), "t_s": DAY_S + S_PER_DAY + 3.0})
        data = encode(62, [late, early], per_block=1)
        records, _ = _read(data, start_t_s=DAY_S + S_PER_DAY - 3600.0)
        assert [r.t_s for r in records] == [late.t_s, early.t_s]

    def test_a_datagram_takes_the_day_of_its_time(self) -> None:
        decoder = AsterixDecoder("udp", clock=lambda: 0.0)
        (record,) = decoder.feed_datagram(encode(62, TRUTHS[:1]), TRUTHS[0].t_s + 1.5)
        assert record.t_s == TRUTHS[0].t_s


def _frame(payload: bytes, port: int = 8600) -> bytes:
    udp = dpkt.udp.UDP(sport=40000, dport=port, data=payload)
    udp.ulen = len(udp)
    ip = dpkt.ip.IP(
        src=socket.inet_aton("10.0.0.1"),
        dst=socket.inet_aton("239.1.2.3"),
        p=dpkt.ip.IP_PROTO_UDP,
        data=udp,
    )
    ip.len = len(ip)
    return bytes(dpkt.ethernet.Ethernet(type=dpkt.ethernet.ETH_TYPE_IP, data=ip))


def _tcp_frame() -> bytes:
    ip = dpkt.ip.IP(p=dpkt.ip.IP_PROTO_TCP, data=dpkt.tcp.TCP())
    return bytes(dpkt.ethernet.Ethernet(type=dpkt.ethernet.ETH_TYPE_IP, data=ip))


class TestCaptures:
    @pytest.mark.parametrize("kind", ["pcap", "pcapng"])
    def test_capture(self, tmp_path: Path, kind: str) -> None:
        path = tmp_path / f"feed.{kind}"
        with path.open("wb") as f:
            writer = dpkt.pcap.Writer(f) if kind == "pcap" else dpkt.pcapng.Writer(f)
            for truth in TRUTHS:
                writer.writepkt(_frame(encode(62, [truth])), ts=truth.t_s + 0.2)
            writer.writepkt(_tcp_frame(), ts=TRUTHS[-1].t_s)
            writer.writepkt(_frame(random.Random(1).randbytes(1400)), ts=TRUTHS[-1].t_s)
        assert detect_format(path) == "asterix"
        # the clock is another day: times come from the packets
        batch, stats = read_track_file(path, None, ReadOptions(clock=lambda: 0.0))
        assert len(batch) == len(TRUTHS)
        assert batch.t_s.tolist() == pytest.approx([t.t_s for t in TRUTHS], abs=0.01)
        assert stats.ignored["non-UDP packet"] == 1
        assert stats.rejected_total == 1

    def test_not_a_capture(self, tmp_path: Path) -> None:
        path = tmp_path / "bad.pcap"
        path.write_bytes(b"\xd4\xc3\xb2\xa1" + b"\x00" * 7)
        with pytest.raises(InputError):
            read_track_file(path, "asterix")


class TestDetection:
    def test_raw_file(self, tmp_path: Path) -> None:
        path = tmp_path / "feed.ast"
        path.write_bytes(b"".join(_blocks()))
        assert detect_format(path) == "asterix"
        batch, _ = read_track_file(path, None, ReadOptions(start_t_s=DAY_S))
        assert len(batch) == len(TRUTHS)

    def test_text_starting_with_0_or_angle_bracket_is_not_asterix(self) -> None:
        assert not looks_like_asterix(b"0,1,2\n3,4,5\n")
        assert not looks_like_asterix(b"><event/>")


def test_radar_site_of_the_samples_is_the_one_read() -> None:
    assert RADARS.get(RADAR.sac, RADAR.sic) is RADAR


class TestTracksCommand:
    """``deconfliction tracks FILE --input-format asterix`` as a user calls it."""

    @staticmethod
    def _run(*args: str | Path):
        from typer.testing import CliRunner

        from deconfliction.cli.app import build_app

        return CliRunner().invoke(build_app(), ["tracks", *map(str, args)])

    def test_cat048_with_radar_sites(self, tmp_path: Path) -> None:
        data = tmp_path / "radar.ast"
        data.write_bytes(encode(48, TRUTHS))
        sites = tmp_path / "radars.toml"
        sites.write_text(
            "[[radar]]\nsac = 25\nsic = 10\nlat = 35.41\nlon = 35.95\nheight_ft = 150\n"
        )
        result = self._run(
            data,
            "--input-format",
            "asterix",
            "--radar-sites",
            sites,
            "--start-time",
            "2017-12-13T09:00:00Z",
        )
        assert result.exit_code == 0, result.output
        lines = result.stdout.strip().splitlines()
        assert lines[0].startswith("id,time,lat,lon,alt_ft")
        assert len(lines) == 1 + len(TRUTHS)
        assert lines[1].startswith("4840D6,2017-12-13T10:00:00")
        assert f"read {len(TRUTHS)}, accepted {len(TRUTHS)}" in result.stderr

    def test_without_the_radar_sites_nothing_valid_exits_2(
        self, tmp_path: Path
    ) -> None:
        data = tmp_path / "radar.ast"
        data.write_bytes(encode(48, TRUTHS))
        result = self._run(data, "--input-format", "asterix")
        assert result.exit_code == 2
        assert "no radar site" in result.stderr
        assert "Traceback" not in result.output

    def test_bad_radar_sites_exit_2_naming_the_field(self, tmp_path: Path) -> None:
        data = tmp_path / "feed.ast"
        data.write_bytes(encode(62, TRUTHS))
        sites = tmp_path / "radars.toml"
        sites.write_text("[[radar]]\nsac = 25\nsic = 10\nlat = 135\nlon = 35\n")
        result = self._run(data, "--radar-sites", sites)
        assert result.exit_code == 2
        assert "radar[0].lat" in result.stderr


class TestRecordWalk:
    """Our per-FSPEC walk of aviconv-asterix's layouts gives what its own
    ``decode_record`` gives, and refuses what it refuses."""

    @staticmethod
    def _both(cat: int, body: bytes, offset: int):
        from aviconv_asterix.fspec import decode_record as library

        from deconfliction.adapters.asterix import CATEGORIES, RAW_ITEMS, decode_record

        try:
            fields, raw, end = library(body, offset, CATEGORIES[cat], category=cat)
            theirs = (fields, {k: v for k, v in raw.items() if k in RAW_ITEMS}, end)
        except Exception:
            theirs = None
        try:
            ours = decode_record(body, offset, cat, CATEGORIES[cat])
        except Exception:
            ours = None
        return ours, theirs

    @pytest.mark.parametrize("cat", [21, 48, 62])
    def test_the_same_fields_as_the_library(self, cat: int) -> None:
        block = encode(cat, TRUTHS, per_block=len(TRUTHS))
        body, offset = block[3:], 0
        while offset < len(body):
            ours, theirs = self._both(cat, body, offset)
            assert ours is not None and ours == theirs
            offset = ours[2]

    @pytest.mark.parametrize("cat", [21, 48, 62])
    def test_the_same_on_corrupted_records(self, cat: int) -> None:
        body = encode(cat, TRUTHS[:2], per_block=2)[3:]
        rng = random.Random(cat)
        for _ in range(300):
            bad = bytearray(body)
            for _ in range(rng.randrange(1, 4)):
                bad[rng.randrange(len(bad))] = rng.randrange(256)
            cut = rng.randrange(1, len(bad) + 1)
            ours, theirs = self._both(cat, bytes(bad[:cut]), 0)
            assert ours == theirs  # the same record, or both refuse
