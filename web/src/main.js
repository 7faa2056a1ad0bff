// The duty officer's console. Sign in with the party's token; the console then reads
// the API, follows the live stream (/v1/stream, resumed with ?after= the last event
// id) and polls the live picture (/v1/tracks). Everything it loads comes from this
// server: scripts, styles, fonts, catalogs and map data.
//
// What the console knows is in one store (store.js, state.js): loaders, the stream and
// the panels change it only by dispatching actions, and the views below redraw the
// parts of the screen that read the slices an action changed, once per frame.
import { Api, ApiError } from "./api.js";
import { LANGUAGES, label, lang, loadLanguage, t } from "./i18n.js";
import { guidanceView, ownGuidance } from "./guidance.js";
import { Colours, MapView } from "./map.js";
import { acknowledge, loadAcks, renderAlerts, saveAcks, tickAlerts } from "./panels/alerts.js";
import { acknowledgeMessage, bindHotline, composeManoeuvre, renderComposer, renderMessages, tickMessages } from "./panels/hotline.js";
import { evidenceMapShown, renderIncidents, showIncident } from "./panels/incidents.js";
import { renderOperationForm, renderOperations, renderShape } from "./panels/operations.js";
import { renderProtocol } from "./panels/protocol.js";
import { bindReport, closeReport, reportLanguageChanged, reportOpen, reportShown } from "./panels/report.js";
import {
  bindStatus,
  loadFeeds,
  loadLinks,
  renderStatusButton,
  renderStatusPanel,
  STATUS_POLL_MS,
  statusEvent,
  statusPanelOpen,
  toggleStatus,
} from "./panels/status.js";
import {
  alarmLevel,
  conflictPlaces,
  incidentMarkers,
  pairsForMap,
  partyFullName,
  partyName,
  partyOrder,
  pendingMessages,
  sidesOf,
  topUnacknowledged,
} from "./selectors.js";
import { initialState, reducers } from "./state.js";
import { createStore } from "./store.js";
import { clock, countdownText, localText, timeEl, utcText } from "./time.js";
import { $, $$, coalesce, debounce, fill, h } from "./util.js";

const TRACKS_POLL_MS = 2000; // the live picture is not on the stream: read it this often
const TRACK_MAX_AGE_S = 120; // aircraft silent longer than this leave the map
const SEED_TRAILS_MAX = 100; // fetch the history of new aircraft only while there are few
const TRAIL_S = 900; // the history fetched for a new aircraft's trail
const RECONNECT_MAX_MS = 10000;
const BEEP_EVERY_S = 2.5;
const TOAST_MS = 6000;
const TOASTS_SHOWN = 3;

const TOKEN_KEY = "dcf.token";
const LANG_KEY = "dcf.lang";
const MUTE_KEY = "dcf.muted";

const stats = { tracksUpdateMs: 0, aircraft: 0, events: 0, lastEventId: 0, connected: false };
const store = createStore(initialState, reducers);

// The services the panels use (not state: set once when the console starts).
const ctx = {
  store,
  api: null,
  mapView: null,
  base: null,
  colours: new Colours(),
  toast,
  refresh,
  showTab,
  focusAlert,
  composeManoeuvre: (alert, kind) => composeManoeuvre(ctx, alert, kind),
  signOut: (reason) => signOut(reason),
};

// -- views: which part of the screen reads which slices of the state ---------------------

const VIEWS = [
  ["colours", ["protocol", "parties"], recolour],
  ["who", ["me", "parties", "protocol", "lang"], renderWho],
  ["legend", ["protocol", "parties", "lang"], renderLegend],
  ["protocol", ["protocol", "parties", "lang"], () => renderProtocol(ctx)],
  ["alerts", ["alerts", "acks", "parties", "protocol", "lang"], () => renderAlerts(ctx)],
  ["guidance", ["alerts", "tracks", "lang"], () => showGuidance()],
  ["alarm", ["alerts", "acks"], updateAlarm],
  ["pairs", ["alerts", "acks", "tracks"], () => ctx.mapView?.setPairs(pairsForMap(store.state))],
  ["incidents", ["incidents", "selectedIncident", "parties", "protocol", "lang"], () => renderIncidents(ctx)],
  ["incident marks", ["incidents"], () => ctx.mapView?.setIncidents(incidentMarkers(store.state))],
  ["messages", ["messages", "hotlineBox", "parties", "protocol", "lang"], () => renderMessages(ctx)],
  ["composer", ["composerKind", "protocol", "parties", "lang"], () => renderComposer(ctx)],
  ["operations", ["operations", "lastFiled", "parties", "protocol", "lang"], () => renderOperations(ctx)],
  ["operation marks", ["operations"], () => ctx.mapView?.setOperations(store.state.operations, conflictPlaces(store.state))],
  ["operation form", ["lang"], () => renderOperationForm(ctx)],
  ["shape", ["draw"], () => renderShape(ctx)],
  ["aircraft", ["tracks"], drawAircraft],
  ["countries", ["lang"], () => ctx.mapView?.setCountryNames((name) => label("country", name))],
  ["status", ["feeds", "links", "me", "parties", "protocol", "lang"], renderStatus],
];

