// The hotline: inbox and sent messages, rendered by the server in the console's
// language (?lang=), deadlines counting down, acknowledgement; the composer with the
// templated kinds (facts forms) and free text.
import { problemLines } from "../api.js";
import { MANOEUVRE_TARGETS, MANOEUVRES, manoeuvreProposal, ownGuidance } from "../guidance.js";
import { label, t } from "../i18n.js";
import { isIncoming, myReceipt, partyName, pendingMessages, sidesOf } from "../selectors.js";
import { clock, countdownText, parseUtcDay, parseUtcField, timeEl, utcDay, utcFieldText } from "../time.js";
import { $, $$, fill, h, keyedList } from "../util.js";

const KINDS = ["free_text", "request_for_information", "reply", "daily_checkin", "manoeuvre_intention", "request_for_manoeuvre"];
const MANOEUVRE_KINDS = ["manoeuvre_intention", "request_for_manoeuvre"];
const PRIORITIES = ["routine", "urgent", "flash"];
const TIME_PLACEHOLDER = "YYYY-MM-DD HH:MMZ";
const DAY_PLACEHOLDER = "YYYY-MM-DD";
const SUBJECT_KINDS = ["incident", "conflict_alert", "operation", "aircraft", "message"];
const QUESTIONS = [
  "identity_of_aircraft",
  "intentions",
  "confirm_position",
  "confirm_altitude",
  "confirm_operation_ended",
  "status_of_investigation",
];
const ANSWERS = ["received", "will_investigate", "corrective_action_taken", "dispute", "not_our_aircraft", "no_information"];

export async function acknowledgeMessage(ctx, id) {
  try {
    await ctx.api.post(`/v1/hotline/messages/${id}/ack`);
    ctx.toast(t("hotline.acked", { id }));
    await ctx.refresh("messages");
  } catch (error) {
    ctx.toast(problemLines(error).join("; "), "error");
  }
}

function receiptLine(ctx, m, r) {
  const state = ctx.store.state;
  const who = partyName(state, r.party);
  if (r.acknowledged_t_s) {
    return h("div", { class: "receipt ok" }, "✓ ", t("hotline.acked_by", { party: who }), " ", timeEl(r.acknowledged_t_s, state.lang));
  }
  return h(
    "div",
    { class: `receipt pending${r.overdue ? " overdue" : ""}` },
    r.overdue ? t("hotline.overdue") : t("hotline.awaiting", { party: who }),
    " · ",
    t("hotline.deadline"),
    " ",
    timeEl(r.deadline_t_s, state.lang, { date: false }),
    " ",
    h("span", { class: "countdown", dir: "ltr", "data-deadline": String(r.deadline_t_s) }, ""),
  );
}

function messageRow(ctx, m) {
  const state = ctx.store.state;
  const incoming = isIncoming(state, m);
  const mine = myReceipt(state, m);
  const pending = incoming && mine && !mine.acknowledged_t_s;
  const receipts = incoming ? (mine ? [mine] : []) : m.receipts;
  return h(
    "li",
    {
      class: `message priority-${m.priority}${incoming ? " incoming" : " outgoing"}${pending ? " pending" : ""}${m.overdue ? " overdue" : ""}`,
      "data-id": m.id,
    },
    h(
      "div",
      { class: "row-head" },
      h("span", { class: `priority ${m.priority}` }, label("priority", m.priority)),
      h(
        "bdi",
        { class: "route" },
        incoming
          ? `${t("hotline.from")} ${partyName(state, m.from)}`
          : `${t("hotline.to")} ${m.to === "*" ? t("hotline.all_parties") : partyName(state, m.to)}`,
      ),
      h("span", { class: "kind" }, label("kind", m.kind)),
      h("span", { class: "msg-id", dir: "ltr" }, `#${m.id}`),
      timeEl(m.sent_t_s, state.lang),
    ),
    m.subject ? h("div", { class: "subject", dir: m.dir, lang: m.lang }, m.subject) : null,
    // text_bidi: the text with Unicode isolates, so times and numbers keep their order
    h("div", { class: "body", dir: m.dir, lang: m.lang }, m.text_bidi || m.text),
    m.remarks ? h("div", { class: "remarks", dir: "auto" }, t("hotline.remarks"), ": ", m.remarks) : null,
    m.lang !== m.original_lang ? h("div", { class: "hint" }, t("hotline.translated", { lang: label("language", m.original_lang) })) : null,
    receipts.map((r) => receiptLine(ctx, m, r)),
    h(
      "div",
      { class: "row-actions" },
      pending
        ? h("button", { type: "button", class: "ack", title: t("hotline.ack_hint"), onclick: () => acknowledgeMessage(ctx, m.id) }, t("hotline.ack"))
        : null,
      incoming ? h("button", { type: "button", class: "secondary", onclick: () => startReply(ctx, m) }, t("hotline.reply")) : null,
    ),
  );
}

