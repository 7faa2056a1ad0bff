"""The kinds of planned operation: one list, used by every reader and writer.

Protocol files name them in ``[planning] min_lead_time_s``; operation files and
``POST /v1/operations`` give one in ``kind``; the hotline's notice of operation
names it in each party's language (``hotline/templates.py`` has a label for each).
An operation of any other kind is refused where it is read, at its ``kind``.
"""

from __future__ import annotations

OPERATION_KINDS: tuple[str, ...] = (
    "air_patrol",
    "reconnaissance",
    "air_refuelling",
    "airlift",
    "search_and_rescue",
    "medical_evacuation",
    "humanitarian_airdrop",
    "uav_flight",
    "training_flight",
    "air_operations",
)
"""Kinds of planned operation, in the order menus show them."""


def is_operation_kind(kind: str) -> bool:
    """Whether ``kind`` is one of :data:`OPERATION_KINDS`.

    >>> is_operation_kind("air_patrol"), is_operation_kind("cap")
    (True, False)
    """
    return kind in OPERATION_KINDS