const dirty = new Set();
const flush = coalesce(() => {
  if (!store.state.me || !ctx.mapView) return; // signed in and the map made: then draw
  for (const [name, , render] of VIEWS) {
    if (dirty.has(name)) render();
  }
  dirty.clear();
});

store.subscribe((state, changed) => {
  for (const [name, slices] of VIEWS) if (slices.some((s) => changed.has(s))) dirty.add(name);
  if (changed.has("acks") && state.me) saveAcks(state.me.party_id, state.acks);
  flush();
});

function redrawAll() {
  for (const [name] of VIEWS) dirty.add(name);
  flush();
}

let colourOrder = "";
function recolour() {
  const order = partyOrder(store.state);
  if (order.join() === colourOrder) return;
  colourOrder = order.join();
  ctx.colours.setParties(order);
  ctx.mapView.recolour();
  for (const name of ["aircraft", "legend", "protocol", "operations"]) dirty.add(name); // drawn in the colours
}

function drawAircraft() {
  stats.tracksUpdateMs = ctx.mapView.setAircraft(store.state.tracks);
  stats.aircraft = store.state.tracks.size;
}

function renderStatus() {
  renderStatusButton(ctx);
  renderStatusPanel(ctx);
}

function toast(text, kind = "info") {
  const el = h("div", { class: `toast ${kind}`, role: kind === "error" ? "alert" : "status" }, text);
  const box = $("#toasts");
  box.append(el);
  while (box.children.length > TOASTS_SHOWN) box.firstElementChild.remove();
  setTimeout(() => el.remove(), TOAST_MS);
}

// -- loading from the API --------------------------------------------------------------

let fitted = false; // the map is fitted to the protocol once: later the officer decides

const loaders = {
  async protocol() {
    const parties = await ctx.api.get("/v1/parties");
    let protocol = null;
    try {
      protocol = await ctx.api.get("/v1/protocols/current");
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 404) throw error;
    }
    store.dispatch({ type: "parties/loaded", parties });
    store.dispatch({ type: "protocol/loaded", protocol });
    ctx.mapView.setProtocol(protocol?.geometry);
    if (protocol && !fitted) {
      fitted = true;
      const coords = protocol.geometry.features.flatMap((f) => (f.geometry.type === "Polygon" ? f.geometry.coordinates[0] : f.geometry.coordinates));
      ctx.mapView.fitTo(coords, 0);
    }
  },
  async alerts() {
    store.dispatch({ type: "alerts/loaded", alerts: await ctx.api.get("/v1/alerts") });
  },
  async incidents() {
    store.dispatch({ type: "incidents/loaded", incidents: await ctx.api.get("/v1/incidents") });
  },
  async messages() {
    store.dispatch({ type: "messages/loaded", messages: await ctx.api.get(`/v1/hotline/messages?lang=${lang()}`) });
  },
  async operations() {
    store.dispatch({ type: "operations/loaded", operations: await ctx.api.get("/v1/operations") });
  },
  async tracks() {
    applyTracks(await ctx.api.get(`/v1/tracks?max_age_s=${TRACK_MAX_AGE_S}`));
  },
  feeds: () => loadFeeds(ctx),
  links: () => loadLinks(ctx),
};

async function refresh(what) {
  try {
    await loaders[what]();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) signOut(t("signin.expired"));
    else console.warn(`refresh ${what}:`, error);
  }
}

const refreshLater = {};
for (const name of Object.keys(loaders)) refreshLater[name] = debounce(() => refresh(name), 150);

function refreshAll() {
  return Promise.all(Object.keys(loaders).map((name) => refresh(name)));
}

// -- the live picture --------------------------------------------------------------------

function applyTracks(points) {
  const before = store.state.tracks;
  store.dispatch({ type: "tracks/polled", points });
  const after = store.state.tracks;
  if (after.size > SEED_TRAILS_MAX) return;
  for (const a of after.values()) if (!before.has(a.key)) seedTrail(a);
}

