"""``blind.toml``: the settings of blind detection that the protocol file lacks.

The file is the same for both parties and the helper (its public content is checked
at the start of every run, see :mod:`deconfliction.blind.parameters`). Format::

    [blind]
    reference = [35.5, 39.5]   # lat_deg, lon_deg of the common frame's centre
    radius_nm = 300            # every aircraft is within this distance of it
    max_aircraft = 50          # per party: inputs are padded to this
    max_conflicts = 50         # conflicts whose figures are computed in a run
    max_gs_kt = 1000
    max_vs_fpm = 10000
    min_alt_ft = -2000
    max_alt_ft = 66000
    horizontal_steps = 256     # quanta per horizontal minimum
    vertical_steps = 40        # quanta per vertical minimum
    connect_timeout_s = 60
    idle_timeout_s = 60
    # Only without --protocol (else the protocol's values apply):
    # horizontal_nm = 5.0, vertical_ft = 1000.0, lookahead_s = 300.0

    [peers]
    coalition = "10.0.0.1:11365"
    russia = "10.0.0.2:11365"
    helper = "10.0.0.3:11365"

    [pins]                     # the TLS certificates (``blind keys``), see below
    coalition = "sha256:..."
    russia = "sha256:..."
    helper = "sha256:..."

``[pins]`` names each participant's certificate by its fingerprint; with it the
three links run over TLS, each participant accepting only the pinned certificates
(``blind run --tls-dir``). Without it, ``blind run`` refuses unless told
``--insecure-loopback`` (plain TCP, every participant on this machine).

Every key of ``[blind]`` has a default except ``reference`` (which defaults to the
centre of the protocol's lines and zones when a protocol with some is given).
Every problem is reported at once with its line, as for protocol files.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from dataclasses import dataclass
from typing import Any

from deconfliction.adapters.input_files import read_text
from deconfliction.errors import InputError, Problem

HELPER: str = "helper"
"""The name of the third, non-colluding party in ``[peers]``."""

DEFAULTS: dict[str, float | int] = {
    "radius_nm": 300.0,
    "max_aircraft": 50,
    "max_gs_kt": 1000.0,
    "max_vs_fpm": 10000.0,
    "min_alt_ft": -2000.0,
    "max_alt_ft": 66000.0,
    "horizontal_steps": 256,
    "vertical_steps": 40,
    "connect_timeout_s": 60.0,
    "idle_timeout_s": 60.0,
}
"""Defaults of ``[blind]``. 256 steps per horizontal minimum (0.0195 NM for 5 NM)
and 40 per vertical minimum (25 ft for 1,000 ft, the Mode S altitude step) cost
only a few bits more than coarser ones (docs/blind.md)."""

MINIMA_KEYS: tuple[str, ...] = ("horizontal_nm", "vertical_ft", "lookahead_s")
_INT_KEYS: frozenset[str] = frozenset(
    {"max_aircraft", "max_conflicts", "horizontal_steps", "vertical_steps"}
)
_KNOWN_KEYS: frozenset[str] = frozenset(
    {*DEFAULTS, "reference", "max_conflicts", *MINIMA_KEYS}
)
MAX_RADIUS_NM: float = 1000.0
"""A larger frame than one theatre distorts distances by over 1 % at its edge."""
MAX_STEPS: int = 4096
"""Finer than 1/4096 of a minimum buys nothing the inputs carry."""
MAX_AIRCRAFT: int = 1000
"""1,000 x 1,000 pairs would take hours; refuse rather than start."""
_ADDRESS_RE = re.compile(r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(?P<port>\d+)")
_FINGERPRINT_RE = re.compile(r"sha256:[0-9a-f]{64}")
_TABLES: tuple[str, ...] = ("blind", "peers", "pins")
_HEADER_RE = re.compile(r"^\s*\[\s*([A-Za-z0-9_-]+)\s*\]\s*(#.*)?$")
_KEY_RE = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*=")


class BlindConfigError(InputError):
    """A ``blind.toml`` that does not validate."""


@dataclass(frozen=True, slots=True)
class Peer:
    """A participant's TCP address.

    Attributes:
        party: a party id of the protocol, or :data:`HELPER`.
        host: host name or IP address (IPv6 without brackets).
        port: TCP port the participant listens on.
    """

    party: str
    host: str
    port: int

    @property
    def address(self) -> str:
        """``host:port`` (IPv6 hosts in brackets)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


