// selectors.js: what the views show, derived from the state.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { addCatalog, useLanguage } from "../src/i18n.js";
import { alertFigures, depthTexts, partyFullName, partyName, pendingMessages, sortedAlerts, topUnacknowledged } from "../src/selectors.js";
import { initialState } from "../src/state.js";

const state = (extra) => ({ ...initialState, me: { party_id: "russia", role: "officer" }, ...extra });

describe("party names", () => {
  const parties = new Map([
    ["coalition", { id: "coalition", name: "coalition" }],
    ["russia", { id: "russia", name: "Russia" }],
  ]);
  const protocol = { parties: ["coalition", "russia"], party_names: { coalition: "US-led coalition (Combined Air Operations Center, Al Udeid)" } };
  it("come from the protocol, shortened at the first parenthesis", () => {
    const s = state({ parties, protocol });
    assert.equal(partyFullName(s, "coalition"), "US-led coalition (Combined Air Operations Center, Al Udeid)");
    assert.equal(partyName(s, "coalition"), "US-led coalition");
  });
  it("else as registered, else the id", () => {
    const s = state({ parties, protocol });
    assert.equal(partyName(s, "russia"), "Russia");
    assert.equal(partyName(s, "syria"), "syria");
  });
});

describe("alerts", () => {
  const alert = (id, level, extra = {}) => ({ id, level, active: true, updated_t_s: 100, tcpa_s: 60, dcpa_nm: 1.9, dalt_ft_at_cpa: 0, aircraft: [], ...extra });
  it("show a cleared alert at its worst while active, as the server keeps it", () => {
    // A warning at 0.2 NM that cleared as a conflict at 1.9 NM: a warning at 0.2 NM.
    const cleared = alert("a", "conflict", { active: false, max_level: "warning", min_dcpa_nm: 0.2 });
    assert.deepEqual(alertFigures(cleared), { level: "warning", missNm: 0.2, daltFt: null });
    assert.deepEqual(alertFigures({ ...cleared, active: true }), { level: "conflict", missNm: 1.9, daltFt: 0 });
    assert.equal(alertFigures(alert("b", "advisory")).level, "advisory");
    assert.equal(alertFigures({ ...alert("c", "conflict"), active: false }).missNm, 1.9); // an older server
  });
  it("sort the most urgent first: level, not acknowledged, soonest CPA", () => {
    const alerts = new Map(
      [alert("late", "warning", { tcpa_s: 90 }), alert("soon", "warning", { tcpa_s: 30 }), alert("mild", "conflict", { tcpa_s: 5 }), alert("acked", "warning", { tcpa_s: 1 })].map((a) => [a.id, a]),
    );
    const s = state({ alerts, acks: { acked: 3 } });
    assert.deepEqual(
      sortedAlerts(s).active.map((a) => a.id),
      ["soon", "late", "acked", "mild"],
    );
    assert.equal(topUnacknowledged(s).id, "soon");
  });
});

describe("pendingMessages", () => {
  it("lists what this party has to acknowledge, flash first, then the nearest deadline", () => {
    const m = (id, priority, deadline, acked = null, from = "coalition") => ({ id, from, priority, receipts: [{ party: "russia", deadline_t_s: deadline, acknowledged_t_s: acked }] });
    const s = state({ messages: [m(1, "routine", 50), m(2, "flash", 900), m(3, "routine", 10), m(4, "flash", 5, 6), m(5, "urgent", 1, null, "russia")] });
    assert.deepEqual(
      pendingMessages(s).map((x) => x.id),
      [2, 3, 1],
    );
  });
});

describe("depthTexts", () => {
  // Through the real catalogs: the figures are named in the language.
  const catalog = (code) => JSON.parse(readFileSync(new URL(`../src/i18n/${code}.json`, import.meta.url), "utf8"));
  const line = { kind: "line_violation", severity_nm: 38.4, depth_across_line_nm: 28.4, depth_from_buffer_edge_nm: 38.4, depth_inside_zone_nm: null };
  it("names both figures of a line violation", () => {
    addCatalog("en", catalog("en"));
    useLanguage("en");
    assert.deepEqual(depthTexts(line), ["28.4 NM across the line", "38.4 NM from the buffer's edge"]);
  });
  it("says into the buffer when the aircraft stayed on its own side", () => {
    useLanguage("en");
    assert.deepEqual(depthTexts({ ...line, depth_across_line_nm: 0, depth_from_buffer_edge_nm: 3.2 }), ["3.2 NM into the buffer on its own side"]);
  });
  it("names a zone's depth and a loss's closest distance, in the language", () => {
    addCatalog("ru", catalog("ru"));
    useLanguage("ru");
    assert.deepEqual(depthTexts({ kind: "zone_incursion", severity_nm: 4, depth_inside_zone_nm: 4 }), ["4,0 м. миль внутри зоны"]);
    assert.deepEqual(depthTexts({ kind: "loss_of_separation", severity_nm: 0.19 }, 2), ["сближение до 0,19 м. миль"]);
  });
  it("gives the one figure of an incident recorded before the depths were named", () => {
    useLanguage("en");
    assert.deepEqual(depthTexts({ kind: "line_violation", severity_nm: 38.4 }), ["38.4 NM deep"]);
  });
});