async function seedTrail(a) {
  try {
    const since = new Date((clock.now() - TRAIL_S) * 1000).toISOString();
    const history = await ctx.api.get(`/v1/tracks/${encodeURIComponent(a.party)}/${encodeURIComponent(a.id)}?since=${since}`);
    store.dispatch({ type: "tracks/history", key: a.key, history });
  } catch {
    // the history is a nicety; the live position is what matters
  }
}

async function pollTracks() {
  await refresh("tracks");
  setTimeout(pollTracks, TRACKS_POLL_MS);
}

// Feeds and links come on the stream as they change; read in full now and then too
// (a feed's lag grows without any event, and an event can be missed while offline).
async function pollStatus() {
  await Promise.all([refresh("feeds"), refresh("links")]);
  setTimeout(pollStatus, STATUS_POLL_MS);
}

// -- the stream ------------------------------------------------------------------------------

let socket = null;
let reconnectMs = 1000;
let lastEventId = 0;

function afterKey() {
  return `dcf.after.${store.state.me.party_id}`;
}

function setConnection(state) {
  const el = $("#conn");
  el.dataset.state = state;
  el.textContent = t(`conn.${state}`);
  stats.connected = state === "live";
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  // The token goes in the first message, never in the URL (servers log URLs).
  const url = `${scheme}//${location.host}/v1/stream?after=${lastEventId}`;
  const ws = new WebSocket(url);
  socket = ws;
  setConnection("connecting");
  ws.onopen = () => {
    ws.send(JSON.stringify({ token: ctx.api.token }));
    reconnectMs = 1000;
    setConnection("live");
    refreshAll(); // whatever happened while we were away, in full
  };
  ws.onmessage = (message) => {
    const event = JSON.parse(message.data);
    lastEventId = Math.max(lastEventId, event.id);
    stats.lastEventId = lastEventId;
    stats.events += 1;
    sessionStorage.setItem(afterKey(), String(lastEventId));
    clock.observe(event.t_s, Date.now() / 1000);
    handleEvent(event);
  };
  ws.onclose = (close) => {
    if (socket !== ws) return;
    socket = null;
    if (close.code === 4401) {
      signOut(t("signin.expired"));
      return;
    }
    setConnection("offline");
    setTimeout(connect, reconnectMs);
    reconnectMs = Math.min(RECONNECT_MAX_MS, reconnectMs * 2);
  };
}

function isFresh(event) {
  return clock.now() - event.t_s < 30; // replayed history does not beep
}

function handleEvent(event) {
  const [group] = event.type.split(".");
  const data = event.data || {};
  const state = store.state;
  if (group === "alert" && data.id) {
    const before = state.alerts.get(data.id);
    store.dispatch({ type: "alert/changed", alert: data });
    if (!before && isFresh(event)) toast(t("alerts.new", { level: label("level", data.level) }), "warn");
  } else if (group === "incident" && data.id !== undefined) {
    store.dispatch({ type: "incident/changed", incident: data });
    if (event.type === "incident.opened" && isFresh(event)) toast(t("incidents.new", { kind: label("incident", data.kind), id: data.id }), "warn");
  } else if (group === "hotline") {
    refreshLater.messages();
    const m = data.message;
    if (event.type === "hotline.sent" && m && m.from !== state.me.party_id && isFresh(event)) {
      toast(t("hotline.new", { party: partyName(state, m.from), priority: label("priority", m.priority) }), m.priority === "flash" ? "warn" : "info");
      if (m.priority === "flash") beep();
    }
    if (event.type === "hotline.escalated" && isFresh(event)) toast(t("hotline.escalated"), "warn");
    if (m?.operation_id) refreshLater.operations(); // a notice acknowledged moves its operation on
  } else if (group === "operation") {
    refreshLater.operations();
  } else if (group === "protocol") {
    refreshLater.protocol();
    refreshLater.feeds(); // stale_after_s is the protocol's
  } else if (group === "feed" || event.type === "federation.link") {
    statusEvent(ctx, event, isFresh(event));
  }
}

// -- alarm: flash and beep for the highest level ---------------------------------------

let audio = null;
let lastBeep = 0;
let muted = localStorage.getItem(MUTE_KEY) === "1";

