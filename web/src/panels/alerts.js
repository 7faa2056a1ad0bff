// Conflict alerts: sorted by urgency, acknowledged here (the API has no alert
// acknowledgement: an alert concerns both parties and clears by itself; what the
// duty officer acknowledges is having seen it, kept per party in localStorage).
// A warning not yet acknowledged flashes the screen and beeps.
import { label, t } from "../i18n.js";
import { levelColour } from "../map.js";
import { clock, countdownText, timeEl } from "../time.js";
import { $, fill, h, keyedList, num } from "../util.js";

export const LEVEL_RANK = { conflict: 1, advisory: 2, warning: 3 };
const CLEARED_SHOWN = 10;

function ackKey(app) {
  return `dcf.acks.${app.me.party_id}`;
}

export function loadAcks(app) {
  try {
    app.acks = JSON.parse(localStorage.getItem(ackKey(app)) || "{}");
  } catch {
    app.acks = {};
  }
}

function saveAcks(app) {
  // Keep only alerts still known: the store does not grow forever.
  const kept = {};
  for (const [id, rank] of Object.entries(app.acks)) if (app.alerts.has(id)) kept[id] = rank;
  app.acks = kept;
  localStorage.setItem(ackKey(app), JSON.stringify(kept));
}

/** Acknowledged at its present level (a later escalation needs a new acknowledgement). */
export function isAcknowledged(app, alert) {
  return (app.acks[alert.id] || 0) >= (LEVEL_RANK[alert.level] || 1);
}

export function acknowledge(app, alertId) {
  const alert = app.alerts.get(alertId);
  if (!alert) return;
  app.acks[alertId] = LEVEL_RANK[alert.level] || 1;
  saveAcks(app);
  app.invalidate("alerts");
}

/** The caller's side and the other side of an alert. */
export function sidesOf(app, alert) {
  const own = alert.aircraft.find((s) => s.party === app.me.party_id) || alert.aircraft[0];
  const other = alert.aircraft.find((s) => s !== own) || alert.aircraft[1];
  return { own, other };
}

/** When the closest approach is due, on the server's clock. */
export function cpaAt(alert) {
  return alert.updated_t_s + (alert.tcpa_s || 0);
}

export function sortedAlerts(app) {
  const active = [];
  const cleared = [];
  for (const a of app.alerts.values()) (a.active ? active : cleared).push(a);
  active.sort(
    (x, y) =>
      (LEVEL_RANK[y.level] || 0) - (LEVEL_RANK[x.level] || 0) ||
      Number(isAcknowledged(app, x)) - Number(isAcknowledged(app, y)) ||
      cpaAt(x) - cpaAt(y),
  );
  cleared.sort((x, y) => (y.cleared_t_s || 0) - (x.cleared_t_s || 0));
  return { active, cleared: cleared.slice(0, CLEARED_SHOWN) };
}

/** The most urgent active alert not yet acknowledged. */
export function topUnacknowledged(app) {
  return sortedAlerts(app).active.find((a) => !isAcknowledged(app, a)) || null;
}

export function alarmLevel(app) {
  const top = topUnacknowledged(app);
  return top ? top.level : null;
}

function aircraftName(app, side) {
  if (side.id) return side.id;
  return t("alerts.reduced", { party: app.partyName(side.party) });
}

function positionOf(app, side) {
  const live = side.id ? app.tracks.get(`${side.party}/${side.id}`) : null;
  if (live) return [live.lon, live.lat];
  if (side.lat_deg !== undefined && side.lon_deg !== undefined) return [side.lon_deg, side.lat_deg];
  return null;
}

