// time.js: UTC text, countdowns, the time fields, the server's clock.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { clock, countdownText, parseUtcDay, parseUtcField, rfc3339, utcDay, utcFieldText, utcText } from "../src/time.js";

const T = Date.UTC(2017, 11, 13, 10, 5, 27) / 1000; // 2017-12-13 10:05:27Z

describe("utcText", () => {
  it("writes UTC with a Z", () => {
    assert.equal(utcText(T), "2017-12-13 10:05:27Z");
    assert.equal(utcText(T, { seconds: false }), "2017-12-13 10:05Z");
    assert.equal(utcText(T, { date: false }), "10:05:27Z");
  });
  it("gives the UTC day", () => {
    assert.equal(utcDay(T), "2017-12-13");
    assert.equal(utcDay(Date.UTC(2017, 11, 13, 23, 59, 59) / 1000), "2017-12-13");
  });
});

describe("countdownText", () => {
  it("writes minutes and seconds, hours when there are some", () => {
    assert.equal(countdownText(0), "0:00");
    assert.equal(countdownText(59.9), "0:59");
    assert.equal(countdownText(60), "1:00");
    assert.equal(countdownText(3723), "1:02:03");
  });
  it("counts past zero with a minus", () => {
    assert.equal(countdownText(-12), "-0:12");
  });
});

describe("time fields", () => {
  it("hold ISO 8601 UTC with a Z, to the minute", () => {
    assert.equal(utcFieldText(T), "2017-12-13 10:05Z");
  });
  it("read back what they hold", () => {
    assert.equal(parseUtcField(utcFieldText(T)), T - 27);
  });
  it("accept a T, seconds, no Z or UTC, spaces around", () => {
    const at = Date.UTC(2017, 11, 13, 10, 5) / 1000;
    for (const text of ["2017-12-13T10:05", "2017-12-13 10:05Z", " 2017-12-13 10:05 UTC ", "2017-12-13T10:05:00z"]) {
      assert.equal(parseUtcField(text), at, text);
    }
    assert.equal(parseUtcField("2017-12-13 10:05:27Z"), T);
  });
  it("refuse what is not a time, or no such time", () => {
    for (const text of ["", null, undefined, "13/12/2017 10:05", "2017-12-13", "2017-02-30 10:00", "2017-12-13 24:00", "2017-12-13 10:60", "2017-13-01 10:00", "2017-12-13 10:05+03:00"]) {
      assert.ok(Number.isNaN(parseUtcField(text)), String(text));
    }
  });
  it("read days, leap days included", () => {
    assert.equal(parseUtcDay("2017-12-13"), "2017-12-13");
    assert.equal(parseUtcDay(" 2016-02-29 "), "2016-02-29");
    assert.equal(parseUtcDay("2017-02-29"), null);
    assert.equal(parseUtcDay("2017-12-13 10:00"), null);
    assert.equal(parseUtcDay("13.12.2017"), null);
  });
});

describe("rfc3339", () => {
  it("is UTC with a Z in whole seconds", () => {
    assert.equal(rfc3339(T), "2017-12-13T10:05:27Z");
    assert.equal(rfc3339(T + 0.6), "2017-12-13T10:05:28Z");
  });
});

describe("clock", () => {
  it("takes the largest lower bound of the server's offset, and starts afresh after a while", () => {
    const c = { ...clock, offsetS: 0, known: false, since: 0 };
    c.observe(1000, 990); // an event stamped 1000 arrived at local 990: offset at least 10
    assert.equal(c.offsetS, 10);
    c.observe(1005, 1000); // a bound of 5 says less: kept at 10
    assert.equal(c.offsetS, 10);
    c.observe(1020, 1008); // 12: raised
    assert.equal(c.offsetS, 12);
    c.observe(2000, 1995); // ten minutes on: clocks drift, start afresh
    assert.equal(c.offsetS, 5);
  });
});