function beep() {
  if (muted) return;
  try {
    audio = audio || new AudioContext();
    if (audio.state === "suspended") audio.resume();
    const now = audio.currentTime;
    for (const start of [0, 0.22]) {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.type = "square";
      osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.0001, now + start);
      gain.gain.exponentialRampToValueAtTime(0.15, now + start + 0.01);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + start + 0.16);
      osc.connect(gain).connect(audio.destination);
      osc.start(now + start);
      osc.stop(now + start + 0.18);
    }
    lastBeep = performance.now() / 1000;
    stats.beeps = (stats.beeps || 0) + 1;
  } catch {
    // no audio device: the flashing still shows it
  }
}

function updateAlarm() {
  const level = alarmLevel(store.state);
  document.body.classList.toggle("alarm", level === "warning");
  document.body.classList.toggle("caution", level === "advisory" || level === "conflict");
}

function setMuted(value) {
  muted = value;
  localStorage.setItem(MUTE_KEY, muted ? "1" : "0");
  renderMute();
}

function renderMute() {
  const b = $("#mute");
  b.textContent = muted ? t("settings.muted") : t("settings.mute");
  b.setAttribute("aria-pressed", String(muted));
}

// -- once a second -----------------------------------------------------------------------------

function tick() {
  const now = clock.now();
  fill($("#clock"), h("span", { class: "utc" }, utcText(now, { date: false })), " ", h("span", { class: "local" }, `(${localText(now, lang())})`));
  tickAlerts();
  tickMessages();
  ctx.mapView?.tick(now);
  if (statusPanelOpen()) renderStatusPanel(ctx); // lag and silence grow by the second
  if (alarmLevel(store.state) === "warning" && performance.now() / 1000 - lastBeep > BEEP_EVERY_S) beep();
  const pending = pendingMessages(store.state);
  const counter = $("#counters");
  counter.classList.toggle("danger", pending.some((m) => m.overdue));
  counter.textContent = pending.length ? t("hotline.pending_count", { n: pending.length }) : "";
}

// -- the map's clicks -----------------------------------------------------------------------

function onPick(layer, props, lngLat) {
  const state = store.state;
  if (layer === "aircraft") {
    const a = state.tracks.get(props.key);
    if (!a) return;
    ctx.mapView.popup(
      lngLat,
      h(
        "div",
        { class: "popup" },
        h("strong", { dir: "ltr" }, a.id),
        " ",
        h("span", {}, partyName(state, a.party)),
        h("div", { dir: "ltr" }, `${a.fl} · ${Math.round(a.gs)} kt · ${Math.round(a.trk)}° · ${Math.round(a.vs)} fpm`),
        h("div", {}, timeEl(a.t_s, state.lang)),
      ),
    );
    const since = new Date((clock.now() - 3600) * 1000).toISOString();
    ctx.api
      .get(`/v1/tracks/${encodeURIComponent(a.party)}/${encodeURIComponent(a.id)}?since=${since}`)
      .then((history) => ctx.mapView.setHistory(history.map((p) => [p.lon_deg, p.lat_deg])))
      .catch(() => ctx.mapView.setHistory(null));
  } else if (layer === "incidents") {
    showIncident(ctx, props.id);
  } else if (layer === "pairs" || layer === "cpa") {
    const row = $(`#alerts-list li[data-key="${CSS.escape(props.id)}"]`);
    row?.scrollIntoView({ block: "nearest" });
    row?.focus();
  } else if (layer === "operations-fill") {
    showTab("operations");
  }
}

function focusAlert(alert) {
  const state = store.state;
  const { own } = sidesOf(state, alert);
  const live = own.id ? state.tracks.get(`${own.party}/${own.id}`) : null;
  const at = live ? [live.lon, live.lat] : own.cpa ? [own.cpa.lon_deg, own.cpa.lat_deg] : null;
  if (at) ctx.mapView.flyTo(at, 8);
  guidanceAlertId = alert.id;
  showGuidance();
}

// The guidance ring of the own aircraft of the alert last focused (#17.5), kept in
// step with the alert's updates and removed when it clears.
let guidanceAlertId = null;
function showGuidance() {
  const state = store.state;
  const found = guidanceAlertId ? state.alerts.get(guidanceAlertId) : null;
  const alert = found?.active ? found : null;
  const mine = alert ? ownGuidance(state, alert) : null;
  if (!mine) {
    guidanceAlertId = alert ? guidanceAlertId : null;
    ctx.mapView?.showGuidance(null, null);
    return;
  }
  const live = state.tracks.get(`${mine.side.party}/${mine.side.id}`);
  const at = live ? [live.lon, live.lat] : [mine.side.lon_deg, mine.side.lat_deg];
  ctx.mapView.showGuidance(at, guidanceView(mine.side, mine.guidance));
}