export function renderMessages(ctx) {
  const state = ctx.store.state;
  const box = state.hotlineBox;
  const shown = state.messages.filter((m) => box === "all" || (box === "in") === isIncoming(state, m));
  const pending = pendingMessages(state);
  const overdue = pending.filter((m) => myReceipt(state, m).overdue).length;
  $("#hotline-count").textContent = pending.length ? `${pending.length}${overdue ? "!" : ""}` : "";
  $("#hotline-count").classList.toggle("danger", overdue > 0);
  const ol = $("#messages-list");
  if (!shown.length) {
    fill(ol, h("li", { class: "empty" }, t("hotline.none")));
  } else {
    keyedList(
      ol,
      shown,
      (m) => m.id,
      (m) => JSON.stringify([m.lang, m.receipts, m.overdue, state.lang, state.protocol?.party_names]),
      (m) => messageRow(ctx, m),
    );
  }
  tickMessages();
  refreshReplyChoices(ctx);
}

/** Once a second: deadlines count down; past them, red. */
export function tickMessages() {
  const now = clock.now();
  for (const el of document.querySelectorAll("[data-deadline]")) {
    const left = Number(el.dataset.deadline) - now;
    el.textContent = left >= 0 ? `(${countdownText(left)})` : `(${t("hotline.late", { time: countdownText(-left) })})`;
    el.closest(".receipt")?.classList.toggle("overdue", left < 0);
  }
}

// -- the composer -------------------------------------------------------------------

function field(name, labelText, control, hint) {
  control.name = name;
  control.id = `composer-${name}`;
  return h("div", { class: "field", "data-field": name }, h("label", { for: control.id }, labelText), control, hint ? h("small", {}, hint) : null);
}

function select(options, value, labelOf) {
  return h("select", {}, options.map((o) => h("option", { value: o, selected: o === value ? true : null }, labelOf(o))));
}

function textField(value, placeholder) {
  return h("input", { type: "text", value, required: true, dir: "ltr", placeholder, autocomplete: "off", spellcheck: "false", inputmode: "numeric", class: "utc-time" });
}

function kindFields(ctx, kind) {
  const state = ctx.store.state;
  const now = clock.now();
  switch (kind) {
    case "free_text":
      return [field("text", t("composer.text"), h("textarea", { rows: 4, required: true, dir: "auto" }))];
    case "request_for_information":
      return [
        field("subject_kind", t("composer.subject_kind"), select(SUBJECT_KINDS, "aircraft", (c) => label("subject", c))),
        field("subject_id", t("composer.subject_id"), h("input", { type: "text", required: true, dir: "ltr" })),
        field("question", t("composer.question"), select(QUESTIONS, "intentions", (c) => label("question", c))),
        field("t_s", t("composer.time_utc"), textField(utcFieldText(now), TIME_PLACEHOLDER)),
        field("remarks_text", t("composer.remarks"), h("textarea", { rows: 2, dir: "auto" })),
      ];
    case "reply":
      return [
        field("reply_to_id", t("composer.reply_to"), h("select", { required: true })),
        field("answer", t("composer.answer"), select(ANSWERS, "received", (c) => label("answer", c))),
        field("remarks", t("composer.remarks"), h("textarea", { rows: 2, dir: "auto" })),
      ];
    case "daily_checkin": {
      const openIncidents = [...state.incidents.values()].filter((i) => i.status === "open").length;
      return [
        field("date", t("composer.date_utc"), textField(utcDay(now), DAY_PLACEHOLDER)),
        field("open_incidents", t("composer.open_incidents"), h("input", { type: "number", min: 0, step: 1, value: String(openIncidents) })),
        field(
          "unacknowledged_messages",
          t("composer.unacknowledged"),
          h("input", { type: "number", min: 0, step: 1, value: String(pendingMessages(state).length) }),
        ),
        field("remarks_text", t("composer.remarks"), h("textarea", { rows: 2, dir: "auto" })),
      ];
    }
    case "manoeuvre_intention":
    case "request_for_manoeuvre":
      return manoeuvreFields(kind);
    default:
      return [];
  }
}

