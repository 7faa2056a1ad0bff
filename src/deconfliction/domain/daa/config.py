"""Detect-and-avoid configurations: DO-365 alerters, bands ranges and kinematics.

A configuration is data. Deconfliction ships ``do-365a``, ``do-365b`` and ``tcas2``
(``src/deconfliction/data/daa/*.conf``) and reads any DAIDALUS configuration file
(``key = value [unit]`` lines, ``#`` comments) with :func:`parse_conf`. Keys this
module does not use (sensor-uncertainty mitigation, terminal-area logic, persistence
of preferred resolutions) are accepted and ignored; a key it uses with a bad value,
a unit it does not know, or a missing alert level is a :class:`ConfigError` naming
the line and the key.

The meaning of each key follows DAIDALUS's documentation (``docs/index.md``,
"Configurable Parameters") and DO-365's well-clear definition; the values of the
shipped files are those of DO-365A/B Phase I and II (``DO_365A_no_SUM`` and
``DO_365B_no_SUM`` in DAIDALUS v2.0.4).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from deconfliction.domain.model import FloatArray
from deconfliction.errors import InputError, Problem
from deconfliction.units import M_PER_FT, M_PER_NM, MPS_PER_KT

G_MPS2 = 9.80665
"""Standard gravity (m/s^2), the unit ``[G]`` of DAIDALUS's vertical acceleration."""


class ConfigError(InputError):
    """A DAA configuration that does not validate."""


