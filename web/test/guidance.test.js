// guidance.js: the words and shapes of the manoeuvre guidance (#17.5).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { arcPath, headingText, levelText, manoeuvreProposal, ownGuidance, preferredResolution, resolutionWords } from "../src/guidance.js";
import { addCatalog, useLanguage } from "../src/i18n.js";

const catalog = (code) => JSON.parse(readFileSync(new URL(`../src/i18n/${code}.json`, import.meta.url), "utf8"));
for (const code of ["en", "ru", "ar"]) addCatalog(code, catalog(code));

const guidance = (direction, altitude) => ({
  resolution: {
    direction_deg: direction,
    altitude_ft: altitude || { up: 25000, down: 23000, preferred: "up" },
  },
});

describe("the preferred resolution in words", () => {
  it("turns, in three languages", () => {
    const g = guidance({ right: 95, left: 265, preferred: "right" });
    useLanguage("en");
    assert.equal(resolutionWords(g), "turn right to 095°");
    useLanguage("ru");
    assert.equal(resolutionWords(g), "правый разворот на курс 095°");
    useLanguage("ar");
    assert.equal(resolutionWords(g), "انعطف يميناً إلى 095°");
  });
  it("climbs to a flight level when the direction has nothing to state", () => {
    const g = guidance({ right: "inf", left: "-inf", preferred: "right" });
    useLanguage("en");
    assert.equal(resolutionWords(g), "climb to FL250");
    useLanguage("ru");
    assert.equal(resolutionWords(g), "набор высоты до эшелон 250");
  });
  it("a free current value: no manoeuvre", () => {
    useLanguage("en");
    const g = guidance({ right: null, left: null, preferred: "right" }, { up: null, down: null, preferred: "up" });
    assert.equal(preferredResolution(g), null);
    assert.equal(resolutionWords(g), "no manoeuvre needed");
  });
  it("left when preferred", () => {
    useLanguage("en");
    assert.equal(resolutionWords(guidance({ right: 30, left: 350, preferred: "left" })), "turn left to 350°");
  });
});

describe("headings and levels", () => {
  it("three digits, north is 360", () => {
    assert.equal(headingText(0), "360°");
    assert.equal(headingText(359.6), "360°");
    assert.equal(headingText(5), "005°");
    assert.equal(headingText(-90), "270°");
  });
  it("flight levels from 10,000 ft, feet below", () => {
    useLanguage("en");
    assert.equal(levelText(10000), "FL100");
    assert.equal(levelText(9999), "9999 ft");
  });
});

describe("the ring", () => {
  it("an arc from north clockwise", () => {
    assert.equal(arcPath(0, 90, 80, 80, 78, 64), "M80.00 2.00A78 78 0 0 1 158.00 80.00L144.00 80.00A64 64 0 0 0 80.00 16.00Z");
  });
  it("a whole circle stays a drawable arc", () => {
    assert.match(arcPath(0, 360, 80, 80, 78, 64), /A78 78 0 1 1 /);
  });
});

describe("whose guidance", () => {
  it("only the caller's own side", () => {
    const alert = { aircraft: [{ party: "russia", cpa: {} }, { party: "coalition", id: "V1", guidance: { t_s: 1 } }] };
    assert.equal(ownGuidance({ me: { party_id: "russia" } }, alert), null);
    assert.equal(ownGuidance({ me: { party_id: "coalition" } }, alert).side.id, "V1");
  });
});

describe("the manoeuvre the composer proposes", () => {
  it("announces our preferred turn with its heading, asks the other to turn the same way", () => {
    const g = guidance({ right: 94.6, left: 265, preferred: "right" });
    assert.deepEqual(manoeuvreProposal(g, "manoeuvre_intention"), { manoeuvre: "turn_right", target: 95 });
    assert.deepEqual(manoeuvreProposal(g, "request_for_manoeuvre"), { manoeuvre: "turn_right", target: null });
  });
  it("north is 360, a heading never 0", () => {
    const g = guidance({ right: 359.7, left: 200, preferred: "right" });
    assert.deepEqual(manoeuvreProposal(g, "manoeuvre_intention"), { manoeuvre: "turn_right", target: 360 });
  });
  it("climbs when the direction has nothing to state, and asks the other to descend", () => {
    const g = guidance({ right: "inf", left: "-inf", preferred: "right" }, { up: 25040, down: 23000, preferred: "up" });
    assert.deepEqual(manoeuvreProposal(g, "manoeuvre_intention"), { manoeuvre: "climb", target: 25000 });
    assert.deepEqual(manoeuvreProposal(g, "request_for_manoeuvre"), { manoeuvre: "descend", target: null });
  });
  it("proposes nothing when nothing is to be done", () => {
    assert.equal(manoeuvreProposal({ resolution: {} }, "manoeuvre_intention"), null);
    assert.equal(manoeuvreProposal(undefined, "request_for_manoeuvre"), null);
  });
});
