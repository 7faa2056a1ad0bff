// The feeds and links the officer may see (issue 21 item 3, issue 16 item 5): pure
// reducers and selectors, no DOM, no network, no clock (callers pass the time).
//
// Slices (added to state.js):
//   feeds   Map party -> feed, each {party, lagS, clockSkewS, silentS, stale,
//           staleAfterS, newestTS, asOfTS}: what /healthz said (the officer's own
//           party's feed) and what feed.stale / feed.resumed events said (the own
//           feed, and under `full` the other parties' too). `asOfTS` is the server
//           time the values are of: older news never overwrites newer.
//   links   null when the server is not a node (no /v1/federation/links); else Map
//           party -> {party, status ("up", "down", "unknown"), sinceTS, reason,
//           checkedTS, queued, oldestQueuedTS}, from the links route and
//           federation.link events.

export const feedsInitial = { feeds: new Map(), links: null };

const numberOr = (value, fallback) => (typeof value === "number" && Number.isFinite(value) ? value : fallback);

/**
 * The feeds after a /healthz answer read at server time `nowS`: `health` is its
 * `feeds` object (party -> {lag_s, clock_skew_s, silent_s, stale, stale_after_s}).
 * A feed learnt from an event newer than the answer keeps the event's state; a feed
 * only events told of (another party's, under `full`) stays. The same Map comes back
 * when nothing changed.
 */
export function feedsFromHealth(feeds, health, nowS) {
  const next = new Map();
  let changed = false;
  for (const [party, f] of Object.entries(health || {})) {
    const before = feeds.get(party);
    if (before && before.asOfTS > nowS) {
      next.set(party, before);
      continue;
    }
    const lagS = numberOr(f.lag_s, null);
    const entry = {
      party,
      lagS,
      clockSkewS: numberOr(f.clock_skew_s, null),
      silentS: numberOr(f.silent_s, null),
      stale: f.stale === true,
      staleAfterS: numberOr(f.stale_after_s, null),
      newestTS: lagS === null ? null : nowS - lagS,
      asOfTS: nowS,
      fromHealth: true,
    };
    next.set(party, entry);
    changed = changed || !before || !sameFeed(before, entry);
  }
  for (const [party, before] of feeds) {
    if (next.has(party)) continue;
    if (before.fromHealth) {
      changed = true; // /healthz no longer shows it (another protocol, another party)
      continue;
    }
    next.set(party, before);
  }
  return changed ? next : feeds;
}

function sameFeed(a, b) {
  return (
    a.stale === b.stale &&
    a.lagS === b.lagS &&
    a.clockSkewS === b.clockSkewS &&
    a.silentS === b.silentS &&
    a.staleAfterS === b.staleAfterS
  );
}

/**
 * The feeds after a `feed.stale` or `feed.resumed` event ({type, t_s, data: {party,
 * newest_t_s, lag_s, stale_after_s}}). An event older than what is known of that
 * feed (a replay after reconnecting) changes nothing.
 */
export function feedsAfterEvent(feeds, event) {
  const data = event?.data || {};
  const party = data.party;
  if (!party || (event.type !== "feed.stale" && event.type !== "feed.resumed")) return feeds;
  const before = feeds.get(party);
  const tS = numberOr(event.t_s, 0);
  if (before && before.asOfTS > tS) return feeds;
  const next = new Map(feeds);
  next.set(party, {
    party,
    lagS: numberOr(data.lag_s, before?.lagS ?? null),
    clockSkewS: before?.clockSkewS ?? null,
    silentS: before?.silentS ?? null,
    stale: event.type === "feed.stale",
    staleAfterS: numberOr(data.stale_after_s, before?.staleAfterS ?? null),
    newestTS: numberOr(data.newest_t_s, before?.newestTS ?? null),
    asOfTS: tS,
    fromHealth: before?.fromHealth ?? false,
  });
  return next;
}

