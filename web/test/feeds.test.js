// feeds.js: the feeds and links the officer may see, pure reducers and selectors.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  durationParts,
  feedRows,
  feedsAfterEvent,
  feedsFromHealth,
  linkRows,
  linksAfterEvent,
  linksLoaded,
  statusSummary,
} from "../src/feeds.js";
import { initialState, reducers } from "../src/state.js";
import { createStore } from "../src/store.js";

const health = (lagS, stale, extra = {}) => ({ lag_s: lagS, clock_skew_s: 0.4, silent_s: lagS - 0.4, stale, stale_after_s: 60, ...extra });
const staleEvent = (party, tS, lagS = 61) => ({ type: "feed.stale", t_s: tS, data: { party, newest_t_s: tS - lagS, lag_s: lagS, stale_after_s: 60 } });
const resumedEvent = (party, tS) => ({ type: "feed.resumed", t_s: tS, data: { party, newest_t_s: tS - 1, lag_s: 1, stale_after_s: 60 } });
const link = (party, status, sinceTS, checkedTS, extra = {}) => ({ party, status, since_t_s: sinceTS, reason: status === "down" ? "ConnectError" : null, checked_t_s: checkedTS, queued: 0, oldest_queued_t_s: null, ...extra });

describe("feedsFromHealth", () => {
  it("takes each feed /healthz shows, with the time of its newest position", () => {
    const feeds = feedsFromHealth(new Map(), { coalition: health(3, false) }, 1000);
    const f = feeds.get("coalition");
    assert.equal(f.stale, false);
    assert.equal(f.lagS, 3);
    assert.equal(f.clockSkewS, 0.4);
    assert.equal(f.newestTS, 997);
    assert.equal(f.asOfTS, 1000);
  });
  it("gives back the same Map when nothing changed: nothing is redrawn", () => {
    const once = feedsFromHealth(new Map(), { coalition: health(3, false) }, 1000);
    assert.equal(feedsFromHealth(once, { coalition: health(3, false) }, 1005), once);
  });
  it("keeps a feed an event said newer than the answer (the event wins)", () => {
    const stale = feedsAfterEvent(new Map(), staleEvent("coalition", 1010));
    const after = feedsFromHealth(stale, { coalition: health(3, false) }, 1005);
    assert.equal(after.get("coalition").stale, true);
  });
  it("replaces an older event's state with a newer answer", () => {
    const stale = feedsAfterEvent(new Map(), staleEvent("coalition", 1000));
    const after = feedsFromHealth(stale, { coalition: health(2, false) }, 1005);
    assert.equal(after.get("coalition").stale, false);
  });
  it("keeps the other parties' feeds that only events told of (sharing full)", () => {
    const told = feedsAfterEvent(new Map(), staleEvent("russia", 1000));
    const after = feedsFromHealth(told, { coalition: health(2, false) }, 1005);
    assert.deepEqual([...after.keys()].sort(), ["coalition", "russia"]);
  });
  it("drops a feed /healthz showed and shows no more", () => {
    const once = feedsFromHealth(new Map(), { coalition: health(2, false) }, 1000);
    assert.equal(feedsFromHealth(once, {}, 1005).size, 0);
    assert.equal(feedsFromHealth(once, undefined, 1005).size, 0);
  });
  it("reads missing numbers as unknown, not as zero", () => {
    const f = feedsFromHealth(new Map(), { coalition: { stale: false } }, 1000).get("coalition");
    assert.equal(f.lagS, null);
    assert.equal(f.newestTS, null);
    assert.equal(f.staleAfterS, null);
  });
});

describe("feedsAfterEvent", () => {
  it("raises STALE on feed.stale and clears it on feed.resumed", () => {
    const stale = feedsAfterEvent(new Map(), staleEvent("coalition", 1000));
    assert.equal(stale.get("coalition").stale, true);
    assert.equal(stale.get("coalition").newestTS, 939);
    const resumed = feedsAfterEvent(stale, resumedEvent("coalition", 1010));
    assert.equal(resumed.get("coalition").stale, false);
    assert.equal(stale.get("coalition").stale, true); // the old state untouched
  });
  it("ignores an event older than what is known (a replay after reconnecting)", () => {
    const resumed = feedsAfterEvent(new Map(), resumedEvent("coalition", 1010));
    assert.equal(feedsAfterEvent(resumed, staleEvent("coalition", 1000)), resumed);
  });
  it("applies an event at exactly the time of what is known", () => {
    const known = feedsFromHealth(new Map(), { coalition: health(3, false) }, 1000);
    assert.equal(feedsAfterEvent(known, staleEvent("coalition", 1000)).get("coalition").stale, true);
  });
  it("keeps the clock skew /healthz gave", () => {
    const known = feedsFromHealth(new Map(), { coalition: health(3, false) }, 1000);
    assert.equal(feedsAfterEvent(known, staleEvent("coalition", 1070)).get("coalition").clockSkewS, 0.4);
  });
  it("ignores other events and events without a party", () => {
    const feeds = new Map();
    assert.equal(feedsAfterEvent(feeds, { type: "alert.raised", t_s: 1, data: { party: "x" } }), feeds);
    assert.equal(feedsAfterEvent(feeds, { type: "feed.stale", t_s: 1, data: {} }), feeds);
  });
});

