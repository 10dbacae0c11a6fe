// The REST API client: same-origin credentials, the session's CSRF token on
// every unsafe method, and the API's problems on every refusal.

let csrfToken = '';

/** setCSRF keeps the CSRF token of the session (from GET /v1/me or log-in). */
export function setCSRF(token) {
  csrfToken = token || '';
}

/** ApiError is a refused request: its HTTP status and the API's problems. */
export class ApiError extends Error {
  constructor(status, problems) {
    super(problems.map((p) => (p.field ? `${p.field}: ${p.problem}` : p.problem)).join('; '));
    this.status = status;
    this.problems = problems;
  }
}

const safe = new Set(['GET', 'HEAD']);

/**
 * api sends one request and returns the decoded JSON answer (null for 204).
 * body is sent as JSON; headers adds request headers (If-Match).
 */
export async function api(method, path, body, headers = {}) {
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json', ...headers } };
  if (!safe.has(method)) init.headers['X-CSRF-Token'] = csrfToken;
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (err) {
    throw new ApiError(0, [{ field: '', problem: `the API did not answer (${err.message})` }]);
  }
  const text = res.status === 204 ? '' : await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const problems = data && Array.isArray(data.errors) && data.errors.length
      ? data.errors
      : [{ field: '', problem: `${res.status} ${res.statusText || 'error'}` }];
    throw new ApiError(res.status, problems);
  }
  return data;
}

/** sitePath is the API path of one site's resource. */
export function sitePath(site, rest = '') {
  return `/v1/sites/${encodeURIComponent(site)}${rest}`;
}

/** query builds ?a=b&c=d from the defined, non-empty entries of params. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}
