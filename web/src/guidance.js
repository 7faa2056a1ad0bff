// Manoeuvre guidance (#17.5) of the party's own aircraft in an alert, as the server
// gives it on the alert's own side (docs/protocol.md, [guidance]): a heading ring
// around the aircraft with the direction bands coloured by region, an altitude and a
// vertical-speed strip, and the preferred resolution in words. Advice: a person
// decides (and says so on the hotline).
import { t } from "./i18n.js";

export const REGION_COLOURS = {
  NONE: "#2e7d32",
  FAR: "#f9a825",
  MID: "#ef6c00",
  NEAR: "#d50000",
  RECOVERY: "#00838f",
};
const SVG_NS = "http://www.w3.org/2000/svg";
const FLIGHT_LEVEL_FROM_FT = 10000; // as the hotline's templates say targets

/** The guidance of the caller's own aircraft in `alert`, or null. */
export function ownGuidance(state, alert) {
  const mine = alert.aircraft.find((s) => s.party === state.me?.party_id && s.guidance);
  return mine ? { side: mine, guidance: mine.guidance } : null;
}

const finite = (v) => typeof v === "number" && Number.isFinite(v);

/** A heading in whole degrees, three digits: 095°, 360° for north. */
export function headingText(deg) {
  const whole = ((Math.round(deg) % 360) + 360) % 360;
  return `${String(whole || 360).padStart(3, "0")}°`;
}

/** A target altitude: FL250 (in the language's words) from 10,000 ft, else feet. */
export function levelText(ft) {
  if (ft >= FLIGHT_LEVEL_FROM_FT) return t("guidance.fl", { fl: String(Math.round(ft / 100)).padStart(3, "0") });
  return t("guidance.ft", { ft: Math.round(ft) });
}

/**
 * The preferred resolution to say: the direction's if it has one to state, else the
 * altitude's; null when the aircraft need not manoeuvre. Returns the dimension, the
 * manoeuvre (as the hotline's manoeuvre kinds name it) and its target.
 */
export function preferredResolution(guidance) {
  const res = guidance?.resolution || {};
  for (const [dim, up, down] of [
    ["direction_deg", ["right", "turn_right"], ["left", "turn_left"]],
    ["altitude_ft", ["up", "climb"], ["down", "descend"]],
  ]) {
    const r = res[dim];
    if (!r) continue;
    const side = r.preferred === up[0] ? up : down;
    const value = r[side[0]];
    if (finite(value)) return { dimension: dim, manoeuvre: side[1], value };
  }
  return null;
}

// The fact a manoeuvre's target goes in (as the hotline's manoeuvre kinds say).
export const MANOEUVRES = ["turn_right", "turn_left", "climb", "descend", "speed_up", "slow_down"];
export const MANOEUVRE_TARGETS = {
  turn_right: "heading_deg",
  turn_left: "heading_deg",
  climb: "alt_ft",
  descend: "alt_ft",
  speed_up: "gs_kt",
  slow_down: "gs_kt",
};
// What we ask of the other aircraft when ours does this (hotline/manoeuvres.py):
// head on, each turns the same way; the other vertical sense, the other speed change.
const COMPLEMENT = {
  turn_right: "turn_right",
  turn_left: "turn_left",
  climb: "descend",
  descend: "climb",
  speed_up: "slow_down",
  slow_down: "speed_up",
};

/**
 * What the composer proposes from the guidance (the officer edits and decides): for
 * a manoeuvre_intention, our preferred resolution and its target (a heading in whole
 * degrees, an altitude in hundreds of feet); for a request_for_manoeuvre, the
 * manoeuvre that complements it, without a target (the other aircraft's bands were
 * not computed for us). Null when the guidance has nothing to state.
 */
export function manoeuvreProposal(guidance, kind) {
  const r = preferredResolution(guidance);
  if (!r) return null;
  if (kind === "request_for_manoeuvre") return { manoeuvre: COMPLEMENT[r.manoeuvre], target: null };
  const target = r.dimension === "direction_deg" ? ((Math.round(r.value) % 360) + 360) % 360 || 360 : Math.round(r.value / 100) * 100;
  return { manoeuvre: r.manoeuvre, target };
}

/** The preferred resolution in words ("turn right to 095°", "climb to FL250"). */
export function resolutionWords(guidance) {
  const r = preferredResolution(guidance);
  if (!r) return t("guidance.none");
  const target = r.dimension === "direction_deg" ? headingText(r.value) : levelText(r.value);
  return t(`guidance.${r.manoeuvre}`, { target });
}

