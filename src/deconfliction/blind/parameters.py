"""The public parameters of a blind run, and the bit lengths they imply.

Everything here is known to all three participants: the minima and lookahead, the
common frame, the quanta, the declared maxima and the participants' addresses. The
:meth:`BlindPlan.digest` of it is compared at the start of each run, so a party
with another ``blind.toml`` or protocol is refused before any input is shared.

Units inside the computation (integers, see :mod:`deconfliction.blind.encoding`):

* horizontal positions in quanta of ``horizontal_nm / horizontal_steps``;
* horizontal velocities as the displacement over the lookahead, in the same quanta;
* altitudes in quanta of ``vertical_ft / vertical_steps``;
* vertical rates as the climb over the lookahead, in the same quanta;
* time as a fraction of the lookahead.

So the minima are exactly ``horizontal_steps`` and ``vertical_steps`` quanta and
the lookahead is 1: every threshold is an integer.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass

from deconfliction.blind.config import HELPER, BlindConfig, BlindConfigError
from deconfliction.domain.geodesy import LocalProjection
from deconfliction.domain.model import SeparationMinima
from deconfliction.domain.protocol import Protocol
from deconfliction.errors import Problem
from deconfliction.units import M_PER_NM, MPS_PER_KT, S_PER_MIN

DEFAULT_HORIZONTAL_NM: float = 5.0  # as `deconfliction detect`
DEFAULT_VERTICAL_FT: float = 1000.0
DEFAULT_LOOKAHEAD_S: float = 300.0

TCPA_FRACTION_BITS: int = 16
"""Bits of the revealed time to CPA, as a fraction of the lookahead: 300 s / 2^16 is
4.6 ms, so the relative position revealed at that time is off by under 0.003 NM
even at a closure of 2,000 kt."""

DIVISION_DIGIT_BITS: int = 2
"""Bits of the time to CPA found per step of phase 2's long division: each step
compares the remainder with the ``2^b - 1`` non-zero multiples of the divisor at
once (one batch, one set of communication rounds), so the division takes
``TCPA_FRACTION_BITS / b`` steps in a row (8) instead of one per bit (16), for
``(2^b - 1) / b`` times the comparisons (1.5)."""

DIVISION_STEPS: int = TCPA_FRACTION_BITS // DIVISION_DIGIT_BITS
"""Sequential steps of the long division."""

DIVISION_COMPARISONS: int = DIVISION_STEPS * ((1 << DIVISION_DIGIT_BITS) - 1)
"""Secure comparisons of the long division per reported conflict."""

PROJECTION_SCALE_MARGIN: float = 1.01
"""Headroom on projected speeds: the azimuthal equidistant frame stretches lengths
across its radius by at most 0.23 % at 1,000 NM (the largest radius accepted)."""

SECURITY_PARAMETER_BITS: int = 40
"""MPyC's statistical security parameter ``k`` (its default is 30): every value a
comparison opens is masked so that it is within ``2^-k`` of uniform. Over the
70,000 comparisons of a 100 x 100 run that bounds the total statistical distance
by about 2^-24 instead of 2^-14, for a field 10 bits larger (a few per cent)."""

PROTOCOL_VERSION: int = 3
"""Version of this computation; part of the digest, so old and new code refuse to
run together (2: phase 1's random bits made in an offline phase first; 3: phase 2's
division two bits per step)."""


@dataclass(frozen=True, slots=True)
class Bounds:
    """Integer bounds of the inputs and the bit length of every comparison.

    A comparison of ``l`` bits handles values in ``[-2^(l-1), 2^(l-1))``; each is
    the smallest that holds the worst case of its operand over every possible
    input, dummies and empty vertical windows included (MPyC's comparison hides
    its operand only when it is in range).

    Attributes:
        position_max: largest ``hypot(x, y)`` of an aircraft (quanta).
        velocity_max: largest ``hypot(vx, vy)`` (quanta per lookahead).
        altitude_min: lowest altitude (quanta).
        altitude_max: highest altitude (quanta).
        climb_max: largest ``|w|`` (quanta per lookahead).
        horizontal: the horizontal minimum (quanta).
        vertical: the vertical minimum (quanta).
        start_bits: comparisons of the relative altitude now with the minimum.
        end_bits: comparisons of the relative altitude at the lookahead.
        motion_bits: the two comparisons placing the CPA against the window.
        separation_bits: the final comparison of the separation with the minimum.
        sign_bits: phase 2, the sign of ``d . v``.
        clip_bits: phase 2, whether the CPA lies beyond the lookahead.
        division_bits: phase 2, one step of the long division for the CPA time.
        rounding_bits: phase 2, the bound of the relative position at the CPA.
        secure_bits: bit length of the secure integer type (the largest above).
    """

    position_max: int
    velocity_max: int
    altitude_min: int
    altitude_max: int
    climb_max: int
    horizontal: int
    vertical: int
    start_bits: int
    end_bits: int
    motion_bits: int
    separation_bits: int
    sign_bits: int
    clip_bits: int
    division_bits: int
    rounding_bits: int
    secure_bits: int

    @classmethod
    def derive(
        cls,
        position_max: int,
        velocity_max: int,
        altitude_min: int,
        altitude_max: int,
        climb_max: int,
        horizontal: int,
        vertical: int,
    ) -> Bounds:
        """Bit lengths from the input bounds, following the circuit's formulas.

        >>> b = Bounds.derive(100, 50, 0, 100, 20, 10, 4)
        >>> b.start_bits, b.end_bits, b.separation_bits
        (8, 9, 30)
        """
        p, u, w = position_max, velocity_max, climb_max
        zr = altitude_max - altitude_min
        v, h = vertical, horizontal
        den = max(2 * w, 1)  # |den|: a relative climb, or 1 when level inside
        lnum = zr + v  # |Lnum|
        rnum = max(den, zr + v)  # |Rnum|
        num = max(lnum, rnum)
        # Norms: |d| <= 2p and |V| <= 2u bound every product of the two.
        s = den * 2 * p + 2 * u * num  # |S|
        dot_max = 4 * p * u  # |d . V|, also |V x d|
        speed2_max = 4 * u * u  # |V . V|
        motion = den * dot_max + num * speed2_max  # |S . V| (+1 for "<= 0")
        end = max(s * s, h * h * den * den)  # |F| at a window end
        mid = max(dot_max * dot_max, speed2_max * h * h)  # |F| at the CPA
        separation = max(end, mid)  # exactly one of the three cases is selected
        start_bits = _bits(zr + v)
        end_bits = _bits(zr + 2 * w + v)
        motion_bits = _bits(motion + 1)
        separation_bits = _bits(separation)
        sign_bits = _bits(dot_max)
        clip_bits = _bits(speed2_max + dot_max + 1)
        # remainder * radix - k * divisor, 0 <= remainder < divisor, 1 <= k < radix
        division_bits = _bits(((1 << DIVISION_DIGIT_BITS) - 1) * (speed2_max + 1))
        rounding_bits = _bits((2 * p + 2 * u) << TCPA_FRACTION_BITS)
        secure_bits = max(
            start_bits,
            end_bits,
            motion_bits,
            separation_bits,
            sign_bits,
            clip_bits,
            division_bits,
            rounding_bits,
        )
        return cls(
            position_max=p,
            velocity_max=u,
            altitude_min=altitude_min,
            altitude_max=altitude_max,
            climb_max=w,
            horizontal=h,
            vertical=v,
            start_bits=start_bits,
            end_bits=end_bits,
            motion_bits=motion_bits,
            separation_bits=separation_bits,
            sign_bits=sign_bits,
            clip_bits=clip_bits,
            division_bits=division_bits,
            rounding_bits=rounding_bits,
            secure_bits=secure_bits,
        )

    @property
    def comparison_bits_per_pair(self) -> int:
        """Bits of all phase-1 comparisons of one pair (the cost driver)."""
        return (
            2 * self.start_bits
            + 2 * self.end_bits
            + 2 * self.motion_bits
            + self.separation_bits
        )

    @property
    def comparison_bits_per_conflict(self) -> int:
        """Bits of all phase-2 comparisons of one reported conflict."""
        return (
            self.sign_bits + self.clip_bits + DIVISION_COMPARISONS * self.division_bits
        )


def _bits(bound: int) -> int:
    """Smallest ``l`` with ``bound < 2^(l-1)``: values in ``[-bound, bound]`` fit.

    >>> _bits(0), _bits(1), _bits(127), _bits(128)
    (1, 2, 8, 9)
    """
    return int(bound).bit_length() + 1


@dataclass(frozen=True, slots=True)
class BlindPlan:
    """Everything public about a blind run.

    Attributes:
        parties: the two parties' ids, sorted: participants 0 and 1.
        addresses: ``host:port`` of the two parties and the helper (participant 2).
        hosts: the host of each participant.
        ports: the port of each participant.
        protocol: ``id@version`` of the protocol used, or None.
        horizontal_nm: horizontal minimum.
        vertical_ft: vertical minimum.
        lookahead_s: lookahead.
        reference_lat_deg: centre of the common frame.
        reference_lon_deg: centre of the common frame.
        radius_nm: largest distance of an aircraft from the centre.
        max_gs_kt: largest ground speed.
        max_vs_fpm: largest vertical rate.
        min_alt_ft: lowest altitude.
        max_alt_ft: highest altitude.
        horizontal_steps: position quanta per horizontal minimum.
        vertical_steps: altitude quanta per vertical minimum.
        max_aircraft: slots per party.
        max_conflicts: conflicts whose figures are computed.
        connect_timeout_s: wait for the participants to connect.
        idle_timeout_s: wait for an awaited participant.

    Addresses and timeouts are local: they stay out of :meth:`digest`.
    """

    parties: tuple[str, str]
    addresses: tuple[str, str, str]
    hosts: tuple[str, str, str]
    ports: tuple[int, int, int]
    protocol: str | None
    horizontal_nm: float
    vertical_ft: float
    lookahead_s: float
    reference_lat_deg: float
    reference_lon_deg: float
    radius_nm: float
    max_gs_kt: float
    max_vs_fpm: float
    min_alt_ft: float
    max_alt_ft: float
    horizontal_steps: int
    vertical_steps: int
    max_aircraft: int
    max_conflicts: int
    connect_timeout_s: float
    idle_timeout_s: float
    pins: tuple[str, str, str] | None = None

    @property
    def participants(self) -> tuple[str, str, str]:
        """The two parties, then the helper: index = MPyC party number."""
        return (self.parties[0], self.parties[1], HELPER)

    def index(self, participant: str) -> int:
        """MPyC party number of a party id or of the helper.

        Raises:
            BlindConfigError: not one of the participants.
        """
        if participant not in self.participants:
            raise BlindConfigError(
                [
                    Problem(
                        "command line",
                        None,
                        "--party",
                        f"{participant!r} is not a participant; expected one of "
                        f"{', '.join(self.participants)}",
                    )
                ]
            )
        return self.participants.index(participant)

    @property
    def horizontal_quantum_m(self) -> float:
        """Size of a position quantum."""
        return self.horizontal_nm * M_PER_NM / self.horizontal_steps

    @property
    def vertical_quantum_ft(self) -> float:
        """Size of an altitude quantum."""
        return self.vertical_ft / self.vertical_steps

    @property
    def projection(self) -> LocalProjection:
        """The common frame: azimuthal equidistant around the reference."""
        return LocalProjection(self.reference_lat_deg, self.reference_lon_deg)

    @property
    def minima(self) -> SeparationMinima:
        """The separation minima."""
        return SeparationMinima(self.horizontal_nm, self.vertical_ft)

    @property
    def bounds(self) -> Bounds:
        """Input bounds (quanta) and comparison bit lengths."""
        q_m = self.horizontal_quantum_m
        qv_ft = self.vertical_quantum_ft
        # Rounding each coordinate moves a point by under one quantum.
        position_max = math.floor(self.radius_nm * M_PER_NM / q_m) + 1
        velocity_max = (
            math.ceil(
                self.max_gs_kt
                * MPS_PER_KT
                * self.lookahead_s
                * PROJECTION_SCALE_MARGIN
                / q_m
            )
            + 1
        )
        climb_max = (
            math.ceil(self.max_vs_fpm * self.lookahead_s / S_PER_MIN / qv_ft) + 1
        )
        return Bounds.derive(
            position_max=position_max,
            velocity_max=velocity_max,
            altitude_min=math.floor(self.min_alt_ft / qv_ft),
            altitude_max=math.ceil(self.max_alt_ft / qv_ft),
            climb_max=climb_max,
            horizontal=self.horizontal_steps,
            vertical=self.vertical_steps,
        )

    def public_record(self) -> dict[str, object]:
        """The fields that must agree between participants, as plain values."""
        record = asdict(self)
        # Addresses may differ between sites (NAT, names); the order of the
        # participants is fixed by ``parties``.
        for local in ("addresses", "hosts", "ports", "connect_timeout_s"):
            del record[local]
        del record["idle_timeout_s"]
        if record["pins"] is None:  # plain runs keep their digest
            del record["pins"]
        record["computation_version"] = PROTOCOL_VERSION
        record["security_parameter_bits"] = SECURITY_PARAMETER_BITS
        return record

    def digest(self) -> str:
        """SHA-256 of :meth:`public_record`: equal on every participant or no run."""
        text = json.dumps(self.public_record(), sort_keys=True, allow_nan=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def make_plan(config: BlindConfig, protocol: Protocol | None) -> BlindPlan:
    """Combine ``blind.toml`` with the protocol (or the defaults) into a plan.

    Raises:
        BlindConfigError: the parties of ``[peers]`` are not the protocol's, the
            minima are given in both places, or no reference point can be found.
    """
    problems: list[Problem] = []
    given = {
        "horizontal_nm": config.horizontal_nm,
        "vertical_ft": config.vertical_ft,
        "lookahead_s": config.lookahead_s,
    }
    protocol_name: str | None = None
    if protocol is not None:
        protocol_name = f"{protocol.id}@{protocol.version}"
        for key, value in given.items():
            if value is not None:
                problems.append(
                    Problem(
                        config.source,
                        None,
                        f"blind.{key}",
                        f"the protocol {protocol.id} sets the minima and lookahead; "
                        "remove it here",
                    )
                )
        unknown = [p for p in config.parties if p not in protocol.parties]
        if unknown:
            problems.append(
                Problem(
                    config.source,
                    None,
                    "peers",
                    f"{', '.join(unknown)} not a party of {protocol.id} "
                    f"({', '.join(sorted(protocol.parties))})",
                )
            )
        horizontal_nm = protocol.minima.horizontal_nm
        vertical_ft = protocol.minima.vertical_ft
        lookahead_s = protocol.lookahead_s
    else:
        horizontal_nm = config.horizontal_nm or DEFAULT_HORIZONTAL_NM
        vertical_ft = config.vertical_ft or DEFAULT_VERTICAL_FT
        lookahead_s = config.lookahead_s or DEFAULT_LOOKAHEAD_S
    reference = _reference(config, protocol)
    if reference is None:
        problems.append(
            Problem(
                config.source,
                None,
                "blind.reference",
                "missing: give [lat_deg, lon_deg] (a protocol with lines or zones "
                "would supply their centre)",
            )
        )
    if problems or reference is None:
        raise BlindConfigError(problems)
    peers = config.peers
    return BlindPlan(
        parties=config.parties,
        addresses=(peers[0].address, peers[1].address, peers[2].address),
        hosts=(peers[0].host, peers[1].host, peers[2].host),
        ports=(peers[0].port, peers[1].port, peers[2].port),
        protocol=protocol_name,
        horizontal_nm=float(horizontal_nm),
        vertical_ft=float(vertical_ft),
        lookahead_s=float(lookahead_s),
        reference_lat_deg=reference[0],
        reference_lon_deg=reference[1],
        radius_nm=config.radius_nm,
        max_gs_kt=config.max_gs_kt,
        max_vs_fpm=config.max_vs_fpm,
        min_alt_ft=config.min_alt_ft,
        max_alt_ft=config.max_alt_ft,
        horizontal_steps=config.horizontal_steps,
        vertical_steps=config.vertical_steps,
        max_aircraft=config.max_aircraft,
        max_conflicts=config.max_conflicts,
        connect_timeout_s=config.connect_timeout_s,
        idle_timeout_s=config.idle_timeout_s,
        pins=config.pins,
    )


def _reference(
    config: BlindConfig, protocol: Protocol | None
) -> tuple[float, float] | None:
    if config.reference_lat_deg is not None and config.reference_lon_deg is not None:
        return config.reference_lat_deg, config.reference_lon_deg
    if protocol is None:
        return None
    lat: list[float] = []
    lon: list[float] = []
    for line in protocol.lines:
        lat.extend(line.lat_deg)
        lon.extend(line.lon_deg)
    for zone in protocol.zones:
        lat.extend(zone.lat_deg)
        lon.extend(zone.lon_deg)
    if not lat:
        return None
    centre = LocalProjection.around(lat, lon)
    # Rounded so that every participant derives the very same frame.
    return round(centre.center_lat_deg, 6), round(centre.center_lon_deg, 6)