describe("links", () => {
  it("are null on a server that is not a node", () => {
    assert.equal(linksLoaded(null), null);
    assert.equal(linksLoaded({ detail: "not found" }), null);
  });
  it("load by party", () => {
    const links = linksLoaded([link("russia", "down", 100, 110, { queued: 2, oldest_queued_t_s: 105 })]);
    const l = links.get("russia");
    assert.equal(l.status, "down");
    assert.equal(l.sinceTS, 100);
    assert.equal(l.queued, 2);
    assert.equal(l.reason, "ConnectError");
  });
  it("change on a federation.link event, and not on an older one", () => {
    const up = linksLoaded([link("russia", "up", 50, 100)]);
    const down = linksAfterEvent(up, link("russia", "down", 120, 120));
    assert.equal(down.get("russia").status, "down");
    assert.equal(down.get("russia").sinceTS, 120);
    assert.equal(linksAfterEvent(down, link("russia", "up", 50, 100)), down);
    const back = linksAfterEvent(down, link("russia", "up", 130, 130));
    assert.equal(back.get("russia").status, "up");
  });
  it("make the console a node's on the first event", () => {
    const links = linksAfterEvent(null, link("russia", "up", 50, 50));
    assert.equal(links.get("russia").status, "up");
  });
  it("read an unknown status as not checked", () => {
    assert.equal(linksLoaded([link("russia", "weird", null, null)]).get("russia").status, "unknown");
  });
});

describe("selectors", () => {
  const state = (patch) => ({ ...initialState, me: { party_id: "coalition", role: "officer" }, ...patch });
  it("rows: the own feed first, lag and silence grown since the answer", () => {
    const feeds = feedsFromHealth(new Map(), { russia: health(1, false), coalition: health(3, false) }, 1000);
    const rows = feedRows(state({ feeds }), 1010);
    assert.deepEqual(
      rows.map((r) => [r.party, r.own]),
      [
        ["coalition", true],
        ["russia", false],
      ],
    );
    assert.equal(rows[0].lagS, 13);
    assert.equal(rows[0].silentS, 12.6);
  });
  it("summary: nothing known, ok, stale, and a link down first", () => {
    assert.equal(statusSummary(state({})).level, "none");
    const ok = feedsFromHealth(new Map(), { coalition: health(3, false) }, 1000);
    assert.deepEqual(statusSummary(state({ feeds: ok })), { level: "ok", stale: 0, down: 0, node: false, feeds: 1, links: 0 });
    const stale = feedsAfterEvent(ok, staleEvent("coalition", 1100));
    assert.equal(statusSummary(state({ feeds: stale })).level, "stale");
    const links = linksLoaded([link("russia", "down", 100, 100), link("usa", "up", 100, 100)]);
    const both = statusSummary(state({ feeds: stale, links }));
    assert.equal(both.level, "down");
    assert.equal(both.down, 1);
    assert.equal(both.stale, 1);
    assert.equal(both.node, true);
    assert.deepEqual(
      linkRows(state({ links })).map((l) => l.party),
      ["russia", "usa"],
    );
    assert.deepEqual(linkRows(state({})), []);
  });
  it("durations: tenths under 10 s, seconds under 2 min, minutes under 2 h, then hours", () => {
    assert.equal(durationParts(null), null);
    assert.deepEqual(durationParts(9.96), { unit: "s", value: 9.96, digits: 1 });
    assert.deepEqual(durationParts(10), { unit: "s", value: 10, digits: 0 });
    assert.deepEqual(durationParts(119), { unit: "s", value: 119, digits: 0 });
    assert.deepEqual(durationParts(120), { unit: "min", value: 2, digits: 0 });
    assert.deepEqual(durationParts(7200), { unit: "h", value: 2, digits: 1 });
    assert.deepEqual(durationParts(-3), { unit: "s", value: -3, digits: 1 });
  });
});

describe("the store's feed actions", () => {
  it("go through the store: feeds/health, feed/event, links/loaded, link/changed", () => {
    const store = createStore(initialState, reducers);
    const seen = [];
    store.subscribe((s, changed) => seen.push([...changed].join()));
    store.dispatch({ type: "feeds/health", feeds: { coalition: health(3, false) }, now_t_s: 1000 });
    store.dispatch({ type: "feeds/health", feeds: { coalition: health(3, false) }, now_t_s: 1001 }); // no change
    store.dispatch({ type: "feed/event", event: staleEvent("coalition", 1100) });
    store.dispatch({ type: "links/loaded", links: [link("russia", "up", 10, 10)] });
    store.dispatch({ type: "link/changed", link: link("russia", "down", 20, 20) });
    assert.deepEqual(seen, ["feeds", "feeds", "links", "links"]);
    assert.equal(store.state.feeds.get("coalition").stale, true);
    assert.equal(store.state.links.get("russia").status, "down");
    assert.equal(initialState.links, null);
  });
});
