// geo.js: the console's drawing geometry (buffers, circles, distances).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { aeqd, centreOf, circleRing, distanceNm, lineBuffer, M_PER_NM, selfIntersects } from "../src/geo.js";

const close = (actual, expected, tolerance, what = "") =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what} ${actual} is not within ${tolerance} of ${expected}`);

describe("distanceNm", () => {
  it("is a minute of arc per NM, on the sphere", () => {
    close(distanceNm([0, 0], [0, 1]), 60.04, 0.01, "one degree of latitude");
  });
  it("is zero from a point to itself and the same both ways", () => {
    assert.equal(distanceNm([38.6, 35.9], [38.6, 35.9]), 0);
    close(distanceNm([38.6, 35.9], [40.1, 35.3]), distanceNm([40.1, 35.3], [38.6, 35.9]), 1e-9);
  });
  it("crosses the antimeridian the short way", () => {
    close(distanceNm([179.5, 0], [-179.5, 0]), 60.04, 0.01);
  });
});

describe("aeqd", () => {
  const proj = aeqd(35.9, 38.6);
  it("puts its centre at the origin", () => {
    const [x, y] = proj.forward(38.6, 35.9);
    close(x, 0, 1e-6);
    close(y, 0, 1e-6);
  });
  it("keeps distances from the centre exact", () => {
    const [x, y] = proj.forward(40.1, 35.3);
    close(Math.hypot(x, y) / M_PER_NM, distanceNm([38.6, 35.9], [40.1, 35.3]), 1e-6);
  });
  it("comes back to where it started", () => {
    for (const [lon, lat] of [
      [38.6, 35.9],
      [41.0, 34.4],
      [36.0, 37.1],
    ]) {
      const [x, y] = proj.forward(lon, lat);
      const [lon2, lat2] = proj.inverse(x, y);
      close(lon2, lon, 1e-9, "lon");
      close(lat2, lat, 1e-9, "lat");
    }
  });
});

describe("centreOf", () => {
  it("is the middle of two points on a parallel", () => {
    const [lon, lat] = centreOf([
      [38, 35],
      [40, 35],
    ]);
    close(lon, 39, 1e-9);
    assert.ok(lat > 35 && lat < 35.01, `${lat}: a great circle bulges poleward`);
  });
  it("has no seam at the antimeridian", () => {
    const [lon] = centreOf([
      [179, 0],
      [-179, 0],
    ]);
    close(Math.abs(lon), 180, 1e-9);
  });
});

describe("circleRing", () => {
  it("is closed and every point is at the radius", () => {
    const ring = circleRing(39.0, 35.9, 12, 36);
    assert.equal(ring.length, 37);
    assert.deepEqual(ring[0], ring[36]);
    for (const p of ring) close(distanceNm([39.0, 35.9], p), 12, 1e-6);
  });
});

describe("lineBuffer", () => {
  it("is nothing without a width or a second point", () => {
    assert.equal(lineBuffer([[38, 35]], 10), null);
    assert.equal(lineBuffer([[38, 35], [38, 36]], 0), null);
  });
  it("reaches the width across the line and round the caps", () => {
    const a = [38.6, 35.7];
    const b = [38.6, 36.0];
    const band = lineBuffer([a, b], 10);
    assert.equal(band.type, "MultiPolygon");
    const outline = band.coordinates.flat(2);
    const east = outline.reduce((m, p) => (p[0] > m[0] ? p : m));
    const north = outline.reduce((m, p) => (p[1] > m[1] ? p : m));
    close(distanceNm(east, [38.6, east[1]]), 10, 0.05, "across");
    close(distanceNm(north, b), 10, 0.01, "past the end");
  });
  it("is one polygon for a bent line", () => {
    const band = lineBuffer(
      [
        [38.0, 36.8],
        [38.2, 36.4],
        [38.1, 36.0],
      ],
      10,
    );
    assert.equal(band.coordinates.length, 1);
  });
});

describe("selfIntersects", () => {
  it("finds a bow tie and passes a square", () => {
    assert.equal(
      selfIntersects([
        [0, 0],
        [1, 1],
        [1, 0],
        [0, 1],
      ]),
      true,
    );
    assert.equal(
      selfIntersects([
        [0, 0],
        [1, 0],
        [1, 1],
        [0, 1],
      ]),
      false,
    );
  });
});
