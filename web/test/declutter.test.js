// declutter.js: labels beside their symbols, none over another label or a symbol.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { intersects, placeLabels } from "../src/declutter.js";

const label = (id, x, y, extra = {}) => ({ id, x, y, w: 60, h: 24, gap: 10, ...extra });
const around = (x, y, r = 10) => ({ x0: x - r, y0: y - r, x1: x + r, y1: y + r });

/** A small deterministic random generator (mulberry32): the same cases every run. */
function random(seed) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let r = Math.imul(a ^ (a >>> 15), 1 | a);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

describe("placeLabels", () => {
  it("puts a lone label right of its symbol, with no leader", () => {
    const placed = placeLabels([label("a", 100, 100)], [around(100, 100)]);
    const p = placed.get("a");
    assert.ok(p.x0 > 110 && p.x0 < 115, `${p.x0}`);
    assert.equal(p.y0, 88);
    assert.equal(p.leader, null);
  });
  it("moves a label from a taken place, and from a symbol", () => {
    const items = [label("a", 100, 100), label("b", 100, 104)];
    const obstacles = [around(100, 100), around(100, 104), around(140, 140)];
    const placed = placeLabels(items, obstacles);
    assert.ok(!intersects(placed.get("a"), placed.get("b")));
    for (const p of placed.values()) for (const o of obstacles) assert.ok(!intersects(p, o));
  });
  it("joins a label moved further out to its symbol with a leader", () => {
    // Everything next to the symbol is taken: the label goes out, with a line.
    const obstacles = [{ x0: 60, y0: 60, x1: 160, y1: 160 }];
    const placed = placeLabels([label("a", 110, 110, { gap: 0, keep: true })], obstacles);
    const p = placed.get("a");
    assert.ok(!intersects(p, obstacles[0]));
    assert.ok(p.leader, "a leader line");
    assert.deepEqual(p.leader.slice(0, 2), [110, 110]);
  });
  it("drops a label that may go, keeps one that must show", () => {
    const full = [{ x0: -1000, y0: -1000, x1: 1000, y1: 1000 }];
    const placed = placeLabels([label("may", 100, 100), label("must", 100, 100, { keep: true })], full, {
      bounds: { x0: 0, y0: 0, x1: 800, y1: 600 },
    });
    assert.equal(placed.has("may"), false);
    assert.equal(placed.get("must").crowded, true);
  });
  it("stays inside the bounds", () => {
    const placed = placeLabels([label("edge", 795, 300)], [], { bounds: { x0: 0, y0: 0, x1: 800, y1: 600 } });
    const p = placed.get("edge");
    assert.ok(p.x1 <= 800 && p.x0 >= 0);
  });
  it("keeps a label where it was while that place stays free", () => {
    const items = [label("a", 100, 100)];
    const previous = new Map([["a", 5]]); // left of the symbol
    assert.equal(placeLabels(items, [], { previous }).get("a").slot, 5);
  });
  it("centres a name with no symbol, or leaves it out", () => {
    const items = [label("syria", 300, 300, { centred: true }), label("over", 300, 300, { centred: true })];
    const placed = placeLabels(items, []);
    assert.deepEqual([placed.get("syria").x0, placed.get("syria").y0], [270, 288]);
    assert.equal(placed.has("over"), false);
  });
  it("never overlaps, whatever the crowd (200 random scenes)", () => {
    const next = random(20171213);
    const bounds = { x0: 0, y0: 0, x1: 800, y1: 600 };
    for (let scene = 0; scene < 200; scene++) {
      const n = 1 + Math.floor(next() * 40);
      const items = [];
      const obstacles = [];
      for (let i = 0; i < n; i++) {
        const x = 40 + next() * 720;
        const y = 40 + next() * 520;
        obstacles.push(around(x, y));
        items.push(label(`l${i}`, x, y, { w: 30 + next() * 70, h: 14 + next() * 14, keep: next() < 0.1 }));
      }
      const placed = [...placeLabels(items, obstacles, { bounds }).values()].filter((p) => !p.crowded);
      for (let i = 0; i < placed.length; i++) {
        for (let j = i + 1; j < placed.length; j++) assert.ok(!intersects(placed[i], placed[j]), `scene ${scene}`);
        for (const o of obstacles) assert.ok(!intersects(placed[i], o), `scene ${scene}: a label over a symbol`);
      }
    }
  });
});
