// Conflict alerts: sorted by urgency, acknowledged here (the API has no alert
// acknowledgement: an alert concerns both parties and clears by itself; what the
// duty officer acknowledges is having seen it, kept per party in localStorage).
// A warning not yet acknowledged flashes the screen and beeps.
import { ownGuidance } from "../guidance.js";
import { label, t, unit } from "../i18n.js";
import { levelColour } from "../map.js";
import { alertFigures, cpaAt, isAcknowledged, partyName, sidesOf, sortedAlerts } from "../selectors.js";
import { clock, countdownText, timeEl } from "../time.js";
import { $, fill, h, keyedList } from "../util.js";

function ackKey(partyId) {
  return `dcf.acks.${partyId}`;
}

/** The acknowledgements this console kept for a party. */
export function loadAcks(partyId) {
  try {
    return JSON.parse(localStorage.getItem(ackKey(partyId)) || "{}");
  } catch {
    return {};
  }
}

export function saveAcks(partyId, acks) {
  localStorage.setItem(ackKey(partyId), JSON.stringify(acks));
}

export function acknowledge(ctx, alertId) {
  ctx.store.dispatch({ type: "alert/acknowledged", id: alertId });
}

function aircraftName(state, side) {
  if (side.id) return side.id;
  return t("alerts.reduced", { party: partyName(state, side.party) });
}

function row(ctx, alert) {
  const state = ctx.store.state;
  const { own, other } = sidesOf(state, alert);
  const acked = isAcknowledged(state, alert);
  const shown = alertFigures(alert);
  const guided = alert.active && ownGuidance(state, alert) !== null;
  return h(
    "li",
    {
      class: `alert level-${shown.level}${alert.active ? "" : " cleared"}${acked ? " acked" : " unacked"}`,
      tabindex: 0,
      onclick: (e) => {
        if (e.target.closest("button")) return;
        ctx.focusAlert(alert);
      },
      onkeydown: (e) => {
        if (e.key === "Enter") ctx.focusAlert(alert);
      },
    },
    h(
      "div",
      { class: "row-head" },
      h("span", { class: "level", style: `background:${levelColour(shown.level)}` }, label("level", shown.level)),
      h("bdi", { class: "pair" }, `${aircraftName(state, own)} ↔ ${aircraftName(state, other)}`),
      alert.active
        ? h("span", { class: "tcpa", dir: "ltr", "data-cpa-at": String(cpaAt(alert)) }, "")
        : h("span", { class: "state" }, t("alerts.cleared")),
    ),
    h(
      "div",
      { class: "row-facts" },
      h("span", {}, t(alert.active ? "alerts.dcpa" : "alerts.dcpa_min", { nm: unit("nm", shown.missNm, 1) })),
      shown.daltFt === null ? null : h("span", {}, t("alerts.dalt", { ft: unit("ft", shown.daltFt, 0) })),
      h("span", {}, t("alerts.raised"), " ", timeEl(alert.raised_t_s, state.lang)),
    ),
    alert.active
      ? h(
          "div",
          { class: "row-actions" },
          acked
            ? h("span", { class: "ok" }, "✓ ", t("alerts.acknowledged"))
            : h("button", { type: "button", class: "ack", onclick: () => acknowledge(ctx, alert.id), title: t("alerts.ack_hint") }, t("alerts.ack")),
          // From the guidance of our aircraft (#17.5): the hotline's manoeuvre
          // messages, proposed in the composer for the officer to decide on.
          guided
            ? h("button", { type: "button", class: "secondary announce-manoeuvre", onclick: () => ctx.composeManoeuvre(alert, "manoeuvre_intention") }, t("alerts.announce_manoeuvre"))
            : null,
          guided
            ? h("button", { type: "button", class: "secondary request-manoeuvre", onclick: () => ctx.composeManoeuvre(alert, "request_for_manoeuvre") }, t("alerts.request_manoeuvre"))
            : null,
        )
      : null,
  );
}

export function renderAlerts(ctx) {
  const state = ctx.store.state;
  const { active, cleared } = sortedAlerts(state);
  const ol = $("#alerts-list");
  const items = [...active, ...cleared];
  const pending = active.filter((a) => !isAcknowledged(state, a)).length;
  $("#alerts-count").textContent = active.length ? `${active.length}${pending ? ` / ${pending}!` : ""}` : "";
  if (!items.length) {
    fill(ol, h("li", { class: "empty" }, t("alerts.none")));
    return;
  }
  keyedList(
    ol,
    items,
    (a) => a.id,
    (a) => {
      const f = alertFigures(a); // what the row shows, as it shows it: not every new prediction
      const shown = [f.level, Number(f.missNm).toFixed(1), f.daltFt === null ? null : Number(f.daltFt).toFixed(0)];
      const guided = ownGuidance(state, a) !== null;
      return JSON.stringify([...shown, a.active, isAcknowledged(state, a), guided, state.lang, state.protocol?.party_names]);
    },
    (a) => row(ctx, a),
  );
  // A row is kept while only the prediction moves: its countdown follows the newest CPA.
  for (const a of active) {
    const el = ol.querySelector(`li[data-key="${CSS.escape(a.id)}"] [data-cpa-at]`);
    if (el) el.dataset.cpaAt = String(cpaAt(a));
  }
  tickAlerts();
}

/** Once a second: the countdowns to CPA in the list. */
export function tickAlerts() {
  const now = clock.now();
  for (const el of document.querySelectorAll("#alerts-list [data-cpa-at]")) {
    const left = Number(el.dataset.cpaAt) - now;
    el.textContent = `CPA ${countdownText(Math.max(0, left))}`;
  }
}
