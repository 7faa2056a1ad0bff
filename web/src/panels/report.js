// The daily report: a UTC day and a language; the report as HTML, shown over the map
// in a sandboxed frame, or as a PDF saved to disk. Both come from
// GET /v1/reports/daily with the bearer token in the Authorization header (never in
// a URL) and hold only what this party may see under the sharing level in effect.
import { ApiError, filenameFrom, problemLines } from "../api.js";
import { lang, t } from "../i18n.js";
import { clock, utcDay } from "../time.js";
import { $, h } from "../util.js";

const REVOKE_AFTER_MS = 60_000; // time for the browser to take the PDF from the Blob URL

// Bidi isolates for what goes into a sentence: in Arabic, "2017-12-13" would
// otherwise show as "13-12-2017", and the server's English words keep their order.
const ltr = (text) => `\u2066${text}\u2069`;
const isolated = (text) => `\u2068${text}\u2069`;

// The day and the language follow "today" and the console's language until the
// officer picks another.
const state = { busy: false, dayPicked: false, langPicked: false };

/** Wire the panel up (once, when the console starts). */
export function bindReport(ctx) {
  const day = $("#report-day");
  const select = $("#report-lang");
  day.value = utcDay(clock.now());
  select.value = lang();
  day.addEventListener("change", () => {
    state.dayPicked = true;
  });
  select.addEventListener("change", () => {
    state.langPicked = true;
  });
  $("#report-form").addEventListener("focusin", () => reportShown()); // wall screens have no tab
  $("#report-form").addEventListener("submit", (e) => {
    e.preventDefault();
    openReport(ctx);
  });
  $("#report-pdf").addEventListener("click", () => downloadPdf(ctx));
  $("#report-close").addEventListener("click", () => closeReport());
}

/** The tab is shown: a console left open past midnight offers the new day. */
export function reportShown() {
  if (!state.dayPicked) $("#report-day").value = utcDay(clock.now());
}

/** The console's language changed: so does the report's, unless one was picked. */
export function reportLanguageChanged() {
  if (!state.langPicked) $("#report-lang").value = lang();
}

export function reportOpen() {
  return !$("#report-viewer").hidden;
}

export function closeReport() {
  const viewer = $("#report-viewer");
  if (viewer.hidden) return;
  viewer.hidden = true;
  $("#report-frame").srcdoc = ""; // the report can be large: let it go
  $("#report-open")?.focus();
}

function reportPath(day, reportLang, format) {
  const query = new URLSearchParams({ day, lang: reportLang, format });
  return `/v1/reports/daily?${query}`;
}

function setBusy(busy, text) {
  state.busy = busy;
  const panel = $("#panel-report");
  panel.setAttribute("aria-busy", String(busy));
  for (const b of [$("#report-open"), $("#report-pdf")]) b.disabled = busy;
  const status = $("#report-status");
  status.classList.toggle("busy", busy);
  status.textContent = text || "";
}

/** The officer-facing text of a failure: the server's problem, in the console's words. */
function errorText(error, format) {
  if (error instanceof ApiError) {
    const detail = error.problems.length ? problemLines(error).join("; ") : error.detail || error.message;
    if (error.status === 401) return t("signin.expired");
    if (error.status === 503 && format === "pdf") return t("report.renderer_missing", { detail: isolated(detail) });
    return t("report.failed", { status: error.status, detail: isolated(detail) });
  }
  return t("report.network", { reason: isolated(error?.message || String(error)) });
}

/**
 * Run one request for the report, with the panel busy meanwhile; `work(day, lang)`
 * returns the status to show afterwards.
 */
async function run(ctx, format, busyKey, work) {
  if (state.busy) return;
  const dayInput = $("#report-day");
  const error = $("#report-error");
  // The server reads the day (and says what it cannot read): the field is only trimmed.
  const day = dayInput.value.trim();
  const reportLang = $("#report-lang").value;
  error.textContent = "";
  if (!day) {
    error.textContent = t("report.no_day");
    dayInput.focus();
    return;
  }
  setBusy(true, t(busyKey));
  let done = "";
  try {
    done = await work(day, reportLang);
  } catch (err) {
    error.textContent = errorText(err, format);
    if (err instanceof ApiError && err.status === 401) ctx.signOut?.(t("signin.expired"));
  } finally {
    setBusy(false, done);
  }
}

export function openReport(ctx) {
  return run(ctx, "html", "report.opening", async (day, reportLang) => {
    const response = await ctx.api.fetchFile(reportPath(day, reportLang, "html"));
    const page = await response.text();
    const frame = $("#report-frame");
    // A sandbox without scripts, forms or this page's origin: the report is shown,
    // nothing in it can act on the console.
    frame.srcdoc = page;
    frame.title = t("report.frame_title", { day: ltr(day) });
    frame.dataset.day = day;
    frame.dataset.lang = reportLang;
    $("#report-viewer-title").textContent = t("report.viewer_title", { day: ltr(day) });
    $("#report-viewer").hidden = false;
    $("#report-close").focus();
    return "";
  });
}

export function downloadPdf(ctx) {
  return run(ctx, "pdf", "report.rendering", async (day, reportLang) => {
    const response = await ctx.api.fetchFile(reportPath(day, reportLang, "pdf"));
    const name = filenameFrom(response.headers.get("content-disposition"), `deconfliction-report-${day}-${reportLang}.pdf`);
    const blob = new Blob([await response.blob()], { type: "application/pdf" });
    const url = URL.createObjectURL(blob);
    const link = h("a", { href: url, download: name, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), REVOKE_AFTER_MS);
    return t("report.saved", { file: isolated(name) });
  });
}
