"""The seeded traffic simulator of the reference scenario."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString

from deconfliction.domain.geodesy import LocalProjection, geodesic_distance_nm
from deconfliction.domain.protocol import DeconflictionLine, LineSide
from deconfliction.errors import ProtocolError
from deconfliction.scenario.traffic import (
    REFERENCE_START_T_S,
    TRACK_OFFSET_NM,
    Traffic,
    TrafficConfig,
    simulate_traffic,
)
from deconfliction.units import M_PER_NM, S_PER_H

# The Euphrates upstream to downstream (shared/reference/syria.md), as in the
# shipped protocol euphrates-2017: east (coalition) is the left of this order.
EUPHRATES_LAT_LON = (
    (36.82, 38.01),
    (36.38, 38.18),
    (35.97, 38.08),
    (35.87, 38.57),
    (35.94, 39.02),
    (35.74, 39.66),
    (35.34, 40.14),
    (35.02, 40.45),
    (34.45, 40.92),
    (34.39, 41.04),
)
BUFFER_NM = 10.0
AL_TANF = (33.50, 38.62, 30.0)  # lat, lon, radius (coalition zone)
HMEIMIM = (35.401, 35.949, 20.0)  # russia zone


def euphrates_line(sides: dict[str, LineSide] | None = None) -> DeconflictionLine:
    return DeconflictionLine(
        id="euphrates",
        name="Euphrates",
        lat_deg=tuple(p[0] for p in EUPHRATES_LAT_LON),
        lon_deg=tuple(p[1] for p in EUPHRATES_LAT_LON),
        buffer_nm=BUFFER_NM,
        sides=sides
        if sides is not None
        else {"coalition": LineSide.LEFT, "russia": LineSide.RIGHT},
    )


class _LineFrame:
    """Signed distance from the line (positive on the left) and position along it,
    for samples whose foot on the line is not one of its ends."""

    def __init__(self) -> None:
        lat = np.array([p[0] for p in EUPHRATES_LAT_LON])
        lon = np.array([p[1] for p in EUPHRATES_LAT_LON])
        self.proj = LocalProjection.around(lat, lon)
        self.line = LineString(np.column_stack(self.proj.to_xy_m(lat, lon)))

    def measure(
        self, lat_deg: np.ndarray, lon_deg: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        x, y = self.proj.to_xy_m(lat_deg, lon_deg)
        pts = shapely.points(x, y)
        along = shapely.line_locate_point(self.line, pts)
        dist = shapely.distance(self.line, pts)
        # side from the segment under the foot: cross product sign
        coords = np.asarray(self.line.coords)
        seg_len = np.hypot(*np.diff(coords, axis=0).T)
        cum = np.r_[0.0, np.cumsum(seg_len)]
        seg = np.clip(
            np.searchsorted(cum, along, side="right") - 1, 0, len(seg_len) - 1
        )
        d = coords[seg + 1] - coords[seg]
        cross = d[:, 0] * (y - coords[seg, 1]) - d[:, 1] * (x - coords[seg, 0])
        interior = (along > 1.0) & (along < self.line.length - 1.0)
        return np.sign(cross) * dist / M_PER_NM, along, interior


@pytest.fixture(scope="module")
def day() -> Traffic:
    return simulate_traffic(euphrates_line(), TrafficConfig(seed=2017))


@pytest.fixture(scope="module")
def frame() -> _LineFrame:
    return _LineFrame()


def _kind_mask(traffic: Traffic, kinds: set[str]) -> np.ndarray:
    by_sortie = np.array([s.kind in kinds for s in traffic.sorties])
    return by_sortie[traffic.sortie_index]


class TestSimulateTraffic:
    def test_same_seed_gives_the_same_traffic(self, day: Traffic) -> None:
        again = simulate_traffic(euphrates_line(), TrafficConfig(seed=2017))
        assert again.sorties == day.sorties
        assert again.excursions == day.excursions
        assert again.encounters == day.encounters
        for name in ("t_s", "lat_deg", "lon_deg", "alt_ft", "trk_deg", "vs_fpm"):
            np.testing.assert_array_equal(getattr(again, name), getattr(day, name))
        np.testing.assert_array_equal(again.ids, day.ids)

    def test_another_seed_gives_other_traffic(self, day: Traffic) -> None:
        other = simulate_traffic(euphrates_line(), TrafficConfig(seed=2018))
        assert other.sorties != day.sorties

    def test_sortie_counts_are_as_reported(self, day: Traffic) -> None:
        # about 90 Russian and 60-100 coalition sorties a day
        counts = day.sorties_by_party()
        assert 60 <= counts["coalition"] <= 110
        assert 75 <= counts["russia"] <= 110

    def test_samples_are_on_the_grid_sorted_by_step_then_id(self, day: Traffic) -> None:
        cfg = day.config
        assert day.n_steps == cfg.n_steps == 24 * 720 + 1
        k = np.round((day.t_s - cfg.start_t_s) / cfg.step_s)
        np.testing.assert_allclose(day.t_s, cfg.start_t_s + k * cfg.step_s)
        step_of_row = np.repeat(np.arange(day.n_steps), np.diff(day.step_offsets))
        np.testing.assert_array_equal(step_of_row, k)
        same_step = step_of_row[1:] == step_of_row[:-1]
        assert np.all(day.ids[1:][same_step] > day.ids[:-1][same_step])

    def test_states_at_gives_each_airborne_aircraft_once(self, day: Traffic) -> None:
        k = day.n_steps // 2
        states = day.states_at(k)
        assert len(states) >= 2
        assert len(np.unique(states.ids)) == len(states)
        with pytest.raises(IndexError):
            day.states_at(day.n_steps)

    def test_flight_figures_are_in_range(self, day: Traffic) -> None:
        cfg = day.config
        assert day.alt_ft.min() >= 0.0
        assert day.alt_ft.max() <= cfg.cruise_alt_ft[1] + 1000.0  # + encounter offset
        assert cfg.gs_kt[0] <= day.gs_kt.min() and day.gs_kt.max() <= cfg.gs_kt[1]
        assert np.all((day.trk_deg >= 0.0) & (day.trk_deg < 360.0))
        level = day.vs_fpm == 0.0
        assert level.mean() > 0.8  # mostly in cruise
        nominal = [s for s in day.sorties if s.kind == "nominal"]
        assert all(15000.0 <= s.cruise_alt_ft <= 30000.0 for s in nominal)

    def test_speed_matches_the_distance_flown(self, day: Traffic) -> None:
        sid = day.sorties[0].id
        rows = np.flatnonzero(day.ids == sid)[:50]
        dist_nm = geodesic_distance_nm(
            day.lat_deg[rows[:-1]],
            day.lon_deg[rows[:-1]],
            day.lat_deg[rows[1:]],
            day.lon_deg[rows[1:]],
        )
        clean = ~(day.is_noisy[rows[:-1]] | day.is_noisy[rows[1:]])
        expected_nm = day.gs_kt[rows[0]] * day.config.step_s / S_PER_H
        # straight legs: equal; at a turn the chord is shorter than the path
        assert np.all(dist_nm[clean] <= expected_nm * (1 + 1e-6))
        assert np.median(dist_nm[clean]) == pytest.approx(expected_nm, rel=1e-4)

    def test_nominal_traffic_keeps_its_side_out_of_the_buffer(
        self, day: Traffic, frame: _LineFrame
    ) -> None:
        m = _kind_mask(day, {"nominal"}) & ~day.is_noisy
        signed_nm, _, interior = frame.measure(day.lat_deg[m], day.lon_deg[m])
        party = day.party[m]
        assert np.all(np.abs(signed_nm[interior]) > BUFFER_NM + 2.0)
        assert np.all(signed_nm[interior & (party == "coalition")] > 0)  # left: east
        assert np.all(signed_nm[interior & (party == "russia")] < 0)

    def test_tracks_are_flown_about_39_nm_apart(
        self, day: Traffic, frame: _LineFrame
    ) -> None:
        m = _kind_mask(day, {"nominal"}) & ~day.is_noisy
        signed_nm, _, interior = frame.measure(day.lat_deg[m], day.lon_deg[m])
        for party, sign in (("coalition", 1.0), ("russia", -1.0)):
            d = signed_nm[interior & (day.party[m] == party)] * sign
            on_track = np.abs(d - TRACK_OFFSET_NM) < 1.0
            assert on_track.mean() > 0.25, party

    def test_parties_fly_their_tracks_in_opposite_directions(
        self, day: Traffic, frame: _LineFrame
    ) -> None:
        m = _kind_mask(day, {"nominal"}) & ~day.is_noisy
        signed_nm, along_m, interior = frame.measure(day.lat_deg[m], day.lon_deg[m])
        on_track = interior & (np.abs(np.abs(signed_nm) - TRACK_OFFSET_NM) < 1.0)
        ids, t = day.ids[m][on_track], day.t_s[m][on_track]
        along = along_m[on_track]
        order = np.lexsort((t, ids))
        ids, along, party = ids[order], along[order], day.party[m][on_track][order]
        step = np.diff(along)
        same = (ids[1:] == ids[:-1]) & (np.abs(step) < 10 * M_PER_NM)
        assert np.median(step[same & (party[1:] == "coalition")]) > 0  # downstream
        assert np.median(step[same & (party[1:] == "russia")]) < 0  # upstream

    def test_nobody_enters_the_other_partys_zone(self, day: Traffic) -> None:
        for (lat, lon, radius_nm), intruder in (
            (AL_TANF, "russia"),
            (HMEIMIM, "coalition"),
        ):
            m = day.party == intruder
            n = int(m.sum())
            d_nm = geodesic_distance_nm(
                np.full(n, lat), np.full(n, lon), day.lat_deg[m], day.lon_deg[m]
            )
            assert d_nm.min() > radius_nm + 5.0

    def test_excursions_cross_the_line_by_their_depth(
        self, day: Traffic, frame: _LineFrame
    ) -> None:
        assert len(day.excursions) == 5  # five a day, as reported
        assert sum(e.party == "russia" for e in day.excursions) >= 3
        for e in day.excursions:
            m = day.ids == e.aircraft_id
            signed_nm, _, interior = frame.measure(day.lat_deg[m], day.lon_deg[m])
            own = 1.0 if e.party == "coalition" else -1.0
            depth_nm = -own * signed_nm[interior]  # positive on the wrong side
            assert depth_nm.max() == pytest.approx(e.depth_nm, abs=1.0)
            assert 5.0 <= e.depth_nm <= 25.0
            wrong_s = np.count_nonzero(depth_nm > 0) * day.config.step_s
            assert 60.0 <= wrong_s <= 20 * 60.0  # a few minutes

    def test_encounters_pass_at_their_planned_distance(self, day: Traffic) -> None:
        kinds = [e.kind for e in day.encounters]
        assert kinds == ["near-collision", "close-pass"]
        for e in day.encounters:
            at = day.t_s == e.t_s
            i = np.flatnonzero(at & (day.ids == e.intruder_id))[0]
            j = np.flatnonzero(at & (day.ids == e.target_id))[0]
            d_nm = geodesic_distance_nm(
                day.lat_deg[i], day.lon_deg[i], day.lat_deg[j], day.lon_deg[j]
            )
            assert float(d_nm) == pytest.approx(e.miss_nm, abs=0.5)
            assert day.alt_ft[i] - day.alt_ft[j] == pytest.approx(e.dalt_ft)
            assert day.party[i] != day.party[j]
        near = day.encounters[0]
        assert near.miss_nm < 0.5 and abs(near.dalt_ft) < 300.0

    def test_a_small_fraction_is_jittered(self, day: Traffic) -> None:
        assert 0.0005 < day.is_noisy.mean() < 0.005

    def test_no_excursions_or_encounters_when_asked(self) -> None:
        cfg = TrafficConfig(
            seed=1, duration_s=6 * S_PER_H, excursions_per_day=0, encounters_per_day=0
        )
        traffic = simulate_traffic(euphrates_line(), cfg)
        assert traffic.excursions == () and traffic.encounters == ()
        assert {s.kind for s in traffic.sorties} == {"nominal"}

    def test_a_line_without_a_side_for_a_party_is_refused(self) -> None:
        line = euphrates_line({"coalition": LineSide.LEFT})
        with pytest.raises(ProtocolError, match="russia"):
            simulate_traffic(line, TrafficConfig(duration_s=S_PER_H))

    @settings(max_examples=8, deadline=None)
    @given(seed=st.integers(0, 2**32 - 1), hours=st.floats(0.5, 3.0))
    def test_any_seed_gives_a_consistent_sample_table(
        self, seed: int, hours: float
    ) -> None:
        cfg = TrafficConfig(seed=seed, duration_s=hours * S_PER_H, encounters_per_day=8)
        tr = simulate_traffic(euphrates_line(), cfg)
        assert tr.step_offsets[0] == 0 and tr.step_offsets[-1] == len(tr)
        assert np.all(np.diff(tr.step_offsets) >= 0)
        assert tr.t_s.min() >= REFERENCE_START_T_S
        assert tr.t_s.max() <= REFERENCE_START_T_S + hours * S_PER_H
        assert np.all(np.isfinite(tr.lat_deg) & np.isfinite(tr.lon_deg))
        ids = {s.id for s in tr.sorties}
        assert set(np.unique(tr.ids).tolist()) == ids
        assert all(e.intruder_id in ids and e.target_id in ids for e in tr.encounters)


class TestTrafficConfig:
    @pytest.mark.parametrize(
        "kwargs",
        [
            {"duration_s": 0.0},
            {"step_s": -5.0},
            {"excursions_per_day": -1.0},
            {"noise_fraction": 1.5},
            {"sorties_per_day": {"russia": -3.0}},
        ],
    )
    def test_invalid_values_are_refused(self, kwargs: dict[str, object]) -> None:
        with pytest.raises(ValueError):
            TrafficConfig(**kwargs)  # type: ignore[arg-type]

    def test_steps_include_both_ends(self) -> None:
        assert TrafficConfig(duration_s=S_PER_H, step_s=5.0).n_steps == 721