/** Lines for the map: the caller's aircraft to the other (or to the CPA when reduced). */
export function pairsForMap(app) {
  const now = clock.now();
  const out = [];
  for (const a of app.alerts.values()) {
    if (!a.active) continue;
    const { own, other } = sidesOf(app, a);
    const from = positionOf(app, own);
    const cpa = own.cpa ? [own.cpa.lon_deg, own.cpa.lat_deg] : null;
    const to = positionOf(app, other) || (other.cpa ? [other.cpa.lon_deg, other.cpa.lat_deg] : null);
    if (!from || !to) continue;
    const left = Math.max(0, cpaAt(a) - now);
    out.push({
      id: a.id,
      level: a.level,
      from,
      to,
      cpa,
      cpaAt: cpaAt(a),
      acknowledged: isAcknowledged(app, a),
      label: `CPA ${countdownText(left)} · ${num(a.dcpa_nm, 1)} NM`,
    });
  }
  return out;
}

function row(app, alert) {
  const { own, other } = sidesOf(app, alert);
  const acked = isAcknowledged(app, alert);
  const li = h(
    "li",
    {
      class: `alert level-${alert.level}${alert.active ? "" : " cleared"}${acked ? " acked" : " unacked"}`,
      tabindex: 0,
      onclick: (e) => {
        if (e.target.closest("button")) return;
        app.focusAlert(alert);
      },
      onkeydown: (e) => {
        if (e.key === "Enter") app.focusAlert(alert);
      },
    },
    h(
      "div",
      { class: "row-head" },
      h("span", { class: "level", style: `background:${levelColour(alert.level)}` }, label("level", alert.level)),
      h("bdi", { class: "pair" }, `${aircraftName(app, own)} ↔ ${aircraftName(app, other)}`),
      alert.active
        ? h("span", { class: "tcpa", dir: "ltr", "data-cpa-at": String(cpaAt(alert)) }, "")
        : h("span", { class: "state" }, t("alerts.cleared")),
    ),
    h(
      "div",
      { class: "row-facts" },
      h("span", {}, t("alerts.dcpa", { nm: num(alert.dcpa_nm, 1) })),
      h("span", {}, t("alerts.dalt", { ft: num(alert.dalt_ft_at_cpa, 0) })),
      h("span", {}, t("alerts.raised"), " ", timeEl(alert.raised_t_s, app.lang())),
    ),
    alert.active
      ? h(
          "div",
          { class: "row-actions" },
          acked
            ? h("span", { class: "ok" }, "✓ ", t("alerts.acknowledged"))
            : h(
                "button",
                {
                  type: "button",
                  class: "ack",
                  onclick: () => acknowledge(app, alert.id),
                  title: t("alerts.ack_hint"),
                },
                t("alerts.ack"),
              ),
        )
      : null,
  );
  return li;
}

export function renderAlerts(app) {
  const { active, cleared } = sortedAlerts(app);
  const ol = $("#alerts-list");
  const items = [...active, ...cleared];
  const pending = active.filter((a) => !isAcknowledged(app, a)).length;
  $("#alerts-count").textContent = active.length ? `${active.length}${pending ? ` / ${pending}!` : ""}` : "";
  if (!items.length) {
    fill(ol, h("li", { class: "empty" }, t("alerts.none")));
    return;
  }
  keyedList(
    ol,
    items,
    (a) => a.id,
    (a) => [a.level, a.active, isAcknowledged(app, a), a.dcpa_nm.toFixed(1), a.dalt_ft_at_cpa.toFixed(0), app.lang()].join("|"),
    (a) => row(app, a),
  );
  // A row is kept while only the prediction moves: its countdown follows the newest CPA.
  for (const a of active) {
    const el = ol.querySelector(`li[data-key="${CSS.escape(a.id)}"] [data-cpa-at]`);
    if (el) el.dataset.cpaAt = String(cpaAt(a));
  }
  tickAlerts();
}

/** Once a second: the countdowns to CPA. */
export function tickAlerts() {
  const now = clock.now();
  for (const el of document.querySelectorAll("#alerts-list [data-cpa-at], .pair-label [data-cpa-at]")) {
    const left = Number(el.dataset.cpaAt) - now;
    el.textContent = `CPA ${countdownText(Math.max(0, left))}`;
  }
}