@dataclass(frozen=True, slots=True)
class BlindConfig:
    """A validated ``blind.toml``.

    Attributes:
        source: the file it was read from.
        peers: the two parties sorted by id, then the helper: the order of the
            participants in the computation.
        reference_lat_deg: centre of the common frame, or None to take the
            protocol's.
        reference_lon_deg: see ``reference_lat_deg``.
        radius_nm: every aircraft must be within this distance of the centre.
        max_aircraft: each party's input is padded to this many aircraft.
        max_conflicts: how many conflicts get their figures computed per run.
        max_gs_kt: the largest ground speed accepted.
        max_vs_fpm: the largest vertical rate accepted (either sign).
        min_alt_ft: the lowest altitude accepted.
        max_alt_ft: the highest altitude accepted.
        horizontal_steps: position quanta per horizontal minimum.
        vertical_steps: altitude quanta per vertical minimum.
        connect_timeout_s: how long to wait for every participant to connect.
        idle_timeout_s: how long a participant may send nothing while awaited.
        horizontal_nm: horizontal minimum, for runs without a protocol (or None).
        vertical_ft: vertical minimum, for runs without a protocol (or None).
        lookahead_s: lookahead, for runs without a protocol (or None).
        pins: the ``sha256:`` fingerprints of the participants' TLS certificates,
            in the order of ``peers`` (None: no ``[pins]``, no TLS).
    """

    source: str
    peers: tuple[Peer, Peer, Peer]
    reference_lat_deg: float | None
    reference_lon_deg: float | None
    radius_nm: float
    max_aircraft: int
    max_conflicts: int
    max_gs_kt: float
    max_vs_fpm: float
    min_alt_ft: float
    max_alt_ft: float
    horizontal_steps: int
    vertical_steps: int
    connect_timeout_s: float
    idle_timeout_s: float
    horizontal_nm: float | None = None
    vertical_ft: float | None = None
    lookahead_s: float | None = None
    pins: tuple[str, str, str] | None = None

    @property
    def parties(self) -> tuple[str, str]:
        """The two parties' ids, sorted."""
        return (self.peers[0].party, self.peers[1].party)

    def peer(self, party: str) -> Peer:
        """The address of ``party`` (a party id or :data:`HELPER`).

        Raises:
            BlindConfigError: ``party`` is not named in ``[peers]``.
        """
        for peer in self.peers:
            if peer.party == party:
                return peer
        names = ", ".join(p.party for p in self.peers)
        raise BlindConfigError(
            [
                Problem(
                    self.source,
                    None,
                    "peers",
                    f"no participant {party!r}; [peers] names {names}",
                )
            ]
        )


def load_blind_config(path: str | os.PathLike[str]) -> BlindConfig:
    """Read and validate a ``blind.toml``.

    Raises:
        BlindConfigError: the file is empty, binary, not UTF-8, not TOML or does
            not validate; every problem is listed with its line and field.
        OSError: the file cannot be read.
    """
    text = read_text(path, BlindConfigError)
    return parse_blind_config(text, os.fspath(path))


