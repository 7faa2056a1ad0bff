// i18n.js: strings, labels, numbers and units in the UI language; and the catalogs.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { beforeEach, describe, it } from "node:test";
import { addCatalog, isRtl, label, LANGUAGES, number, t, unit, useLanguage } from "../src/i18n.js";

const catalog = (code) => JSON.parse(readFileSync(new URL(`../src/i18n/${code}.json`, import.meta.url), "utf8"));
const catalogs = Object.fromEntries(LANGUAGES.map((code) => [code, catalog(code)]));
const countries = JSON.parse(readFileSync(new URL("../../src/deconfliction/data/geo/countries.geojson", import.meta.url), "utf8"));

describe("t and label", () => {
  it("fill placeholders, fall back to English, then to the key", () => {
    addCatalog("en", { greet: "Hello {name}", only_en: "English" });
    addCatalog("ru", { greet: "Привет, {name}" });
    assert.equal(useLanguage("ru"), "ru");
    assert.equal(t("greet", { name: "VIPER11" }), "Привет, VIPER11");
    assert.equal(t("only_en"), "English");
    assert.equal(t("no.such.key"), "no.such.key");
  });
  it("label a code, or give the code itself", () => {
    addCatalog("en", { "level.warning": "warning" });
    useLanguage("en");
    assert.equal(label("level", "warning"), "warning");
    assert.equal(label("level", "unheard_of"), "unheard_of");
  });
  it("fall back to English for a language it does not know", () => {
    assert.equal(useLanguage("fr"), "en");
    assert.equal(isRtl(), false);
  });
});

describe("numbers and units", () => {
  beforeEach(() => {
    for (const code of LANGUAGES) addCatalog(code, catalogs[code]);
  });
  it("write numbers in the language's format with Latin digits", () => {
    useLanguage("en");
    assert.equal(number(12345.678, 1), "12,345.7");
    useLanguage("ru");
    assert.equal(number(12345.678, 1).replace(/\s/g, " "), "12 345,7");
    useLanguage("ar");
    assert.match(number(12345.678, 1), /^[0-9.,]+$/);
    assert.equal(isRtl(), true);
  });
  it("write no minus zero, and a dash for nothing", () => {
    useLanguage("en");
    assert.equal(number(-0.04, 1), "0.0");
    assert.equal(number(null), "–");
    assert.equal(number(Number.NaN), "–");
  });
  it("write units in the language, as the daily report does", () => {
    useLanguage("en");
    assert.equal(unit("nm", 5.25, 1), "5.3 NM");
    assert.equal(unit("s", 300), "300 s");
    useLanguage("ru");
    assert.equal(unit("nm", 5, 1), "5,0 м. миль");
    assert.equal(unit("min", 60), "60 мин");
    useLanguage("ar");
    assert.equal(unit("min", 60), "60 دقيقة");
  });
});

describe("the catalogs", () => {
  const keys = Object.keys(catalogs.en).sort();
  it("have the same keys and placeholders in every language", () => {
    for (const code of LANGUAGES) {
      assert.deepEqual(Object.keys(catalogs[code]).sort(), keys, code);
      for (const key of keys) {
        const wanted = (catalogs.en[key].match(/\{\w+\}/g) || []).sort();
        assert.deepEqual((catalogs[code][key].match(/\{\w+\}/g) || []).sort(), wanted, `${code} ${key}`);
      }
    }
  });
  it("name every country of the base map", () => {
    for (const f of countries.features) {
      for (const code of LANGUAGES) assert.ok(catalogs[code][`country.${f.properties.name}`], `${code}: ${f.properties.name}`);
    }
  });
  it("have a unit for every unit the console writes", () => {
    for (const name of ["nm", "ft", "min", "s"]) assert.match(catalogs.en[`unit.${name}`], /\{n\}/);
  });
});
