// Incidents: the registry as this party may see it, a detail view with the evidence
// on a small map (the track excerpts), remarks, and "turn into a complaint".
import { problemLines } from "../api.js";
import { label, t } from "../i18n.js";
import { evidenceMap } from "../map.js";
import { timeEl } from "../time.js";
import { $, fill, h, keyedList, num } from "../util.js";

const COMPLAINABLE = new Set(["line_violation", "zone_incursion"]);

export function sortedIncidents(app) {
  return [...app.incidents.values()].sort(
    (a, b) => Number(b.ongoing) - Number(a.ongoing) || b.start_t_s - a.start_t_s || b.id - a.id,
  );
}

/** Where to mark each incident on the map: its deepest point or closest approach. */
export function incidentMarkers(app) {
  const out = [];
  for (const inc of app.incidents.values()) {
    const side = inc.aircraft.find((s) => s.party === inc.party_id) || inc.aircraft[0];
    const p = side?.point;
    if (!p) continue;
    out.push({ id: inc.id, at: [p.lon_deg, p.lat_deg], ongoing: !!inc.ongoing, label: `#${inc.id}` });
  }
  return out;
}

function canComplain(app, inc) {
  return (
    app.me.role !== "observer" &&
    COMPLAINABLE.has(inc.kind) &&
    inc.party_id !== app.me.party_id &&
    (inc.status === "open" || inc.status === "disputed")
  );
}

function summary(app, inc) {
  const side = inc.aircraft.find((s) => s.party === inc.party_id) || inc.aircraft[0];
  return h(
    "div",
    { class: "row-facts" },
    h("span", {}, t("incidents.party", { party: app.partyName(inc.party_id) })),
    side?.id ? h("bdi", {}, side.id) : null,
    inc.boundary_id ? h("span", {}, t("incidents.boundary", { id: inc.boundary_id })) : null,
    inc.severity_nm !== null && inc.severity_nm !== undefined ? h("span", {}, t("incidents.depth", { nm: num(inc.severity_nm, 1) })) : null,
  );
}

function row(app, inc) {
  return h(
    "li",
    {
      class: `incident status-${inc.status}${inc.ongoing ? " ongoing" : ""}${app.selectedIncident === inc.id ? " selected" : ""}`,
      tabindex: 0,
      onclick: () => showIncident(app, inc.id),
      onkeydown: (e) => {
        if (e.key === "Enter") showIncident(app, inc.id);
      },
    },
    h(
      "div",
      { class: "row-head" },
      h("span", { class: "msg-id", dir: "ltr" }, `#${inc.id}`),
      h("span", { class: "kind" }, label("incident", inc.kind)),
      h("span", { class: `status ${inc.status}` }, label("status", inc.status)),
      inc.ongoing ? h("span", { class: "live" }, t("incidents.ongoing")) : null,
      timeEl(inc.start_t_s, app.lang()),
    ),
    summary(app, inc),
  );
}

export function renderIncidents(app) {
  const items = sortedIncidents(app);
  $("#incidents-count").textContent = items.filter((i) => i.ongoing || i.status === "open").length || "";
  const ol = $("#incidents-list");
  if (!items.length) fill(ol, h("li", { class: "empty" }, t("incidents.none")));
  else {
    keyedList(
      ol,
      items,
      (i) => i.id,
      (i) => JSON.stringify([i.status, i.ongoing, i.updated_t_s, i.remarks.length, app.selectedIncident === i.id, app.lang()]),
      (i) => row(app, i),
    );
  }
  if (app.selectedIncident !== null && app.selectedIncident !== undefined) renderDetail(app);
}

export function showIncident(app, id) {
  app.selectedIncident = id;
  app.showTab("incidents");
  app.invalidate("incidents");
  const inc = app.incidents.get(id);
  const at = incidentMarkers(app).find((m) => m.id === id);
  if (inc && at) app.mapView.flyTo(at.at, 7);
}

function closeDetail(app) {
  app.selectedIncident = null;
  app.evidence?.remove();
  app.evidence = null;
  app.evidenceKey = null;
  const detail = $("#incident-detail");
  detail.hidden = true;
  fill(detail);
  app.invalidate("incidents");
}

function evidenceOf(app, inc) {
  const tracks = [];
  for (const [party, byAircraft] of Object.entries(inc.evidence?.tracks || {})) {
    for (const [id, points] of Object.entries(byAircraft)) {
      tracks.push({ party, label: id, coords: points.map(([, lat, lon]) => [lon, lat]) });
    }
  }
  const points = inc.aircraft
    .filter((s) => s.point)
    .map((s) => ({ party: s.party, at: [s.point.lon_deg, s.point.lat_deg], label: s.id || app.partyName(s.party) }));
  return { tracks, points };
}

