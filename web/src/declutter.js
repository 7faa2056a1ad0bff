// Label placement for the map, as radar displays declutter their data blocks: each
// label goes beside its symbol in the first of several positions (right, then above
// right, below right, above, below, left...) that covers no other label and no symbol;
// if none is free next to it, it moves further out and a leader line joins it to its
// symbol. Labels are placed most important first; one that must be shown (a conflict,
// an aircraft in conflict) is moved further out rather than dropped, others are
// dropped when no place is free. A label keeps its position from one frame to the
// next while that position stays free, so labels do not jump about as the map moves.
//
// Pure: screen boxes in CSS pixels in, boxes out; map.js draws them.

// Directions tried, in order: [dx, dy] (y down, as on the screen).
const DIRECTIONS = [
  [1, 0],
  [1, -1],
  [1, 1],
  [0, -1],
  [0, 1],
  [-1, 0],
  [-1, -1],
  [-1, 1],
];
const STEPS_PX = [0, 14, 32, 56]; // beyond the symbol: first beside it, then further out
const STEPS_KEEP_PX = [88, 128, 180, 250]; // further still, for labels that must show
const MARGIN_PX = 2; // space kept between a label and anything else
const CELL_PX = 64; // cell of the grid that finds what a box may cover

/** Whether boxes a and b overlap (touching edges do not). */
export function intersects(a, b) {
  return a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;
}

/** A grid of boxes, to find those a box may cover without testing them all. */
class Grid {
  constructor() {
    this.cells = new Map();
  }
  *keys(box) {
    const cx0 = Math.floor(box.x0 / CELL_PX);
    const cx1 = Math.floor(box.x1 / CELL_PX);
    const cy0 = Math.floor(box.y0 / CELL_PX);
    const cy1 = Math.floor(box.y1 / CELL_PX);
    for (let cx = cx0; cx <= cx1; cx++) for (let cy = cy0; cy <= cy1; cy++) yield `${cx},${cy}`;
  }
  add(box) {
    for (const key of this.keys(box)) {
      const cell = this.cells.get(key);
      if (cell) cell.push(box);
      else this.cells.set(key, [box]);
    }
  }
  hits(box) {
    for (const key of this.keys(box)) {
      for (const other of this.cells.get(key) || []) if (intersects(box, other)) return true;
    }
    return false;
  }
}

/**
 * The box of a label of size w x h put in direction `dir` at `dist` px from the
 * anchor (x, y): the label's nearest corner or edge is at that distance.
 */
function candidate(item, dir, dist) {
  const [dx, dy] = dir;
  const norm = Math.hypot(dx, dy) || 1;
  const px = item.x + (dx / norm) * dist;
  const py = item.y + (dy / norm) * dist;
  const x0 = dx > 0 ? px : dx < 0 ? px - item.w : px - item.w / 2;
  const y0 = dy > 0 ? py : dy < 0 ? py - item.h : py - item.h / 2;
  return { x0, y0, x1: x0 + item.w, y1: y0 + item.h, px, py };
}

function inflate(box, by) {
  return { x0: box.x0 - by, y0: box.y0 - by, x1: box.x1 + by, y1: box.y1 + by };
}

function inside(box, bounds) {
  return !bounds || (box.x0 >= bounds.x0 && box.y0 >= bounds.y0 && box.x1 <= bounds.x1 && box.y1 <= bounds.y1);
}

/**
 * Place labels.
 *
 * @param items  [{id, x, y, w, h, gap, keep, centred}], most important first: the
 *   anchor (x, y) (the centre of the label's symbol), the label's size, `gap` the
 *   radius of its symbol (the label starts outside it), `keep` true if it must be
 *   shown, `centred` true for a label with no symbol (a country's name): centred on
 *   its anchor or not shown.
 * @param obstacles  [{x0, y0, x1, y1}]: symbols no label may cover.
 * @param options  {bounds: the visible box labels stay inside, previous: Map id -> the
 *   slot used before (tried first)}.
 * @returns Map id -> {x0, y0, x1, y1, slot, leader, crowded}: `leader` is [x0, y0, x1,
 *   y1], a line from the symbol's edge to the label, or null when the label is beside
 *   it. A label that found no free place is absent, unless it must be shown: then it
 *   is `crowded` (it overlaps something: only when the screen is full of labels).
 */
export function placeLabels(items, obstacles, { bounds = null, previous = new Map() } = {}) {
  const grid = new Grid();
  for (const o of obstacles) grid.add(o);
  const placed = new Map();
  for (const item of items) {
    if (item.centred) {
      const box = candidate(item, [0, 0], 0);
      if (inside(box, bounds) && !grid.hits(inflate(box, MARGIN_PX))) {
        const out = { x0: box.x0, y0: box.y0, x1: box.x1, y1: box.y1, slot: -1, leader: null, crowded: false };
        grid.add(out);
        placed.set(item.id, out);
      }
      continue;
    }
    const steps = item.keep ? [...STEPS_PX, ...STEPS_KEEP_PX] : STEPS_PX;
    const slots = [];
    for (let s = 0; s < steps.length; s++) for (let d = 0; d < DIRECTIONS.length; d++) slots.push(s * DIRECTIONS.length + d);
    const before = previous.get(item.id);
    if (before !== undefined && before < slots.length) slots.unshift(before);
    let chosen = null;
    let fallback = null; // for a label that must show: where it fits the screen at least
    for (const slot of slots) {
      const step = steps[Math.floor(slot / DIRECTIONS.length)];
      const box = candidate(item, DIRECTIONS[slot % DIRECTIONS.length], (item.gap || 0) + MARGIN_PX + step);
      if (!inside(box, bounds)) continue;
      fallback = fallback || { box, slot, step, crowded: true };
      if (grid.hits(inflate(box, MARGIN_PX))) continue;
      chosen = { box, slot, step, crowded: false };
      break;
    }
    if (!chosen && item.keep) chosen = fallback;
    if (!chosen) continue;
    const { box, slot, step, crowded } = chosen;
    const dir = DIRECTIONS[slot % DIRECTIONS.length];
    const norm = Math.hypot(dir[0], dir[1]);
    const leader =
      step > 0 ? [item.x + (dir[0] / norm) * (item.gap || 0), item.y + (dir[1] / norm) * (item.gap || 0), box.px, box.py] : null;
    const out = { x0: box.x0, y0: box.y0, x1: box.x1, y1: box.y1, slot, leader, crowded };
    grid.add(out);
    placed.set(item.id, out);
  }
  return placed;
}
