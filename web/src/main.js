// The duty officer's console. Sign in with the party's token; the console then reads
// the API, follows the live stream (/v1/stream, resumed with ?after= the last event
// id) and polls the live picture (/v1/tracks). Everything it loads comes from this
// server: scripts, styles, fonts, catalogs and map data.
import { Api, ApiError } from "./api.js";
import { LANGUAGES, label, lang, loadLanguage, t } from "./i18n.js";
import { Colours, MapView } from "./map.js";
import {
  acknowledge,
  alarmLevel,
  loadAcks,
  pairsForMap,
  renderAlerts,
  sidesOf,
  tickAlerts,
  topUnacknowledged,
} from "./panels/alerts.js";
import { acknowledgeMessage, bindHotline, pendingMessages, renderComposer, renderMessages, tickMessages } from "./panels/hotline.js";
import { incidentMarkers, renderIncidents, showIncident } from "./panels/incidents.js";
import { conflictPlaces, onShapeChange, renderOperationForm, renderOperations } from "./panels/operations.js";
import { renderProtocol } from "./panels/protocol.js";
import { bindReport, closeReport, reportLanguageChanged, reportOpen, reportShown } from "./panels/report.js";
import { clock, localText, timeEl, utcText } from "./time.js";
import { $, $$, coalesce, debounce, fill, flightLevel, h, num } from "./util.js";

const TRACKS_POLL_MS = 2000; // the live picture is not on the stream: read it this often
const TRACK_MAX_AGE_S = 120; // aircraft silent longer than this leave the map
const TRAIL_S = 900; // history trail kept per aircraft (15 minutes)
const TRAIL_POINTS = 120;
const SEED_TRAILS_MAX = 100; // fetch the history of new aircraft only while there are few
const RECONNECT_MAX_MS = 10000;
const BEEP_EVERY_S = 2.5;
const TOAST_MS = 6000;
const TOASTS_SHOWN = 3;

const TOKEN_KEY = "dcf.token";
const LANG_KEY = "dcf.lang";
const MUTE_KEY = "dcf.muted";

const stats = { tracksUpdateMs: 0, aircraft: 0, events: 0, lastEventId: 0, connected: false };

const app = {
  api: null,
  me: null,
  parties: new Map(),
  protocol: null,
  base: null,
  colours: new Colours(),
  mapView: null,
  alerts: new Map(),
  incidents: new Map(),
  messages: [],
  operations: [],
  tracks: new Map(),
  acks: {},
  selectedIncident: null,
  drawnShape: null,
  lang,
  stats,
  partyName(id) {
    return app.parties.get(id)?.name || id;
  },
};

// -- rendering, coalesced to one pass per frame ---------------------------------------

const dirty = new Set();
const flush = coalesce(() => {
  const parts = new Set(dirty);
  dirty.clear();
  if (parts.has("protocol")) renderProtocol(app);
  if (parts.has("alerts")) {
    renderAlerts(app);
    updateAlarm();
  }
  if (parts.has("alerts") || parts.has("pairs")) app.mapView?.setPairs(pairsForMap(app));
  if (parts.has("incidents")) {
    renderIncidents(app);
    app.mapView?.setIncidents(incidentMarkers(app));
  }
  if (parts.has("messages")) renderMessages(app);
  if (parts.has("operations")) {
    renderOperations(app);
    app.mapView?.setOperations(app.operations, conflictPlaces(app));
  }
});

app.invalidate = (...parts) => {
  for (const p of parts) dirty.add(p);
  flush();
};

app.toast = (text, kind = "info") => {
  const el = h("div", { class: `toast ${kind}`, role: kind === "error" ? "alert" : "status" }, text);
  const box = $("#toasts");
  box.append(el);
  while (box.children.length > TOASTS_SHOWN) box.firstElementChild.remove();
  setTimeout(() => el.remove(), TOAST_MS);
};

// -- loading from the API --------------------------------------------------------------