/** An SVG arc (an annulus sector) from `fromDeg` to `toDeg`, clockwise from north. */
export function arcPath(fromDeg, toDeg, cx, cy, rOuter, rInner) {
  const span = Math.min(359.999, Math.max(0, toDeg - fromDeg));
  const end = fromDeg + span;
  const pt = (deg, r) => {
    const a = (deg * Math.PI) / 180;
    return [(cx + r * Math.sin(a)).toFixed(2), (cy - r * Math.cos(a)).toFixed(2)];
  };
  const large = span > 180 ? 1 : 0;
  const [x1, y1] = pt(fromDeg, rOuter);
  const [x2, y2] = pt(end, rOuter);
  const [x3, y3] = pt(end, rInner);
  const [x4, y4] = pt(fromDeg, rInner);
  return `M${x1} ${y1}A${rOuter} ${rOuter} 0 ${large} 1 ${x2} ${y2}L${x3} ${y3}A${rInner} ${rInner} 0 ${large} 0 ${x4} ${y4}Z`;
}

function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  for (const c of children) if (c) el.append(c);
  return el;
}

/** The heading ring: the direction bands around the aircraft, north up. */
export function headingRing(guidance, trackDeg, size = 160) {
  const c = size / 2;
  const ring = svg("svg", { class: "guidance-ring", width: size, height: size, viewBox: `0 0 ${size} ${size}`, role: "img", "aria-label": t("guidance.ring") });
  for (const [from, to, region] of guidance.direction_deg || []) {
    if (!finite(from) || !finite(to) || to <= from) continue;
    ring.append(
      svg("path", {
        d: arcPath(from, to, c, c, c - 2, c - 16),
        fill: REGION_COLOURS[region] || "#888",
        "fill-opacity": region === "NONE" ? 0.35 : 0.85,
        "data-region": region,
        "data-from": from,
        "data-to": to,
      }),
    );
  }
  if (finite(trackDeg)) {
    const a = (trackDeg * Math.PI) / 180;
    ring.append(svg("line", { class: "guidance-track", x1: c, y1: c, x2: (c + (c - 18) * Math.sin(a)).toFixed(2), y2: (c - (c - 18) * Math.cos(a)).toFixed(2), stroke: "#111", "stroke-width": 2 }));
  }
  const r = preferredResolution(guidance);
  if (r?.dimension === "direction_deg") {
    const a = (r.value * Math.PI) / 180;
    ring.append(svg("circle", { class: "guidance-resolution", cx: (c + (c - 9) * Math.sin(a)).toFixed(2), cy: (c - (c - 9) * Math.cos(a)).toFixed(2), r: 5, fill: "#fff", stroke: "#111", "stroke-width": 2 }));
  }
  return ring;
}

/** A vertical strip of one dimension's bands (low at the bottom), with its current value. */
export function strip(intervals, current, name, width = 22, height = 160) {
  const valid = (intervals || []).filter(([f, to]) => finite(f) && finite(to));
  const lo = valid.length ? valid[0][0] : 0;
  const hi = valid.length ? valid[valid.length - 1][1] : 1;
  const y = (v) => height - ((v - lo) / (hi - lo || 1)) * height;
  const el = svg("svg", { class: `guidance-strip strip-${name}`, width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": t(`guidance.${name}`) });
  for (const [f, to, region] of valid) {
    el.append(svg("rect", { x: 0, y: y(to).toFixed(2), width, height: Math.max(0.5, y(f) - y(to)).toFixed(2), fill: REGION_COLOURS[region] || "#888", "data-region": region }));
  }
  if (finite(current)) el.append(svg("line", { x1: 0, x2: width, y1: y(current).toFixed(2), y2: y(current).toFixed(2), stroke: "#111", "stroke-width": 2 }));
  return el;
}

/** The whole guidance view of an own aircraft: ring, strips and words. */
export function guidanceView(side, guidance) {
  const box = document.createElement("div");
  box.className = "guidance";
  box.dataset.aircraft = side.id || "";
  const words = document.createElement("p");
  words.className = "guidance-words";
  words.append(resolutionWords(guidance));
  const strips = document.createElement("div");
  strips.className = "guidance-strips";
  strips.append(strip(guidance.altitude_ft, side.alt_ft, "altitude"), strip(guidance.vertical_speed_fpm, side.vs_fpm, "vertical_speed"));
  const advice = document.createElement("p");
  advice.className = "guidance-advice";
  advice.append(t("guidance.advice"));
  box.append(headingRing(guidance, side.trk_deg), strips, words, advice);
  return box;
}
