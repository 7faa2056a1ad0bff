// Times: always UTC first (as the hotline and the record write them), local beside.
import { h } from "./util.js";

const pad = (n, w = 2) => String(n).padStart(w, "0");

/**
 * The server's clock as seen from here. Countdowns (time to CPA, acknowledgement
 * deadlines) are computed against the server's time: both sides then count down
 * the same, whatever this workstation's clock says.
 * `observe(serverT, receivedLocalT)` takes a lower bound of the offset
 * (server time minus local time): an event stamped t_s cannot arrive before t_s.
 */
export const clock = {
  offsetS: 0,
  known: false,
  since: 0,
  now() {
    return Date.now() / 1000 + this.offsetS;
  },
  observe(serverT, localT) {
    const bound = serverT - localT;
    const fresh = this.known && localT - this.since < 600; // clocks drift: start afresh now and then
    if (fresh) {
      this.offsetS = Math.max(this.offsetS, bound);
    } else {
      this.offsetS = bound;
      this.known = true;
      this.since = localT;
    }
  },
};

/** "2017-12-13 10:00:00Z" (or without seconds / without the date). */
export function utcText(tS, { seconds = true, date = true } = {}) {
  const d = new Date(tS * 1000);
  const day = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  const hm = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
  const time = seconds ? `${hm}:${pad(d.getUTCSeconds())}` : hm;
  return `${date ? day + " " : ""}${time}Z`;
}

let localFormat = null;
let localLang = "";

/** "13:00 GMT+3" in the UI language, Latin digits. */
export function localText(tS, lang) {
  if (!localFormat || localLang !== lang) {
    localLang = lang;
    localFormat = new Intl.DateTimeFormat(`${lang}-u-nu-latn`, {
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
      timeZoneName: "short",
    });
  }
  return localFormat.format(new Date(tS * 1000));
}

/** A <time> element: UTC, and the local time beside it. */
export function timeEl(tS, lang, opts = {}) {
  if (tS === null || tS === undefined) return h("span", { class: "t" }, "–");
  return h(
    "time",
    { class: "t", datetime: new Date(tS * 1000).toISOString(), dir: "ltr" },
    h("span", { class: "utc" }, utcText(tS, opts)),
    " ",
    h("span", { class: "local" }, `(${localText(tS, lang)})`),
  );
}

/** "4:59", "1:02:03", "-0:12" for a number of seconds. */
export function countdownText(seconds) {
  const neg = seconds < 0;
  let s = Math.floor(Math.abs(seconds));
  const hh = Math.floor(s / 3600);
  s -= hh * 3600;
  const mm = Math.floor(s / 60);
  const ss = s - mm * 60;
  const body = hh > 0 ? `${hh}:${pad(mm)}:${pad(ss)}` : `${mm}:${pad(ss)}`;
  return (neg ? "-" : "") + body;
}

/** "2017-12-13": the UTC day of a time. */
export function utcDay(tS) {
  return utcText(tS).slice(0, 10);
}

// Time fields are text in ISO 8601 with a Z ("2017-12-13 10:00Z"), not the browser's
// date pickers: those show the workstation's locale ("12/13/2017, 10:00 AM"), which
// reads differently on each side and hides that the time is UTC.

/** "2017-12-13 10:00Z": a time as the console's time fields hold it. */
export function utcFieldText(tS) {
  return utcText(tS, { seconds: false });
}

const FIELD_RE = /^\s*(\d{4})-(\d{2})-(\d{2})(?:[ T]+|\s*)(\d{2}):(\d{2})(?::(\d{2}))?\s*(?:Z|UTC)?\s*$/i;
const DAY_RE = /^\s*(\d{4})-(\d{2})-(\d{2})\s*$/;

/** Epoch ms of a calendar date and time, or NaN if there is no such date or time. */
function utcMs(y, mo, d, hh = 0, mm = 0, ss = 0) {
  if (mo < 1 || mo > 12 || d < 1 || hh > 23 || mm > 59 || ss > 59) return NaN;
  const ms = Date.UTC(y, mo - 1, d, hh, mm, ss);
  return new Date(ms).getUTCDate() === d ? ms : NaN; // 2017-02-30 is not a day
}

/**
 * A time field read as UTC ("2017-12-13 10:00Z"; the Z, a T for the space and seconds
 * are optional), in epoch seconds; NaN when it is not such a time.
 */
export function parseUtcField(text) {
  const m = FIELD_RE.exec(text || "");
  if (!m) return NaN;
  const [y, mo, d, hh, mm, ss] = m.slice(1).map((v) => (v === undefined ? 0 : Number(v)));
  return utcMs(y, mo, d, hh, mm, ss) / 1000;
}

/** A day field ("2017-12-13") as that text, or null when it is not a day. */
export function parseUtcDay(text) {
  const m = DAY_RE.exec(text || "");
  if (!m) return null;
  return Number.isNaN(utcMs(Number(m[1]), Number(m[2]), Number(m[3]))) ? null : `${m[1]}-${m[2]}-${m[3]}`;
}

/** RFC 3339 UTC with Z, whole seconds. */
export function rfc3339(tS) {
  return new Date(Math.round(tS) * 1000).toISOString().replace(".000Z", "Z");
}
