// What the views show, derived from the state (state.js): pure functions of the state
// and, where time matters, of the time passed in (the server's clock, time.js).
import { t, unit } from "./i18n.js";
import { LEVEL_RANK } from "./state.js";

const CLEARED_SHOWN = 10;

// -- parties -----------------------------------------------------------------------------

/** A party's name as the protocol in effect states it, else as registered, else its id. */
export function partyFullName(state, id) {
  return state.protocol?.party_names?.[id] || state.parties.get(id)?.name || String(id);
}

/**
 * The name for lists and labels: the full name up to its first parenthesis
 * ("Russian Federation (Hmeimim air base)" -> "Russian Federation").
 */
export function partyName(state, id) {
  const full = partyFullName(state, id);
  const cut = full.indexOf(" (");
  return cut > 0 ? full.slice(0, cut) : full;
}

/** A line's or zone's name from the protocol's geometry, else its id. */
export function boundaryName(state, id) {
  const feature = state.protocol?.geometry?.features?.find((f) => f.properties?.id === id && f.properties?.kind !== "buffer");
  return feature?.properties?.name || String(id);
}

/** The parties in the protocol's order (the colours follow it), else as registered. */
export function partyOrder(state) {
  return state.protocol?.parties || [...state.parties.keys()];
}

// -- alerts ------------------------------------------------------------------------------

/** The caller's side and the other side of an alert. */
export function sidesOf(state, alert) {
  const own = alert.aircraft.find((s) => s.party === state.me?.party_id) || alert.aircraft[0];
  const other = alert.aircraft.find((s) => s !== own) || alert.aircraft[1];
  return { own, other };
}

/** When the closest approach is due, on the server's clock. */
export function cpaAt(alert) {
  return alert.updated_t_s + (alert.tcpa_s || 0);
}

/**
 * The level and predicted miss to show: the present ones while the alert is active;
 * once cleared, the highest level and the smallest predicted miss it had while active
 * (the server's max_level and min_dcpa_nm), not the last prediction before it cleared,
 * and no vertical separation (the last prediction's would not go with that miss).
 */
export function alertFigures(alert) {
  if (alert.active) return { level: alert.level, missNm: alert.dcpa_nm, daltFt: alert.dalt_ft_at_cpa };
  return { level: alert.max_level ?? alert.level, missNm: alert.min_dcpa_nm ?? alert.dcpa_nm, daltFt: null };
}

/** Acknowledged at its present level (a later escalation needs a new acknowledgement). */
export function isAcknowledged(state, alert) {
  return (state.acks[alert.id] || 0) >= (LEVEL_RANK[alert.level] || 1);
}

/** Active alerts most urgent first; then the last cleared ones, newest first. */
export function sortedAlerts(state) {
  const active = [];
  const cleared = [];
  for (const a of state.alerts.values()) (a.active ? active : cleared).push(a);
  active.sort(
    (x, y) =>
      (LEVEL_RANK[y.level] || 0) - (LEVEL_RANK[x.level] || 0) ||
      Number(isAcknowledged(state, x)) - Number(isAcknowledged(state, y)) ||
      cpaAt(x) - cpaAt(y),
  );
  cleared.sort((x, y) => (y.cleared_t_s || 0) - (x.cleared_t_s || 0));
  return { active, cleared: cleared.slice(0, CLEARED_SHOWN) };
}

/** The most urgent active alert not yet acknowledged. */
export function topUnacknowledged(state) {
  return sortedAlerts(state).active.find((a) => !isAcknowledged(state, a)) || null;
}

export function alarmLevel(state) {
  return topUnacknowledged(state)?.level || null;
}

function positionOf(state, side) {
  const live = side.id ? state.tracks.get(`${side.party}/${side.id}`) : null;
  if (live) return [live.lon, live.lat];
  if (side.lat_deg !== undefined && side.lon_deg !== undefined) return [side.lon_deg, side.lat_deg];
  return null;
}

/**
 * The conflict lines for the map: from the caller's aircraft to the other (or to the
 * closest point of approach when the other is reduced to it), with the time of CPA.
 */
