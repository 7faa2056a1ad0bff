// Geometry for drawing: buffers of deconfliction lines, circles, distances.
//
// Built as the server builds them (domain/conformance.py, domain/volumes.py): in an
// azimuthal equidistant projection centred on the figure, where distances from the
// centre are exact, then back to lat/lon. Here the Earth is a sphere of the mean
// radius (the server uses the WGS-84 ellipsoid): a 10 NM buffer drawn here differs
// from the server's by well under 0.1 NM, far below what a map shows at any useful
// zoom. Nothing here decides anything: conformance is the server's.
import polygonClipping from "polygon-clipping";

export const M_PER_NM = 1852;
const R_M = 6371008.8; // mean Earth radius (IUGG)
const RAD = Math.PI / 180;

/** Azimuthal equidistant projection on the sphere, centred on (lat0, lon0). */
export function aeqd(lat0Deg, lon0Deg) {
  const phi0 = lat0Deg * RAD;
  const lam0 = lon0Deg * RAD;
  const sin0 = Math.sin(phi0);
  const cos0 = Math.cos(phi0);
  return {
    forward(lonDeg, latDeg) {
      const phi = latDeg * RAD;
      const dl = lonDeg * RAD - lam0;
      const cosc = Math.min(1, Math.max(-1, sin0 * Math.sin(phi) + cos0 * Math.cos(phi) * Math.cos(dl)));
      const c = Math.acos(cosc);
      const k = c < 1e-12 ? 1 : c / Math.sin(c);
      return [
        R_M * k * Math.cos(phi) * Math.sin(dl),
        R_M * k * (cos0 * Math.sin(phi) - sin0 * Math.cos(phi) * Math.cos(dl)),
      ];
    },
    inverse(x, y) {
      const rho = Math.hypot(x, y);
      if (rho < 1e-9) return [lon0Deg, lat0Deg];
      const c = rho / R_M;
      const sinc = Math.sin(c);
      const cosc = Math.cos(c);
      const phi = Math.asin(cosc * sin0 + (y * sinc * cos0) / rho);
      const lam = lam0 + Math.atan2(x * sinc, rho * cos0 * cosc - y * sin0 * sinc);
      return [(((lam / RAD + 540) % 360) - 180), phi / RAD];
    },
  };
}

/** The centre of a set of [lon, lat] points (mean of unit vectors, no antimeridian seam). */
export function centreOf(coords) {
  let x = 0;
  let y = 0;
  let z = 0;
  for (const [lon, lat] of coords) {
    const phi = lat * RAD;
    const lam = lon * RAD;
    x += Math.cos(phi) * Math.cos(lam);
    y += Math.cos(phi) * Math.sin(lam);
    z += Math.sin(phi);
  }
  const n = Math.hypot(x, y, z) || 1;
  return [Math.atan2(y, x) / RAD, Math.asin(z / n) / RAD];
}

/** Great-circle distance in NM between two [lon, lat] points. */
export function distanceNm(a, b) {
  const p1 = a[1] * RAD;
  const p2 = b[1] * RAD;
  const dp = p2 - p1;
  const dl = (b[0] - a[0]) * RAD;
  const s = Math.sin(dp / 2) ** 2 + Math.cos(p1) * Math.cos(p2) * Math.sin(dl / 2) ** 2;
  return (2 * R_M * Math.asin(Math.min(1, Math.sqrt(s)))) / M_PER_NM;
}

const ARC_STEPS = 36; // per half circle: 5 degree steps, smooth at any zoom that matters

function capsule(ax, ay, bx, by, r) {
  const dx = bx - ax;
  const dy = by - ay;
  const len = Math.hypot(dx, dy);
  const base = len > 0 ? Math.atan2(dy, dx) : 0;
  const ring = [];
  // around b from +90 degrees (left of a->b) to -90, then around a back to +90
  for (let i = 0; i <= ARC_STEPS; i++) {
    const ang = base + Math.PI / 2 - (Math.PI * i) / ARC_STEPS;
    ring.push([bx + r * Math.cos(ang), by + r * Math.sin(ang)]);
  }
  for (let i = 0; i <= ARC_STEPS; i++) {
    const ang = base - Math.PI / 2 - (Math.PI * i) / ARC_STEPS;
    ring.push([ax + r * Math.cos(ang), ay + r * Math.sin(ang)]);
  }
  ring.push(ring[0]);
  return [ring];
}

/**
 * The band within `bufferNm` of a polyline of [lon, lat] points, round caps past
 * its ends (as conformance uses it), as a GeoJSON MultiPolygon geometry.
 */
export function lineBuffer(coords, bufferNm) {
  if (!(bufferNm > 0) || coords.length < 2) return null;
  const [lon0, lat0] = centreOf(coords);
  const proj = aeqd(lat0, lon0);
  const xy = coords.map(([lon, lat]) => proj.forward(lon, lat));
  const r = bufferNm * M_PER_NM;
  const parts = [];
  for (let i = 0; i + 1 < xy.length; i++) parts.push(capsule(...xy[i], ...xy[i + 1], r));
  const union = polygonClipping.union(...parts);
  return {
    type: "MultiPolygon",
    coordinates: union.map((poly) => poly.map((ring) => ring.map(([x, y]) => proj.inverse(x, y)))),
  };
}

/** A circle as a closed ring of `n` [lon, lat] points. */
export function circleRing(lonDeg, latDeg, radiusNm, n = 72) {
  const proj = aeqd(latDeg, lonDeg);
  const r = radiusNm * M_PER_NM;
  const ring = [];
  for (let i = 0; i < n; i++) {
    const ang = (2 * Math.PI * i) / n;
    ring.push(proj.inverse(r * Math.sin(ang), r * Math.cos(ang)));
  }
  ring.push(ring[0]);
  return ring;
}

/** Whether the segments of a closed ring of [x, y] cross (a polygon must not). */
export function selfIntersects(points) {
  const n = points.length;
  const cross = (o, a, b) => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const hit = (p1, p2, p3, p4) => {
    const d1 = cross(p3, p4, p1);
    const d2 = cross(p3, p4, p2);
    const d3 = cross(p1, p2, p3);
    const d4 = cross(p1, p2, p4);
    return d1 * d2 < 0 && d3 * d4 < 0;
  };
  for (let i = 0; i < n; i++) {
    for (let j = i + 2; j < n; j++) {
      if (i === 0 && j === n - 1) continue; // neighbours through the closing edge
      if (hit(points[i], points[(i + 1) % n], points[j], points[(j + 1) % n])) return true;
    }
  }
  return false;
}