def parse_blind_config(
    text: str, source: str = "<blind.toml>", *, within_protocol: bool = False
) -> BlindConfig:
    """Validate the text of a ``blind.toml``; see :func:`load_blind_config`.

    With ``within_protocol`` the text is a protocol file whose ``[blind]`` and
    ``[peers]`` tables hold the settings; its other tables are the protocol's.

    >>> c = parse_blind_config('''
    ... [blind]
    ... reference = [35.5, 39.5]
    ... [peers]
    ... russia = "127.0.0.1:11366"
    ... helper = "127.0.0.1:11367"
    ... coalition = "127.0.0.1:11365"
    ... ''')
    >>> [p.party for p in c.peers], c.max_aircraft, c.max_conflicts
    (['coalition', 'russia', 'helper'], 50, 50)
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BlindConfigError(
            [Problem(source, None, "", f"TOML syntax error: {exc}")]
        ) from None
    except RecursionError:
        raise BlindConfigError(
            [Problem(source, None, "", "TOML nested too deep")]
        ) from None
    if within_protocol:
        data = {k: v for k, v in data.items() if k in _TABLES}
        if "peers" not in data:
            raise BlindConfigError(
                [Problem(source, None, "peers", "the protocol names no [peers]")]
            )
    return _Validator(source, text).build(data)


class _Validator:
    def __init__(self, source: str, text: str) -> None:
        self.source = source
        self.problems: list[Problem] = []
        self.lines: dict[tuple[str, str], int] = {}
        table = ""
        for number, line in enumerate(text.splitlines(), start=1):
            header = _HEADER_RE.match(line)
            if header:
                table = header.group(1)
                self.lines.setdefault((table, ""), number)
                continue
            key = _KEY_RE.match(line)
            if key:
                self.lines.setdefault((table, key.group(1)), number)

    def report(self, table: str, key: str, message: str) -> None:
        line = self.lines.get((table, key), self.lines.get((table, "")))
        field = f"{table}.{key}" if key else table
        self.problems.append(Problem(self.source, line, field, message))

    def build(self, data: dict[str, Any]) -> BlindConfig:
        for name in data:
            if name not in _TABLES:
                self.report(
                    name, "", "unknown table; expected [blind], [peers] and [pins]"
                )
        blind = data.get("blind", {})
        if not isinstance(blind, dict):
            self.report("blind", "", "must be a table")
            blind = {}
        for key in blind:
            if key not in _KNOWN_KEYS:
                self.report("blind", key, "unknown key")
        values = {key: self._number(blind, key) for key in DEFAULTS}
        max_aircraft = int(values["max_aircraft"])
        max_conflicts = (
            int(self._number(blind, "max_conflicts", minimum=0))
            if "max_conflicts" in blind
            else max_aircraft
        )
        minima = {
            key: self._number(blind, key) if key in blind else None
            for key in MINIMA_KEYS
        }
        reference = self._reference(blind.get("reference"))
        if values["min_alt_ft"] >= values["max_alt_ft"]:
            self.report("blind", "min_alt_ft", "must be below max_alt_ft")
        peers = self._peers(data.get("peers"))
        pins = None if peers is None else self._pins(data.get("pins"), peers)
        if self.problems or peers is None:
            raise BlindConfigError(self.problems)
        return BlindConfig(
            source=self.source,
            peers=peers,
            reference_lat_deg=None if reference is None else reference[0],
            reference_lon_deg=None if reference is None else reference[1],
            radius_nm=float(values["radius_nm"]),
            max_aircraft=max_aircraft,
            max_conflicts=max_conflicts,
            max_gs_kt=float(values["max_gs_kt"]),
            max_vs_fpm=float(values["max_vs_fpm"]),
            min_alt_ft=float(values["min_alt_ft"]),
            max_alt_ft=float(values["max_alt_ft"]),
            horizontal_steps=int(values["horizontal_steps"]),
            vertical_steps=int(values["vertical_steps"]),
            connect_timeout_s=float(values["connect_timeout_s"]),
            idle_timeout_s=float(values["idle_timeout_s"]),
            horizontal_nm=minima["horizontal_nm"],
            vertical_ft=minima["vertical_ft"],
            lookahead_s=minima["lookahead_s"],
            pins=pins,
        )

    def _pins(
        self, value: Any, peers: tuple[Peer, Peer, Peer]
    ) -> tuple[str, str, str] | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            self.report("pins", "", 'must be a table of party = "sha256:..."')
            return None
        names = [p.party for p in peers]
        for name in value:
            if name not in names:
                self.report(
                    "pins", name, f"not a participant of [peers] ({', '.join(names)})"
                )
        pins: list[str] = []
        for name in names:
            pin = value.get(name)
            if pin is None:
                self.report("pins", "", f"no pin for {name}: pin all three or none")
            elif not (isinstance(pin, str) and _FINGERPRINT_RE.fullmatch(pin)):
                self.report(
                    "pins", name, f'must be "sha256:" and 64 hex digits, got {pin!r}'
                )
            else:
                pins.append(pin)
        if len(pins) != 3:
            return None
        if len(set(pins)) != 3:
            self.report("pins", "", "each participant needs its own certificate")
            return None
        return (pins[0], pins[1], pins[2])

    def _number(
        self, table: dict[str, Any], key: str, minimum: float | None = None
    ) -> float:
        default = DEFAULTS.get(key, 0)
        value = table.get(key, default)
        is_int = key in _INT_KEYS
        ok_type = isinstance(value, int) if is_int else isinstance(value, int | float)
        if isinstance(value, bool) or not ok_type:
            kind = "an integer" if is_int else "a number"
            self.report("blind", key, f"must be {kind}, got {value!r}")
            return float(default)
        number = float(value)
        low, high = _RANGES.get(key, (0.0, math.inf))
        if minimum is not None:
            low = minimum
        if not (math.isfinite(number) and low <= number <= high):
            self.report("blind", key, f"must be in [{low:g}, {high:g}], got {value!r}")
            return float(default)
        return number

    def _reference(self, value: Any) -> tuple[float, float] | None:
        if value is None:
            return None
        if (
            not isinstance(value, list)
            or len(value) != 2
            or not all(
                isinstance(v, int | float) and not isinstance(v, bool) for v in value
            )
        ):
            self.report("blind", "reference", "must be [lat_deg, lon_deg]")
            return None
        lat, lon = float(value[0]), float(value[1])
        if not (-89.0 <= lat <= 89.0 and -180.0 <= lon <= 180.0):
            self.report(
                "blind",
                "reference",
                f"[{lat:g}, {lon:g}] is outside [-89, 89] x [-180, 180]",
            )
            return None
        return lat, lon

    def _peers(self, value: Any) -> tuple[Peer, Peer, Peer] | None:
        if not isinstance(value, dict):
            self.report(
                "peers",
                "",
                "missing or not a table: name the two parties and the helper, "
                'each as party = "host:port"',
            )
            return None
        peers: list[Peer] = []
        for name, address in value.items():
            match = _ADDRESS_RE.fullmatch(address) if isinstance(address, str) else None
            if match is None or not 1 <= int(match.group("port")) <= 65535:
                self.report("peers", name, f'must be "host:port", got {address!r}')
                continue
            peers.append(
                Peer(name, match.group("host").strip("[]"), int(match.group("port")))
            )
        parties = sorted(p.party for p in peers if p.party != HELPER)
        if len(value) != 3 or HELPER not in value:
            self.report(
                "peers",
                "",
                f"must name exactly two parties and '{HELPER}', got "
                f"{', '.join(value) or 'none'}",
            )
            return None
        if len(peers) != 3:
            return None
        by_name = {p.party: p for p in peers}
        if len({(p.host, p.port) for p in peers}) != 3:
            self.report("peers", "", "the three addresses must differ")
        return (by_name[parties[0]], by_name[parties[1]], by_name[HELPER])


_RANGES: dict[str, tuple[float, float]] = {
    "radius_nm": (1.0, MAX_RADIUS_NM),
    "max_aircraft": (1, MAX_AIRCRAFT),
    "max_conflicts": (0, MAX_AIRCRAFT * MAX_AIRCRAFT),
    "max_gs_kt": (1.0, 5000.0),
    "max_vs_fpm": (1.0, 100000.0),
    "min_alt_ft": (-10000.0, 200000.0),
    "max_alt_ft": (-10000.0, 200000.0),
    "horizontal_steps": (1, MAX_STEPS),
    "vertical_steps": (1, MAX_STEPS),
    "connect_timeout_s": (0.1, 86400.0),
    "idle_timeout_s": (0.1, 86400.0),
    "horizontal_nm": (0.001, 1000.0),
    "vertical_ft": (1.0, 100000.0),
    "lookahead_s": (1.0, 3600.0),
}