// The manoeuvre kinds (#17.5): the alert, our aircraft (an intention's), the
// manoeuvre and its target (a heading, an altitude or a speed, as the manoeuvre
// says; a request may leave it empty). Proposed from the guidance by
// composeManoeuvre, every field editable: the system advises, the officer decides.
function targetLabel(manoeuvre) {
  return t(`composer.target_${MANOEUVRE_TARGETS[manoeuvre] || "heading_deg"}`);
}

function manoeuvreFields(kind) {
  const manoeuvre = select(MANOEUVRES, MANOEUVRES[0], (m) => label("manoeuvre", m));
  const target = h("input", { type: "number", min: 0, step: 1, dir: "ltr", required: kind === "manoeuvre_intention" ? true : null });
  const targetField = field("target", targetLabel(manoeuvre.value), target);
  manoeuvre.addEventListener("change", () => {
    targetField.querySelector("label").textContent = targetLabel(manoeuvre.value);
  });
  return [
    field("alert_id", t("composer.alert_id"), h("input", { type: "text", required: true, dir: "ltr", autocomplete: "off", spellcheck: "false" })),
    kind === "manoeuvre_intention"
      ? field("aircraft_id", t("composer.aircraft_id"), h("input", { type: "text", required: true, dir: "ltr", autocomplete: "off", spellcheck: "false" }))
      : null,
    field("manoeuvre", t("composer.manoeuvre"), manoeuvre),
    targetField,
    field("remarks_text", t("composer.remarks"), h("textarea", { rows: 2, dir: "auto" })),
    h("p", { class: "hint composer-decides" }, t("composer.officer_decides")),
  ];
}

/**
 * The composer opened on a manoeuvre message about `alert`, filled from the guidance
 * of our aircraft in it: to the other party, urgent, our preferred resolution (an
 * intention) or the manoeuvre that complements it (a request). The officer edits
 * what they will, and sends, or not.
 */
export function composeManoeuvre(ctx, alert, kind) {
  const state = ctx.store.state;
  const mine = ownGuidance(state, alert);
  const { other } = sidesOf(state, alert);
  showComposer(ctx, kind);
  const set = (name, value) => {
    const el = $(`#composer-${name}`);
    if (el && value !== null && value !== undefined) el.value = String(value);
  };
  set("to", other.party);
  set("priority", "urgent");
  set("alert_id", alert.id);
  set("aircraft_id", mine?.side.id);
  const proposal = mine ? manoeuvreProposal(mine.guidance, kind) : null;
  if (proposal) {
    set("manoeuvre", proposal.manoeuvre);
    $("#composer-manoeuvre")?.dispatchEvent(new Event("change"));
    set("target", proposal.target);
  }
  $("#composer-manoeuvre")?.focus();
}

function showComposer(ctx, kind) {
  ctx.showTab("hotline");
  $("#composer-box").open = true;
  ctx.store.dispatch({ type: "composer/kind", kind });
  renderComposer(ctx, { fresh: true });
}

function refreshReplyChoices(ctx, chosen) {
  const state = ctx.store.state;
  const sel = $("#composer-reply_to_id");
  if (!sel) return;
  const keep = chosen ?? sel.value;
  const incoming = state.messages.filter((m) => isIncoming(state, m));
  fill(
    sel,
    incoming.map((m) => h("option", { value: String(m.id) }, `#${m.id} ${partyName(state, m.from)}: ${m.subject || label("kind", m.kind)}`)),
  );
  if (keep && incoming.some((m) => String(m.id) === String(keep))) sel.value = String(keep);
}

let composerKey = null; // what the composer was built for: rebuilt (losing its text) only when that changes

/**
 * The composer for the kind of message in state.composerKind. Rebuilt when the kind,
 * the language or the parties change, or when `fresh` (after sending).
 */