// -- tabs, help, shortcuts -------------------------------------------------------------------

function showTab(name) {
  for (const b of $$("#tabs [data-tab]")) b.setAttribute("aria-selected", String(b.dataset.tab === name));
  for (const p of $$(".tab-panel")) p.classList.toggle("active", p.dataset.panel === name);
  if (name === "report") reportShown();
}

const SHORTCUTS = [
  ["A", "help.ack_alert"],
  ["K", "help.ack_message"],
  ["1–5", "help.tabs"],
  ["P", "help.draw_polygon"],
  ["C", "help.draw_circle"],
  ["Enter", "help.finish"],
  ["Esc", "help.cancel"],
  ["M", "help.mute"],
  ["?", "help.help"],
];

function renderHelp() {
  fill($("#help-list"), SHORTCUTS.map(([key, text]) => [h("dt", {}, h("kbd", {}, key)), h("dd", {}, t(text))]));
}

function toggleHelp(show) {
  const help = $("#help");
  help.hidden = show === undefined ? !help.hidden : !show;
}

function startDraw(mode) {
  closeReport(); // the drawing is on the map, under the report
  showTab("operations");
  $("#draw-finish").hidden = mode !== "polygon";
  $("#draw-cancel").hidden = false;
  $("#draw-hint").textContent = t(mode === "polygon" ? "draw.polygon_hint" : "draw.circle_hint");
  ctx.mapView.startDraw(mode, (shape, drawing) => {
    store.dispatch({ type: "draw/changed", shape, drawing });
    if (!drawing) {
      $("#draw-finish").hidden = true;
      $("#draw-cancel").hidden = true;
      $("#draw-hint").textContent = "";
    }
  });
}

function onKey(e) {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const typing = e.target.closest?.("input, textarea, select, [contenteditable]");
  if (e.key === "Escape") {
    if (ctx.mapView.drawState) ctx.mapView.cancelDraw();
    else if (reportOpen()) closeReport();
    toggleHelp(false);
    toggleStatus(ctx, false);
    return;
  }
  if (typing) return;
  const key = e.key.toLowerCase();
  if (key === "a") {
    const top = topUnacknowledged(store.state);
    if (top) acknowledge(ctx, top.id);
  } else if (key === "k") {
    const top = pendingMessages(store.state)[0];
    if (top) acknowledgeMessage(ctx, top.id);
  } else if (["1", "2", "3", "4", "5"].includes(key)) {
    showTab(["hotline", "incidents", "operations", "protocol", "report"][Number(key) - 1]);
  } else if (key === "p") startDraw("polygon");
  else if (key === "c") startDraw("circle");
  else if (key === "enter" && ctx.mapView.drawState) ctx.mapView.finishDraw();
  else if (key === "m") setMuted(!muted);
  else if (key === "?") toggleHelp();
  else return;
  e.preventDefault();
}

// -- language -----------------------------------------------------------------------------------

async function setLanguage(code) {
  const chosen = await loadLanguage(code);
  localStorage.setItem(LANG_KEY, chosen);
  if (!store.state.me) return;
  renderMute();
  renderHelp();
  setConnection($("#conn").dataset.state);
  reportLanguageChanged();
  store.dispatch({ type: "lang/changed", lang: chosen });
  tick();
  await refresh("messages"); // the server renders hotline texts in the language asked for
}

function renderLegend() {
  const state = store.state;
  const parties = state.protocol?.parties || [];
  const swatch = (colour, cls = "") => h("span", { class: `swatch ${cls}`, style: `background:${colour}` });
  fill(
    $("#legend"),
    parties.map((p) => h("div", { title: partyFullName(state, p) }, swatch(ctx.colours.of(p)), h("bdi", {}, partyName(state, p)))),
    h("div", {}, swatch("#7e57c2", "band"), t("legend.line")),
    h("div", {}, swatch("#d50000", "line"), t("legend.conflict")),
    h("div", {}, h("span", { class: "swatch ring" }), t("legend.incident")),
  );
}

function renderWho() {
  const state = store.state;
  const who = $("#who");
  who.title = `${partyFullName(state, state.me.party_id)} · ${label("role", state.me.role)}`;
  fill(who, h("bdi", {}, partyName(state, state.me.party_id)), " · ", label("role", state.me.role));
}

// -- sign-in ---------------------------------------------------------------------------------------

