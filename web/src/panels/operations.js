// Planned operations: the list (own, and the others' from `plans` up), filing one
// drawn on the map (polygon or circle) with altitudes and times, the check result
// and the notices; activate, end, cancel, approve.
import { problemLines } from "../api.js";
import { label, number, t, unit } from "../i18n.js";
import { volumeRing } from "../map.js";
import { boundaryName, partyName } from "../selectors.js";
import { clock, parseUtcField, rfc3339, timeEl, utcFieldText, utcText } from "../time.js";
import { $, fill, h, keyedList } from "../util.js";

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

function shapeText(shape) {
  if (!shape) return t("operations.no_shape");
  if (shape.type === "circle") {
    return t("operations.circle", { nm: unit("nm", shape.radiusNm, 1), lat: number(shape.centre[1], 3), lon: number(shape.centre[0], 3) });
  }
  return t("operations.polygon", { n: shape.vertices.length });
}

/** The shape drawn so far (state.draw), under the form's heading. */
export function renderShape(ctx) {
  const { shape, drawing } = ctx.store.state.draw;
  const el = $("#operation-shape");
  if (el) el.textContent = drawing ? `${t("operations.drawing")} ${shape ? shapeText(shape) : ""}` : shapeText(shape);
  const submit = $("#operation-file");
  if (submit) submit.disabled = drawing || !shape;
}

function input(name, attrs) {
  return h("input", { name, id: `op-${name}`, ...attrs });
}

function field(name, text, control) {
  return h("div", { class: "field" }, h("label", { for: control.id }, text), control);
}

const TIME_PLACEHOLDER = "YYYY-MM-DD HH:MMZ";

function timeInput(name, tS) {
  return input(name, {
    type: "text",
    value: utcFieldText(tS),
    required: true,
    dir: "ltr",
    placeholder: TIME_PLACEHOLDER,
    autocomplete: "off",
    spellcheck: "false",
    inputmode: "numeric",
    class: "utc-time",
  });
}

