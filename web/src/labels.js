// The map's labels, decluttered as on a radar display (declutter.js): the data block of
// each aircraft (identifier, flight level, ground speed), the time to CPA of each
// conflict and the number of each incident, as HTML over the map, placed each time the
// map moves or what they say changes so that no label covers another label or a symbol
// (an aircraft, an incident ring, a CPA point). A label moved away from its symbol is
// joined to it by a leader line.
//
// Every aircraft in a conflict carries its label, and so does every conflict and every
// ongoing incident. Other aircraft carry theirs while at most LABELS_MAX aircraft are in
// view (zoom in to see them), where a free place is found. The names of zones and
// planned operations, centred on them, and of countries come last, where nothing else
// is (countries up to COUNTRY_MAX_ZOOM). All are HTML: the browser shapes Arabic and
// Cyrillic, which the map's own text rendering would need a plugin for.
import { placeLabels } from "./declutter.js";
import { countdownText } from "./time.js";
import { coalesce, h, num } from "./util.js";

export const LABELS_MAX = 100;
const COUNTRY_MAX_ZOOM = 8; // closer in, a country's name is more clutter than help
const AIRCRAFT_RADIUS_PX = 11; // the arrow icon, 24 px, half of it and a little
const RING_RADIUS_PX = 11; // the incident ring: 8 px radius and its 3 px stroke
const CPA_RADIUS_PX = 9; // the CPA point: 6 px and its 3 px stroke
const SVG = "http://www.w3.org/2000/svg";
const LEVEL_COLOURS = { conflict: "#b07800", advisory: "#e65100", warning: "#d50000" };

export class LabelLayer {
  constructor(map, container) {
    this.map = map;
    this.leaders = document.createElementNS(SVG, "svg");
    this.leaders.setAttribute("class", "map-leaders");
    this.root = h("div", { class: "map-labels", dir: "ltr", "aria-hidden": "true" });
    this.root.append(this.leaders);
    container.append(this.root);
    this.entries = new Map(); // id -> {el, text, w, h}
    this.previous = new Map(); // id -> slot: a label stays where it was while it can
    this.tracks = new Map();
    this.pairs = [];
    this.incidents = [];
    this.countries = [];
    this.areas = { zone: [], operation: [] };
    this.nowS = 0;
    this.last = { placed: new Map(), obstacles: [] };
    this.moved = false;
    this.schedule = coalesce(() => this.place());
    // In step with the map: placed in the frame the map draws after it moved.
    map.on("move", () => {
      this.moved = true;
    });
    map.on("render", () => {
      if (this.moved) {
        this.moved = false;
        this.place();
      }
    });
    map.on("resize", this.schedule);
  }

  setAircraft(tracks) {
    this.tracks = tracks;
    this.schedule();
  }

  setPairs(pairs) {
    this.pairs = pairs;
    this.schedule();
  }

  setIncidents(markers) {
    this.incidents = markers;
    this.schedule();
  }

  /** Names of areas of a kind ("zone", "operation"): [{key, name, at, colour}]. */
  setAreas(kind, points) {
    this.areas[kind] = points;
    this.schedule();
  }

  /** Country names: [{key, name, at: [lon, lat]}]. */
  setCountries(points) {
    this.countries = points;
    this.schedule();
  }

  /** Once a second: the countdowns to CPA. */
  tick(nowS) {
    this.nowS = nowS;
    if (this.pairs.length) this.schedule();
  }

  /** What was placed last, for the tests: labels' and symbols' boxes in CSS pixels. */
  snapshot() {
    return {
      labels: [...this.last.placed].map(([id, p]) => ({ id, x0: p.x0, y0: p.y0, x1: p.x1, y1: p.y1, crowded: p.crowded })),
      obstacles: this.last.obstacles,
    };
  }

