// Incidents: the registry as this party may see it, a detail view with the evidence
// on a small map (the track excerpts), remarks, and "turn into a complaint".
import { problemLines } from "../api.js";
import { label, t } from "../i18n.js";
import { evidenceMap } from "../map.js";
import { boundaryName, depthTexts, incidentMarkers, incidentSide, partyName, sortedIncidents } from "../selectors.js";
import { timeEl } from "../time.js";
import { $, fill, h, keyedList } from "../util.js";

const COMPLAINABLE = new Set(["line_violation", "zone_incursion"]);

// The detail's evidence map, rebuilt only when what it shows changes (each is a new
// map): a view's own resource, not state.
const evidence = { map: null, key: null };

/** The evidence map shown in the detail, or null (for the tests). */
export function evidenceMapShown() {
  return evidence.map;
}

function canComplain(state, inc) {
  return (
    state.me.role !== "observer" &&
    COMPLAINABLE.has(inc.kind) &&
    inc.party_id !== state.me.party_id &&
    (inc.status === "open" || inc.status === "disputed")
  );
}

/** A loss of separation has two parties and no offender: both are named. */
function partiesText(state, inc) {
  if (inc.kind !== "loss_of_separation") return t("incidents.party", { party: partyName(state, inc.party_id) });
  const parties = [...new Set([...inc.aircraft.map((s) => s.party), inc.party_id, ...(inc.involved || [])])];
  const [a, b] = parties.map((p) => partyName(state, p));
  return b ? t("incidents.between", { a, b }) : partyName(state, inc.party_id);
}

function summary(state, inc) {
  const ids = inc.kind === "loss_of_separation" ? inc.aircraft.map((s) => s.id).filter(Boolean) : [incidentSide(inc)?.id].filter(Boolean);
  return h(
    "div",
    { class: "row-facts" },
    h("span", {}, partiesText(state, inc)),
    ids.map((id) => h("bdi", {}, id)),
    inc.boundary_id ? h("span", {}, t("incidents.boundary", { id: boundaryName(state, inc.boundary_id) })) : null,
    depthTexts(inc).map((text) => h("span", {}, text)),
  );
}

function row(ctx, inc) {
  const state = ctx.store.state;
  return h(
    "li",
    {
      class: `incident status-${inc.status}${inc.ongoing ? " ongoing" : ""}${state.selectedIncident === inc.id ? " selected" : ""}`,
      tabindex: 0,
      onclick: () => showIncident(ctx, inc.id),
      onkeydown: (e) => {
        if (e.key === "Enter") showIncident(ctx, inc.id);
      },
    },
    h(
      "div",
      { class: "row-head" },
      h("span", { class: "msg-id", dir: "ltr" }, `#${inc.id}`),
      h("span", { class: "kind" }, label("incident", inc.kind)),
      h("span", { class: `status ${inc.status}` }, label("status", inc.status)),
      inc.ongoing ? h("span", { class: "live" }, t("incidents.ongoing")) : null,
      timeEl(inc.start_t_s, state.lang),
    ),
    summary(state, inc),
  );
}

export function renderIncidents(ctx) {
  const state = ctx.store.state;
  const items = sortedIncidents(state);
  $("#incidents-count").textContent = items.filter((i) => i.ongoing || i.status === "open").length || "";
  const ol = $("#incidents-list");
  if (!items.length) fill(ol, h("li", { class: "empty" }, t("incidents.none")));
  else {
    keyedList(
      ol,
      items,
      (i) => i.id,
      (i) =>
        JSON.stringify([i.status, i.ongoing, i.updated_t_s, i.remarks.length, state.selectedIncident === i.id, state.lang, state.protocol?.party_names]),
      (i) => row(ctx, i),
    );
  }
  renderDetail(ctx);
}

export function showIncident(ctx, id) {
  ctx.store.dispatch({ type: "incident/selected", id });
  ctx.showTab("incidents");
  const at = incidentMarkers(ctx.store.state).find((m) => m.id === id);
  if (at) ctx.mapView.flyTo(at.at, 7);
}

function closeDetail(ctx) {
  ctx.store.dispatch({ type: "incident/selected", id: null });
}

function evidenceOf(state, inc) {
  const tracks = [];
  for (const [party, byAircraft] of Object.entries(inc.evidence?.tracks || {})) {
    for (const [id, points] of Object.entries(byAircraft)) {
      tracks.push({ party, label: id, coords: points.map(([, lat, lon]) => [lon, lat]) });
    }
  }
  const points = inc.aircraft
    .filter((s) => s.point)
    .map((s) => ({ party: s.party, at: [s.point.lon_deg, s.point.lat_deg], label: s.id || partyName(state, s.party) }));
  return { tracks, points };
}

function complainButton(ctx, inc, errors) {
  return h(
    "button",
    {
      type: "button",
      id: "complain",
      onclick: async (e) => {
        e.target.disabled = true;
        try {
          const message = await ctx.api.post(`/v1/incidents/${inc.id}/complaint`, {});
          ctx.toast(t("incidents.complained", { id: message.id }));
          await Promise.all([ctx.refresh("incidents"), ctx.refresh("messages")]);
        } catch (error) {
          fill(errors, problemLines(error).map((l) => h("div", {}, l)));
          e.target.disabled = false;
        }
      },
    },
    t("incidents.complain"),
  );
}

