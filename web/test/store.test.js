// store.js: one frozen state, changed by actions only, views told what changed.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createStore } from "../src/store.js";

const reducers = {
  add: (s, { n }) => ({ count: s.count + n }),
  rename: (s, { name }) => ({ name }),
  nothing: () => null,
  same: (s) => ({ count: s.count }),
  bad: () => ({ nope: 1 }),
};

describe("createStore", () => {
  it("changes the state through reducers and tells subscribers what changed", () => {
    const store = createStore({ count: 0, name: "a" }, reducers);
    const seen = [];
    store.subscribe((state, changed, action) => seen.push([state.count, [...changed], action.type]));
    store.dispatch({ type: "add", n: 2 });
    store.dispatch({ type: "rename", name: "b" });
    assert.deepEqual(seen, [
      [2, ["count"], "add"],
      [2, ["name"], "rename"],
    ]);
    assert.equal(store.state.name, "b");
  });
  it("tells nobody when nothing changed", () => {
    const store = createStore({ count: 0, name: "a" }, reducers);
    let calls = 0;
    store.subscribe(() => calls++);
    store.dispatch({ type: "nothing" });
    store.dispatch({ type: "same" });
    store.dispatch({ type: "add", n: 0 });
    assert.equal(calls, 0);
  });
  it("keeps the state frozen: nobody changes it in place", () => {
    const store = createStore({ count: 0, name: "a" }, reducers);
    const before = store.state;
    assert.throws(() => {
      "use strict";
      before.count = 5;
    }, TypeError);
    store.dispatch({ type: "add", n: 1 });
    assert.equal(before.count, 0);
    assert.notEqual(store.state, before);
  });
  it("refuses an unknown action or slice", () => {
    const store = createStore({ count: 0, name: "a" }, reducers);
    assert.throws(() => store.dispatch({ type: "no_such" }), /unknown action: no_such/);
    assert.throws(() => store.dispatch({ type: "bad" }), /unknown slice nope/);
  });
  it("runs an action dispatched by a subscriber after the current one reached everybody", () => {
    const store = createStore({ count: 0, name: "a" }, reducers);
    const order = [];
    store.subscribe((state, changed, action) => {
      order.push(`first saw ${action.type}`);
      if (action.type === "add") store.dispatch({ type: "rename", name: "x" });
    });
    store.subscribe((state, changed, action) => order.push(`second saw ${action.type}`));
    store.dispatch({ type: "add", n: 1 });
    assert.deepEqual(order, ["first saw add", "second saw add", "first saw rename", "second saw rename"]);
  });
  it("stops telling an unsubscribed view", () => {
    const store = createStore({ count: 0, name: "a" }, reducers);
    let calls = 0;
    const off = store.subscribe(() => calls++);
    store.dispatch({ type: "add", n: 1 });
    off();
    store.dispatch({ type: "add", n: 1 });
    assert.equal(calls, 1);
  });
});