function renderDetail(app) {
  const inc = app.incidents.get(app.selectedIncident);
  const detail = $("#incident-detail");
  if (!inc) {
    closeDetail(app);
    return;
  }
  // Rebuilt when something a reader acts on changes, not on every update of an
  // ongoing incident (each rebuild is a new map).
  const key = JSON.stringify([inc.id, inc.ongoing, inc.status, inc.remarks.length, app.lang()]);
  if (app.evidenceKey === key) return;
  app.evidenceKey = key;
  app.evidence?.remove();
  const mapBox = h("div", { class: "evidence-map", id: "evidence-map" });
  const remarkInput = h("textarea", { rows: 2, dir: "auto", id: "remark-text" });
  const errors = h("div", { class: "errors", role: "alert" });
  const complain = canComplain(app, inc)
    ? h(
        "button",
        {
          type: "button",
          id: "complain",
          onclick: async (e) => {
            e.target.disabled = true;
            try {
              const message = await app.api.post(`/v1/incidents/${inc.id}/complaint`, {});
              app.toast(t("incidents.complained", { id: message.id }));
              await Promise.all([app.refresh("incidents"), app.refresh("messages")]);
            } catch (error) {
              fill(errors, problemLines(error).map((l) => h("div", {}, l)));
              e.target.disabled = false;
            }
          },
        },
        t("incidents.complain"),
      )
    : null;
  const window = inc.evidence?.window_t_s || [];
  fill(
    detail,
    h(
      "div",
      { class: "detail-head" },
      h("h3", {}, `#${inc.id} `, label("incident", inc.kind)),
      h("button", { type: "button", class: "secondary small", onclick: () => closeDetail(app) }, t("common.close")),
    ),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, t("incidents.status")),
      h("dd", {}, label("status", inc.status)),
      h("dt", {}, t("incidents.at_fault")),
      h("dd", {}, app.partyName(inc.party_id)),
      h("dt", {}, t("incidents.start")),
      h("dd", {}, timeEl(inc.start_t_s, app.lang())),
      h("dt", {}, t("incidents.end")),
      h("dd", {}, inc.end_t_s ? timeEl(inc.end_t_s, app.lang()) : t("incidents.ongoing")),
      inc.boundary_id ? [h("dt", {}, t("incidents.boundary_label")), h("dd", {}, inc.boundary_id)] : null,
      h("dt", {}, t("incidents.depth_label")),
      h("dd", {}, `${num(inc.severity_nm, 2)} NM`),
      h("dt", {}, t("incidents.aircraft")),
      h(
        "dd",
        {},
        inc.aircraft.map((s) =>
          h("div", {}, h("bdi", {}, s.id || t("alerts.reduced", { party: app.partyName(s.party) })), s.point ? ` · FL${Math.round((s.point.alt_ft || 0) / 100)}` : ""),
        ),
      ),
      window.length === 2 ? [h("dt", {}, t("incidents.evidence_window")), h("dd", {}, timeEl(window[0], app.lang()), " – ", timeEl(window[1], app.lang()))] : null,
    ),
    mapBox,
    h("p", { class: "hint" }, Object.keys(inc.evidence?.tracks || {}).length ? t("incidents.evidence_hint") : t("incidents.evidence_reduced")),
    inc.remarks.length
      ? h(
          "ol",
          { class: "remarks-list" },
          inc.remarks.map((r) => h("li", {}, h("strong", {}, app.partyName(r.party)), " ", timeEl(r.t_s, app.lang()), h("div", { dir: "auto" }, r.text))),
        )
      : null,
    h(
      "div",
      { class: "row-actions" },
      complain,
      app.me.role !== "observer"
        ? h(
            "form",
            {
              class: "remark-form",
              onsubmit: async (e) => {
                e.preventDefault();
                const text = remarkInput.value.trim();
                if (!text) return;
                try {
                  const updated = await app.api.post(`/v1/incidents/${inc.id}/remarks`, { text });
                  app.incidents.set(updated.id, updated);
                  app.invalidate("incidents");
                } catch (error) {
                  fill(errors, problemLines(error).map((l) => h("div", {}, l)));
                }
              },
            },
            h("label", { for: "remark-text" }, t("incidents.remark")),
            remarkInput,
            h("button", { type: "submit", class: "secondary" }, t("incidents.add_remark")),
          )
        : null,
    ),
    errors,
  );
  detail.hidden = false;
  const { tracks, points } = evidenceOf(app, inc);
  app.evidence = evidenceMap(mapBox, { base: app.base, geometry: app.protocol?.geometry, colours: app.colours, tracks, points });
}
