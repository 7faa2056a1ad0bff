// The console's state and the actions that change it (see store.js). Everything here
// is pure: no DOM, no network, no clock; the callers pass what they read.
//
// Slices:
//   me              {party_id, role}: who signed in
//   lang            the UI language
//   parties         Map id -> {id, name, language}, as registered on the server
//   protocol        the protocol in effect (GET /v1/protocols/current), or null
//   alerts          Map id -> alert, as the API and the stream give them
//   acks            {alert id: level rank acknowledged on this console}
//   incidents       Map id -> incident
//   selectedIncident  the incident whose detail is open, or null
//   messages        hotline messages, newest first
//   hotlineBox      "all", "in" or "out"
//   composerKind    the kind of message the composer writes
//   operations      planned operations
//   lastFiled       the operation this console filed last (its check result), or null
//   draw            {shape, drawing}: the outline drawn for a new operation
//   tracks          Map "party/id" -> aircraft (position, trail)
//   feeds, links    the feeds and node links the officer may see (feeds.js)

import { feedReducers, feedsInitial } from "./feeds.js";
import { flightLevel } from "./util.js";

export const LEVEL_RANK = { conflict: 1, advisory: 2, warning: 3 };
export const TRAIL_S = 900; // history trail kept per aircraft (15 minutes)
export const TRAIL_POINTS = 120;

export const initialState = {
  me: null,
  lang: "en",
  parties: new Map(),
  protocol: null,
  alerts: new Map(),
  acks: {},
  incidents: new Map(),
  selectedIncident: null,
  messages: [],
  hotlineBox: "all",
  composerKind: "free_text",
  operations: [],
  lastFiled: null,
  draw: { shape: null, drawing: false },
  tracks: new Map(),
  ...feedsInitial,
};

const byId = (list) => new Map(list.map((x) => [x.id, x]));

function withEntry(map, key, value) {
  const next = new Map(map);
  next.set(key, value);
  return next;
}

/** Acknowledgements of alerts still known only: the stored set does not grow forever. */
function knownAcks(acks, alerts) {
  const kept = {};
  for (const [id, rank] of Object.entries(acks)) if (alerts.has(id)) kept[id] = rank;
  return kept;
}

/**
 * The aircraft after a poll of the live picture: `points` as /v1/tracks gives them.
 * An aircraft absent from the poll leaves; one that moved gets a new entry with its
 * trail extended (at most TRAIL_POINTS points and TRAIL_S seconds). The same Map comes
 * back when nothing moved, so nothing is redrawn.
 */
export function mergeTracks(tracks, points) {
  const next = new Map();
  let changed = false;
  for (const p of points) {
    const key = `${p.party}/${p.id}`;
    const before = tracks.get(key);
    if (before && before.t_s === p.t_s) {
      next.set(key, before);
      continue;
    }
    changed = true;
    const trail = before ? before.trail.slice() : [];
    const trailT = before ? before.trailT.slice() : [];
    trail.push([p.lon_deg, p.lat_deg]);
    trailT.push(p.t_s);
    while (trail.length > TRAIL_POINTS || (trailT.length > 1 && trailT[0] < p.t_s - TRAIL_S)) {
      trail.shift();
      trailT.shift();
    }
    next.set(key, {
      key,
      party: p.party,
      id: p.id,
      t_s: p.t_s,
      lat: p.lat_deg,
      lon: p.lon_deg,
      alt: p.alt_ft,
      gs: p.gs_kt,
      trk: p.trk_deg,
      vs: p.vs_fpm,
      fl: flightLevel(p.alt_ft),
      trail,
      trailT,
    });
  }
  if (!changed && next.size === tracks.size) return tracks;
  return next;
}

/** The trail of aircraft `key` with the older positions of `history` in front. */
export function seedTrail(tracks, key, history) {
  const a = tracks.get(key);
  if (!a) return tracks;
  const older = history.filter((p) => a.trailT.length === 0 || p.t_s < a.trailT[0]).slice(-TRAIL_POINTS);
  if (!older.length) return tracks;
  const trail = [...older.map((p) => [p.lon_deg, p.lat_deg]), ...a.trail].slice(-TRAIL_POINTS);
  const trailT = [...older.map((p) => p.t_s), ...a.trailT].slice(-TRAIL_POINTS);
  return withEntry(tracks, key, { ...a, trail, trailT });
}

export const reducers = {
  "session/started": (s, { me, acks }) => ({ me, acks: acks || {} }),
  "lang/changed": (s, { lang }) => ({ lang }),
  "parties/loaded": (s, { parties }) => ({ parties: byId(parties) }),
  "protocol/loaded": (s, { protocol }) => ({ protocol }),
  "alerts/loaded": (s, { alerts }) => {
    const map = byId(alerts);
    return { alerts: map, acks: knownAcks(s.acks, map) };
  },
  "alert/changed": (s, { alert }) => ({ alerts: withEntry(s.alerts, alert.id, alert) }),
  "alert/acknowledged": (s, { id }) => {
    const alert = s.alerts.get(id);
    if (!alert || !alert.active) return null;
    const rank = LEVEL_RANK[alert.level] || 1;
    return { acks: { ...knownAcks(s.acks, s.alerts), [id]: rank } };
  },
  "incidents/loaded": (s, { incidents }) => ({ incidents: byId(incidents) }),
  "incident/changed": (s, { incident }) => ({ incidents: withEntry(s.incidents, incident.id, incident) }),
  "incident/selected": (s, { id }) => ({ selectedIncident: id ?? null }),
  "messages/loaded": (s, { messages }) => ({ messages }),
  "hotline/box": (s, { box }) => ({ hotlineBox: box }),
  "composer/kind": (s, { kind }) => ({ composerKind: kind }),
  "operations/loaded": (s, { operations }) => ({ operations }),
  "operation/filed": (s, { operation }) => ({ lastFiled: operation }),
  "draw/changed": (s, { shape, drawing }) => ({ draw: { shape: shape || null, drawing: !!drawing } }),
  "tracks/polled": (s, { points }) => ({ tracks: mergeTracks(s.tracks, points) }),
  "tracks/history": (s, { key, history }) => ({ tracks: seedTrail(s.tracks, key, history) }),
  ...feedReducers,
};
