// Planned operations: the list (own, and the others' from `plans` up), filing one
// drawn on the map (polygon or circle) with altitudes and times, the check result
// and the notices; activate, end, cancel, approve.
import { problemLines } from "../api.js";
import { label, t } from "../i18n.js";
import { volumeRing } from "../map.js";
import { clock, fromInputValue, rfc3339, timeEl, toInputValue, utcText } from "../time.js";
import { $, fill, h, keyedList, num } from "../util.js";

const KINDS = [
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
];
const ACTIONS_OWN = {
  pending: ["cancel"],
  accepted: ["activate", "cancel"],
  conflicted: ["activate", "cancel"],
  "short-notice": ["activate", "cancel"],
  activated: ["end"],
  nonconforming: ["end"],
  contingent: ["end"],
};

/** The places of the conflicts found by the checks, as rings for the map. */
export function conflictPlaces(app) {
  const rings = [];
  for (const op of app.operations) {
    for (const c of op.conflicts || []) {
      for (const poly of c.place?.polygons || []) {
        const ring = poly.vertices.map((v) => [v.lng, v.lat]);
        if (ring.length >= 3) rings.push([...ring, ring[0]]);
      }
    }
  }
  return rings;
}

function shapeText(shape) {
  if (!shape) return t("operations.no_shape");
  if (shape.type === "circle") {
    return t("operations.circle", { nm: num(shape.radiusNm, 1), lat: num(shape.centre[1], 3), lon: num(shape.centre[0], 3) });
  }
  return t("operations.polygon", { n: shape.vertices.length });
}

export function onShapeChange(app, shape, drawing) {
  app.drawnShape = drawing ? null : shape;
  const el = $("#operation-shape");
  if (el) el.textContent = drawing ? `${t("operations.drawing")} ${shape ? shapeText(shape) : ""}` : shapeText(shape);
  const submit = $("#operation-file");
  if (submit) submit.disabled = !app.drawnShape;
}

function input(name, attrs) {
  return h("input", { name, id: `op-${name}`, ...attrs });
}

function field(name, text, control) {
  return h("div", { class: "field" }, h("label", { for: control.id }, text), control);
}

export function renderOperationForm(app) {
  const form = $("#operation-form");
  const now = clock.now();
  const start = Math.ceil((now + 2 * 3600) / 300) * 300;
  const defaultId = `${app.me.party_id.toUpperCase()}-${utcText(now, { date: false, seconds: false }).replace(":", "").replace("Z", "")}`;
  fill(
    form,
    h("h3", {}, t("operations.file")),
    h("p", { class: "hint" }, t("operations.draw_hint")),
    h("div", { class: "shape", id: "operation-shape", role: "status" }, shapeText(app.drawnShape)),
    h(
      "div",
      { class: "field-row" },
      field("id", t("operations.id"), input("id", { type: "text", value: defaultId, required: true, dir: "ltr" })),
      field(
        "kind",
        t("operations.kind"),
        h("select", { name: "kind", id: "op-kind" }, KINDS.map((k) => h("option", { value: k }, label("opkind", k)))),
      ),
    ),
    h(
      "div",
      { class: "field-row" },
      field("lower", t("operations.lower_ft"), input("lower", { type: "number", value: "15000", step: 500, required: true })),
      field("upper", t("operations.upper_ft"), input("upper", { type: "number", value: "25000", step: 500, required: true })),
    ),
    h(
      "div",
      { class: "field-row" },
      field("start", t("operations.start_utc"), input("start", { type: "datetime-local", value: toInputValue(start), required: true })),
      field("end", t("operations.end_utc"), input("end", { type: "datetime-local", value: toInputValue(start + 2 * 3600), required: true })),
    ),
    field("aircraft", t("operations.aircraft"), input("aircraft", { type: "text", placeholder: "VIPER11, VIPER12", dir: "ltr" })),
    h(
      "div",
      { class: "form-actions" },
      h("button", { type: "submit", id: "operation-file", disabled: app.drawnShape ? null : true }, t("operations.submit")),
      h("button", { type: "button", class: "secondary", onclick: () => app.mapView.clearDraw() }, t("operations.clear_shape")),
    ),
    h("div", { class: "errors", id: "operation-errors", role: "alert" }),
  );
  form.onsubmit = (e) => {
    e.preventDefault();
    fileOperation(app, form);
  };
}

function volumeOf(shape, lowerFt, upperFt, startS, endS) {
  const outline =
    shape.type === "circle"
      ? {
          outline_circle: {
            center: { lat: shape.centre[1], lng: shape.centre[0] },
            radius: { value: Math.round(shape.radiusNm * 100) / 100, units: "NM" },
          },
        }
      : { outline_polygon: { vertices: shape.vertices.map(([lng, lat]) => ({ lat, lng })) } };
  return {
    volume: {
      ...outline,
      altitude_lower: { value: lowerFt, units: "FT" },
      altitude_upper: { value: upperFt, units: "FT" },
    },
    time_start: { value: rfc3339(startS) },
    time_end: { value: rfc3339(endS) },
  };
}

