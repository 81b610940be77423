// Calls to the Runze API with the user's bearer token; errors carry the API's bilingual message.
import { getLang } from "./i18n.js";

export function token() { return sessionStorage.getItem("runze.token"); }
export function setToken(value) { value ? sessionStorage.setItem("runze.token", value) : sessionStorage.removeItem("runze.token"); }

export class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super((getLang() === "en" ? e.message : e.message_zh || e.message) || `HTTP ${status}`);
    this.status = status; this.body = body;
  }
}

export async function api(path, { method = "GET", body, form } = {}) {
  const headers = {};
  if (token()) headers.Authorization = `Bearer ${token()}`;
  let payload;
  if (form) { payload = new URLSearchParams(form); headers["Content-Type"] = "application/x-www-form-urlencoded"; }
  else if (body !== undefined) { payload = JSON.stringify(body); headers["Content-Type"] = "application/json"; }
  const r = await fetch(path, { method, headers, body: payload });
  const text = await r.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  if (!r.ok) throw new ApiError(r.status, data);
  return data;
}

let spec = null;
/** The API's OpenAPI paths: views whose service is not deployed say so instead of guessing. */
export async function apiPaths() {
  if (!spec) spec = await api("/openapi.json");
  return spec.paths || {};
}
export async function findPath(regex, method = "get") {
  const paths = await apiPaths();
  return Object.keys(paths).find((p) => regex.test(p) && paths[p][method]) || null;
}

const cache = {};
/** Map geometry and simulation are large and change only with the network version: fetch once per page. */
export function cached(path) { if (!cache[path]) cache[path] = api(path).catch((e) => { delete cache[path]; throw e; }); return cache[path]; }
