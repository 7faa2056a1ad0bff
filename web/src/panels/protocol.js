// The protocol in effect: parties, minima, sharing level, lines and zones, deadlines.
import { label, t, unit } from "../i18n.js";
import { partyFullName, partyName } from "../selectors.js";
import { timeEl } from "../time.js";
import { $, fill, h } from "../util.js";

/** The scalar keys of one [section] of a TOML text (display only: the server parses). */
export function tomlSection(text, name) {
  const out = {};
  let inside = false;
  for (const raw of (text || "").split("\n")) {
    const line = raw.replace(/#.*$/, "").trim();
    if (line.startsWith("[")) {
      inside = line === `[${name}]`;
      continue;
    }
    const m = inside && /^([A-Za-z0-9_]+)\s*=\s*(.+)$/.exec(line);
    if (m) out[m[1]] = m[2].trim().replace(/^"(.*)"$/, "$1");
  }
  return out;
}

/** "{ routine = 3600, flash = 300 }" -> "routine 60 min · flash 5 min", in the UI language. */
function deadlines(inline) {
  const parts = [...inline.matchAll(/(\w+)\s*=\s*(\d+(?:\.\d+)?)/g)].map(([, k, v]) => `${label("priority", k)} ${unit("min", Number(v) / 60)}`);
  return parts.join(" · ") || inline;
}

function dl(pairs) {
  return h(
    "dl",
    { class: "facts" },
    pairs.filter(Boolean).map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]),
  );
}

export function renderProtocol(ctx) {
  const state = ctx.store.state;
  const view = $("#protocol-view");
  const p = state.protocol;
  const badge = $("#protocol-badge");
  if (!p) {
    badge.textContent = t("protocol.none_short");
    badge.className = "protocol-badge none";
    fill(view, h("p", { class: "empty" }, t("protocol.none")));
    return;
  }
  badge.textContent = `${p.protocol_id} v${p.version} · ${label("sharing", p.sharing)}`;
  badge.className = "protocol-badge";
  const sep = tomlSection(p.toml, "protocol");
  const minima = tomlSection(p.toml, "separation");
  const hotline = tomlSection(p.toml, "hotline");
  const features = p.geometry?.features || [];
  const lines = features.filter((f) => f.properties.kind === "line");
  const zones = features.filter((f) => f.properties.kind === "zone");
  fill(
    view,
    h("h3", {}, p.title),
    dl([
      [t("protocol.id"), h("span", { dir: "ltr" }, `${p.protocol_id} v${p.version}`)],
      [t("protocol.status"), label("pstatus", p.status)],
      [t("protocol.effective"), timeEl(p.effective_t_s, state.lang)],
      [t("protocol.sharing"), h("span", {}, label("sharing", p.sharing), h("small", { class: "hint block" }, t(`sharing_hint.${p.sharing}`)))],
      [t("protocol.minima"), `${unit("nm", Number(minima.horizontal_nm), 1)} · ${unit("ft", Number(minima.vertical_ft), 0)}`],
      sep.lookahead_s ? [t("protocol.lookahead"), unit("s", Number(sep.lookahead_s))] : null,
      hotline.ack_deadline_s ? [t("protocol.ack_deadlines"), deadlines(hotline.ack_deadline_s)] : null,
      hotline.daily_checkin_utc ? [t("protocol.checkin"), h("span", { dir: "ltr" }, `${hotline.daily_checkin_utc}Z`)] : null,
    ]),
    h("h4", {}, t("protocol.parties")),
    h(
      "ul",
      { class: "plain" },
      p.parties.map((party) =>
        h(
          "li",
          {},
          h("span", { class: "swatch", style: `background:${ctx.colours.of(party)}` }),
          h("bdi", {}, partyFullName(state, party)),
          " ",
          h("small", { dir: "ltr" }, `(${party})`),
          p.accepted_by.includes(party) ? ` ✓ ${t("protocol.accepted")}` : ` · ${t("protocol.awaiting")}`,
        ),
      ),
    ),
    lines.length ? h("h4", {}, t("protocol.lines")) : null,
    h(
      "ul",
      { class: "plain" },
      lines.map((f) => {
        const q = f.properties;
        // Each side isolated: an English name beside an Arabic word keeps its place.
        const sides = Object.entries(q.declared_sides || q.sides || {}).map(([party, side], i) => [
          i ? t("common.list_separator") : "",
          h("bdi", {}, h("bdi", {}, partyName(state, party)), `: ${label("side", side)}`),
        ]);
        return h("li", {}, h("strong", {}, q.name || q.id), ` · ±${unit("nm", q.buffer_nm, Number.isInteger(q.buffer_nm) ? 0 : 1)} · `, sides);
      }),
    ),
    zones.length ? h("h4", {}, t("protocol.zones")) : null,
    h(
      "ul",
      { class: "plain" },
      zones.map((f) => {
        const q = f.properties;
        const ceiling = q.ceiling_ft === null || q.ceiling_ft === undefined ? t("protocol.unlimited") : unit("ft", q.ceiling_ft);
        return h(
          "li",
          {},
          h("span", { class: "swatch", style: `background:${ctx.colours.of(q.owner)}` }),
          h("strong", {}, q.name || q.id),
          ` · ${t("protocol.owner")}: `,
          h("bdi", {}, partyName(state, q.owner)),
          ` · `,
          h("bdi", {}, `${unit("ft", q.floor_ft)} – ${ceiling}`),
        );
      }),
    ),
    h("details", {}, h("summary", {}, t("protocol.text")), h("pre", { class: "toml", dir: "ltr" }, p.toml || "")),
  );
}
