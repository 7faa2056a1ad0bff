"""The interop benchmark (bench/bench_interop.py) runs end to end on small files.

The figures themselves come from ``python bench/bench_interop.py``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH_DIR))

import bench_interop as bi  # noqa: E402


class TestMain:
    def test_every_reader_reads_its_sample(self, tmp_path: Path) -> None:
        out = tmp_path / "interop.json"
        assert bi.main(["--quick", "--repeat", "1", "--out", str(out)]) == 0
        report = json.loads(out.read_text(encoding="utf-8"))
        readers = {r["reader"]: r for r in report["readers"]}
        assert len(readers) == 11
        assert {r["library"] for r in report["asterix_libraries"]}
        assert all(r["meets_goal"] for r in report["imports"])
        for row in readers.values():
            assert row["messages"] > 0 and row["positions"] > 0
            assert row["rejected"] == 0
            assert row["messages_per_s"] > 0