function linkFrom(raw) {
  return {
    party: String(raw.party),
    status: raw.status === "up" || raw.status === "down" ? raw.status : "unknown",
    sinceTS: numberOr(raw.since_t_s, null),
    reason: raw.reason || null,
    checkedTS: numberOr(raw.checked_t_s, null),
    queued: numberOr(raw.queued, 0),
    oldestQueuedTS: numberOr(raw.oldest_queued_t_s, null),
  };
}

/** The links as GET /v1/federation/links gives them (null: not a node). */
export function linksLoaded(list) {
  if (!Array.isArray(list)) return null;
  return new Map(list.filter((l) => l && l.party).map((l) => [String(l.party), linkFrom(l)]));
}

/**
 * The links after a `federation.link` event (its data is the link as the route gives
 * it). An event older than the link's last check changes nothing; the first event
 * makes the console a node's.
 */
export function linksAfterEvent(links, data) {
  if (!data || !data.party) return links;
  const link = linkFrom(data);
  const before = links?.get(link.party);
  if (before && before.checkedTS !== null && link.checkedTS !== null && before.checkedTS > link.checkedTS) return links;
  const next = new Map(links || []);
  next.set(link.party, { ...link, queued: before && data.queued === undefined ? before.queued : link.queued });
  return next;
}

export const feedReducers = {
  "feeds/health": (s, { feeds, now_t_s: nowS }) => ({ feeds: feedsFromHealth(s.feeds, feeds, nowS) }),
  "feed/event": (s, { event }) => ({ feeds: feedsAfterEvent(s.feeds, event) }),
  "links/loaded": (s, { links }) => ({ links: linksLoaded(links) }),
  "link/changed": (s, { link }) => ({ links: linksAfterEvent(s.links, link) }),
};

// -- selectors ------------------------------------------------------------------------

/**
 * The feeds as rows at server time `nowS`, the officer's own party first: lag and
 * silence grow while nothing new is known.
 */
export function feedRows(state, nowS) {
  const own = state.me?.party_id;
  const rows = [...state.feeds.values()].map((f) => {
    const since = Math.max(0, nowS - f.asOfTS);
    return {
      party: f.party,
      own: f.party === own,
      stale: f.stale,
      lagS: f.newestTS !== null ? Math.max(0, nowS - f.newestTS) : f.lagS,
      clockSkewS: f.clockSkewS,
      silentS: f.silentS === null ? null : f.silentS + since,
      staleAfterS: f.staleAfterS,
      newestTS: f.newestTS,
    };
  });
  return rows.sort((a, b) => Number(b.own) - Number(a.own) || a.party.localeCompare(b.party));
}

/** The links as rows, by party (empty when not a node). */
export function linkRows(state) {
  if (!state.links) return [];
  return [...state.links.values()].sort((a, b) => a.party.localeCompare(b.party));
}

/**
 * What the top bar says: `level` is "down" (a link down), "stale" (a feed stale),
 * "ok" or "none" (nothing known yet), with the counts and whether this is a node.
 */
export function statusSummary(state) {
  let stale = 0;
  for (const f of state.feeds.values()) if (f.stale) stale += 1;
  let down = 0;
  for (const l of state.links?.values() || []) if (l.status === "down") down += 1;
  const node = state.links !== null;
  const known = state.feeds.size + (state.links?.size || 0);
  const level = down ? "down" : stale ? "stale" : known ? "ok" : "none";
  return { level, stale, down, node, feeds: state.feeds.size, links: state.links?.size || 0 };
}

/** A duration for the panel: seconds under two minutes, minutes under two hours, else hours. */
export function durationParts(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return null;
  const abs = Math.abs(seconds);
  if (abs < 10) return { unit: "s", value: seconds, digits: 1 };
  if (abs < 120) return { unit: "s", value: seconds, digits: 0 };
  if (abs < 7200) return { unit: "min", value: seconds / 60, digits: 0 };
  return { unit: "h", value: seconds / 3600, digits: 1 };
}