export function renderOperationForm(ctx) {
  const state = ctx.store.state;
  const form = $("#operation-form");
  const now = clock.now();
  const start = Math.ceil((now + 2 * 3600) / 300) * 300;
  const defaultId = `${state.me.party_id.toUpperCase()}-${utcText(now, { date: false, seconds: false }).replace(":", "").replace("Z", "")}`;
  fill(
    form,
    h("h3", {}, t("operations.file")),
    h("p", { class: "hint" }, t("operations.draw_hint")),
    h("div", { class: "shape", id: "operation-shape", role: "status" }, ""),
    field("id", t("operations.id"), input("id", { type: "text", value: defaultId, required: true, dir: "ltr" })),
    field("kind", t("operations.kind"), h("select", { name: "kind", id: "op-kind" }, KINDS.map((k) => h("option", { value: k }, label("opkind", k))))),
    h(
      "div",
      { class: "field-row" },
      field("lower", t("operations.lower_ft"), input("lower", { type: "number", value: "15000", step: 500, required: true })),
      field("upper", t("operations.upper_ft"), input("upper", { type: "number", value: "25000", step: 500, required: true })),
    ),
    h(
      "div",
      { class: "field-row" },
      field("start", t("operations.start_utc"), timeInput("start", start)),
      field("end", t("operations.end_utc"), timeInput("end", start + 2 * 3600)),
    ),
    field("aircraft", t("operations.aircraft"), input("aircraft", { type: "text", placeholder: "VIPER11, VIPER12", dir: "ltr" })),
    h(
      "div",
      { class: "form-actions" },
      h("button", { type: "submit", id: "operation-file", disabled: true }, t("operations.submit")),
      h("button", { type: "button", class: "secondary", onclick: () => ctx.mapView.clearDraw() }, t("operations.clear_shape")),
    ),
    h("div", { class: "errors", id: "operation-errors", role: "alert" }),
  );
  renderShape(ctx);
  form.onsubmit = (e) => {
    e.preventDefault();
    fileOperation(ctx, form);
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

/** The times of the form, or the problems with them (named by their labels). */
function formTimes(data) {
  const startS = parseUtcField(data.get("start"));
  const endS = parseUtcField(data.get("end"));
  const problems = [];
  if (Number.isNaN(startS)) problems.push(t("form.bad_time", { field: t("operations.start_utc"), example: TIME_PLACEHOLDER }));
  if (Number.isNaN(endS)) problems.push(t("form.bad_time", { field: t("operations.end_utc"), example: TIME_PLACEHOLDER }));
  return { startS, endS, problems };
}

async function fileOperation(ctx, form) {
  const errors = $("#operation-errors");
  fill(errors);
  const data = new FormData(form);
  const { shape, drawing } = ctx.store.state.draw;
  if (!shape || drawing) {
    fill(errors, t("operations.no_shape"));
    return;
  }
  const { startS, endS, problems } = formTimes(data);
  if (problems.length) {
    fill(errors, problems.map((p) => h("div", {}, p)));
    return;
  }
  const body = {
    id: String(data.get("id")).trim(),
    kind: data.get("kind"),
    aircraft: String(data.get("aircraft") || "")
      .split(/[\s,]+/)
      .filter(Boolean),
    volumes: [
      volumeOf(shape, Number(data.get("lower")), Number(data.get("upper")), startS, endS),
    ],
  };
  const button = $("#operation-file");
  button.disabled = true;
  try {
    const filed = await ctx.api.post("/v1/operations", body);
    ctx.store.dispatch({ type: "operation/filed", operation: filed });
    ctx.mapView.clearDraw();
    renderOperationForm(ctx);
    await ctx.refresh("operations");
  } catch (error) {
    fill(errors, problemLines(error).map((l) => h("div", {}, l)));
    button.disabled = false;
  }
}

/** "2017-12-13 10:00Z – 12:00Z" from the check's RFC 3339 times (the day once if the same). */
function periodText(startText, endText) {
  const start = Date.parse(startText) / 1000;
  const end = Date.parse(endText) / 1000;
  if (Number.isNaN(start) || Number.isNaN(end)) return `${startText} – ${endText}`;
  const sameDay = utcText(start).slice(0, 10) === utcText(end).slice(0, 10);
  return `${utcText(start, { seconds: false })} – ${utcText(end, { seconds: false, date: !sameDay })}`;
}

function conflictLine(state, c) {
  const what =
    c.kind === "operation"
      ? t("operations.conflict_operation", { party: partyName(state, c.other_party || "?"), op: c.other_operation || t("operations.withheld") })
      : t(`operations.conflict_${c.kind}`, { id: c.boundary ? boundaryName(state, c.boundary) : "" });
  const extra = c.kind === "line" && c.reaches_other_side ? ` · ${t("operations.other_side")}` : "";
  return h(
    "li",
    { class: "conflict" },
    h("strong", {}, what + extra),
    h(
      "div",
      { class: "row-facts" },
      c.altitude_lower_ft !== undefined
        ? h("span", {}, t("operations.altitudes", { lower: unit("ft", c.altitude_lower_ft), upper: unit("ft", c.altitude_upper_ft) }))
        : null,
      c.time_start ? h("span", { dir: "ltr", class: "t" }, periodText(c.time_start, c.time_end)) : null,
      c.horizontal_distance_nm !== undefined ? h("span", {}, unit("nm", c.horizontal_distance_nm, 1)) : null,
    ),
  );
}

function noticeLine(state, n) {
  const parts = [partyName(state, n.party), ": "];
  if (n.approved_t_s) parts.push(t("operations.approved"), " ", timeEl(n.approved_t_s, state.lang));
  else if (n.acknowledged_t_s) parts.push(t("operations.acknowledged"), " ", timeEl(n.acknowledged_t_s, state.lang));
  else parts.push(t("operations.notified"), " · ", t("hotline.deadline"), " ", timeEl(n.deadline_t_s, state.lang, { date: false }));
  return h("li", { class: n.current ? "" : "expired" }, ...parts);
}

function details(state, op) {
  const conflicts = op.conflicts || [];
  return [
    h(
      "div",
      { class: conflicts.length ? "check bad" : "check ok" },
      conflicts.length ? t("operations.conflicts", { n: conflicts.length }) : t("operations.clear"),
    ),
    conflicts.length ? h("ul", { class: "conflicts" }, conflicts.map((c) => conflictLine(state, c))) : null,
    op.notices?.length
      ? [h("div", { class: "sub" }, t("operations.notices")), h("ul", { class: "notices" }, op.notices.map((n) => noticeLine(state, n)))]
      : null,
  ];
}

/** The check result of the operation this console filed last (state.lastFiled). */
export function renderResult(ctx) {
  const state = ctx.store.state;
  const box = $("#operation-result");
  const op = state.lastFiled;
  if (!op) {
    fill(box);
    return;
  }
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
    details(state, op),
  );
}

async function act(ctx, op, action) {
  try {
    await ctx.api.post(`/v1/operations/${encodeURIComponent(op.id)}/${action}`);
    ctx.toast(t("operations.done", { id: op.id, action: t(`operations.${action}`) }));
    await ctx.refresh("operations");
  } catch (error) {
    ctx.toast(problemLines(error).join("; "), "error");
  }
}

function row(ctx, op) {
  const state = ctx.store.state;
  const me = state.me.party_id;
  const own = op.party === me;
  const actions = own ? ACTIONS_OWN[op.state] || [] : op.notices?.some((n) => n.party === me && n.current && !n.approved_t_s) ? ["approve"] : [];
  return h(
    "li",
    { class: `operation state-${op.state}${own ? " own" : ""}`, tabindex: 0 },
    h(
      "div",
      {
        class: "row-head",
        onclick: () => ctx.mapView.fitTo((op.operation?.volumes || []).flatMap((v) => volumeRing(v))),
      },
      h("strong", { dir: "ltr" }, op.id),
      h("span", { class: "party", style: `color:${ctx.colours.of(op.party)}` }, partyName(state, op.party)),
      h("span", { class: "kind" }, label("opkind", op.kind)),
      h("span", { class: `state ${op.state}` }, label("opstate", op.state)),
      op.short_notice ? h("span", { class: "badge warn" }, t("operations.short_notice")) : null,
    ),
    h("div", { class: "row-facts" }, timeEl(op.time_start_t_s, state.lang, { seconds: false }), " – ", timeEl(op.time_end_t_s, state.lang, { seconds: false })),
    h("details", {}, h("summary", {}, t("operations.check_and_notices")), details(state, op)),
    actions.length && state.me.role !== "observer"
      ? h(
          "div",
          { class: "row-actions" },
          actions.map((a) => h("button", { type: "button", class: a === "cancel" ? "secondary" : "", onclick: () => act(ctx, op, a) }, t(`operations.${a}`))),
        )
      : null,
  );
}

export function renderOperations(ctx) {
  const state = ctx.store.state;
  $("#operations-count").textContent = state.operations.length || "";
  const ol = $("#operations-list");
  if (!state.operations.length) fill(ol, h("li", { class: "empty" }, t("operations.none")));
  else {
    keyedList(
      ol,
      state.operations,
      (o) => `${o.party}/${o.id}`,
      (o) => JSON.stringify([o.version, o.state, o.updated_t_s, o.notices, state.lang, state.protocol?.party_names]),
      (o) => row(ctx, o),
    );
  }
  renderResult(ctx);
}
