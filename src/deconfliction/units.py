"""Unit conversion constants: the only place they are defined.

Write conversions so they check on sight: ``dist_m = dist_nm * M_PER_NM``.
"""

from __future__ import annotations

M_PER_NM: float = 1852.0  # exact, by international agreement (1929)
M_PER_FT: float = 0.3048  # exact, international foot (1959)
M_PER_STATUTE_MILE: float = 1609.344  # exact
S_PER_MIN: float = 60.0
S_PER_H: float = 3600.0
S_PER_DAY: float = 24.0 * S_PER_H  # a UTC day (no leap seconds in epoch time)
MPS_PER_KT: float = M_PER_NM / S_PER_H  # one knot is one nautical mile per hour
MPS_PER_FPM: float = M_PER_FT / S_PER_MIN  # one foot per minute
NM_PER_STATUTE_MILE: float = M_PER_STATUTE_MILE / M_PER_NM
