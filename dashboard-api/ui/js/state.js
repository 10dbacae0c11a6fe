// What every page shares: the caller (GET /v1/me), the open site, and
// navigation.

import { api, ApiError, setCSRF } from './api.js';

/** state is the caller (GET /v1/me; null before it is known) and the open site. */
export const state = { me: null, site: '' };

/** go navigates to a hash route (re-rendering when it is the current one). */
export function go(route) {
  if (location.hash === `#${route}`) window.dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = route;
}

/** loadMe reads GET /v1/me (me is false when not logged in) and keeps the CSRF token. */
export async function loadMe() {
  try {
    state.me = await api('GET', '/v1/me');
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) throw err;
    state.me = false;
  }
  setCSRF(state.me && state.me.csrf_token);
  return state.me;
}

/** forget drops the caller after log-out or an expired session. */
export function forget() {
  state.me = false;
  setCSRF('');
}