export function pairsForMap(state) {
  const out = [];
  for (const a of state.alerts.values()) {
    if (!a.active) continue;
    const { own, other } = sidesOf(state, a);
    const from = positionOf(state, own);
    const cpa = own.cpa ? [own.cpa.lon_deg, own.cpa.lat_deg] : null;
    const to = positionOf(state, other) || (other.cpa ? [other.cpa.lon_deg, other.cpa.lat_deg] : null);
    if (!from || !to) continue;
    out.push({
      id: a.id,
      level: a.level,
      from,
      to,
      cpa,
      cpaAt: cpaAt(a),
      missNm: a.dcpa_nm,
      acknowledged: isAcknowledged(state, a),
      aircraft: [own, other].filter((s) => s.id).map((s) => `${s.party}/${s.id}`),
    });
  }
  return out;
}

// -- incidents ---------------------------------------------------------------------------

export function sortedIncidents(state) {
  return [...state.incidents.values()].sort(
    (a, b) => Number(b.ongoing) - Number(a.ongoing) || b.start_t_s - a.start_t_s || b.id - a.id,
  );
}

/** The aircraft an incident is about: the one of the party at fault, else the first. */
export function incidentSide(incident) {
  return incident.aircraft.find((s) => s.party === incident.party_id) || incident.aircraft[0];
}

/** Where to mark each incident on the map: its deepest point or closest approach. */
export function incidentMarkers(state) {
  const out = [];
  for (const inc of state.incidents.values()) {
    const p = incidentSide(inc)?.point;
    if (!p) continue;
    out.push({ id: inc.id, at: [p.lon_deg, p.lat_deg], ongoing: !!inc.ongoing, label: `#${inc.id}` });
  }
  return out;
}

const given = (v) => v !== null && v !== undefined;

/**
 * The incident's figures, named (docs/protocol.md): a line violation's distance
 * across the line and from the buffer's edge (or into the buffer on its own side), a
 * zone incursion's depth inside the zone, a loss of separation's closest distance.
 * An incident recorded before the depths were named gives its one figure, as before.
 */
export function depthTexts(inc, digits = 1) {
  const nm = (v) => ({ nm: unit("nm", v, digits) });
  if (inc.kind === "line_violation" && given(inc.depth_across_line_nm)) {
    if (inc.depth_across_line_nm > 0) {
      const out = [t("incidents.across_line", nm(inc.depth_across_line_nm))];
      if (given(inc.depth_from_buffer_edge_nm)) out.push(t("incidents.from_buffer_edge", nm(inc.depth_from_buffer_edge_nm)));
      return out;
    }
    if (given(inc.depth_from_buffer_edge_nm)) return [t("incidents.into_buffer", nm(inc.depth_from_buffer_edge_nm))];
  }
  if (inc.kind === "zone_incursion" && given(inc.depth_inside_zone_nm)) return [t("incidents.inside_zone", nm(inc.depth_inside_zone_nm))];
  if (inc.kind === "loss_of_separation" && given(inc.severity_nm)) return [t("incidents.closest", nm(inc.severity_nm))];
  return given(inc.severity_nm) ? [t("incidents.depth", nm(inc.severity_nm))] : [];
}

// -- hotline -----------------------------------------------------------------------------

const PRIORITY_RANK = { flash: 3, urgent: 2, routine: 1 };

export function myReceipt(state, m) {
  return m.receipts.find((r) => r.party === state.me?.party_id) || null;
}

export function isIncoming(state, m) {
  return m.from !== state.me?.party_id;
}

/** Incoming messages the caller's party has not acknowledged, most urgent first. */
export function pendingMessages(state) {
  return state.messages
    .filter((m) => isIncoming(state, m) && myReceipt(state, m) && !myReceipt(state, m).acknowledged_t_s)
    .sort(
      (a, b) =>
        (PRIORITY_RANK[b.priority] || 0) - (PRIORITY_RANK[a.priority] || 0) ||
        myReceipt(state, a).deadline_t_s - myReceipt(state, b).deadline_t_s,
    );
}

// -- operations --------------------------------------------------------------------------

/** The places of the conflicts found by the checks, as rings for the map. */
export function conflictPlaces(state) {
  const rings = [];
  for (const op of state.operations) {
    for (const c of op.conflicts || []) {
      for (const poly of c.place?.polygons || []) {
        const ring = poly.vertices.map((v) => [v.lng, v.lat]);
        if (ring.length >= 3) rings.push([...ring, ring[0]]);
      }
    }
  }
  return rings;
}
