"""Detect-and-avoid files: DAIDALUS ``.daa`` scenarios and ``.conf`` configurations
in, ``alerting.csv`` and ``bands.jsonl`` out.

A ``.daa`` file (DAIDALUS's format) is a header line of column names, a line of
units in brackets, then one line per aircraft state; consecutive lines with the same
time form a step whose first aircraft is the ownship. Positions are ``lat``/``lon``
(degrees) or ``sx``/``sy`` (a flat east/north frame), altitude ``alt`` or ``sz``;
velocity is ``trk``/``gs``/``vs`` or ``vx``/``vy``/``vz`` (east/north/up). Columns
may be separated by commas or blanks; ``#`` starts a comment line. Every problem is
reported with its line and column; nothing is computed from a file with problems.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from deconfliction.domain.daa.bands import DIMENSIONS, intervals
from deconfliction.domain.daa.config import DaaConfig, parse_conf
from deconfliction.domain.daa.picture import Assessment, StepStates
from deconfliction.errors import InputError, Problem
from deconfliction.units import M_PER_FT, M_PER_NM, MPS_PER_FPM, MPS_PER_KT

SHIPPED_CONFIGS = ("do-365a", "do-365b", "tcas2")

_LENGTH_FT = {
    "ft": 1.0,
    "m": 1.0 / M_PER_FT,
    "nmi": M_PER_NM / M_PER_FT,
    "NM": M_PER_NM / M_PER_FT,
}
_LENGTH_M = {k: v * M_PER_FT for k, v in _LENGTH_FT.items()}
_SPEED_KT = {
    "knot": 1.0,
    "kn": 1.0,
    "kt": 1.0,
    "m/s": 1.0 / MPS_PER_KT,
    "fpm": MPS_PER_FPM / MPS_PER_KT,
}
_VSPEED_FPM = {
    "fpm": 1.0,
    "ft/min": 1.0,
    "m/s": 1.0 / MPS_PER_FPM,
    "knot": MPS_PER_KT / MPS_PER_FPM,
}
_ANGLE_DEG = {"deg": 1.0, "rad": 180.0 / math.pi}
_TIME_S = {"s": 1.0, "min": 60.0, "h": 3600.0}
_UNITLESS = {"unitless": 1.0, "none": 1.0, "": 1.0}
_COLUMNS: dict[str, dict[str, float]] = {
    "lat": _ANGLE_DEG,
    "lon": _ANGLE_DEG,
    "alt": _LENGTH_FT,
    "sx": _LENGTH_M,
    "sy": _LENGTH_M,
    "sz": _LENGTH_FT,
    "trk": _ANGLE_DEG,
    "gs": _SPEED_KT,
    "vs": _VSPEED_FPM,
    "vx": _SPEED_KT,
    "vy": _SPEED_KT,
    "vz": _VSPEED_FPM,
    "time": _TIME_S,
    "alerter": _UNITLESS,
}
_DEFAULT_UNITS = {"sx": "nmi", "sy": "nmi", "sz": "ft"}


def load_config(name_or_path: str) -> DaaConfig:
    """A shipped configuration by name (``do-365a``, ``do-365b``, ``tcas2``) or a
    DAIDALUS ``.conf`` file by path."""
    if name_or_path in SHIPPED_CONFIGS:
        text = (
            resources.files("deconfliction.data")
            .joinpath("daa", f"{name_or_path}.conf")
            .read_text("utf-8")
        )
        return parse_conf(text, f"{name_or_path}.conf", name=name_or_path)
    path = Path(name_or_path)
    if not path.exists():
        raise InputError(
            [
                Problem(
                    name_or_path,
                    None,
                    "config",
                    f"no such file, and not one of {', '.join(SHIPPED_CONFIGS)}",
                )
            ]
        )
    return parse_conf(_read_text(path), str(path), name=path.stem)


def _read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            [Problem(str(path), None, "", f"not UTF-8 text ({exc.reason})")]
        ) from None


@dataclass(frozen=True, slots=True)
class DaaStep:
    """One time step of a scenario: names (ownship first) and states."""

    time_s: float
    line: int
    names: tuple[str, ...]
    states: StepStates


def _split(line: str) -> list[str]:
    return [c for c in re.split(r"[,\s]+", line.strip()) if c]


def read_daa(path: Path) -> list[DaaStep]:
    """Every step of a ``.daa`` file.

    Raises:
        InputError: every problem, with its line and column.
    """
    src = str(path)
    text = _read_text(path)
    problems: list[Problem] = []
    lines = [
        (n, raw)
        for n, raw in enumerate(text.splitlines(), start=1)
        if raw.strip() and not raw.lstrip().startswith("#")
    ]
    if len(lines) < 2:
        raise InputError(
            [Problem(src, None, "", "needs a header line and a units line")]
        )
    (h_line, header_raw), (u_line, units_raw) = lines[0], lines[1]
    header = [h.lower() for h in _split(header_raw)]
    units = [u.strip("[]") for u in _split(units_raw)]
    if len(units) != len(header):
        problems.append(
            Problem(
                src, u_line, "units", f"{len(units)} units for {len(header)} columns"
            )
        )
    if not header or header[0] not in ("name", "aircraft", "id"):
        problems.append(Problem(src, h_line, "NAME", "the first column must be NAME"))
    has_geo = "lat" in header and "lon" in header
    has_xyz = "sx" in header and "sy" in header
    needed = ["time"]
    needed += ["alt"] if "alt" in header or not has_xyz else ["sz"]
    needed += ["trk", "gs", "vs"] if "trk" in header else ["vx", "vy", "vz"]
    if not (has_geo or has_xyz):
        needed += ["lat", "lon"]
    for col in needed:
        if col not in header:
            problems.append(Problem(src, h_line, col, "missing column"))
    factors: dict[str, float] = {}
    for i, col in enumerate(header):
        if col not in _COLUMNS:
            continue
        unit = units[i] if i < len(units) else ""
        table = _COLUMNS[col]
        if unit in ("", "unitless", "none") and col in _DEFAULT_UNITS:
            unit = _DEFAULT_UNITS[col]
        if unit not in table and col != "alerter":
            problems.append(Problem(src, u_line, col, f"unit [{unit}] not understood"))
            continue
        factors[col] = table.get(unit, 1.0)
    if problems:
        raise InputError(problems)
    index = {c: i for i, c in enumerate(header)}
    rows: list[tuple[int, str, dict[str, float]]] = []
    for n, raw in lines[2:]:
        cells = _split(raw)
        if len(cells) != len(header):
            problems.append(
                Problem(
                    src, n, "", f"{len(cells)} fields, the header has {len(header)}"
                )
            )
            continue
        values: dict[str, float] = {}
        bad = False
        for col, i in index.items():
            if col not in factors:
                continue
            try:
                v = float(cells[i])
            except ValueError:
                problems.append(
                    Problem(
                        src,
                        n,
                        header_raw_name(header_raw, i),
                        f"not a number: {cells[i][:40]!r}",
                    )
                )
                bad = True
                continue
            if not math.isfinite(v):
                problems.append(
                    Problem(
                        src, n, header_raw_name(header_raw, i), "not a finite number"
                    )
                )
                bad = True
                continue
            values[col] = v * factors[col]
        if bad:
            continue
        if "lat" in values and not -90.0 <= values["lat"] <= 90.0:
            problems.append(Problem(src, n, "lat", "outside -90 to 90 deg"))
            continue
        if "gs" in values and values["gs"] < 0:
            problems.append(Problem(src, n, "gs", "negative ground speed"))
            continue
        if "alerter" in values and (
            values["alerter"] != int(values["alerter"]) or values["alerter"] < 0
        ):
            problems.append(Problem(src, n, "alerter", "not a whole number"))
            continue
        rows.append((n, cells[0], values))
    steps = _group(src, rows, has_geo, problems)
    if problems:
        raise InputError(problems)
    if not steps:
        raise InputError([Problem(src, None, "", "no aircraft state")])
    return steps


def header_raw_name(header_raw: str, i: int) -> str:
    names = _split(header_raw)
    return names[i] if i < len(names) else f"column {i + 1}"


def _group(
    src: str,
    rows: list[tuple[int, str, dict[str, float]]],
    has_geo: bool,
    problems: list[Problem],
) -> list[DaaStep]:
    steps: list[DaaStep] = []
    block: list[tuple[int, str, dict[str, float]]] = []

    def flush() -> None:
        if not block:
            return
        names = [b[1] for b in block]
        seen: set[str] = set()
        for n, name, _ in block:
            if name in seen:
                problems.append(
                    Problem(src, n, "NAME", f"{name} twice in one time step")
                )
            seen.add(name)
        if steps and block[0][2]["time"] < steps[-1].time_s:
            problems.append(Problem(src, block[0][0], "time", "goes back in time"))
        steps.append(
            DaaStep(
                block[0][2]["time"], block[0][0], tuple(names), _states(block, has_geo)
            )
        )

    for row in rows:
        if block and row[2]["time"] != block[0][2]["time"]:
            flush()
            block = []
        block.append(row)
    flush()
    return steps


def _states(
    block: list[tuple[int, str, dict[str, float]]], has_geo: bool
) -> StepStates:
    def col(name: str, default: float = 0.0) -> np.ndarray:
        return np.array([b[2].get(name, default) for b in block], dtype=np.float64)

    if "trk" in block[0][2]:
        trk, gs, vs = col("trk"), col("gs"), col("vs")
    else:
        vx, vy = col("vx"), col("vy")
        trk = np.degrees(np.arctan2(vx, vy)) % 360.0
        gs = np.hypot(vx, vy)
        vs = col("vz")
    alt = col("alt") if "alt" in block[0][2] else col("sz")
    alerter = np.maximum(col("alerter", 1.0).astype(np.int64) - 1, 0)
    return StepStates(
        lat_deg=col("lat"),
        lon_deg=col("lon"),
        x_m=col("sx"),
        y_m=col("sy"),
        alt_ft=alt,
        trk_deg=trk,
        gs_kt=gs,
        vs_fpm=vs,
        alerter=alerter,
        frame="daidalus" if has_geo else "cartesian",
    )


ALERTING_COLUMNS = (
    "time_s",
    "ownship",
    "traffic",
    "alert_level",
    "time_to_volume_1_s",
    "time_to_volume_2_s",
    "time_to_volume_3_s",
    "hmd_nm",
    "vmd_ft",
    "tcpa_s",
    "dcpa_nm",
    "taumod_s",
)


def _num(v: float, digits: int = 6) -> str:
    return (
        ""
        if not math.isfinite(v)
        else f"{round(v, digits):.{digits}f}".rstrip("0").rstrip(".")
    )


def alerting_rows(
    time_s: float,
    names: tuple[str, ...],
    result: Assessment,
    levels: np.ndarray,
) -> Iterable[list[str]]:
    """Rows of ``alerting.csv`` for one step (``levels``: the reported levels)."""
    a = result.alerts
    for k in range(result.own.shape[0]):
        ttv = [
            a.time_to_volume_s[k, i] if i < a.time_to_volume_s.shape[1] else math.inf
            for i in range(3)
        ]
        yield [
            _num(time_s),
            names[int(result.own[k])],
            names[int(result.traffic[k])],
            str(int(levels[k])),
            *(_num(t) for t in ttv),
            _num(a.hmd_m[k] / M_PER_NM),
            _num(a.vmd_m[k] / M_PER_FT),
            _num(a.tcpa_s[k]),
            _num(a.dcpa_m[k] / M_PER_NM),
            _num(a.taumod_s[k]) if a.taumod_s[k] >= 0 else "",
        ]


def write_alerting_csv(path: Path, rows: Iterable[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(ALERTING_COLUMNS)
        w.writerows(rows)


def dimension_range(config: DaaConfig, dim: str) -> tuple[float, float]:
    """The range the bands of ``dim`` cover."""
    return {
        "direction_deg": (0.0, 360.0),
        "horizontal_speed_kt": (config.min_hs_kt, config.max_hs_kt),
        "vertical_speed_fpm": (config.min_vs_fpm, config.max_vs_fpm),
        "altitude_ft": (config.min_alt_ft, config.max_alt_ft),
    }[dim]


def _json_num(v: float) -> float | str | None:
    if math.isnan(v):
        return None
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return round(float(v), 6)


def bands_objects(
    config: DaaConfig, time_s: float, names: tuple[str, ...], result: Assessment
) -> Iterable[dict[str, object]]:
    """One ``bands.jsonl`` object per ownship of the step."""
    for o, own_idx in enumerate(result.ownships):
        obj: dict[str, object] = {
            "time_s": _json_num(time_s),
            "ownship": names[int(own_idx)],
        }
        resolution: dict[str, object] = {}
        for dim in DIMENSIONS:
            b = result.bands[dim]
            lo, hi = dimension_range(config, dim)
            obj[dim] = [
                [_json_num(f), _json_num(t), r.label]
                for f, t, r in intervals(
                    b.values_deg_kt_fpm_or_ft[o], b.region[o], lo, hi
                )
            ]
            side_up, side_down = (
                ("right", "left") if dim == "direction_deg" else ("up", "down")
            )
            resolution[dim] = {
                side_up: _json_num(float(b.resolution_up_deg_kt_fpm_or_ft[o])),
                side_down: _json_num(float(b.resolution_down_deg_kt_fpm_or_ft[o])),
                "preferred": side_up if b.preferred_up[o] else side_down,
                "current_region": _region_label(int(b.current_region[o])),
                "recovery": bool(b.recovery[o]),
                "time_to_recovery_s": _json_num(float(b.time_to_recovery_s[o])),
            }
        obj["resolution"] = resolution
        yield obj


def _region_label(r: int) -> str:
    from deconfliction.domain.daa.config import Region

    return Region(r).label


def write_bands_jsonl(path: Path, objects: Iterable[dict[str, object]]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for obj in objects:
            fh.write(json.dumps(obj, separators=(",", ":")) + "\n")