function remarkForm(ctx, inc, errors) {
  const remarkInput = h("textarea", { rows: 2, dir: "auto", id: "remark-text" });
  return h(
    "form",
    {
      class: "remark-form",
      onsubmit: async (e) => {
        e.preventDefault();
        const text = remarkInput.value.trim();
        if (!text) return;
        try {
          const updated = await ctx.api.post(`/v1/incidents/${inc.id}/remarks`, { text });
          ctx.store.dispatch({ type: "incident/changed", incident: updated });
        } catch (error) {
          fill(errors, problemLines(error).map((l) => h("div", {}, l)));
        }
      },
    },
    h("label", { for: "remark-text" }, t("incidents.remark")),
    remarkInput,
    h("button", { type: "submit", class: "secondary" }, t("incidents.add_remark")),
  );
}

function facts(state, inc) {
  const lang = state.lang;
  const span = inc.evidence?.window_t_s || [];
  return h(
    "dl",
    { class: "facts" },
    h("dt", {}, t("incidents.status")),
    h("dd", {}, label("status", inc.status)),
    inc.kind === "loss_of_separation"
      ? [h("dt", {}, t("incidents.parties")), h("dd", {}, partiesText(state, inc))]
      : [h("dt", {}, t("incidents.at_fault")), h("dd", {}, partyName(state, inc.party_id))],
    h("dt", {}, t("incidents.start")),
    h("dd", {}, timeEl(inc.start_t_s, lang)),
    h("dt", {}, t("incidents.end")),
    h("dd", {}, inc.end_t_s ? timeEl(inc.end_t_s, lang) : t("incidents.ongoing")),
    inc.boundary_id ? [h("dt", {}, t("incidents.boundary_label")), h("dd", {}, boundaryName(state, inc.boundary_id))] : null,
    h("dt", {}, t(inc.kind === "loss_of_separation" ? "incidents.closest_label" : "incidents.deepest_label")),
    h("dd", {}, depthTexts(inc, 2).join(" · ")),
    h("dt", {}, t("incidents.aircraft")),
    h(
      "dd",
      {},
      inc.aircraft.map((s) =>
        h("div", {}, h("bdi", {}, s.id || t("alerts.reduced", { party: partyName(state, s.party) })), s.point ? ` · FL${Math.round((s.point.alt_ft || 0) / 100)}` : ""),
      ),
    ),
    span.length === 2 ? [h("dt", {}, t("incidents.evidence_window")), h("dd", {}, timeEl(span[0], lang), " – ", timeEl(span[1], lang))] : null,
  );
}

function renderDetail(ctx) {
  const state = ctx.store.state;
  const inc = state.selectedIncident === null ? null : state.incidents.get(state.selectedIncident);
  const detail = $("#incident-detail");
  if (!inc) {
    evidence.map?.remove();
    Object.assign(evidence, { map: null, key: null });
    detail.hidden = true;
    fill(detail);
    return;
  }
  // Rebuilt when something a reader acts on changes, not on every update of an
  // ongoing incident (each rebuild is a new map).
  const key = JSON.stringify([inc.id, inc.ongoing, inc.status, inc.remarks.length, state.lang, state.protocol?.version]);
  if (evidence.key === key) return;
  evidence.map?.remove();
  evidence.key = key;
  const mapBox = h("div", { class: "evidence-map", id: "evidence-map" });
  const errors = h("div", { class: "errors", role: "alert" });
  fill(
    detail,
    h(
      "div",
      { class: "detail-head" },
      h("h3", {}, `#${inc.id} `, label("incident", inc.kind)),
      h("button", { type: "button", class: "secondary small", onclick: () => closeDetail(ctx) }, t("common.close")),
    ),
    facts(state, inc),
    mapBox,
    h("p", { class: "hint" }, Object.keys(inc.evidence?.tracks || {}).length ? t("incidents.evidence_hint") : t("incidents.evidence_reduced")),
    inc.remarks.length
      ? h(
          "ol",
          { class: "remarks-list" },
          inc.remarks.map((r) => h("li", {}, h("strong", {}, partyName(state, r.party)), " ", timeEl(r.t_s, state.lang), h("div", { dir: "auto" }, r.text))),
        )
      : null,
    h(
      "div",
      { class: "row-actions" },
      canComplain(state, inc) ? complainButton(ctx, inc, errors) : null,
      state.me.role !== "observer" ? remarkForm(ctx, inc, errors) : null,
    ),
    errors,
  );
  detail.hidden = false;
  const { tracks, points } = evidenceOf(state, inc);
  evidence.map = evidenceMap(mapBox, {
    base: ctx.base,
    geometry: state.protocol?.geometry,
    colours: ctx.colours,
    tracks,
    points,
    countryName: (name) => label("country", name),
  });
}
