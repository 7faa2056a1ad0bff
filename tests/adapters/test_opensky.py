"""OpenSky state vectors and historical tracks: units converted once, CSV and Parquet,
bad rows counted with their line, good rows kept."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deconfliction.adapters.opensky import looks_like_opensky, read_opensky
from deconfliction.adapters.track_stream import PartyRules
from deconfliction.errors import InputError
from deconfliction.units import M_PER_FT, MPS_PER_FPM, MPS_PER_KT

REST_HEADER = (
    "icao24,callsign,origin_country,time_position,last_contact,longitude,latitude,"
    "baro_altitude,on_ground,velocity,true_track,vertical_rate,sensors,geo_altitude,"
    "squawk,spi,position_source"
)
T0 = 1513159200


def _rest_row(
    icao: str = "4ca2d6",
    t: object = T0,
    lat: object = 35.5,
    lon: object = 38.2,
    baro: object = 7620.0,
    velocity: object = 216.07,
    track: object = 45.0,
    vrate: object = -2.54,
    geo: object = 7700.0,
    squawk: str = "0412",
) -> str:
    return (
        f"{icao},VIPER11 ,Syria,{t},{t},{lon},{lat},{baro},False,{velocity},{track},"
        f"{vrate},,{geo},{squawk},False,0"
    )


def _write(path: Path, rows: list[str], header: str = REST_HEADER) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


class TestRestStateVectors:
    def test_units_are_converted_once(self, tmp_path: Path) -> None:
        batch, stats = read_opensky(_write(tmp_path / "s.csv", [_rest_row()]))
        (r,) = list(batch.records())
        assert (r.id, r.icao24, r.callsign, r.squawk, r.source) == (
            "4CA2D6",
            "4CA2D6",
            "VIPER11",
            "0412",
            "opensky",
        )
        assert r.t_s == T0 and (r.lat_deg, r.lon_deg) == (35.5, 38.2)
        assert r.alt_ft == pytest.approx(7620.0 / M_PER_FT)
        assert r.gs_kt == pytest.approx(216.07 / MPS_PER_KT)
        assert r.vs_fpm == pytest.approx(-2.54 / MPS_PER_FPM)
        assert r.trk_deg == 45.0
        assert stats.read == stats.accepted == stats.positions == 1

    def test_rows_without_position_and_repeats_are_ignored(
        self, tmp_path: Path
    ) -> None:
        rows = [
            _rest_row(),
            _rest_row(lat="", lon=""),
            _rest_row(),
            _rest_row(t=T0 + 5),
        ]
        batch, stats = read_opensky(_write(tmp_path / "s.csv", rows))
        assert batch.t_s.tolist() == [T0, T0 + 5]
        assert stats.ignored == {"no position": 1, "repeated position": 1}
        assert stats.read == stats.accepted + stats.ignored_total + stats.rejected_total

    def test_geometric_altitude_fills_in(self, tmp_path: Path) -> None:
        batch, _ = read_opensky(_write(tmp_path / "s.csv", [_rest_row(baro="")]))
        assert batch.alt_ft[0] == pytest.approx(7700.0 / M_PER_FT)

    def test_null_position_time_falls_back_on_contact(self, tmp_path: Path) -> None:
        row = _rest_row().split(",")
        row[3] = ""
        batch, _ = read_opensky(_write(tmp_path / "s.csv", [",".join(row)]))
        assert batch.t_s.tolist() == [T0]

    @pytest.mark.parametrize(
        ("row", "reason", "field"),
        [
            (_rest_row(lat="north"), "bad number", "latitude"),
            (_rest_row(lat=95.0), "impossible value", "latitude"),
            (_rest_row(velocity=-3), "impossible value", "velocity"),
            (_rest_row(baro=1e9), "impossible value", "baro_altitude"),
            (_rest_row(t="yesterday"), "bad time", "time_position"),
            (_rest_row(icao=""), "missing field", "id"),
            ("4ca2d6,VIPER11", "wrong field count", ""),
        ],
    )
    def test_bad_rows_counted_with_their_line(
        self, tmp_path: Path, row: str, reason: str, field: str
    ) -> None:
        rows = [_rest_row(t=T0), row, _rest_row(t=T0 + 10)]
        batch, stats = read_opensky(_write(tmp_path / "s.csv", rows))
        assert batch.t_s.tolist() == [T0, T0 + 10]
        assert stats.rejected == {reason: 1}
        (problem,) = stats.examples
        assert (problem.line, problem.field) == (3, field)

    def test_line_numbers_after_a_dropped_line(self, tmp_path: Path) -> None:
        rows = ["x,y", _rest_row(t=T0), _rest_row(lat=95.0, t=T0 + 1)]
        _, stats = read_opensky(_write(tmp_path / "s.csv", rows))
        assert sorted(p.line for p in stats.examples) == [2, 4]

    def test_party_rules(self, tmp_path: Path) -> None:
        rules = PartyRules.from_mapping(
            {"rules": [{"party": "coalition", "icao24": "4CA000-4CAFFF"}]}
        )
        batch, _ = read_opensky(_write(tmp_path / "s.csv", [_rest_row()]), rules)
        assert batch.party.tolist() == ["coalition"]

    def test_not_opensky(self, tmp_path: Path) -> None:
        path = _write(tmp_path / "x.csv", ["1,2"], header="a,b")
        with pytest.raises(InputError, match="not OpenSky data: no icao24"):
            read_opensky(path)


class TestHistoricalParquet:
    def _table(self, n: int = 5) -> pa.Table:
        t = np.arange(n, dtype=np.int64) + T0
        return pa.table(
            {
                "time": pa.array(t * 1000, type=pa.timestamp("ms", tz="UTC")),
                "icao24": ["4ca2d6"] * n,
                "lat": np.linspace(35.0, 35.1, n),
                "lon": np.linspace(38.0, 38.1, n),
                "velocity": [200.0] * n,
                "heading": [90.0] * n,
                "vertrate": [0.0] * n,
                "callsign": ["VIPER11"] * n,
                "onground": [False] * n,
                "baroaltitude": [7620.0] * n,
                "geoaltitude": [None] * n,
                "lastposupdate": pa.array(t.astype(np.float64) + 0.5),
                "lastcontact": t.astype(np.float64),
            }
        )

    def test_impala_names_and_timestamps(self, tmp_path: Path) -> None:
        path = tmp_path / "h.parquet"
        pq.write_table(self._table(), path)
        batch, stats = read_opensky(path)
        assert len(batch) == 5 and stats.rejected_total == 0
        assert batch.t_s[0] == T0 + 0.5  # lastposupdate: the position's own time
        assert batch.gs_kt[0] == pytest.approx(200.0 / MPS_PER_KT)
        assert batch.trk_deg[0] == 90.0

    def test_epoch_milliseconds(self, tmp_path: Path) -> None:
        rows = [_rest_row(t=T0 * 1000)]
        batch, _ = read_opensky(_write(tmp_path / "s.csv", rows))
        assert batch.t_s.tolist() == [T0]

    def test_traffic_library_units(self, tmp_path: Path) -> None:
        path = _write(
            tmp_path / "t.csv",
            ["2017-12-13T10:00:00Z,4ca2d6,35.5,38.2,25000,420,45,-500,VIPER11"],
            header="timestamp,icao24,latitude,longitude,altitude,groundspeed,track,vertical_rate,callsign",
        )
        assert looks_like_opensky(path.read_text().splitlines()[0].split(","))
        batch, _ = read_opensky(path)
        assert (batch.alt_ft[0], batch.gs_kt[0], batch.vs_fpm[0]) == (25000, 420, -500)

    def test_not_parquet_at_all(self, tmp_path: Path) -> None:
        path = tmp_path / "bad.parquet"
        path.write_bytes(b"PAR1" + b"\0" * 64)
        with pytest.raises(InputError, match="not a readable Parquet file"):
            read_opensky(path)


class TestGarbageCells:
    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(
        st.lists(
            st.tuples(
                st.sampled_from(
                    ["lat", "lon", "baro", "velocity", "track", "vrate", "t"]
                ),
                st.one_of(
                    st.text(alphabet="0123456789.-eE+naifNI x", max_size=8),
                    st.floats(allow_nan=True, allow_infinity=True).map(str),
                ),
            ),
            max_size=6,
        )
    )
    def test_every_row_accounted_for(
        self, tmp_path: Path, cells: list[tuple[str, str]]
    ) -> None:
        rows = [_rest_row(t=T0)]
        for k, (name, value) in enumerate(cells):
            args: dict[str, object] = {"t": T0 + 100 + k, name: value}
            rows.append(_rest_row(**args))  # type: ignore[arg-type]
        batch, stats = read_opensky(_write(tmp_path / "g.csv", rows))
        assert T0 in batch.t_s.tolist()  # the good row survives any neighbour
        assert stats.read == len(rows)
        assert stats.read == stats.accepted + stats.ignored_total + stats.rejected_total
        assert np.all(np.abs(batch.lat_deg) <= 90) and not np.isinf(batch.alt_ft).any()
        assert all(math.isfinite(t) for t in batch.t_s.tolist())
