// UI strings: one JSON catalog per language in static/i18n/. Hotline texts are not
// here: the server renders them (?lang=). Arabic lays the whole page out right to left.
// Numbers are written in the language's format with Latin digits (as the daily report
// writes them); units are words of the catalog ("5 NM", "5 м. миль", "5 ميل بحري").
import { $$ } from "./util.js";

export const LANGUAGES = ["en", "ru", "ar"];
const RTL = new Set(["ar"]);
const catalogs = {};
let current = "en";

/** Make a catalog known (loadLanguage fetches them; tests pass them in). */
export function addCatalog(code, catalog) {
  catalogs[code] = catalog;
}

/** Switch to a language whose catalog is known; an unknown one means English. */
export function useLanguage(code) {
  current = LANGUAGES.includes(code) && catalogs[code] ? code : "en";
  return current;
}

/** Fetch a language's catalog (and English, the fallback), switch to it, relabel the page. */
export async function loadLanguage(code) {
  const wanted = LANGUAGES.includes(code) ? code : "en";
  if (!catalogs.en) addCatalog("en", await fetchCatalog("en"));
  if (!catalogs[wanted]) addCatalog(wanted, await fetchCatalog(wanted));
  useLanguage(wanted);
  const root = document.documentElement;
  root.lang = current;
  root.dir = isRtl() ? "rtl" : "ltr";
  for (const el of $$("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of $$("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
  for (const el of $$("[data-i18n-label]")) el.setAttribute("aria-label", t(el.dataset.i18nLabel));
  for (const el of $$(".lang-select")) el.value = current;
  document.title = t("app.title");
  return current;
}

async function fetchCatalog(code) {
  const response = await fetch(`static/i18n/${code}.json`, { cache: "no-cache" });
  if (!response.ok) throw new Error(`catalog ${code}: ${response.status}`);
  return response.json();
}

export function lang() {
  return current;
}

export function isRtl() {
  return RTL.has(current);
}

/** The string for `key`, with {name} placeholders filled; English, then the key, as fallbacks. */
export function t(key, vars) {
  let text = catalogs[current]?.[key] ?? catalogs.en?.[key] ?? key;
  if (vars) {
    for (const [name, value] of Object.entries(vars)) text = text.replaceAll(`{${name}}`, String(value));
  }
  return text;
}

/** The label of a code (`kind`, `state`...), or the code itself when there is none. */
export function label(group, code) {
  const key = `${group}.${code}`;
  const text = t(key);
  return text === key ? String(code) : text;
}

const formats = new Map();

/** A number in the language's format with `digits` decimals, Latin digits; "–" for none. */
export function number(value, digits = 0) {
  if (value === null || value === undefined || Number.isNaN(Number(value))) return "–";
  const key = `${current}/${digits}`;
  let format = formats.get(key);
  if (!format) {
    format = new Intl.NumberFormat(`${current}-u-nu-latn`, { minimumFractionDigits: digits, maximumFractionDigits: digits, signDisplay: "negative" });
    formats.set(key, format);
  }
  return format.format(Number(value)); // signDisplay "negative": no "-0"
}

/** A quantity with its unit in the language: unit("nm", 5.25, 1) -> "5.3 NM". */
export function unit(name, value, digits = 0) {
  return t(`unit.${name}`, { n: number(value, digits) });
}