function signOut(reason) {
  sessionStorage.removeItem(TOKEN_KEY);
  if (reason) sessionStorage.setItem("dcf.signout_reason", reason);
  location.reload();
}

async function signIn(token) {
  const api = new Api(token);
  const me = await api.get("/v1/parties/me");
  ctx.api = api;
  sessionStorage.setItem(TOKEN_KEY, token);
  store.dispatch({ type: "session/started", me, acks: loadAcks(me.party_id) });
  store.dispatch({ type: "lang/changed", lang: lang() });
  await startConsole();
}

async function loadBase() {
  const [countries, rivers] = await Promise.all(
    ["countries", "rivers"].map((name) => fetch(`geo/${name}.geojson`).then((r) => (r.ok ? r.json() : { type: "FeatureCollection", features: [] }))),
  );
  return { countries, rivers };
}

async function startConsole() {
  $("#signin").hidden = true;
  $("#app").hidden = false;
  lastEventId = Number(sessionStorage.getItem(afterKey()) || 0);
  await document.fonts.load('12px "Noto Sans"').catch(() => null); // map labels are drawn in it
  ctx.base = await loadBase();
  ctx.mapView = new MapView($("#map"), { colours: ctx.colours, base: ctx.base, onPick, countryName: (name) => label("country", name) });
  renderMute();
  renderHelp();
  bindHotline(ctx);
  bindStatus(ctx);
  redrawAll();
  await refresh("protocol");
  bindReport(ctx); // after a first answer from the server: "today" is the server's
  await refreshAll();
  connect();
  setTimeout(pollTracks, TRACKS_POLL_MS);
  setTimeout(pollStatus, STATUS_POLL_MS);
  setInterval(tick, 1000);
  tick();
  document.body.dataset.ready = "1";
}

function bindChrome() {
  $("#signin-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const token = $("#signin-token").value.trim();
    const error = $("#signin-error");
    error.textContent = "";
    audio = audio || (window.AudioContext ? new AudioContext() : null); // allowed now: a user gesture
    try {
      await signIn(token);
    } catch (err) {
      error.textContent = err instanceof ApiError && err.status === 401 ? t("signin.bad_token") : t("signin.failed", { reason: err.message });
    }
  });
  for (const sel of $$(".lang-select")) sel.addEventListener("change", () => setLanguage(sel.value));
  $("#signout").addEventListener("click", () => signOut());
  $("#mute").addEventListener("click", () => setMuted(!muted));
  $("#help-button").addEventListener("click", () => toggleHelp());
  $("#help-close").addEventListener("click", () => toggleHelp(false));
  for (const b of $$("#tabs [data-tab]")) b.addEventListener("click", () => showTab(b.dataset.tab));
  $("#draw-polygon").addEventListener("click", () => startDraw("polygon"));
  $("#draw-circle").addEventListener("click", () => startDraw("circle"));
  $("#draw-finish").addEventListener("click", () => ctx.mapView.finishDraw());
  $("#draw-cancel").addEventListener("click", () => ctx.mapView.cancelDraw());
  document.addEventListener("keydown", onKey);
  // A browser lets a page make sound only after a user gesture: after a reload with
  // the token kept, the first click or key wakes the audio up.
  const wake = () => audio?.resume?.();
  document.addEventListener("pointerdown", wake, { passive: true });
  document.addEventListener("keydown", wake, { passive: true });
}

async function boot() {
  bindChrome();
  const stored = localStorage.getItem(LANG_KEY);
  await loadLanguage(LANGUAGES.includes(stored) ? stored : "en");
  const reason = sessionStorage.getItem("dcf.signout_reason");
  sessionStorage.removeItem("dcf.signout_reason");
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) {
    try {
      await signIn(token);
      return;
    } catch {
      sessionStorage.removeItem(TOKEN_KEY);
    }
  }
  $("#app").hidden = true;
  $("#signin").hidden = false;
  if (reason) $("#signin-error").textContent = reason;
  $("#signin-token").focus();
}

// For the end-to-end tests, the benchmark and a look from the devtools.
window.dcf = {
  store,
  stats,
  get mapView() {
    return ctx.mapView;
  },
  evidenceMap: evidenceMapShown,
  /** The conflict lines on the map, with the label each shows now. */
  pairs: () =>
    pairsForMap(store.state).map((p) => ({ ...p, label: `CPA ${countdownText(Math.max(0, p.cpaAt - clock.now()))} · ${p.missNm.toFixed(1)} NM` })),
};
boot();