async function fileOperation(app, form) {
  const errors = $("#operation-errors");
  fill(errors);
  const data = new FormData(form);
  const shape = app.drawnShape;
  if (!shape) {
    fill(errors, t("operations.no_shape"));
    return;
  }
  const body = {
    id: String(data.get("id")).trim(),
    kind: data.get("kind"),
    aircraft: String(data.get("aircraft") || "")
      .split(/[\s,]+/)
      .filter(Boolean),
    volumes: [
      volumeOf(shape, Number(data.get("lower")), Number(data.get("upper")), fromInputValue(data.get("start")), fromInputValue(data.get("end"))),
    ],
  };
  const button = $("#operation-file");
  button.disabled = true;
  try {
    const filed = await app.api.post("/v1/operations", body);
    app.lastFiled = filed;
    app.mapView.clearDraw();
    renderOperationForm(app);
    renderResult(app, filed);
    await app.refresh("operations");
  } catch (error) {
    fill(errors, problemLines(error).map((l) => h("div", {}, l)));
    button.disabled = false;
  }
}

function conflictLine(app, c) {
  const what =
    c.kind === "operation"
      ? t("operations.conflict_operation", { party: app.partyName(c.other_party || "?"), op: c.other_operation || t("operations.withheld") })
      : t(`operations.conflict_${c.kind}`, { id: c.boundary || "" });
  const extra = c.kind === "line" && c.reaches_other_side ? ` · ${t("operations.other_side")}` : "";
  return h(
    "li",
    { class: "conflict" },
    h("strong", {}, what + extra),
    h(
      "div",
      { class: "row-facts" },
      c.altitude_lower_ft !== undefined ? h("span", {}, `${num(c.altitude_lower_ft)}–${num(c.altitude_upper_ft)} ft`) : null,
      c.time_start ? h("span", { dir: "ltr" }, `${c.time_start.replace("T", " ")} – ${c.time_end.slice(11)}`) : null,
      c.horizontal_distance_nm !== undefined ? h("span", {}, `${num(c.horizontal_distance_nm, 1)} NM`) : null,
    ),
  );
}

function noticeLine(app, n) {
  const parts = [app.partyName(n.party), ": "];
  if (n.approved_t_s) parts.push(t("operations.approved"), " ", timeEl(n.approved_t_s, app.lang()));
  else if (n.acknowledged_t_s) parts.push(t("operations.acknowledged"), " ", timeEl(n.acknowledged_t_s, app.lang()));
  else parts.push(t("operations.notified"), " · ", t("hotline.deadline"), " ", timeEl(n.deadline_t_s, app.lang(), { date: false }));
  return h("li", { class: n.current ? "" : "expired" }, ...parts);
}

function details(app, op) {
  const conflicts = op.conflicts || [];
  return [
    h(
      "div",
      { class: conflicts.length ? "check bad" : "check ok" },
      conflicts.length ? t("operations.conflicts", { n: conflicts.length }) : t("operations.clear"),
    ),
    conflicts.length ? h("ul", { class: "conflicts" }, conflicts.map((c) => conflictLine(app, c))) : null,
    op.notices?.length
      ? [h("div", { class: "sub" }, t("operations.notices")), h("ul", { class: "notices" }, op.notices.map((n) => noticeLine(app, n)))]
      : null,
  ];
}

export function renderResult(app, op) {
  const box = $("#operation-result");
  fill(
    box,
    h(
      "div",
      { class: "filed" },
      h("strong", { dir: "ltr" }, op.id),
      " ",
      h("span", { class: `state ${op.state}` }, label("opstate", op.state)),
      op.short_notice ? h("span", { class: "badge warn" }, t("operations.short_notice")) : null,
    ),
    details(app, op),
  );
}

async function act(app, op, action) {
  try {
    await app.api.post(`/v1/operations/${encodeURIComponent(op.id)}/${action}`);
    app.toast(t("operations.done", { id: op.id, action: t(`operations.${action}`) }));
    await app.refresh("operations");
  } catch (error) {
    app.toast(problemLines(error).join("; "), "error");
  }
}

function row(app, op) {
  const own = op.party === app.me.party_id;
  const actions = own ? ACTIONS_OWN[op.state] || [] : op.notices?.some((n) => n.party === app.me.party_id && n.current && !n.approved_t_s) ? ["approve"] : [];
  return h(
    "li",
    { class: `operation state-${op.state}${own ? " own" : ""}`, tabindex: 0 },
    h(
      "div",
      {
        class: "row-head",
        onclick: () => app.mapView.fitTo((op.operation?.volumes || []).flatMap((v) => volumeRing(v))),
      },
      h("strong", { dir: "ltr" }, op.id),
      h("span", { class: "party", style: `color:${app.colours.of(op.party)}` }, app.partyName(op.party)),
      h("span", { class: "kind" }, label("opkind", op.kind)),
      h("span", { class: `state ${op.state}` }, label("opstate", op.state)),
      op.short_notice ? h("span", { class: "badge warn" }, t("operations.short_notice")) : null,
    ),
    h("div", { class: "row-facts" }, timeEl(op.time_start_t_s, app.lang(), { seconds: false }), " – ", timeEl(op.time_end_t_s, app.lang(), { seconds: false })),
    h("details", {}, h("summary", {}, t("operations.check_and_notices")), details(app, op)),
    actions.length && app.me.role !== "observer"
      ? h(
          "div",
          { class: "row-actions" },
          actions.map((a) => h("button", { type: "button", class: a === "cancel" ? "secondary" : "", onclick: () => act(app, op, a) }, t(`operations.${a}`))),
        )
      : null,
  );
}

export function renderOperations(app) {
  $("#operations-count").textContent = app.operations.length || "";
  const ol = $("#operations-list");
  if (!app.operations.length) fill(ol, h("li", { class: "empty" }, t("operations.none")));
  else {
    keyedList(
      ol,
      app.operations,
      (o) => `${o.party}/${o.id}`,
      (o) => JSON.stringify([o.version, o.state, o.updated_t_s, o.notices, app.lang()]),
      (o) => row(app, o),
    );
  }
}
