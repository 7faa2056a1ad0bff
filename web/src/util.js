// Small DOM helpers. Text from the server is only ever set as text (textContent,
// attribute values), never parsed as HTML: a message from the other party cannot
// inject markup into the console.

/** Create an element: h("div", {class: "x", onclick: f}, "text", child). */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "value" && "value" in el) el.value = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** Replace the children of `el`. */
export function fill(el, ...children) {
  el.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
}

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

/** Round to `digits` decimals, as a string without trailing noise. */
export function num(value, digits = 0) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  return Number(value).toFixed(digits);
}

/** Flight level text: 25000 ft -> "FL250". */
export function flightLevel(altFt) {
  return `FL${String(Math.round(altFt / 100)).padStart(3, "0")}`;
}

/** Call `fn` at most once per animation frame however often it is asked for. */
export function coalesce(fn) {
  let pending = false;
  return () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      fn();
    });
  };
}

/** Call `fn` once, `ms` after the last request. */
export function debounce(fn, ms) {
  let timer = null;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(fn, ms);
  };
}

/**
 * Show `items` in the list `ol`, one <li> each, reusing the <li> of an item whose
 * signature has not changed: a row the user is about to click is not replaced by a
 * copy because an update arrived meanwhile.
 */
export function keyedList(ol, items, keyOf, signatureOf, build) {
  const old = new Map();
  for (const li of Array.from(ol.children)) if (li.dataset.key) old.set(li.dataset.key, li);
  const rows = items.map((item) => {
    const key = String(keyOf(item));
    const sig = signatureOf(item);
    const existing = old.get(key);
    if (existing && existing.dataset.sig === sig) return existing;
    const li = build(item);
    li.dataset.key = key;
    li.dataset.sig = sig;
    return li;
  });
  // Move only what is out of place, so focus and hover survive a re-order.
  rows.forEach((li, i) => {
    if (ol.children[i] !== li) ol.insertBefore(li, ol.children[i] || null);
  });
  while (ol.children.length > rows.length) ol.lastElementChild.remove();
}
