"""DO-365 well-clear alerting and bands: encounters with known answers, properties."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from deconfliction.adapters.daa_files import load_config
from deconfliction.domain.daa.alerting import AlertFilter, alert_pairs
from deconfliction.domain.daa.bands import intervals
from deconfliction.domain.daa.config import ConfigError, Region, parse_conf
from deconfliction.domain.daa.picture import StepStates, assess
from deconfliction.domain.daa.wcv import (
    horizontal_interval,
    in_violation,
    violation_interval,
)
from deconfliction.units import M_PER_FT, M_PER_NM, MPS_PER_FPM, MPS_PER_KT

CFG = load_config("do-365b")
DTHR_M = 0.66 * M_PER_NM
ZTHR_M = 450 * M_PER_FT


def _states(xy_nm, alt_ft, trk_deg, gs_kt, vs_fpm) -> StepStates:
    xy = np.asarray(xy_nm, dtype=np.float64) * M_PER_NM
    n = xy.shape[0]
    return StepStates(
        lat_deg=np.zeros(n),
        lon_deg=np.zeros(n),
        x_m=xy[:, 0],
        y_m=xy[:, 1],
        alt_ft=np.asarray(alt_ft, dtype=np.float64),
        trk_deg=np.asarray(trk_deg, dtype=np.float64),
        gs_kt=np.asarray(gs_kt, dtype=np.float64),
        vs_fpm=np.asarray(vs_fpm, dtype=np.float64),
        alerter=np.zeros(n, dtype=np.int64),
        frame="cartesian",
    )


def _one(states: StepStates):
    n = states.alt_ft.shape[0]
    return assess(CFG, states, np.zeros(n - 1, dtype=np.int64), np.arange(1, n))


def test_head_on_entry_is_the_taumod_root() -> None:
    # 10 NM apart, closing at 400 kt: the volume is entered when the distance x
    # solves x^2 - TTHR * closure * x - DTHR^2 = 0 (modified tau = 35 s).
    res = _one(_states([[0, 0], [0, 10]], [17000, 17000], [0, 180], [200, 200], [0, 0]))
    closure = 400 * MPS_PER_KT
    x = (35 * closure + math.sqrt((35 * closure) ** 2 + 4 * DTHR_M**2)) / 2
    expected = (10 * M_PER_NM - x) / closure
    assert res.alerts.time_to_volume_s[0, 1] == pytest.approx(expected, abs=1e-6)
    assert res.alerts.tcpa_s[0] == pytest.approx(10 * M_PER_NM / closure)
    # Entry in 54.0 s: within the corrective alerting time (55 s), not the warning's.
    assert 25 < expected <= 55
    assert res.alerts.raw_level[0] == 2


def test_head_on_closer_raises_corrective_then_warning() -> None:
    # Closing at 400 kt from 11 NM: entry in ~71 s (no alert); from 5.5 NM: in
    # ~16 s (warning, alerting time 25 s).
    far = _one(_states([[0, 0], [0, 11]], [17000, 17000], [0, 180], [200, 200], [0, 0]))
    near = _one(
        _states([[0, 0], [0, 5.5]], [17000, 17000], [0, 180], [200, 200], [0, 0])
    )
    assert far.alerts.raw_level[0] == 0
    assert far.alerts.early_level[0] == 2  # within the early alerting time (75 s)
    assert near.alerts.raw_level[0] == 3
    # The head-on direction bands forbid straight ahead and leave turning away free.
    b = near.bands["direction_deg"]
    ahead = int(np.argmin(np.abs(b.values_deg_kt_fpm_or_ft[0] - 0.0)))
    abeam = int(np.argmin(np.abs(b.values_deg_kt_fpm_or_ft[0] - 90.0)))
    assert b.region[0, ahead] == Region.NEAR
    assert b.region[0, abeam] == Region.NONE
    assert (
        0 < b.resolution_up_deg_kt_fpm_or_ft[0] < 90
        and 270 < b.resolution_down_deg_kt_fpm_or_ft[0] < 360
    )


def test_crossing_with_miss_distance_beyond_dthr_is_clear() -> None:
    # Intruder from the east, crossing 1 NM ahead of the ownship's path at the time
    # the ownship is there: HMD 1 NM > 0.66 NM, no volume entered.
    t = 60.0
    own_y = 200 * MPS_PER_KT * t / M_PER_NM
    clear = _one(
        _states(
            [[0, 0], [200 * t / 3600, own_y + 1]],
            [9000, 9000],
            [0, 270],
            [200, 200],
            [0, 0],
        )
    )
    hit = _one(
        _states(
            [[0, 0], [200 * t / 3600, own_y]],
            [9000, 9000],
            [0, 270],
            [200, 200],
            [0, 0],
        )
    )
    assert math.isinf(clear.alerts.time_to_volume_s[0, 1])
    assert clear.alerts.raw_level[0] == 0
    assert hit.alerts.raw_level[0] >= 2


def test_overtaking_on_the_same_line() -> None:
    # 300 kt behind a 200 kt aircraft 3 NM ahead: closure 100 kt.
    res = _one(_states([[0, 0], [0, 3]], [12000, 12000], [0, 0], [300, 200], [0, 0]))
    closure = 100 * MPS_PER_KT
    x = (35 * closure + math.sqrt((35 * closure) ** 2 + 4 * DTHR_M**2)) / 2
    assert res.alerts.time_to_volume_s[0, 1] == pytest.approx(
        (3 * M_PER_NM - x) / closure
    )
    offset = _one(_states([[0, 0], [1, 3]], [12000, 12000], [0, 0], [300, 200], [0, 0]))
    assert math.isinf(offset.alerts.time_to_volume_s[0, 1])


def test_climbing_through_enters_at_zthr() -> None:
    # Flying in formation 0.3 NM apart, the ownship 2,000 ft below climbing at
    # 1,000 fpm: violation from (2000 - 450) / 1000 min to (2000 + 450) / 1000 min.
    res = _one(
        _states([[0, 0], [0.3, 0]], [15000, 17000], [90, 90], [250, 250], [1000, 0])
    )
    assert res.alerts.time_to_volume_s[0, 1] == pytest.approx(1550 / 1000 * 60)
    assert res.alerts.time_out_of_volume_s[0, 1] == pytest.approx(2450 / 1000 * 60)
    assert res.alerts.raw_level[0] == 0  # 93 s: beyond every alerting time
    assert res.alerts.vmd_m[0] == pytest.approx(0.0)


def test_already_inside_well_clear_gives_warning_and_recovery() -> None:
    # Side by side 0.5 NM apart (inside DTHR 0.66 NM), same track and speed: the
    # violation lasts for ever unless the ownship turns; turning away recovers, and
    # the recovery cylinder (0.66 NM) is shrunk until a manoeuvre keeps out of it.
    res = _one(_states([[0, 0], [0.5, 0]], [10000, 10100], [0, 0], [150, 150], [0, 0]))
    assert res.alerts.time_to_volume_s[0, 2] == 0.0
    assert res.alerts.raw_level[0] == 3
    b = res.bands["direction_deg"]
    assert b.recovery[0]
    assert 0 < b.time_to_recovery_s[0] < 60
    values = b.values_deg_kt_fpm_or_ft[0]
    away = b.region[0][np.argmin(np.abs(values - 270.0))]
    towards = b.region[0][np.argmin(np.abs(values - 90.0))]
    assert (away, towards) == (Region.RECOVERY, Region.NEAR)
    assert not (b.region[0] == Region.NONE).any()
    assert b.resolution_down_deg_kt_fpm_or_ft[0] > 180  # a left turn
    assert not b.preferred_up[0]


def test_inside_and_closing_too_fast_to_recover_saturates() -> None:
    # Head-on 0.3 NM apart at 300 kt closure: no manoeuvre keeps even the NMAC
    # cylinder (500 ft, 100 ft); no RECOVERY, time to recovery -inf.
    res = _one(
        _states([[0, 0], [0, 0.3]], [10000, 10050], [0, 180], [150, 150], [0, 0])
    )
    b = res.bands["direction_deg"]
    assert b.recovery[0]
    assert b.time_to_recovery_s[0] == -np.inf
    assert (b.region[0] == Region.NEAR).all()
    assert b.resolution_up_deg_kt_fpm_or_ft[0] == np.inf


def test_thresholds_are_inclusive_at_exactly_the_value() -> None:
    s = np.array([[DTHR_M, 0.0, ZTHR_M]])
    v = np.zeros((1, 3))
    assert in_violation(s, v, DTHR_M, ZTHR_M, 35.0, 0.0)[0]
    s_out = np.array([[np.nextafter(DTHR_M, np.inf), 0.0, 0.0]])
    assert not in_violation(s_out, v, DTHR_M, ZTHR_M, 35.0, 0.0)[0]
    s_up = np.array([[0.0, 0.0, np.nextafter(ZTHR_M, np.inf)]])
    assert not in_violation(s_up, v, DTHR_M, ZTHR_M, 35.0, 0.0)[0]


def test_modified_tau_exactly_at_tthr_is_inside() -> None:
    # Range r, closing at c: taumod = (D^2 - r^2) / (s.v) = (r^2 - D^2) / (r c).
    c = 200.0
    r = (35 * c + math.sqrt((35 * c) ** 2 + 4 * DTHR_M**2)) / 2  # taumod == 35 s
    t_in, _ = horizontal_interval(
        np.array([[0.0, -r]]), np.array([[0.0, c]]), DTHR_M, 35.0
    )
    assert t_in[0] == pytest.approx(0.0, abs=1e-9)


def test_interval_to_a_lookahead_ending_at_the_entry_counts() -> None:
    s = np.array([[0.0, -10 * M_PER_NM, 0.0]])
    v = np.array([[0.0, 200.0, 0.0]])
    t_in, _, hit = violation_interval(s, v, DTHR_M, ZTHR_M, 0.0, 0.0, 0.0, 1e6)
    _, _, at_edge = violation_interval(s, v, DTHR_M, ZTHR_M, 0.0, 0.0, 0.0, t_in[0])
    assert hit[0]
    assert not at_edge[0]  # a single instant ahead is not a conflict of positive length


def test_m_of_n_needs_two_of_four_and_early_alerting_holds_a_shown_level() -> None:
    f = AlertFilter(CFG)  # M = 2, N = 4
    key = [("own", "tfc")]

    def step(t: float, raw: int, early: int) -> int:
        return int(f.update(t, key, np.array([raw]), np.array([early]))[0])

    assert step(0, 2, 2) == 0  # once is not 2 of 4
    assert step(1, 2, 2) == 2
    # Beyond the alerting time but within the early one: still raised while shown.
    assert step(2, 0, 2) == 2
    assert step(3, 0, 0) == 2  # raised 2 of the last 4
    assert step(4, 0, 0) == 2
    assert step(5, 0, 0) == 0
    assert step(6, 0, 2) == 0  # early alerting does not raise a level not shown


def test_no_traffic_means_all_none() -> None:
    states = _states([[0, 0]], [20000], [45], [250], [0])
    res = assess(
        CFG,
        states,
        np.zeros(0, dtype=np.int64),
        np.zeros(0, dtype=np.int64),
        ownships=np.array([0]),
    )
    for b in res.bands.values():
        assert (b.region == Region.NONE).all()
        assert (
            np.isnan(b.resolution_up_deg_kt_fpm_or_ft).all()
            and np.isnan(b.resolution_down_deg_kt_fpm_or_ft).all()
        )


@pytest.mark.parametrize("seed", range(6))
def test_bands_cover_the_range_without_gap_or_overlap(seed: int) -> None:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(-6, 6, size=(4, 2))
    xy[0] = 0
    res = _one(
        _states(
            xy,
            rng.uniform(9000, 11000, 4),
            rng.uniform(0, 360, 4),
            rng.uniform(120, 400, 4),
            rng.uniform(-1500, 1500, 4),
        )
    )
    ranges = {
        "direction_deg": (0.0, 360.0),
        "horizontal_speed_kt": (CFG.min_hs_kt, CFG.max_hs_kt),
        "vertical_speed_fpm": (CFG.min_vs_fpm, CFG.max_vs_fpm),
        "altitude_ft": (CFG.min_alt_ft, CFG.max_alt_ft),
    }
    for dim, (lo, hi) in ranges.items():
        b = res.bands[dim]
        ivs = intervals(b.values_deg_kt_fpm_or_ft[0], b.region[0], lo, hi)
        assert ivs[0][0] == lo and ivs[-1][1] == hi
        for (_, a_to, a_r), (b_from, _, b_r) in itertools.pairwise(ivs):
            assert a_to == b_from
            assert a_r != b_r
        assert all(f < t for f, t, _ in ivs)


def test_turning_the_picture_turns_the_direction_bands() -> None:
    xy = np.array([[0.0, 0.0], [1.2, 7.0], [-4.0, 3.0]])
    trk = np.array([10.0, 200.0, 120.0])
    base = {
        "alt_ft": [10000, 10200, 9800],
        "gs_kt": [220, 300, 180],
        "vs_fpm": [0, -500, 300],
    }
    angle = 40.0
    rad = math.radians(angle)
    # Turning clockwise by angle (tracks grow by angle).
    rot = np.array([[math.cos(rad), math.sin(rad)], [-math.sin(rad), math.cos(rad)]])
    a = _one(_states(xy, base["alt_ft"], trk, base["gs_kt"], base["vs_fpm"]))
    b = _one(
        _states(
            xy @ rot.T,
            base["alt_ft"],
            (trk + angle) % 360,
            base["gs_kt"],
            base["vs_fpm"],
        )
    )
    ba, bb = a.bands["direction_deg"], b.bands["direction_deg"]
    assert (ba.region[0] != Region.NONE).any()
    grid = np.arange(0.0, 360.0, 1.0)
    ra = dict(zip(ba.values_deg_kt_fpm_or_ft[0], ba.region[0], strict=True))
    rb = {
        round(v % 360.0, 6): r
        for v, r in zip(bb.values_deg_kt_fpm_or_ft[0], bb.region[0], strict=True)
    }
    same = [ra[v] == rb[round((v + angle) % 360.0, 6)] for v in grid]
    assert all(same)


def test_config_errors_name_line_and_key() -> None:
    text = "lookahead_time = soon [s]\nturn_rate = 3 [knot]\n"
    with pytest.raises(ConfigError) as err:
        parse_conf(text, "bad.conf")
    msg = str(err.value)
    assert "bad.conf:1: lookahead_time: not a number" in msg
    assert "bad.conf:2: turn_rate: unit [knot] is not a rate" in msg


def test_shipped_configs_hold_do_365_values() -> None:
    b = load_config("do-365b")
    assert [a.name for a in b.alerters] == [
        "DWC_Phase_I",
        "DWC_Phase_II",
        "DWC_Non_Coop",
    ]
    warning = b.alerters[0].levels[2]
    assert (warning.region, warning.alerting_time_s, warning.wcv.zthr_ft) == (
        Region.NEAR,
        25.0,
        450.0,
    )
    assert len(load_config("do-365a").alerters) == 2
    cyl = b.recovery_cylinders
    assert cyl[0] == pytest.approx((0.66, 450.0))
    assert cyl[1] == pytest.approx((0.66 * 0.9, 405.0))  # ca_factor 0.1
    assert cyl[-1] == pytest.approx((500 * M_PER_FT / M_PER_NM, 100.0))  # NMAC
    assert all(h * M_PER_NM >= 500 * M_PER_FT for h, _ in cyl)
    tcas = load_config("tcas2")
    low = alert_pairs(
        tcas,
        np.array([[0.0, -0.5 * M_PER_NM, 0.0]]),
        np.array([[0.0, 100.0, 0.0]]),
        np.array([0]),
        np.array([15000.0]),
    )
    assert low.raw_level[0] == 2  # inside the RA volume (DMOD 0.8 NM at FL150)
    assert MPS_PER_FPM > 0


def _wgs84(lat, lon, alt_ft, trk_deg, gs_kt, vs_fpm) -> StepStates:
    n = len(lat)
    return StepStates(
        lat_deg=np.asarray(lat, dtype=np.float64),
        lon_deg=np.asarray(lon, dtype=np.float64),
        x_m=np.zeros(n),
        y_m=np.zeros(n),
        alt_ft=np.asarray(alt_ft, dtype=np.float64),
        trk_deg=np.asarray(trk_deg, dtype=np.float64),
        gs_kt=np.asarray(gs_kt, dtype=np.float64),
        vs_fpm=np.asarray(vs_fpm, dtype=np.float64),
        alerter=np.zeros(n, dtype=np.int64),
    )


def test_theatre_guidance_finds_the_pair_and_only_its_aircraft_get_bands() -> None:
    from deconfliction.domain.daa.theatre import guidance

    # Head-on 8 NM apart over Syria (corrective alert), a third aircraft 20 NM east
    # on a parallel track, a fourth 2,000 ft above the pair's meeting point.
    states = _wgs84(
        [35.0, 35.0 + 8 / 60, 35.0, 35.0 + 4 / 60],
        [38.0, 38.0, 38.0 + 20 / 49.2, 38.0],
        [20000, 20000, 20000, 22000],
        [0, 180, 0, 90],
        [200, 200, 200, 250],
        [0, 0, 0, 0],
    )
    g = guidance(CFG, states)
    alerting = {
        (int(o), int(t))
        for o, t, lv in zip(g.own, g.traffic, g.alerts.raw_level, strict=True)
        if lv
    }
    assert alerting == {(0, 1), (1, 0)}
    assert g.ownships.tolist() == [0, 1]
    ahead = g.bands["direction_deg"]
    assert (ahead.current_region == Region.MID).all()
    # A party gets guidance for its own aircraft only.
    mine = guidance(CFG, states, eligible_own=np.array([True, False, False, False]))
    assert mine.ownships.tolist() == [0]


# Seeds whose encounters colour some band (checked at the end); 0 and 6 colour none.
@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 7])
def test_reach_filter_drops_no_traffic_that_colours_a_band(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The same encounters with the reach filter and with every pair kept.
    from deconfliction.domain.daa import bands as bands_mod

    rng = np.random.default_rng(100 + seed)
    n = 8
    xy = rng.uniform(-8, 8, size=(n, 2))
    xy[0] = 0
    states = _states(
        xy,
        rng.uniform(16700, 17300, n),
        rng.uniform(0, 360, n),
        rng.uniform(150, 500, n),
        rng.choice([0.0, 0.0, -1000.0, 1500.0], n),
    )
    filtered = _one(states)
    monkeypatch.setattr(
        bands_mod,
        "may_matter",
        lambda config, own, pairs, alt, dim: np.ones(pairs.own.shape[0], dtype=bool),
    )
    everything = _one(states)
    coloured = 0
    for dim in filtered.bands:
        a, b = filtered.bands[dim].region, everything.bands[dim].region
        assert (a == b).all(), dim
        coloured += int((b != Region.NONE).sum())
    assert coloured > 0


def test_conf_detectors_cylinder_and_unsupported() -> None:
    from deconfliction.domain.daa.config import _MINIMAL

    cyl = _MINIMAL + (
        "A_load_core_detection_det_2 = gov.nasa.larcfm.ACCoRD.CDCylinder\n"
        "A_det_2_D = 5 [nmi]\nA_det_2_H = 1000 [ft]\n"
    )
    level = parse_conf(cyl, "c.conf").alerters[0].levels[1]
    assert (level.wcv.dthr_nm, level.wcv.zthr_ft, level.wcv.tthr_s) == (
        pytest.approx(5.0),
        1000.0,
        0.0,
    )
    tep = _MINIMAL + "A_load_core_detection_det_1 = gov.nasa.larcfm.ACCoRD.WCV_TEP\n"
    n_lines = len(tep.splitlines())
    with pytest.raises(ConfigError) as err:
        parse_conf(tep, "t.conf")
    assert f"t.conf:{n_lines}: A_load_core_detection_det_1: detector WCV_TEP" in str(
        err.value
    )


def test_theatre_bands_equal_one_ownship_against_everyone() -> None:
    from deconfliction.domain.daa.theatre import guidance

    rng = np.random.default_rng(7)
    n = 40
    lat = 35.0 + rng.uniform(-0.4, 0.4, n)
    lon = 38.0 + rng.uniform(-0.5, 0.5, n)
    states = _wgs84(
        lat,
        lon,
        rng.uniform(16500, 17500, n),
        rng.uniform(0, 360, n),
        rng.uniform(150, 450, n),
        np.zeros(n),
    )
    g = guidance(CFG, states)
    assert g.ownships.size >= 2
    for k, o in enumerate(g.ownships[:3]):
        others = np.array([j for j in range(n) if j != o])
        mask = g.own == o
        level = np.zeros(others.size, dtype=np.int64)
        for t, lv in zip(g.traffic[mask], g.alerts.raw_level[mask], strict=True):
            level[np.searchsorted(others, t)] = lv
        alone = assess(
            CFG,
            states,
            np.full(others.size, o),
            others,
            ownships=np.array([o]),
            reported_level=level,
        )
        for dim, b in g.bands.items():
            assert (b.region[k] == alone.bands[dim].region[0]).all(), (int(o), dim)
