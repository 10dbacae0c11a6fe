// The dashboards: one API answer each, under the time controls.

import { api, sitePath, query } from './api.js';
import { h, clear, problemsBox, field } from './dom.js';
import { controls, controlsBar, timeParams } from './controls.js';
import { renderAnswer } from './render.js';

/**
 * dashboards lists the dashboards in navigation order: the API path under
 * the site, whether the time controls apply, the extra parameters (a form
 * field each) and how often the page refreshes itself.
 */
export const dashboards = [
  { id: 'overview', label: 'Overview', path: '/dashboards/overview', time: true, compare: true },
  {
    id: 'funnel', label: 'Opt-in funnel', path: '/dashboards/funnel', time: true,
    extra: [{ name: 'by', label: 'Break down by', options: ['variant', 'browser', 'country', 'page'], initial: 'variant' }],
  },
  { id: 'campaign-performance', label: 'Campaigns', path: '/dashboards/campaigns', time: true },
  { id: 'automation-performance', label: 'Automations', path: '/dashboards/automations', time: true },
  {
    id: 'events', label: 'Custom events', path: '/dashboards/events', time: true,
    extra: [{ name: 'name', label: 'Event name', placeholder: 'all (top names)' }, { name: 'property', label: 'Break down by property', placeholder: 'e.g. plan' }],
  },
  { id: 'conversions', label: 'Conversions', path: '/dashboards/conversions', time: true },
  { id: 'segment-sizes', label: 'Segment sizes', path: '/dashboards/segments', time: true },
  { id: 'realtime', label: 'Real time', path: '/dashboards/realtime', time: false, tzOnly: true, refresh: 10000 },
];

const extras = {}; // dashboard id -> {param: value}

function params(d) {
  const p = d.time ? timeParams() : d.tzOnly ? { tz: controls.tz } : {};
  return { ...p, ...(extras[d.id] || {}) };
}

function extraForm(d, reload) {
  if (!d.extra) return null;
  const vals = (extras[d.id] ||= {});
  return h('form', { class: 'controls extra', onsubmit: (ev) => { ev.preventDefault(); reload(); } },
    d.extra.map((x) => {
      const set = (ev) => {
        vals[x.name] = ev.target.value;
        reload();
      };
      const input = x.options
        ? h('select', { name: x.name, onchange: set }, x.options.map((o) => h('option', { value: o, selected: (vals[x.name] || x.initial) === o }, o)))
        : h('input', { name: x.name, value: vals[x.name] || '', placeholder: x.placeholder, onchange: set });
      return field(x.label, input);
    }));
}

/** dashboardPage shows dashboard d of site in el. */
export async function dashboardPage(el, site, d) {
  const body = h('div', { class: 'dash-body', 'data-dashboard': d.id });
  const status = h('p', { class: 'muted status' });
  const load = async () => {
    const p = params(d);
    const path = sitePath(site, d.path);
    status.textContent = 'Loading…';
    body.dataset.state = 'loading';
    try {
      const data = await api('GET', path + query(p));
      clear(body);
      renderAnswer(body, data, () => path + query({ ...p, format: 'csv' }));
      status.textContent = d.time ? `${new Date(p.from).toLocaleString()} – ${new Date(p.to).toLocaleString()} (${controls.tz}, by ${controls.interval})` : `Last 30 minutes, updated ${new Date().toLocaleTimeString()}`;
      body.dataset.state = 'ready';
    } catch (err) {
      clear(body, problemsBox(err));
      status.textContent = '';
      body.dataset.state = 'error';
    }
  };
  clear(el, h('div', { class: 'page-head' }, h('h1', {}, d.label), d.time ? controlsBar(load) : null, extraForm(d, load)), status, body);
  await load();
  if (d.refresh) {
    const timer = setInterval(() => {
      if (!el.isConnected) clearInterval(timer);
      else if (document.visibilityState === 'visible') load();
    }, d.refresh);
  }
}