class Region(IntEnum):
    """The region of a band interval, in increasing severity (RECOVERY apart)."""

    NONE = 0
    FAR = 1
    MID = 2
    NEAR = 3
    RECOVERY = 4

    @property
    def label(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class WcvThresholds:
    """DO-365's well-clear volume WCV*: DTHR, ZTHR, TAUMOD (TTHR) and TCOA.

    ``from_tcas_table`` replaces the four numbers with the TCAS II v7.1 row chosen
    by the higher aircraft of the pair (TA columns for ``tcas_column == 'ta'``, RA
    for ``'ra'``): DMOD as DTHR, tau as TTHR and TCOA, ZTHR as ZTHR.
    """

    dthr_nm: float
    zthr_ft: float
    tthr_s: float
    tcoa_s: float
    tcas_column: str = ""


@dataclass(frozen=True, slots=True)
class AlertLevelConfig:
    """One alert level: its band region, its alerting times and its volume."""

    region: Region
    alerting_time_s: float
    early_alerting_time_s: float
    wcv: WcvThresholds


@dataclass(frozen=True, slots=True)
class Alerter:
    """A named list of alert levels, level 1 first (preventive, corrective, warning)."""

    name: str
    levels: tuple[AlertLevelConfig, ...]


@dataclass(frozen=True, slots=True)
class DaaConfig:
    """Everything the alerting and the bands need, in the units of the names."""

    name: str
    lookahead_s: float
    left_hdir_deg: float
    right_hdir_deg: float
    min_hs_kt: float
    max_hs_kt: float
    min_vs_fpm: float
    max_vs_fpm: float
    min_alt_ft: float
    max_alt_ft: float
    step_hdir_deg: float
    step_hs_kt: float
    step_vs_fpm: float
    step_alt_ft: float
    horizontal_accel_mps2: float
    vertical_accel_mps2: float
    turn_rate_deg_per_s: float
    bank_angle_deg: float
    vertical_rate_fpm: float
    min_horizontal_recovery_nm: float
    min_vertical_recovery_ft: float
    recovery_hdir: bool
    recovery_hs: bool
    recovery_vs: bool
    recovery_alt: bool
    recovery_stability_time_s: float
    recovery_cylinders: tuple[tuple[float, float], ...]
    """(horizontal NM, vertical ft) sizes of the recovery cylinder, tried in turn:
    the configured minimum, shrunk by ``ca_factor`` each time while it stays above the
    NMAC cylinder, then (``ca_bands``) the NMAC cylinder itself."""
    hysteresis_time_s: float
    alerting_m: int
    alerting_n: int
    corrective_region: Region
    alerters: tuple[Alerter, ...]

    def corrective_level(self, alerter: int = 0) -> int:
        """1-based level whose region is the corrective region (or the next above)."""
        levels = self.alerters[alerter].levels
        for i, lev in enumerate(levels):
            if lev.region >= self.corrective_region and lev.region != Region.RECOVERY:
                return i + 1
        return len(levels)


_UNITS: dict[str, tuple[str, float]] = {
    # unit text -> (dimension, factor to the unit of our field)
    "s": ("time", 1.0),
    "min": ("time", 60.0),
    "h": ("time", 3600.0),
    "deg": ("angle", 1.0),
    "rad": ("angle", 180.0 / math.pi),
    "knot": ("speed", 1.0),
    "kn": ("speed", 1.0),
    "kt": ("speed", 1.0),
    "kts": ("speed", 1.0),
    "m/s": ("speed", 1.0 / MPS_PER_KT),
    "fpm": ("vspeed", 1.0),
    "ft/min": ("vspeed", 1.0),
    "ft": ("length", 1.0),
    "m": ("length", 1.0 / M_PER_FT),
    "nmi": ("length", M_PER_NM / M_PER_FT),
    "NM": ("length", M_PER_NM / M_PER_FT),
    "nm": ("length", M_PER_NM / M_PER_FT),
    "m/s^2": ("accel", 1.0),
    "G": ("accel", G_MPS2),
    "deg/s": ("rate", 1.0),
    "unitless": ("none", 1.0),
    "none": ("none", 1.0),
}

# key -> (dimension, our unit factor applied after _UNITS, default unit)
_SCALARS: dict[str, tuple[str, str]] = {
    "lookahead_time": ("time", "s"),
    "left_hdir": ("angle", "deg"),
    "right_hdir": ("angle", "deg"),
    "min_hs": ("speed", "knot"),
    "max_hs": ("speed", "knot"),
    "min_vs": ("vspeed", "fpm"),
    "max_vs": ("vspeed", "fpm"),
    "min_alt": ("length", "ft"),
    "max_alt": ("length", "ft"),
    "step_hdir": ("angle", "deg"),
    "step_hs": ("speed", "knot"),
    "step_vs": ("vspeed", "fpm"),
    "step_alt": ("length", "ft"),
    "horizontal_accel": ("accel", "m/s^2"),
    "vertical_accel": ("accel", "m/s^2"),
    "turn_rate": ("rate", "deg/s"),
    "bank_angle": ("angle", "deg"),
    "vertical_rate": ("vspeed", "fpm"),
    "min_horizontal_recovery": ("length", "ft"),
    "min_vertical_recovery": ("length", "ft"),
    "recovery_stability_time": ("time", "s"),
    "horizontal_nmac": ("length", "ft"),
    "vertical_nmac": ("length", "ft"),
    "hysteresis_time": ("time", "s"),
}
_OLD_NAMES = {
    "left_trk": "left_hdir",
    "right_trk": "right_hdir",
    "step_trk": "step_hdir",
}
_OLD_NAMES |= {"min_gs": "min_hs", "max_gs": "max_hs", "step_gs": "step_hs"}
_OLD_NAMES |= {"recovery_trk": "recovery_hdir", "recovery_gs": "recovery_hs"}
_BOOLS = ("recovery_hdir", "recovery_hs", "recovery_vs", "recovery_alt", "ca_bands")
_OPTIONAL = {"horizontal_nmac": "500 [ft]", "vertical_nmac": "100 [ft]"}
_LINE = re.compile(r"^\s*([A-Za-z0-9_.]+)\s*=\s*(.*?)\s*$")
_VALUE = re.compile(
    r"^([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(?:\[([^\]]*)\])?$"
)
_LEVEL_KEY = re.compile(
    r"^(.+)_alert_(\d+)_(region|alerting_time|early_alerting_time)$"
)
_DET_KEY = re.compile(r"^(.+)_(det_\w+?)_WCV_(DTHR|ZTHR|TTHR|TCOA)$")
_LEVEL_DET = re.compile(r"^(.+)_alert_(\d+)_detector$")
_DET_CORE = re.compile(r"^(.+)_load_core_detection_(det_\w+)$")
_SUPPORTED_CORES = ("WCV_TAUMOD", "WCV_TAUMOD_SUM", "TCAS3D", "TCASII", "CDCylinder")


@dataclass(frozen=True, slots=True)
class _Entry:
    value: str
    line: int


def _number(
    source: str, key: str, entry: _Entry, dim: str, problems: list[Problem]
) -> float | None:
    m = _VALUE.match(entry.value)
    if not m:
        problems.append(
            Problem(source, entry.line, key, f"not a number: {entry.value!r}")
        )
        return None
    value = float(m.group(1))
    unit = (m.group(2) or "").strip()
    if not math.isfinite(value):
        problems.append(Problem(source, entry.line, key, "not a finite number"))
        return None
    if unit:
        known = _UNITS.get(unit)
        if known is None or known[0] != dim:
            problems.append(
                Problem(source, entry.line, key, f"unit [{unit}] is not a {dim}")
            )
            return None
        value *= known[1]
    return value


def _read_entries(text: str, source: str, problems: list[Problem]) -> dict[str, _Entry]:
    entries: dict[str, _Entry] = {}
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = _LINE.match(line)
        if not m:
            problems.append(Problem(source, n, "", f"not 'key = value': {raw[:60]!r}"))
            continue
        key = _OLD_NAMES.get(m.group(1), m.group(1))
        entries[key] = _Entry(m.group(2), n)
    return entries


def parse_conf(text: str, source: str, name: str = "") -> DaaConfig:
    """A :class:`DaaConfig` from the text of a DAIDALUS-style configuration file.

    Raises:
        ConfigError: listing every problem with its line and key.

    >>> cfg = parse_conf(_MINIMAL, "x.conf")
    >>> level = cfg.alerters[0].levels[1]
    >>> level.region.label, round(level.wcv.dthr_nm, 9)  # read in [nmi], held in feet
    ('MID', 0.66)
    """
    problems: list[Problem] = []
    entries = _read_entries(text, source, problems)
    values: dict[str, float] = {}
    for key, fallback in _OPTIONAL.items():
        entries.setdefault(key, _Entry(fallback, 0))
    for key, (dim, _) in _SCALARS.items():
        entry = entries.get(key)
        if entry is None:
            problems.append(Problem(source, None, key, "missing"))
            continue
        v = _number(source, key, entry, dim, problems)
        if v is not None:
            values[key] = v
    flags: dict[str, bool] = {}
    for key in _BOOLS:
        entry = entries.get(key)
        raw = entry.value.lower() if entry else "true"
        if raw not in ("true", "false"):
            line = entry.line if entry else None
            problems.append(Problem(source, line, key, f"not true/false: {raw!r}"))
        flags[key] = raw == "true"
    ints: dict[str, int] = {}
    for key, default in (("alerting_m", 1), ("alerting_n", 1)):
        entry = entries.get(key)
        if entry is None:
            ints[key] = default
        elif re.fullmatch(r"\d{1,3}", entry.value):
            # 0 turns M-of-N off, as in DAIDALUS: every step counts alone.
            ints[key] = max(int(entry.value), 1)
        else:
            problems.append(
                Problem(source, entry.line, key, "not a whole number from 0 to 999")
            )
    if ints.get("alerting_m", 1) > ints.get("alerting_n", 1):
        problems.append(
            Problem(
                source, entries["alerting_m"].line, "alerting_m", "exceeds alerting_n"
            )
        )
    ca_factor = 0.1
    if "ca_factor" in entries:
        m = _VALUE.match(entries["ca_factor"].value)
        if m and 0.0 < float(m.group(1)) < 1.0:
            ca_factor = float(m.group(1))
        else:
            problems.append(
                Problem(
                    source,
                    entries["ca_factor"].line,
                    "ca_factor",
                    "not between 0 and 1",
                )
            )
    corrective = _region(source, entries, "corrective_region", "MID", problems)
    alerters = _alerters(source, entries, problems)
    _check_ranges(source, entries, values, problems)
    if problems:
        raise ConfigError(problems)
    return DaaConfig(
        name=name or source,
        lookahead_s=values["lookahead_time"],
        left_hdir_deg=values["left_hdir"],
        right_hdir_deg=values["right_hdir"],
        min_hs_kt=values["min_hs"],
        max_hs_kt=values["max_hs"],
        min_vs_fpm=values["min_vs"],
        max_vs_fpm=values["max_vs"],
        min_alt_ft=values["min_alt"],
        max_alt_ft=values["max_alt"],
        step_hdir_deg=values["step_hdir"],
        step_hs_kt=values["step_hs"],
        step_vs_fpm=values["step_vs"],
        step_alt_ft=values["step_alt"],
        horizontal_accel_mps2=values["horizontal_accel"],
        vertical_accel_mps2=values["vertical_accel"],
        turn_rate_deg_per_s=values["turn_rate"],
        bank_angle_deg=values["bank_angle"],
        vertical_rate_fpm=values["vertical_rate"],
        min_horizontal_recovery_nm=values["min_horizontal_recovery"]
        * M_PER_FT
        / M_PER_NM,
        min_vertical_recovery_ft=values["min_vertical_recovery"],
        recovery_hdir=flags["recovery_hdir"],
        recovery_hs=flags["recovery_hs"],
        recovery_vs=flags["recovery_vs"],
        recovery_alt=flags["recovery_alt"],
        recovery_stability_time_s=values["recovery_stability_time"],
        recovery_cylinders=_cylinders(values, ca_factor, flags["ca_bands"]),
        hysteresis_time_s=values["hysteresis_time"],
        alerting_m=ints["alerting_m"],
        alerting_n=ints["alerting_n"],
        corrective_region=corrective,
        alerters=alerters,
    )


def _cylinders(
    values: dict[str, float], ca_factor: float, ca_bands: bool
) -> tuple[tuple[float, float], ...]:
    h_ft, v_ft = values["min_horizontal_recovery"], values["min_vertical_recovery"]
    nmac_h_ft, nmac_v_ft = values["horizontal_nmac"], values["vertical_nmac"]
    out: list[tuple[float, float]] = []
    factor = 1.0
    while h_ft * factor >= nmac_h_ft and v_ft * factor >= nmac_v_ft and len(out) < 100:
        out.append((h_ft * factor * M_PER_FT / M_PER_NM, v_ft * factor))
        factor *= 1.0 - ca_factor
    if ca_bands or not out:
        out.append((nmac_h_ft * M_PER_FT / M_PER_NM, nmac_v_ft))
    return tuple(out)


def _region(
    source: str,
    entries: dict[str, _Entry],
    key: str,
    default: str,
    problems: list[Problem],
) -> Region:
    entry = entries.get(key)
    raw = entry.value.strip().upper() if entry else default
    if raw not in Region.__members__ or raw == "RECOVERY":
        problems.append(
            Problem(
                source,
                entry.line if entry else None,
                key,
                f"not a region (NONE, FAR, MID, NEAR): {raw!r}",
            )
        )
        return Region.NONE
    return Region[raw]


_POSITIVE = ("lookahead_time", "step_hdir", "step_hs", "step_vs", "step_alt")
_NONNEG = (
    "horizontal_accel",
    "vertical_accel",
    "turn_rate",
    "bank_angle",
    "vertical_rate",
    "min_horizontal_recovery",
    "min_vertical_recovery",
    "recovery_stability_time",
    "hysteresis_time",
    "min_hs",
)


def _check_ranges(
    source: str,
    entries: dict[str, _Entry],
    values: dict[str, float],
    problems: list[Problem],
) -> None:
    for key in _POSITIVE:
        if key in values and values[key] <= 0:
            problems.append(Problem(source, entries[key].line, key, "must be positive"))
    for key in _NONNEG:
        if key in values and values[key] < 0:
            problems.append(
                Problem(source, entries[key].line, key, "must not be negative")
            )
    for key in ("left_hdir", "right_hdir"):
        if key in values and not 0 <= values[key] <= 180:
            problems.append(
                Problem(source, entries[key].line, key, "must be 0 to 180 deg")
            )
    for lo, hi in (("min_hs", "max_hs"), ("min_vs", "max_vs"), ("min_alt", "max_alt")):
        if lo in values and hi in values and values[lo] >= values[hi]:
            problems.append(Problem(source, entries[hi].line, hi, f"must exceed {lo}"))


def _alerters(
    source: str, entries: dict[str, _Entry], problems: list[Problem]
) -> tuple[Alerter, ...]:
    entry = entries.get("alerters")
    if entry is None:
        problems.append(Problem(source, None, "alerters", "missing"))
        return ()
    names = [n.strip() for n in entry.value.split(",") if n.strip()]
    if not names:
        problems.append(Problem(source, entry.line, "alerters", "names no alerter"))
    found: list[Alerter] = []
    for name in names:
        levels: list[AlertLevelConfig] = []
        n = 1
        while f"{name}_alert_{n}_region" in entries:
            level = _level(source, entries, name, n, problems)
            if level is not None:
                levels.append(level)
            n += 1
        if n == 1:
            problems.append(
                Problem(source, entry.line, "alerters", f"{name} has no alert level")
            )
        found.append(Alerter(name, tuple(levels)))
    return tuple(found)


def _level(
    source: str,
    entries: dict[str, _Entry],
    name: str,
    n: int,
    problems: list[Problem],
) -> AlertLevelConfig | None:
    prefix = f"{name}_alert_{n}"
    before = len(problems)
    region = _region(source, entries, f"{prefix}_region", "NONE", problems)
    times: dict[str, float] = {}
    for what in ("alerting_time", "early_alerting_time"):
        key = f"{prefix}_{what}"
        entry = entries.get(key)
        if entry is None:
            problems.append(Problem(source, None, key, "missing"))
            continue
        v = _number(source, key, entry, "time", problems)
        if v is not None and v < 0:
            problems.append(Problem(source, entry.line, key, "must not be negative"))
        elif v is not None:
            times[what] = v
    det_entry = entries.get(f"{prefix}_detector")
    if det_entry is None:
        problems.append(Problem(source, None, f"{prefix}_detector", "missing"))
        return None
    det = det_entry.value.strip()
    core_key = f"{name}_load_core_detection_{det}"
    core_entry = entries.get(core_key)
    core = core_entry.value.rsplit(".", 1)[-1] if core_entry else "WCV_TAUMOD"
    if core not in _SUPPORTED_CORES:
        problems.append(
            Problem(
                source,
                core_entry.line if core_entry else None,
                core_key,
                f"detector {core} is not supported "
                "(WCV_TAUMOD, WCV_TAUMOD_SUM, CDCylinder, TCAS3D)",
            )
        )
        return None
    if core in ("TCAS3D", "TCASII"):
        wcv = WcvThresholds(0.0, 0.0, 0.0, 0.0, tcas_column="ta" if n == 1 else "ra")
    elif core == "CDCylinder":
        # A cylinder is WCV* without time thresholds: D and H.
        cyl: dict[str, float] = {}
        for what in ("D", "H"):
            key = f"{name}_{det}_{what}"
            entry = entries.get(key)
            if entry is None:
                problems.append(Problem(source, None, key, "missing"))
                continue
            v = _number(source, key, entry, "length", problems)
            if v is not None and v <= 0:
                problems.append(Problem(source, entry.line, key, "must be positive"))
            elif v is not None:
                cyl[what] = v
        if len(problems) > before:
            return None
        wcv = WcvThresholds(cyl["D"] * M_PER_FT / M_PER_NM, cyl["H"], 0.0, 0.0)
    else:
        # WCV_TAUMOD_SUM: the same volume; sensor uncertainty is not applied.
        thr: dict[str, float] = {}
        for what, dim in (("DTHR", "length"), ("ZTHR", "length"), ("TTHR", "time")):
            key = f"{name}_{det}_WCV_{what}"
            entry = entries.get(key)
            if entry is None:
                problems.append(Problem(source, None, key, "missing"))
                continue
            v = _number(source, key, entry, dim, problems)
            if v is not None and v < 0:
                problems.append(
                    Problem(source, entry.line, key, "must not be negative")
                )
            elif v is not None:
                thr[what] = v
        tcoa_entry = entries.get(f"{name}_{det}_WCV_TCOA")
        thr["TCOA"] = 0.0
        if tcoa_entry is not None:
            v = _number(source, f"{name}_{det}_WCV_TCOA", tcoa_entry, "time", problems)
            thr["TCOA"] = v if v is not None else 0.0
        if len(problems) > before:
            return None
        wcv = WcvThresholds(
            dthr_nm=thr["DTHR"] * M_PER_FT / M_PER_NM,
            zthr_ft=thr["ZTHR"],
            tthr_s=thr["TTHR"],
            tcoa_s=thr["TCOA"],
        )
    if len(problems) > before:
        return None
    return AlertLevelConfig(
        region=region,
        alerting_time_s=times["alerting_time"],
        early_alerting_time_s=max(times["early_alerting_time"], times["alerting_time"]),
        wcv=wcv,
    )


def turn_rate_deg_per_s(config: DaaConfig, gs_kt: FloatArray) -> FloatArray:
    """The turn rate of direction manoeuvres at each ground speed: the configured
    rate, or the rate of the bank angle (g tan(bank) / speed); 0 = instantaneous."""
    gs = np.asarray(gs_kt, dtype=np.float64)
    if config.turn_rate_deg_per_s > 0:
        return np.full(gs.shape, config.turn_rate_deg_per_s)
    if config.bank_angle_deg > 0:
        gs_mps = np.maximum(gs * MPS_PER_KT, 1e-3)
        bank = math.tan(math.radians(config.bank_angle_deg))
        return np.degrees(G_MPS2 * bank / gs_mps)
    return np.zeros(gs.shape)


_MINIMAL = """
lookahead_time = 180 [s]
left_hdir = 180 [deg]
right_hdir = 180 [deg]
min_hs = 10 [knot]
max_hs = 700 [knot]
min_vs = -6000 [fpm]
max_vs = 6000 [fpm]
min_alt = 100 [ft]
max_alt = 50000 [ft]
step_hdir = 1 [deg]
step_hs = 5 [knot]
step_vs = 100 [fpm]
step_alt = 100 [ft]
horizontal_accel = 2 [m/s^2]
vertical_accel = 0.25 [G]
turn_rate = 3 [deg/s]
bank_angle = 0 [deg]
vertical_rate = 500 [fpm]
min_horizontal_recovery = 0.66 [nmi]
min_vertical_recovery = 450 [ft]
recovery_stability_time = 3 [s]
hysteresis_time = 5 [s]
alerters = A
A_alert_1_region = NONE
A_alert_1_alerting_time = 55 [s]
A_alert_1_early_alerting_time = 75 [s]
A_alert_1_detector = det_1
A_det_1_WCV_DTHR = 0.66 [nmi]
A_det_1_WCV_ZTHR = 700 [ft]
A_det_1_WCV_TTHR = 35 [s]
A_det_1_WCV_TCOA = 0 [s]
A_alert_2_region = MID
A_alert_2_alerting_time = 55 [s]
A_alert_2_early_alerting_time = 75 [s]
A_alert_2_detector = det_2
A_det_2_WCV_DTHR = 0.66 [nmi]
A_det_2_WCV_ZTHR = 450 [ft]
A_det_2_WCV_TTHR = 35 [s]
A_det_2_WCV_TCOA = 0 [s]
"""

__all__ = [
    "AlertLevelConfig",
    "Alerter",
    "ConfigError",
    "DaaConfig",
    "Region",
    "WcvThresholds",
    "parse_conf",
    "turn_rate_deg_per_s",
]
