"""Tests of the detection benchmark (bench/bench_detect.py) at tiny N.

They check the pair bookkeeping against BlueSky, the threshold margins of
disagreeing pairs and that a whole run writes its tables and JSON; the figures
themselves come from ``python bench/bench_detect.py``.
"""

from __future__ import annotations

import doctest
import json
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("bluesky", reason="BlueSky is the project's `bench` extra")

BENCH_DIR = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH_DIR))

import _bluesky  # noqa: E402
import _states  # noqa: E402
import bench_detect as bd  # noqa: E402
from deconfliction.domain.detect import detect_conflicts  # noqa: E402
from deconfliction.domain.model import AircraftStates  # noqa: E402


def _pair(
    lat_deg: tuple[float, float],
    lon_deg: tuple[float, float],
    alt_ft: tuple[float, float] = (30_000.0, 30_000.0),
    trk_deg: tuple[float, float] = (90.0, 270.0),
    vs_fpm: tuple[float, float] = (0.0, 0.0),
) -> AircraftStates:
    return AircraftStates.from_columns(
        ["A", "B"], lat_deg, lon_deg, alt_ft, [450.0, 450.0], trk_deg, vs_fpm
    )


class TestDoctests:
    @pytest.mark.parametrize("module", [bd, _states])
    def test_examples_hold(self, module: object) -> None:
        result = doctest.testmod(module)  # type: ignore[arg-type]
        assert result.attempted > 0
        assert result.failed == 0


class TestComparePairs:
    def test_splits_both_and_each_side(self) -> None:
        a = bd.compare_pairs(np.array([5, 1, 9, 3]), np.array([3, 7, 5]))
        assert (a.ours, a.theirs, a.both) == (4, 3, 2)
        assert a.only_ours.tolist() == [1, 9]
        assert a.only_theirs.tolist() == [7]

    def test_empty_sides(self) -> None:
        a = bd.compare_pairs(np.empty(0, dtype=np.int64), np.array([4]))
        assert (a.both, len(a.only_ours), a.only_theirs.tolist()) == (0, 0, [4])


class TestBlueskyPairKeys:
    def test_ordered_pairs_become_unordered_keys(self) -> None:
        ids = np.array(["AC000002", "AC000000", "AC000001"])  # not in index order
        run = _bluesky.BlueSkyRun(
            pairs=[
                ("AC000000", "AC000001"),
                ("AC000001", "AC000000"),
                ("AC000002", "AC000000"),
            ],
            dcpa_nm=np.array([1.0, 1.0, 2.0]),
            tcpa_s=np.array([10.0, 10.0, 20.0]),
            tin_s=np.array([5.0, 5.0, 15.0]),
        )
        theirs = bd.bluesky_pair_keys(run, ids)
        # AC000000 is index 1, AC000001 index 2, AC000002 index 0; n = 3.
        assert theirs.keys.tolist() == [0 * 3 + 1, 1 * 3 + 2]
        assert (theirs.ordered, theirs.one_way) == (3, 1)
        assert theirs.dcpa_nm.tolist() == [2.0, 1.0]

    def test_no_pairs(self) -> None:
        run = _bluesky.BlueSkyRun([], np.empty(0), np.empty(0), np.empty(0))
        theirs = bd.bluesky_pair_keys(run, np.array(["A", "B"]))
        assert len(theirs.keys) == 0 and theirs.ordered == 0


class TestThresholdMargins:
    def test_pair_just_outside_the_horizontal_minimum(self) -> None:
        # Head-on on parallel tracks 5.05 NM apart (1' of latitude is ~1.0 NM).
        pair = _pair((35.0, 35.0 + 5.05 / 60.0), (38.0, 38.6))
        assert len(detect_conflicts(pair, bd.detection_settings())) == 0
        margins = bd.threshold_margins(pair, bd.detection_settings())
        assert margins["horizontal"] is not None
        assert 0.0 < margins["horizontal"] < 2.0
        assert margins["vertical"] is None and margins["lookahead"] is None

    def test_flagged_pair_flips_when_a_threshold_shrinks(self) -> None:
        # Head-on on one parallel, 990 ft apart vertically: inside the 1,000 ft
        # minimum by 1 %, and far inside the horizontal one and the lookahead.
        pair = _pair((35.0, 35.0), (38.0, 38.3), alt_ft=(30_000.0, 30_990.0))
        assert len(detect_conflicts(pair, bd.detection_settings())) == 1
        margins = bd.threshold_margins(pair, bd.detection_settings())
        # -1 % of the minimum less the 0.01 ft that domain/thresholds.py takes off
        # it (exactly the minimum is separated): (990 - 999.99) / 999.99.
        assert margins["vertical"] == pytest.approx(-1.0, abs=2e-3)
        assert margins["horizontal"] is None


