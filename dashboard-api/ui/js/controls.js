// The time range, interval and timezone of the dashboards, kept in
// localStorage so they survive reloads and site switches.

import { h, field } from './dom.js';

const key = 'pushpipe.controls';
const ranges = { '24h': 24, '7d': 7 * 24, '30d': 30 * 24, '90d': 90 * 24 };

function load() {
  const d = { range: '7d', from: '', to: '', interval: 'day', tz: Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC' };
  try {
    return { ...d, ...JSON.parse(localStorage.getItem(key) || '{}') };
  } catch {
    return d;
  }
}

/** controls is the current choice. */
export const controls = load();

function save() {
  localStorage.setItem(key, JSON.stringify(controls));
}

/** timeParams are the from, to, interval and tz query parameters of the choice. */
export function timeParams() {
  let from;
  let to;
  if (controls.range === 'custom' && controls.from && controls.to) {
    from = new Date(controls.from);
    to = new Date(controls.to);
  } else {
    // The next whole minute: the range includes what just happened, and
    // answers stay the same for a minute (cacheable, comparable).
    to = new Date(Math.ceil(Date.now() / 60e3) * 60e3);
    from = new Date(to.getTime() - (ranges[controls.range] || ranges['7d']) * 3600e3);
  }
  return { from: from.toISOString(), to: to.toISOString(), interval: controls.interval, tz: controls.tz };
}

function zones() {
  try {
    return Intl.supportedValuesOf('timeZone');
  } catch {
    return ['UTC'];
  }
}

/** controlsBar is the form of the choice; onChange runs after every change. */
export function controlsBar(onChange) {
  const change = () => {
    save();
    onChange();
  };
  const range = h('select', { name: 'range', onchange: (ev) => { controls.range = ev.target.value; custom.hidden = controls.range !== 'custom'; change(); } },
    [['24h', 'Last 24 hours'], ['7d', 'Last 7 days'], ['30d', 'Last 30 days'], ['90d', 'Last 90 days'], ['custom', 'Custom…']]
      .map(([v, l]) => h('option', { value: v, selected: controls.range === v }, l)));
  const from = h('input', { type: 'datetime-local', name: 'from', value: controls.from, onchange: (ev) => { controls.from = ev.target.value; change(); } });
  const to = h('input', { type: 'datetime-local', name: 'to', value: controls.to, onchange: (ev) => { controls.to = ev.target.value; change(); } });
  const custom = h('span', { class: 'custom-range', hidden: controls.range !== 'custom' }, field('From', from), field('To', to));
  const interval = h('select', { name: 'interval', onchange: (ev) => { controls.interval = ev.target.value; change(); } },
    ['hour', 'day', 'week', 'month'].map((v) => h('option', { value: v, selected: controls.interval === v }, v)));
  const listID = 'tz-list';
  const tz = h('input', { name: 'tz', list: listID, value: controls.tz, size: 16, onchange: (ev) => { controls.tz = ev.target.value || 'UTC'; change(); } });
  return h('form', { class: 'controls', onsubmit: (ev) => ev.preventDefault() },
    field('Range', range), custom, field('Interval', interval), field('Time zone', tz),
    h('datalist', { id: listID }, zones().map((z) => h('option', { value: z }))));
}
