// The HTTP API, with the party's bearer token. Errors are RFC 9457 problem+json.
import { clock } from "./time.js";

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.detail || body?.title || `HTTP ${status}`);
    this.status = status;
    this.problems = Array.isArray(body?.problems) ? body.problems : [];
  }
}

export class Api {
  constructor(token) {
    this.token = token;
  }

  async request(method, path, body) {
    const headers = { Authorization: `Bearer ${this.token}` };
    const init = { method, headers };
    if (body !== undefined) {
      headers["content-type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(path, init);
    const date = response.headers.get("date");
    // The header is in whole seconds, written before we got it: a lower bound.
    if (date) clock.observe(Date.parse(date) / 1000, Date.now() / 1000);
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = { detail: text };
    }
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }

  get(path) {
    return this.request("GET", path);
  }

  post(path, body = {}) {
    return this.request("POST", path, body);
  }
}

/** One line per problem, for showing under a form. */
export function problemLines(error) {
  if (!(error instanceof ApiError) || error.problems.length === 0) return [error.message];
  return error.problems.map((p) => `${p.field ? p.field + ": " : ""}${p.message}`);
}