const loaders = {
  async protocol() {
    const parties = await app.api.get("/v1/parties");
    app.parties = new Map(parties.map((p) => [p.id, p]));
    renderWho();
    try {
      app.protocol = await app.api.get("/v1/protocols/current");
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 404) throw error;
      app.protocol = null;
    }
    const order = app.protocol?.parties || [...app.parties.keys()];
    if (order.join() !== app.colours.order.join()) {
      app.colours.setParties(order);
      app.mapView.recolour();
      renderComposer(app);
    }
    app.mapView.setProtocol(app.protocol?.geometry);
    if (app.protocol && !app.fitted) {
      app.fitted = true; // once: later the officer decides where to look
      const coords = app.protocol.geometry.features.flatMap((f) => (f.geometry.type === "Polygon" ? f.geometry.coordinates[0] : f.geometry.coordinates));
      app.mapView.fitTo(coords, 0);
    }
    renderLegend();
    app.invalidate("protocol", "alerts", "incidents", "operations", "messages");
  },
  async alerts() {
    const list = await app.api.get("/v1/alerts");
    app.alerts = new Map(list.map((a) => [a.id, a]));
    app.invalidate("alerts");
  },
  async incidents() {
    const list = await app.api.get("/v1/incidents");
    app.incidents = new Map(list.map((i) => [i.id, i]));
    app.invalidate("incidents");
  },
  async messages() {
    app.messages = await app.api.get(`/v1/hotline/messages?lang=${lang()}`);
    app.invalidate("messages");
  },
  async operations() {
    app.operations = await app.api.get("/v1/operations");
    app.invalidate("operations");
  },
  async tracks() {
    applyTracks(await app.api.get(`/v1/tracks?max_age_s=${TRACK_MAX_AGE_S}`));
  },
};

app.refresh = async (what) => {
  try {
    await loaders[what]();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) signOut(t("signin.expired"));
    else console.warn(`refresh ${what}:`, error);
  }
};

const refreshLater = {};
for (const name of Object.keys(loaders)) refreshLater[name] = debounce(() => app.refresh(name), 150);

function refreshAll() {
  return Promise.all(Object.keys(loaders).map((name) => app.refresh(name)));
}

// -- the live picture --------------------------------------------------------------------

function applyTracks(points) {
  const seen = new Set();
  let changed = false;
  for (const p of points) {
    const key = `${p.party}/${p.id}`;
    seen.add(key);
    let a = app.tracks.get(key);
    if (!a) {
      a = { key, party: p.party, id: p.id, trail: [], trailT: [], t_s: null };
      app.tracks.set(key, a);
      changed = true;
      if (app.tracks.size <= SEED_TRAILS_MAX) seedTrail(a);
    }
    if (a.t_s !== p.t_s) {
      changed = true;
      a.trail.push([p.lon_deg, p.lat_deg]);
      a.trailT.push(p.t_s);
      while (a.trail.length > TRAIL_POINTS || (a.trailT.length > 1 && a.trailT[0] < p.t_s - TRAIL_S)) {
        a.trail.shift();
        a.trailT.shift();
      }
    }
    Object.assign(a, { t_s: p.t_s, lat: p.lat_deg, lon: p.lon_deg, alt: p.alt_ft, gs: p.gs_kt, trk: p.trk_deg, vs: p.vs_fpm, fl: flightLevel(p.alt_ft) });
  }
  for (const key of [...app.tracks.keys()]) {
    if (!seen.has(key)) {
      app.tracks.delete(key);
      changed = true;
    }
  }
  stats.aircraft = app.tracks.size;
  if (!changed && !trailsSeeded) return; // nothing moved: the map is not redrawn
  trailsSeeded = false;
  stats.tracksUpdateMs = app.mapView.setAircraft(app.tracks);
  app.invalidate("pairs");
}

let trailsSeeded = false; // a history arrived: draw the trails at the next poll

async function seedTrail(a) {
  try {
    const since = new Date((clock.now() - TRAIL_S) * 1000).toISOString();
    const history = await app.api.get(`/v1/tracks/${encodeURIComponent(a.party)}/${encodeURIComponent(a.id)}?since=${since}`);
    const older = history.filter((p) => a.trailT.length === 0 || p.t_s < a.trailT[0]).slice(-TRAIL_POINTS);
    a.trail.unshift(...older.map((p) => [p.lon_deg, p.lat_deg]));
    a.trailT.unshift(...older.map((p) => p.t_s));
    trailsSeeded = older.length > 0 || trailsSeeded;
  } catch {
    // the history is a nicety; the live position is what matters
  }
}

let pollTimer = null;
async function pollTracks() {
  await app.refresh("tracks");
  pollTimer = setTimeout(pollTracks, TRACKS_POLL_MS);
}

// -- the stream ------------------------------------------------------------------------------

let socket = null;
let reconnectMs = 1000;
let lastEventId = 0;

