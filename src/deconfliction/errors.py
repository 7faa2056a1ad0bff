"""The exception tree of Deconfliction.

Every error the package raises on purpose derives from :class:`DeconflictionError`
and also from the builtin that fits it, so callers may catch either::

    DeconflictionError
    ├── InputError (ValueError)      bad data from outside, with where it was
    │   ├── ProtocolError            a protocol file with one or more problems
    │   └── StatesError              an aircraft-state table with problems
    ├── GeometryError (ValueError)   a position or shape the core refuses to handle
    │   └── PolarRegionError         a position too close to a pole for a track angle
    ├── NotFoundError (LookupError)  no such object, or none the caller may see
    ├── ForbiddenError (PermissionError)  the role or party may not do this
    └── ConflictError                a stale version or a clash with current state
        └── LeaseLostError           another process took live detection over

Exceptions build their own message and keep the offending values as attributes.
"""

from __future__ import annotations

from dataclasses import dataclass


class DeconflictionError(Exception):
    """Root of every error raised on purpose by Deconfliction."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem in an input, with where it is.

    Attributes:
        source: the file (or stream) name.
        line: 1-based line number, or None when the line is not known.
        field: the field or key path, for example ``lines[0].sides.russia``.
        message: what is wrong, in words.
    """

    source: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        field = f" {self.field}:" if self.field else ""
        return f"{where}:{field} {self.message}"


class InputError(DeconflictionError, ValueError):
    """Input from outside is wrong; ``problems`` lists every problem found."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        noun = "problem" if len(self.problems) == 1 else "problems"
        super().__init__(f"{len(self.problems)} {noun}:\n{lines}")

    def __reduce__(self) -> tuple[type[InputError], tuple[tuple[Problem, ...]]]:
        # Rebuilt from its problems, not its message: an error raised on a Dask
        # worker reaches the command line whole.
        return (type(self), (self.problems,))


class ProtocolError(InputError):
    """A protocol file that does not validate."""


class StatesError(InputError):
    """An aircraft-state table that does not validate."""


class GeometryError(DeconflictionError, ValueError):
    """A position or shape the core refuses to handle."""


class PolarRegionError(GeometryError):
    """A position so close to a pole that a track angle has no stable meaning.

    Attributes:
        lat_deg: the offending latitude.
        limit_deg: the largest absolute latitude accepted.
    """

    def __init__(self, lat_deg: float, limit_deg: float) -> None:
        self.lat_deg = lat_deg
        self.limit_deg = limit_deg
        super().__init__(
            f"latitude {lat_deg:.4f} deg is within {90 - limit_deg:g} deg of a pole; "
            f"track angles are undefined there (accepted: |lat| <= {limit_deg:g} deg)"
        )


class NotFoundError(DeconflictionError, LookupError):
    """No such object, or none the caller may see (the two are not told apart)."""

    def __init__(self, what: str) -> None:
        self.what = what
        super().__init__(f"{what} not found")


class ForbiddenError(DeconflictionError, PermissionError):
    """The caller's role or party may not do this."""


class ConflictError(DeconflictionError):
    """The request conflicts with the current state (a stale version, a duplicate)."""


class LeaseLostError(ConflictError):
    """Another process holds the lease of live detection: this one must not write.

    Attributes:
        holder: the process that holds it now (None: nobody).
    """

    def __init__(self, holder: str | None) -> None:
        self.holder = holder
        super().__init__(
            f"live detection is held by {holder}" if holder else "the lease has lapsed"
        )
