// The dashboard's JSON endpoints (/web/api/...): cookie session, CSRF token
// in X-CSRF-Token on every state-changing call. Never a bearer token.

export const session = { user: null, csrf: null };

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.detail) || `Request failed (${status})`);
    this.status = status;
    this.code = body && body.code;
    this.detail = body && body.detail;
    this.errors = (body && body.errors) || [];
    this.body = body;
  }
}

export const UNREACHABLE = 'Piora is not answering. Check that piora serve is running and reachable, then retry.';

let onSignedOut = () => {};
export function setSignedOutHandler(fn) { onSignedOut = fn; }

export async function api(method, path, body, { raw = false, quiet401 = false } = {}) {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET' && method !== 'HEAD') {
    headers['X-CSRF-Token'] = session.csrf || '';
  }
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(`/web/api${path}`, {
      method, headers, credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    // fetch rejects only when no answer came at all (server down, network
    // gone): say that in words rather than the browser's "Failed to fetch".
    throw new ApiError(0, { code: 'unreachable', detail: UNREACHABLE });
  }
  if (raw && res.ok) return res;
  let data = null;
  const text = await res.text();
  if (text) { try { data = JSON.parse(text); } catch { data = null; } }
  if (!res.ok) {
    const err = new ApiError(res.status, data);
    if (res.status === 401 && !quiet401 && (err.code === 'signed_out' || err.code === 'session_expired')) {
      session.user = null;
      session.csrf = null;
      onSignedOut(err.code);
    }
    throw err;
  }
  return data;
}

export const get = (p, o) => api('GET', p, undefined, o);
export const post = (p, b, o) => api('POST', p, b ?? {}, o);
export const patch = (p, b) => api('PATCH', p, b);
export const del = (p) => api('DELETE', p);

// Every page of a list, for the small pickers (servers for an application).
export async function getAll(path) {
  const out = [];
  for (let page = 1; page <= 50; page++) {
    const sep = path.includes('?') ? '&' : '?';
    const r = await get(`${path}${sep}page=${page}&per_page=100`);
    out.push(...r.data);
    if (out.length >= r.meta.total || r.data.length === 0) break;
  }
  return out;
}