function afterKey() {
  return `dcf.after.${app.me.party_id}`;
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
    ws.send(JSON.stringify({ token: app.api.token }));
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
  if (group === "alert" && data.id) {
    const before = app.alerts.get(data.id);
    app.alerts.set(data.id, data);
    app.invalidate("alerts");
    if (!before && isFresh(event)) app.toast(t("alerts.new", { level: label("level", data.level) }), "warn");
  } else if (group === "incident" && data.id !== undefined) {
    app.incidents.set(data.id, data);
    app.invalidate("incidents");
    if (event.type === "incident.opened" && isFresh(event)) app.toast(t("incidents.new", { kind: label("incident", data.kind), id: data.id }), "warn");
  } else if (group === "hotline") {
    refreshLater.messages();
    const m = data.message;
    if (event.type === "hotline.sent" && m && m.from !== app.me.party_id && isFresh(event)) {
      app.toast(t("hotline.new", { party: app.partyName(m.from), priority: label("priority", m.priority) }), m.priority === "flash" ? "warn" : "info");
      if (m.priority === "flash") beep();
    }
    if (event.type === "hotline.escalated" && isFresh(event)) app.toast(t("hotline.escalated"), "warn");
    if (m?.operation_id) refreshLater.operations(); // a notice acknowledged moves its operation on
  } else if (group === "operation") {
    refreshLater.operations();
  } else if (group === "protocol") {
    refreshLater.protocol();
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
  const level = alarmLevel(app);
  document.body.classList.toggle("alarm", level === "warning");
  document.body.classList.toggle("caution", level === "advisory" || level === "conflict");
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
  if (alarmLevel(app) === "warning" && performance.now() / 1000 - lastBeep > BEEP_EVERY_S) beep();
  const pending = pendingMessages(app);
  fill(
    $("#counters"),
    pending.length ? h("span", { class: pending.some((m) => m.overdue) ? "danger" : "" }, t("hotline.pending_count", { n: pending.length })) : null,
  );
}

// -- the map's clicks -----------------------------------------------------------------------

function onPick(layer, props, lngLat) {
  if (layer === "aircraft") {
    const a = app.tracks.get(props.key);
    if (!a) return;
    app.mapView.popup(
      lngLat,
      h(
        "div",
        { class: "popup" },
        h("strong", { dir: "ltr" }, a.id),
        " ",
        h("span", {}, app.partyName(a.party)),
        h("div", { dir: "ltr" }, `${a.fl} · ${Math.round(a.gs)} kt · ${Math.round(a.trk)}° · ${Math.round(a.vs)} fpm`),
        h("div", {}, timeEl(a.t_s, lang())),
      ),
    );
    const since = new Date((clock.now() - 3600) * 1000).toISOString();
    app.api
      .get(`/v1/tracks/${encodeURIComponent(a.party)}/${encodeURIComponent(a.id)}?since=${since}`)
      .then((history) => app.mapView.setHistory(history.map((p) => [p.lon_deg, p.lat_deg])))
      .catch(() => app.mapView.setHistory(null));
  } else if (layer === "incidents") {
    showIncident(app, props.id);
  } else if (layer === "pairs" || layer === "cpa") {
    const row = $(`#alerts-list li[data-key="${CSS.escape(props.id)}"]`);
    row?.scrollIntoView({ block: "nearest" });
    row?.focus();
  } else if (layer === "operations-fill") {
    showTab("operations");
  }
}

app.focusAlert = (alert) => {
  const { own } = sidesOf(app, alert);
  const live = own.id ? app.tracks.get(`${own.party}/${own.id}`) : null;
  const at = live ? [live.lon, live.lat] : own.cpa ? [own.cpa.lon_deg, own.cpa.lat_deg] : null;
  if (at) app.mapView.flyTo(at, 8);
};

// -- tabs, help, shortcuts -------------------------------------------------------------------

function showTab(name) {
  for (const b of $$("#tabs [data-tab]")) b.setAttribute("aria-selected", String(b.dataset.tab === name));
  for (const p of $$(".tab-panel")) p.classList.toggle("active", p.dataset.panel === name);
  if (name === "report") reportShown();
}
app.showTab = showTab;

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
  app.mapView.startDraw(mode, (shape, drawing) => {
    onShapeChange(app, shape, drawing);
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
    if (app.mapView.drawState) app.mapView.cancelDraw();
    else if (reportOpen()) closeReport();
    toggleHelp(false);
    return;
  }
  if (typing) return;
  const key = e.key.toLowerCase();
  if (key === "a") {
    const top = topUnacknowledged(app);
    if (top) acknowledge(app, top.id);
  } else if (key === "k") {
    const top = pendingMessages(app)[0];
    if (top) acknowledgeMessage(app, top.id);
  } else if (["1", "2", "3", "4", "5"].includes(key)) {
    showTab(["hotline", "incidents", "operations", "protocol", "report"][Number(key) - 1]);
  } else if (key === "p") startDraw("polygon");
  else if (key === "c") startDraw("circle");
  else if (key === "enter" && app.mapView.drawState) app.mapView.finishDraw();
  else if (key === "m") {
    muted = !muted;
    localStorage.setItem(MUTE_KEY, muted ? "1" : "0");
    renderMute();
  } else if (key === "?") toggleHelp();
  else return;
  e.preventDefault();
}

// -- language -----------------------------------------------------------------------------------

async function setLanguage(code) {
  await loadLanguage(code);
  localStorage.setItem(LANG_KEY, code);
  if (!app.me) return;
  renderMute();
  renderHelp();
  setConnection($("#conn").dataset.state);
  renderWho();
  renderLegend();
  renderComposer(app);
  renderOperationForm(app);
  reportLanguageChanged();
  for (const li of $$(".list > li")) li.dataset.sig = ""; // rebuild every row in the new language
  app.invalidate("protocol", "alerts", "incidents", "operations", "messages");
  await app.refresh("messages"); // the server renders hotline texts in the language asked for
}

function renderLegend() {
  const parties = app.protocol?.parties || [];
  const swatch = (colour, cls = "") => h("span", { class: `swatch ${cls}`, style: `background:${colour}` });
  fill(
    $("#legend"),
    parties.map((p) => h("div", {}, swatch(app.colours.of(p)), h("bdi", {}, app.partyName(p)))),
    h("div", {}, swatch("#7e57c2", "band"), t("legend.line")),
    h("div", {}, swatch("#d50000", "line"), t("legend.conflict")),
    h("div", {}, h("span", { class: "swatch ring" }), t("legend.incident")),
  );
}

function renderWho() {
  fill($("#who"), h("bdi", {}, app.partyName(app.me.party_id)), " · ", label("role", app.me.role));
}

// -- sign-in ---------------------------------------------------------------------------------------

app.signOut = (reason) => signOut(reason);

function signOut(reason) {
  sessionStorage.removeItem(TOKEN_KEY);
  if (reason) sessionStorage.setItem("dcf.signout_reason", reason);
  location.reload();
}

async function signIn(token) {
  const api = new Api(token);
  const me = await api.get("/v1/parties/me");
  app.api = api;
  app.me = me;
  sessionStorage.setItem(TOKEN_KEY, token);
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
  loadAcks(app);
  lastEventId = Number(sessionStorage.getItem(afterKey()) || 0);
  await document.fonts.load('12px "Noto Sans"').catch(() => null); // map labels are drawn in it
  app.base = await loadBase();
  app.mapView = new MapView($("#map"), { colours: app.colours, base: app.base, onPick });
  renderWho();
  renderMute();
  renderHelp();
  bindHotline(app);
  renderOperationForm(app);
  await app.refresh("protocol");
  bindReport(app); // after a first answer from the server: "today" is the server's
  renderComposer(app);
  await refreshAll();
  connect();
  pollTimer = setTimeout(pollTracks, TRACKS_POLL_MS);
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
  $("#mute").addEventListener("click", () => {
    muted = !muted;
    localStorage.setItem(MUTE_KEY, muted ? "1" : "0");
    renderMute();
  });
  $("#help-button").addEventListener("click", () => toggleHelp());
  $("#help-close").addEventListener("click", () => toggleHelp(false));
  for (const b of $$("#tabs [data-tab]")) b.addEventListener("click", () => showTab(b.dataset.tab));
  $("#draw-polygon").addEventListener("click", () => startDraw("polygon"));
  $("#draw-circle").addEventListener("click", () => startDraw("circle"));
  $("#draw-finish").addEventListener("click", () => app.mapView.finishDraw());
  $("#draw-cancel").addEventListener("click", () => app.mapView.cancelDraw());
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

// For the end-to-end tests and for a look from the devtools.
window.dcf = { app, stats, pairs: () => pairsForMap(app) };
boot();
