"""The report's charts, as PNG bytes, drawn with matplotlib's Agg canvas.

The charts carry no words: only numbers, hours and bars in the colours of the map
(parties, alert levels). Every word (titles, axes, legends) is in the HTML around
them, in the report's language, where the browser or WeasyPrint lays it out; one rule
for all languages keeps the three reports alike. (The map does carry words, from
the same catalogs: ``render.map_labels``.)
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

LEVEL_COLOURS: dict[str, str] = {  # as on the map (adapters/map_plot.py)
    "conflict": "#f2c200",
    "advisory": "#f07f00",
    "warning": "#e00000",
}
PREDICTED_COLOUR: str = "#f07f00"
ACTUAL_COLOUR: str = "#7b1fa2"
ON_TIME_COLOUR: str = "#2e7d32"
LATE_COLOUR: str = "#f07f00"
OVERDUE_COLOUR: str = "#c62828"
_WIDTH_IN: float = 7.0
_HEIGHT_IN: float = 2.4
_DPI: int = 130
HISTOGRAM_BIN_NM: float = 0.25


def _figure(height_in: float = _HEIGHT_IN) -> tuple[Any, Any]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(_WIDTH_IN, height_in), dpi=_DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.07, 0.16, 0.9, 0.78))
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=8)
    ax.grid(axis="y", color="#dddddd", lw=0.6)
    ax.set_axisbelow(True)
    return fig, ax


def _png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=_DPI)
    return buffer.getvalue()


def _integer_axis(ax: Any, axis: str = "y") -> None:
    from matplotlib.ticker import MaxNLocator

    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_locator(MaxNLocator(integer=True))


def counts_chart(values: Sequence[int], colours: Sequence[str]) -> bytes:
    """Vertical bars, one per value, each in its colour, with its count on top."""
    fig, ax = _figure()
    x = np.arange(len(values))
    ax.bar(x, values, 0.6, color=list(colours), edgecolor="black", linewidth=0.5)
    top = max([*values, 1])
    for xi, v in zip(x, values, strict=True):
        ax.text(xi, v + 0.02 * top, f"{v}", ha="center", va="bottom", fontsize=9)
    ax.set_xticks([])
    # At least four bar widths across, so that one or two bars are not slabs.
    ax.set_xlim(-0.7, max(len(values), 4) - 0.3)
    ax.set_ylim(0, top * 1.2)
    _integer_axis(ax)
    return _png(fig)


def violations_by_hour_chart(
    by_party_hour: Mapping[str, Sequence[int]], colours: Mapping[str, str]
) -> bytes:
    """Violations per UTC hour (00 to 23), stacked by party."""
    fig, ax = _figure()
    hours = np.arange(24)
    bottom = np.zeros(24)
    for party, counts in by_party_hour.items():
        values = np.asarray(counts, dtype=np.float64)
        ax.bar(
            hours,
            values,
            0.8,
            bottom=bottom,
            color=colours.get(party, "#777777"),
            edgecolor="black",
            linewidth=0.4,
        )
        bottom += values
    ax.set_xticks(hours)
    ax.set_xticklabels([f"{h:02d}" for h in hours])
    ax.set_xlim(-0.6, 23.6)
    ax.set_ylim(0, max(float(bottom.max()) if bottom.size else 0.0, 1.0) * 1.15)
    _integer_axis(ax)
    return _png(fig)


def closest_histogram(
    predicted_nm: Sequence[float], actual_nm: Sequence[float], minimum_nm: float
) -> bytes:
    """Histogram of the closest approaches: predicted by alerts, and actual in
    losses of separation; the horizontal minimum as a dashed line."""
    fig, ax = _figure()
    values = [*predicted_nm, *actual_nm]
    top_nm = max([*values, minimum_nm, 1.0])
    bins = np.arange(0.0, top_nm + HISTOGRAM_BIN_NM, HISTOGRAM_BIN_NM)
    if predicted_nm:
        ax.hist(
            predicted_nm,
            bins=bins,
            color=PREDICTED_COLOUR,
            alpha=0.8,
            edgecolor="black",
            linewidth=0.4,
        )
    if actual_nm:
        ax.hist(
            actual_nm, bins=bins, histtype="step", color=ACTUAL_COLOUR, linewidth=2.0
        )
    ax.axvline(minimum_nm, color="#333333", ls="--", lw=1.0)
    ax.set_xlim(0, bins[-1])
    _integer_axis(ax)
    return _png(fig)


def acknowledgement_chart(
    sent_hour: Sequence[float],
    ack_min: Sequence[float | None],
    late: Sequence[bool],
    overdue: Sequence[bool],
) -> bytes:
    """Each hotline receipt: UTC hour sent (x) and minutes to acknowledge (y), on
    time, late, or overdue (a triangle at the top, not acknowledged)."""
    fig, ax = _figure()
    hour = np.asarray(sent_hour, dtype=np.float64)
    minutes = np.array([np.nan if v is None else v for v in ack_min], dtype=np.float64)
    late_a = np.asarray(late, dtype=bool)
    over_a = np.asarray(overdue, dtype=bool)
    acked = np.isfinite(minutes)
    top = max(float(np.nanmax(minutes)) if acked.any() else 0.0, 5.0) * 1.15
    on_time = acked & ~late_a
    dots = {"edgecolors": "black", "linewidths": 0.4, "zorder": 3}
    ax.scatter(hour[on_time], minutes[on_time], s=22, c=ON_TIME_COLOUR, **dots)
    late_ok = acked & late_a
    ax.scatter(hour[late_ok], minutes[late_ok], s=26, c=LATE_COLOUR, **dots)
    at_top = np.full(int(over_a.sum()), top * 0.97)
    ax.scatter(hour[over_a], at_top, s=40, marker="^", c=OVERDUE_COLOUR, **dots)
    ax.set_xlim(0, 24)
    ax.set_xticks(np.arange(0, 25, 2))
    ax.set_xticklabels([f"{h:02d}" for h in range(0, 25, 2)])
    ax.set_ylim(0, top)
    return _png(fig)
