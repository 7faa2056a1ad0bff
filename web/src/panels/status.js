// Feeds and links: the top bar's indicator (#status) and the panel it opens
// (#status-panel). Each feed the officer may see with its lag, clock skew, silence and
// a STALE state; on a node, each peer's link up or down since when (UTC). The state is
// in feeds.js; this module reads the server (/healthz, /v1/federation/links), turns
// the stream's feed.* and federation.link events into actions, and draws.
import { ApiError } from "../api.js";
import { durationParts, feedRows, linkRows, statusSummary } from "../feeds.js";
import { t, unit } from "../i18n.js";
import { partyFullName, partyName } from "../selectors.js";
import { clock, timeEl, utcText } from "../time.js";
import { $, fill, h } from "../util.js";

export const STATUS_POLL_MS = 5000; // /healthz and the links read this often (events come at once)

let notNode = false; // the server answered 404 on /v1/federation/links: no links to show

function duration(seconds) {
  const d = durationParts(seconds);
  return d ? unit(d.unit, d.value, d.digits) : "–";
}

/** "12:04:10Z" today, "2026-12-06 12:04:10Z" on another day (both UTC). */
function sinceText(tS, nowS) {
  if (tS === null || tS === undefined) return "–";
  const sameDay = utcText(tS).slice(0, 10) === utcText(nowS).slice(0, 10);
  return utcText(tS, { date: !sameDay });
}

/** Read the feeds the token may see from /healthz (503 bodies say the same). */
export async function loadFeeds(ctx) {
  const nowS = clock.now();
  let health;
  try {
    health = await ctx.api.get("/healthz");
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 503) throw error;
    return; // not ready: nothing new about the feeds; the next poll tries again
  }
  ctx.store.dispatch({ type: "feeds/health", feeds: health?.feeds || {}, now_t_s: nowS });
}

/** Read this node's links (a server that is not a node answers 404: no links). */
export async function loadLinks(ctx) {
  if (notNode) return;
  try {
    ctx.store.dispatch({ type: "links/loaded", links: await ctx.api.get("/v1/federation/links") });
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 404) throw error;
    notNode = true;
    ctx.store.dispatch({ type: "links/loaded", links: null });
  }
}

/** A feed.* or federation.link event from the stream; `fresh` when it is news (a toast). */
export function statusEvent(ctx, event, fresh) {
  const state = ctx.store.state;
  const data = event.data || {};
  if (event.type === "feed.stale" || event.type === "feed.resumed") {
    const before = state.feeds.get(data.party);
    ctx.store.dispatch({ type: "feed/event", event });
    const stale = event.type === "feed.stale";
    if (fresh && (!before || before.stale !== stale)) {
      const party = partyName(state, data.party);
      if (stale) ctx.toast(t("status.toast_stale", { party, lag: duration(data.lag_s) }), "warn");
      else ctx.toast(t("status.toast_resumed", { party }));
    }
  } else if (event.type === "federation.link") {
    const before = state.links?.get(data.party);
    ctx.store.dispatch({ type: "link/changed", link: data });
    if (fresh && before?.status !== data.status && (data.status === "down" || before?.status === "down")) {
      const party = partyName(state, data.party);
      ctx.toast(t(data.status === "down" ? "status.toast_down" : "status.toast_up", { party }), data.status === "down" ? "warn" : "info");
    }
  }
}

/** The top bar's indicator: the worst of the feeds and links, in words. */
export function renderStatusButton(ctx) {
  const summary = statusSummary(ctx.store.state);
  const button = $("#status");
  button.dataset.level = summary.level;
  let text;
  if (summary.level === "down") text = t("status.down", { n: summary.down });
  else if (summary.level === "stale") text = t("status.stale", { n: summary.stale });
  else if (summary.level === "ok") text = t(summary.node ? "status.ok_links" : "status.ok");
  else text = t("status.none");
  button.textContent = text;
  button.title = t("status.title");
}

function feedItem(state, row) {
  const facts = [
    [t("status.lag"), duration(row.lagS)],
    [t("status.skew"), duration(row.clockSkewS)],
    [t("status.silent"), duration(row.silentS)],
  ];
  return h(
    "li",
    { class: `feed ${row.stale ? "stale" : "live"}`, dataset: { party: row.party, stale: String(row.stale) } },
    h(
      "div",
      { class: "row-head" },
      h("bdi", { class: "party", title: partyFullName(state, row.party) }, partyName(state, row.party)),
      h("span", { class: `feed-state ${row.stale ? "stale" : "live"}` }, t(row.stale ? "status.feed_stale" : "status.feed_live")),
    ),
    h(
      "div",
      { class: "row-facts" },
      facts.map(([name, value]) => h("span", {}, `${name} `, h("span", { class: "v", dir: "ltr" }, value))),
    ),
    row.stale && row.newestTS !== null
      ? h("div", { class: "hint" }, t("status.newest"), " ", timeEl(row.newestTS, state.lang), row.staleAfterS !== null ? ` · ${t("status.stale_after", { v: duration(row.staleAfterS) })}` : "")
      : null,
  );
}

function linkItem(state, link, nowS) {
  const party = partyName(state, link.party);
  const key = link.status === "up" ? "status.link_up" : link.status === "down" ? "status.link_down" : "status.link_unknown";
  return h(
    "li",
    { class: `link ${link.status}`, dataset: { party: link.party, status: link.status } },
    h("div", { class: "row-head" }, h("span", { class: "link-text" }, t(key, { party, since: sinceText(link.sinceTS, nowS) }))),
    link.status === "down" && link.reason ? h("div", { class: "hint", dir: "auto" }, link.reason) : null,
    link.queued ? h("div", { class: "row-facts" }, t("status.queued", { n: link.queued, since: sinceText(link.oldestQueuedTS, nowS) })) : null,
  );
}

/** The panel's lists (only while it is open: the numbers move every second). */
export function renderStatusPanel(ctx) {
  const panel = $("#status-panel");
  if (panel.hidden) return;
  const state = ctx.store.state;
  const nowS = clock.now();
  const feeds = feedRows(state, nowS);
  fill($("#status-feeds"), feeds.length ? feeds.map((row) => feedItem(state, row)) : h("li", { class: "empty" }, t("status.no_feeds")));
  $("#status-links-box").hidden = state.links === null;
  const links = linkRows(state);
  fill($("#status-links"), links.length ? links.map((link) => linkItem(state, link, nowS)) : h("li", { class: "empty" }, t("status.no_links")));
}

export function toggleStatus(ctx, show) {
  const panel = $("#status-panel");
  panel.hidden = show === undefined ? !panel.hidden : !show;
  $("#status").setAttribute("aria-expanded", String(!panel.hidden));
  renderStatusPanel(ctx);
}

export function bindStatus(ctx) {
  $("#status").addEventListener("click", () => toggleStatus(ctx));
  $("#status-close").addEventListener("click", () => toggleStatus(ctx, false));
}

export function statusPanelOpen() {
  return !$("#status-panel").hidden;
}