class TestGeodesicReference:
    def test_head_on_at_the_same_level_conflicts(self) -> None:
        conflict, dmin_nm = bd.geodesic_reference(
            _pair((35.0, 35.0), (38.0, 38.5)), bd.detection_settings()
        )
        assert conflict
        assert dmin_nm < 0.05

    def test_vertically_separated_pair_does_not(self) -> None:
        conflict, dmin_nm = bd.geodesic_reference(
            _pair((35.0, 35.0), (38.0, 38.5), alt_ft=(30_000.0, 31_000.0)),
            bd.detection_settings(),
        )
        assert not conflict
        assert dmin_nm < 0.05


class TestCompareWithBluesky:
    def test_small_snapshot_agrees_up_to_thresholds(self) -> None:
        r = bd.compare_with_bluesky(300, seed=7, repeats=1, numpy_mode="inline")
        assert r["conflicts"] > 0
        for name in ("compiled", "numpy"):
            side = r[name]
            assert side["both"] >= 0.9 * side["ours"]
            assert side["only_ours"] + side["only_theirs"] == side["examined"]
            assert side["not_threshold_cases"] == 0
        compiled = r["compiled"]
        # Each conflict reported both ways, except those BlueSky found one way only.
        assert compiled["ordered_pairs_reported"] == (
            2 * compiled["theirs"] - compiled["one_way_pairs"]
        )
        assert r["numpy"]["same_pairs_as_compiled"]
        json.dumps(r)  # the report must serialise

    def test_numpy_refused_when_estimate_exceeds_budget(self) -> None:
        # A calibration run of 10 aircraft that grew by 1 GiB: 10 MiB per pair, so
        # 100 aircraft would need about 100 GiB.
        calibration = {
            "n": 10,
            "rss_before_bytes": 100 * bd.MIB,
            "rss_peak_bytes": bd.GIB,
        }
        r = bd.compare_with_bluesky(
            100, seed=1, repeats=1, numpy_mode="child", calibration=calibration
        )
        assert r["numpy"]["skipped"] is True
        assert r["numpy"]["estimate_gib"] > bd.MEMORY_BUDGET_BYTES / bd.GIB


class TestNumpyEstimateBytes:
    def test_scales_the_measured_growth_by_n_squared(self) -> None:
        calibration = {"n": 1000, "rss_before_bytes": 0, "rss_peak_bytes": 100 * bd.MIB}
        estimate = bd.numpy_estimate_bytes(2000, calibration)
        assert estimate == pytest.approx(400 * bd.MIB * bd.ESTIMATE_SAFETY)

    def test_prior_refuses_nothing_small(self) -> None:
        assert bd.numpy_estimate_bytes(1000, None) < bd.MEMORY_BUDGET_BYTES
        assert bd.numpy_estimate_bytes(10_000, None) > bd.MEMORY_BUDGET_BYTES


class TestMain:
    def test_tiny_run_writes_tables_and_json(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        out = tmp_path / "bench.json"
        code = bd.main(
            [
                "--compare-n", "200", "--numpy-n", "200", "--process-n", "200",
                "--scaling-n", "200", "--profile-n", "200", "--repeats", "1",
                "--out", str(out),
            ]
        )  # fmt: skip
        assert code == 0
        text = capsys.readouterr().out
        for heading in ("## 1.", "## 2.", "## 3.", "## 4."):
            assert heading in text
        report = json.loads(out.read_text())
        assert report["machine"]["nproc"] >= 1
        assert report["compare"][0]["numpy"]["skipped"] is False
        process = report["process"]
        assert process["pairs_only_ours"] + process["pairs_only_bluesky"] <= 2
        assert process["ours_s"] > 0 and process["bluesky_s"] > 0
        assert (
            report["scaling"][0]["rss_peak_bytes"]
            >= report["scaling"][0]["rss_before_bytes"]
        )
        assert report["profile"]["matches_detect_conflicts"]