  /** The items to label and the symbols to keep clear, most important first. */
  collect(width, height) {
    const map = this.map;
    const margin = 40;
    const inView = (p) => p.x >= -margin && p.y >= -margin && p.x <= width + margin && p.y <= height + margin;
    const around = (p, r) => ({ x0: p.x - r, y0: p.y - r, x1: p.x + r, y1: p.y + r });
    const obstacles = [];
    const first = [];
    const rest = [];
    const inConflict = new Set(this.pairs.flatMap((p) => p.aircraft || []));
    for (const pair of this.pairs) {
      const a = map.project(pair.from);
      const b = map.project(pair.to);
      const mid = { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 };
      if (pair.cpa) obstacles.push(around(map.project(pair.cpa), CPA_RADIUS_PX));
      if (!inView(mid)) continue;
      const left = Math.max(0, pair.cpaAt - this.nowS);
      first.push({
        id: `pair:${pair.id}`,
        x: mid.x,
        y: mid.y,
        gap: 4,
        keep: true,
        kind: "pair",
        text: [`CPA ${countdownText(left)} · ${num(pair.missNm, 1)} NM`],
        colour: LEVEL_COLOURS[pair.level] || LEVEL_COLOURS.conflict,
        acked: !!pair.acknowledged,
      });
    }
    const visible = [];
    for (const a of this.tracks.values()) {
      const p = map.project([a.lon, a.lat]);
      if (!inView(p)) continue;
      obstacles.push(around(p, AIRCRAFT_RADIUS_PX));
      visible.push([a, p]);
    }
    const labelAll = visible.length <= LABELS_MAX;
    visible.sort(([x], [y]) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
    for (const [a, p] of visible) {
      const conflict = inConflict.has(a.key);
      if (!conflict && !labelAll) continue;
      const item = {
        id: `ac:${a.key}`,
        x: p.x,
        y: p.y,
        gap: AIRCRAFT_RADIUS_PX,
        keep: conflict,
        kind: conflict ? "aircraft conflict" : "aircraft",
        text: [a.id, `${a.fl} ${Math.round(a.gs)}kt`],
      };
      (conflict ? first : rest).push(item);
    }
    for (const m of this.incidents) {
      const p = map.project(m.at);
      if (!inView(p)) continue;
      obstacles.push(around(p, RING_RADIUS_PX));
      const item = { id: `inc:${m.id}`, x: p.x, y: p.y, gap: RING_RADIUS_PX, keep: !!m.ongoing, kind: "incident", text: [m.label] };
      (m.ongoing ? first : rest).push(item);
    }
    const areas = [];
    for (const [kind, points] of Object.entries(this.areas)) {
      for (const a of points) {
        const p = map.project(a.at);
        if (inView(p)) areas.push({ id: `${kind}:${a.key}`, x: p.x, y: p.y, centred: true, kind, text: [a.name], colour: a.colour });
      }
    }
    const countries = [];
    if (map.getZoom() < COUNTRY_MAX_ZOOM) {
      for (const c of this.countries) {
        const p = map.project(c.at);
        if (inView(p)) countries.push({ id: `country:${c.key}`, x: p.x, y: p.y, centred: true, kind: "country", text: [c.name] });
      }
    }
    return { items: [...first, ...rest, ...areas, ...countries], obstacles };
  }

  entry(item) {
    let e = this.entries.get(item.id);
    if (!e) {
      e = { el: h("div", { class: `map-label ${item.kind}`, dir: "auto" }), text: "", w: 0, h: 0 };
      this.root.append(e.el);
      this.entries.set(item.id, e);
    }
    const text = item.text.join("\n");
    if (e.text !== text) {
      e.text = text;
      e.el.replaceChildren(...item.text.map((line) => h("div", {}, line)));
      e.w = 0; // measured again below
    }
    if (item.colour) e.el.style.color = item.colour;
    e.el.classList.toggle("acked", !!item.acked);
    return e;
  }

  place() {
    const canvas = this.map.getCanvas();
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    const { items, obstacles } = this.collect(width, height);
    const wanted = new Set(items.map((i) => i.id));
    for (const [id, e] of this.entries) {
      if (!wanted.has(id)) {
        e.el.remove();
        this.entries.delete(id);
      }
    }
    // Write every text first, then read the sizes: one layout, not one per label.
    const entries = items.map((item) => this.entry(item));
    entries.forEach((e, i) => {
      if (!e.w) {
        e.el.hidden = false;
        e.w = e.el.offsetWidth;
        e.h = e.el.offsetHeight;
      }
      Object.assign(items[i], { w: e.w, h: e.h });
    });
    const bounds = { x0: 0, y0: 0, x1: width, y1: height };
    const placed = placeLabels(items, obstacles, { bounds, previous: this.previous });
    this.previous = new Map([...placed].map(([id, p]) => [id, p.slot]));
    const lines = [];
    entries.forEach((e, i) => {
      const p = placed.get(items[i].id);
      e.el.hidden = !p;
      if (!p) return;
      e.el.style.transform = `translate(${Math.round(p.x0)}px, ${Math.round(p.y0)}px)`;
      if (p.leader) lines.push([p.leader, items[i].colour]);
    });
    this.drawLeaders(lines, width, height);
    this.last = { placed, obstacles };
  }

  drawLeaders(lines, width, height) {
    const svg = this.leaders;
    svg.setAttribute("width", String(width));
    svg.setAttribute("height", String(height));
    while (svg.childElementCount > lines.length) svg.lastElementChild.remove();
    lines.forEach(([[x1, y1, x2, y2], colour], i) => {
      let line = svg.children[i];
      if (!line) {
        line = document.createElementNS(SVG, "line");
        svg.append(line);
      }
      line.setAttribute("x1", x1.toFixed(1));
      line.setAttribute("y1", y1.toFixed(1));
      line.setAttribute("x2", x2.toFixed(1));
      line.setAttribute("y2", y2.toFixed(1));
      line.setAttribute("stroke", colour || "#37474f");
    });
  }
}
