// state.js: the console's reducers, pure; the live picture merged poll by poll.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { initialState, mergeTracks, reducers, seedTrail, TRAIL_POINTS, TRAIL_S } from "../src/state.js";
import { createStore } from "../src/store.js";

const point = (id, tS, lat = 35.9, lon = 38.6) => ({ party: "russia", id, t_s: tS, lat_deg: lat, lon_deg: lon, alt_ft: 25000, gs_kt: 420, trk_deg: 180, vs_fpm: 0 });

/** Freeze a value and everything in it (Maps and arrays too): a reducer that changes its input throws. */
function deepFreeze(value) {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    if (value instanceof Map) {
      for (const v of value.values()) deepFreeze(v);
      value.set = () => {
        throw new TypeError("changed a Map of the state");
      };
      value.delete = value.set;
      value.clear = value.set;
    }
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

describe("mergeTracks", () => {
  it("adds aircraft with their flight level and a first trail point", () => {
    const tracks = mergeTracks(new Map(), [point("RF93", 100)]);
    const a = tracks.get("russia/RF93");
    assert.equal(a.fl, "FL250");
    assert.deepEqual(a.trail, [[38.6, 35.9]]);
  });
  it("gives back the same Map when nothing moved: nothing is redrawn", () => {
    const once = mergeTracks(new Map(), [point("RF93", 100)]);
    assert.equal(mergeTracks(once, [point("RF93", 100)]), once);
  });
  it("drops aircraft no longer in the picture", () => {
    const once = mergeTracks(new Map(), [point("RF93", 100), point("RF94", 100)]);
    const twice = mergeTracks(once, [point("RF93", 100)]);
    assert.deepEqual([...twice.keys()], ["russia/RF93"]);
  });
  it("extends the trail without touching the previous state", () => {
    const once = deepFreeze(mergeTracks(new Map(), [point("RF93", 100)]));
    const twice = mergeTracks(once, [point("RF93", 105, 35.8)]);
    assert.equal(twice.get("russia/RF93").trail.length, 2);
    assert.equal(once.get("russia/RF93").trail.length, 1);
  });
  it("keeps at most TRAIL_POINTS points and TRAIL_S seconds", () => {
    let tracks = new Map();
    for (let k = 0; k < TRAIL_POINTS + 10; k++) tracks = mergeTracks(tracks, [point("RF93", k)]);
    assert.equal(tracks.get("russia/RF93").trail.length, TRAIL_POINTS);
    tracks = mergeTracks(tracks, [point("RF93", TRAIL_POINTS + TRAIL_S)]);
    assert.ok(tracks.get("russia/RF93").trailT.every((t) => t >= TRAIL_POINTS));
  });
});

describe("seedTrail", () => {
  it("puts older positions in front, and nothing newer", () => {
    const tracks = mergeTracks(new Map(), [point("RF93", 100)]);
    const seeded = seedTrail(tracks, "russia/RF93", [point("RF93", 90, 36.0), point("RF93", 95, 35.95), point("RF93", 100)]);
    assert.deepEqual(seeded.get("russia/RF93").trailT, [90, 95, 100]);
    assert.equal(seedTrail(tracks, "russia/none", []), tracks);
  });
});

describe("reducers", () => {
  const alert = (id, level, active = true) => ({ id, level, active, aircraft: [] });
  it("never change the state they are given", () => {
    const state = deepFreeze({
      ...initialState,
      me: { party_id: "russia", role: "officer" },
      alerts: new Map([["a1", alert("a1", "warning")]]),
      incidents: new Map([[1, { id: 1 }]]),
      tracks: mergeTracks(new Map(), [point("RF93", 100)]),
    });
    const actions = [
      { type: "alerts/loaded", alerts: [alert("a2", "conflict")] },
      { type: "alert/changed", alert: alert("a1", "advisory") },
      { type: "alert/acknowledged", id: "a1" },
      { type: "incident/changed", incident: { id: 1, status: "reported" } },
      { type: "incident/selected", id: 1 },
      { type: "tracks/polled", points: [point("RF93", 105)] },
      { type: "tracks/history", key: "russia/RF93", history: [point("RF93", 90)] },
      { type: "draw/changed", shape: { type: "circle" }, drawing: false },
    ];
    for (const action of actions) assert.doesNotThrow(() => reducers[action.type](state, action), action.type);
  });
  it("acknowledge an active alert at its level, and forget alerts no longer known", () => {
    const store = createStore(initialState, reducers);
    store.dispatch({ type: "session/started", me: { party_id: "russia" }, acks: { gone: 3 } });
    store.dispatch({ type: "alerts/loaded", alerts: [alert("a1", "advisory"), alert("a2", "warning", false)] });
    assert.deepEqual(store.state.acks, {});
    store.dispatch({ type: "alert/acknowledged", id: "a1" });
    store.dispatch({ type: "alert/acknowledged", id: "a2" }); // cleared: nothing to acknowledge
    assert.deepEqual(store.state.acks, { a1: 2 });
  });
  it("select and close an incident's detail", () => {
    const store = createStore(initialState, reducers);
    store.dispatch({ type: "incident/selected", id: 0 });
    assert.equal(store.state.selectedIncident, 0);
    store.dispatch({ type: "incident/selected", id: null });
    assert.equal(store.state.selectedIncident, null);
  });
});
