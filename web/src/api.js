// The HTTP API, with the party's bearer token. Errors are RFC 9457 problem+json.
import { clock } from "./time.js";

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.detail || body?.title || `HTTP ${status}`);
    this.status = status;
    this.detail = body?.detail || "";
    this.problems = Array.isArray(body?.problems) ? body.problems : [];
  }
}

/** The body of a response as JSON (a problem, a resource), or `{detail: text}`. */
async function readBody(response) {
  const text = await response.text();
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return { detail: text };
  }
}

export class Api {
  constructor(token) {
    this.token = token;
  }

  async send(method, path, init = {}) {
    // The token goes in the Authorization header only, never into a URL.
    const headers = { ...(init.headers || {}), Authorization: `Bearer ${this.token}` };
    const response = await fetch(path, { ...init, method, headers });
    const date = response.headers.get("date");
    // The header is in whole seconds, written before we got it: a lower bound.
    if (date) clock.observe(Date.parse(date) / 1000, Date.now() / 1000);
    return response;
  }

  async request(method, path, body) {
    const init = {};
    if (body !== undefined) {
      init.headers = { "content-type": "application/json" };
      init.body = JSON.stringify(body);
    }
    const response = await this.send(method, path, init);
    const data = await readBody(response);
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }

  get(path) {
    return this.request("GET", path);
  }

  post(path, body = {}) {
    return this.request("POST", path, body);
  }

  /**
   * GET something that is not JSON (a report's HTML, a PDF): the Response, to be read
   * as text or blob; an ApiError from the problem otherwise. Never cached: a report of
   * today changes as the day goes on.
   */
  async fetchFile(path) {
    const response = await this.send("GET", path, { cache: "no-store" });
    if (!response.ok) throw new ApiError(response.status, await readBody(response));
    return response;
  }
}

/** One line per problem, for showing under a form. */
export function problemLines(error) {
  if (!(error instanceof ApiError) || error.problems.length === 0) return [error.message];
  return error.problems.map((p) => `${p.field ? p.field + ": " : ""}${p.message}`);
}

/**
 * The file name a Content-Disposition header gives (filename*=UTF-8'' first, then
 * filename=), made safe to save under; `fallback` when there is none.
 */
export function filenameFrom(disposition, fallback) {
  const header = disposition || "";
  let name = "";
  const star = /filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)/.exec(header);
  if (star) {
    try {
      name = decodeURIComponent(star[1].trim());
    } catch {
      name = "";
    }
  }
  if (!name) {
    const plain = /filename\s*=\s*(?:"([^"]*)"|([^;\s]+))/i.exec(header);
    name = plain ? (plain[1] ?? plain[2]) : "";
  }
  // eslint-disable-next-line no-control-regex -- control characters are what it removes
  name = name.replace(/[\\/:*?"<>|\u0000-\u001f]/g, "_").trim();
  return name && !name.startsWith(".") ? name : fallback;
}
