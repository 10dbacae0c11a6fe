// The page's entry: who is logged in, the site switcher, the navigation and
// the hash router (#/login, #/s/<site>/<page>/<arg>).

import { api, ApiError } from './api.js';
import { state, go, loadMe, forget } from './state.js';
import { h, clear, problemsBox } from './dom.js';
import { loginPage, signupPage, resetPage, newSitePage, acceptPage, afterKey } from './page_auth.js';
import { dashboards, dashboardPage } from './page_dash.js';
import { subscribersPage, subscriberPage } from './page_subscribers.js';
import { segmentsPage } from './page_segments.js';
import { automationsPage } from './page_automations.js';
import { campaignsPage } from './page_campaigns.js';
import { settingsPage } from './page_settings.js';

const main = document.getElementById('main');

/** sitePages are the pages of one site, in navigation order. */
const sitePages = [
  ...dashboards.map((d) => ({ id: d.id, label: d.label, group: 'Dashboards', page: (el, site, arg) => dashboardPage(el, site, d, arg) })),
  { id: 'subscribers', label: 'Subscribers', group: 'Dashboards', page: (el, site, arg) => (arg ? subscriberPage(el, site, arg) : subscribersPage(el, site)) },
  { id: 'segments', label: 'Segments', group: 'Manage', page: segmentsPage },
  { id: 'automations', label: 'Automations', group: 'Manage', page: automationsPage },
  { id: 'campaigns', label: 'Campaigns', group: 'Manage', page: campaignsPage },
  { id: 'settings', label: 'Settings', group: 'Manage', page: settingsPage },
];

function parseRoute() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, qs] = raw.split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { parts, params: new URLSearchParams(qs || '') };
}

function renderChrome(site, pageID) {
  const top = document.getElementById('top');
  const nav = document.getElementById('nav');
  const logged = !!(state.me && state.me.account);
  top.hidden = !logged;
  nav.hidden = !logged || !site;
  if (!logged) return;
  document.getElementById('whoami').textContent = state.me.account.email;
  const sel = document.getElementById('site-switcher');
  clear(sel,
    state.me.sites.map((s) => h('option', { value: s.id, selected: s.id === site }, `${s.name || s.id} (${s.role})`)),
    h('option', { value: '+new' }, '+ New site…'));
  if (!site) sel.value = '+new';
  const groups = [...new Set(sitePages.map((p) => p.group))];
  clear(nav, groups.map((g) => h('div', { class: 'nav-group' },
    h('h2', {}, g),
    h('ul', {}, sitePages.filter((p) => p.group === g).map((p) => h('li', {},
      h('a', { href: `#/s/${encodeURIComponent(site)}/${p.id}`, 'aria-current': p.id === pageID ? 'page' : null, 'data-page': p.id }, p.label)))))));
}

/** render shows the page of the current hash. */
export async function render() {
  const { parts, params } = parseRoute();
  document.getElementById('nav').classList.remove('open');
  try {
    if (state.me === null) await loadMe();
  } catch (err) {
    clear(main, h('h1', {}, 'Pushpipe'), problemsBox(err));
    return;
  }
  const logged = !!(state.me && state.me.account);
  const [first, site, pageID, ...rest] = parts;
  if (first === 'signup') return show(null, null, (el) => signupPage(el));
  if (first === 'reset') return show(null, null, (el) => resetPage(el, params.get('token') || ''));
  if (!logged || first === 'login') {
    if (logged) return go('/');
    if (first && first !== 'login') { // open the asked page (an invitation, a dashboard) after log-in
      sessionStorage.setItem(afterKey, location.hash.replace(/^#/, ''));
      return go('/login');
    }
    return show(null, null, (el) => loginPage(el));
  }
  if (first === 'accept') return show(null, null, (el) => acceptPage(el, params.get('token') || ''));
  if (first === 'sites' && site === 'new') return show('', null, (el) => newSitePage(el));
  if (first !== 's' || !site) {
    const firstSite = state.me.sites[0];
    return go(firstSite ? `/s/${encodeURIComponent(firstSite.id)}/overview` : '/sites/new');
  }
  const page = sitePages.find((p) => p.id === pageID);
  if (!page) return go(`/s/${encodeURIComponent(site)}/overview`);
  state.site = site;
  localStorage.setItem('pushpipe.site', site);
  return show(site, page.id, (el) => page.page(el, site, rest.join('/'), params));
}

async function show(site, pageID, page) {
  renderChrome(site, pageID);
  const el = h('div', { class: 'page', 'data-page': pageID || 'auth' });
  clear(main, el);
  try {
    await page(el);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      forget();
      return go('/login');
    }
    el.append(problemsBox(err));
  }
  main.dataset.ready = `${location.hash}`;
  return undefined;
}

function wire() {
  document.getElementById('site-switcher').addEventListener('change', (ev) => {
    const v = ev.target.value;
    if (v === '+new') go('/sites/new');
    else {
      const { parts } = parseRoute();
      const pageID = parts[0] === 's' && parts[2] ? parts[2] : 'overview';
      go(`/s/${encodeURIComponent(v)}/${pageID}`);
    }
  });
  document.getElementById('logout').addEventListener('click', async () => {
    try {
      await api('POST', '/v1/auth/logout');
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401)) {
        main.prepend(problemsBox(err));
        return;
      }
    }
    forget();
    go('/login');
  });
  const toggle = document.getElementById('nav-toggle');
  toggle.addEventListener('click', () => {
    const nav = document.getElementById('nav');
    nav.classList.toggle('open');
    toggle.setAttribute('aria-expanded', String(nav.classList.contains('open')));
  });
  window.addEventListener('hashchange', render);
}

wire();
render();