export function renderComposer(ctx, { fresh = false } = {}) {
  const state = ctx.store.state;
  const kind = state.composerKind;
  const others = (state.protocol?.parties || []).filter((p) => p !== state.me.party_id);
  const key = JSON.stringify([kind, state.lang, others, others.map((p) => partyName(state, p))]);
  if (key === composerKey && !fresh) return;
  composerKey = key;
  const form = $("#composer");
  const to = select([...others, "*"], others[0], (p) => (p === "*" ? t("hotline.all_parties") : partyName(state, p)));
  const kindSelect = select(KINDS, kind, (k) => label("kind", k));
  kindSelect.addEventListener("change", () => {
    ctx.store.dispatch({ type: "composer/kind", kind: kindSelect.value });
    renderComposer(ctx);
  });
  fill(
    form,
    h("div", { class: "field-row" }, field("to", t("composer.to"), to), field("priority", t("composer.priority"), select(PRIORITIES, "routine", (p) => label("priority", p)))),
    field("kind", t("composer.kind"), kindSelect),
    kindFields(ctx, kind),
    h("div", { class: "form-actions" }, h("button", { type: "submit", id: "composer-send" }, t("composer.send"))),
    h("div", { class: "errors", id: "composer-errors", role: "alert" }),
  );
  refreshReplyChoices(ctx);
  form.onsubmit = (e) => {
    e.preventDefault();
    send(ctx, form);
  };
}

function startReply(ctx, m) {
  showComposer(ctx, "reply");
  refreshReplyChoices(ctx, m.id);
  const to = $("#composer-to");
  if (to && [...to.options].some((o) => o.value === m.from)) to.value = m.from;
  $("#composer-answer")?.focus();
}

/** The message to send, or the problems of the form (a time or a day it cannot read). */
function collect(ctx, form) {
  const state = ctx.store.state;
  const data = new FormData(form);
  const kind = data.get("kind");
  const problems = [];
  const body = { to: data.get("to"), kind, priority: data.get("priority"), lang: state.lang, facts: {}, text: "" };
  const intOrNull = (v) => (v === null || v === "" ? null : Number.parseInt(v, 10));
  if (kind === "free_text") body.text = String(data.get("text") || "");
  if (kind === "request_for_information") {
    body.facts = {
      subject_kind: data.get("subject_kind"),
      subject_id: String(data.get("subject_id") || "").trim(),
      question: data.get("question"),
      t_s: parseUtcField(data.get("t_s")),
    };
    if (Number.isNaN(body.facts.t_s)) problems.push(t("form.bad_time", { field: t("composer.time_utc"), example: TIME_PLACEHOLDER }));
  }
  if (kind === "reply") {
    const replyTo = intOrNull(data.get("reply_to_id"));
    body.reply_to = replyTo;
    body.facts = { reply_to_id: replyTo === null ? "" : String(replyTo), answer: data.get("answer") };
    const remarks = String(data.get("remarks") || "").trim();
    if (remarks) body.facts.remarks = remarks;
  }
  if (kind === "daily_checkin") {
    body.facts = { party: state.me.party_id, date: parseUtcDay(data.get("date")) };
    if (!body.facts.date) problems.push(t("form.bad_time", { field: t("composer.date_utc"), example: DAY_PLACEHOLDER }));
    for (const k of ["open_incidents", "unacknowledged_messages"]) {
      const v = intOrNull(data.get(k));
      if (v !== null && !Number.isNaN(v)) body.facts[k] = v;
    }
  }
  if (MANOEUVRE_KINDS.includes(kind)) {
    const manoeuvre = String(data.get("manoeuvre"));
    body.facts = { alert_id: String(data.get("alert_id") || "").trim(), manoeuvre };
    const aircraft = String(data.get("aircraft_id") || "").trim();
    if (aircraft) body.facts.aircraft_id = aircraft;
    const target = String(data.get("target") ?? "").trim();
    if (target !== "") {
      const value = Number(target);
      if (Number.isFinite(value)) body.facts[MANOEUVRE_TARGETS[manoeuvre]] = value;
      else problems.push(t("form.bad_number", { field: targetLabel(manoeuvre) }));
    }
  }
  if (kind !== "free_text" && kind !== "reply") body.text = String(data.get("remarks_text") || "").trim();
  return { body, problems };
}

async function send(ctx, form) {
  const errors = $("#composer-errors");
  fill(errors);
  const { body, problems } = collect(ctx, form);
  if (problems.length) {
    fill(errors, problems.map((line) => h("div", {}, line)));
    return;
  }
  const button = $("#composer-send");
  button.disabled = true;
  try {
    const sent = await ctx.api.post("/v1/hotline/messages", body);
    ctx.toast(t("composer.sent", { id: sent.id }));
    renderComposer(ctx, { fresh: true });
    await ctx.refresh("messages");
  } catch (error) {
    fill(errors, problemLines(error).map((line) => h("div", {}, line)));
  } finally {
    button.disabled = false;
  }
}

export function bindHotline(ctx) {
  for (const radio of $$("input[name=hotline-box]")) {
    radio.addEventListener("change", () => ctx.store.dispatch({ type: "hotline/box", box: radio.value }));
  }
}
