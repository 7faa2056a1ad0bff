// UI strings: one JSON catalog per language in static/i18n/. Hotline texts are not
// here: the server renders them (?lang=). Arabic lays the whole page out right to left.
import { $$ } from "./util.js";

export const LANGUAGES = ["en", "ru", "ar"];
const RTL = new Set(["ar"]);
const catalogs = {};
let current = "en";

export async function loadLanguage(lang) {
  if (!LANGUAGES.includes(lang)) lang = "en";
  if (!catalogs.en) catalogs.en = await fetchCatalog("en");
  if (!catalogs[lang]) catalogs[lang] = await fetchCatalog(lang);
  current = lang;
  const root = document.documentElement;
  root.lang = lang;
  root.dir = RTL.has(lang) ? "rtl" : "ltr";
  for (const el of $$("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of $$("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
  for (const el of $$(".lang-select")) el.value = lang;
  document.title = t("app.title");
  return lang;
}

async function fetchCatalog(lang) {
  const response = await fetch(`static/i18n/${lang}.json`, { cache: "no-cache" });
  if (!response.ok) throw new Error(`catalog ${lang}: ${response.status}`);
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
