// The subscriber list and one subscriber's timeline.

import { api, sitePath, query } from './api.js';
import { h, clear, problemsBox, table, field, fmt } from './dom.js';

function rowsOf(data, ...keys) {
  for (const k of keys) if (data && Array.isArray(data[k])) return data[k];
  const arr = data && Object.values(data).find(Array.isArray);
  return arr || [];
}

/** subscribersPage lists the site's subscribers, filtered and paged. */
export async function subscribersPage(el, site) {
  const filters = { status: '', country: '', segment: '' };
  const list = h('div', { class: 'dash-body', 'data-dashboard': 'subscribers' });
  const path = sitePath(site, '/subscribers');
  const load = async (cursor) => {
    const p = { ...filters, limit: 50, cursor };
    list.dataset.state = 'loading';
    try {
      const data = await api('GET', path + query(p));
      const rows = rowsOf(data, 'subscribers');
      const link = (r, c) => (c === 'subscriber_id' || c === 'id' ? `#/s/${encodeURIComponent(site)}/subscribers/${encodeURIComponent(r.subscriber_id || r.id)}` : null);
      clear(list, h('section', { class: 'card', 'data-table': 'subscribers' },
        h('div', { class: 'card-head' }, h('h2', {}, 'Subscribers'),
          h('a', { class: 'csv', href: path + query({ ...filters, format: 'csv' }), download: 'subscribers.csv', 'data-csv': 'subscribers' }, 'Download CSV')),
        table(rows, { link, empty: 'No subscribers match.' }),
        data && data.next_cursor ? h('button', { type: 'button', onclick: () => load(data.next_cursor) }, 'Next page') : null));
      list.dataset.state = 'ready';
    } catch (err) {
      clear(list, problemsBox(err));
      list.dataset.state = 'error';
    }
  };
  const status = h('select', { name: 'status', onchange: (ev) => { filters.status = ev.target.value; load(); } },
    ['', 'subscribed', 'unsubscribed', 'expired'].map((s) => h('option', { value: s }, s || 'any')));
  const country = h('input', { name: 'country', size: 4, placeholder: 'FR', onchange: (ev) => { filters.country = ev.target.value.toUpperCase(); load(); } });
  const { segments } = await api('GET', sitePath(site, '/segments'));
  const segment = h('select', { name: 'segment', onchange: (ev) => { filters.segment = ev.target.value; load(); } },
    h('option', { value: '' }, 'any'), segments.map((sg) => h('option', { value: sg.id }, sg.name)));
  const open = h('input', { name: 'subscriber', placeholder: 'subscriber id' });
  clear(el, h('div', { class: 'page-head' }, h('h1', {}, 'Subscribers'),
    h('form', { class: 'controls', onsubmit: (ev) => ev.preventDefault() }, field('Status', status), field('Country', country), field('In segment', segment)),
    h('form', {
      class: 'controls',
      onsubmit: (ev) => {
        ev.preventDefault();
        if (open.value) location.hash = `#/s/${encodeURIComponent(site)}/subscribers/${encodeURIComponent(open.value)}`;
      },
    }, field('Open a subscriber', open), h('button', { type: 'submit' }, 'Open'))), list);
  await load();
}

/** subscriberPage shows one subscriber's timeline, newest first. */
export async function subscriberPage(el, site, id) {
  const path = sitePath(site, `/subscribers/${encodeURIComponent(id)}/timeline`);
  const list = h('div', { class: 'dash-body', 'data-dashboard': 'timeline' });
  const events = [];
  const load = async (cursor) => {
    try {
      const data = await api('GET', path + query({ limit: 100, cursor }));
      events.push(...rowsOf(data, 'events', 'timeline'));
      clear(list, h('section', { class: 'card', 'data-table': 'timeline' },
        h('div', { class: 'card-head' }, h('h2', {}, `Timeline of ${id}`),
          h('a', { class: 'csv', href: path + query({ format: 'csv' }), download: 'timeline.csv', 'data-csv': 'timeline' }, 'Download CSV')),
        data && data.subscriber ? h('p', { class: 'muted' }, Object.entries(data.subscriber).map(([k, v]) => `${k}: ${fmt(v)}`).join(' · ')) : null,
        h('ol', { class: 'timeline' }, events.map((e) => h('li', {},
          h('time', {}, e.time ? new Date(e.time).toLocaleString() : ''), ' ',
          h('strong', {}, e.type), e.name ? ` ${e.name}` : '', e.url ? h('small', { class: 'muted' }, ` ${e.url}`) : null))),
        table(events, { empty: 'No events for this subscriber.' }),
        data && data.next_cursor ? h('button', { type: 'button', onclick: () => load(data.next_cursor) }, 'Older events') : null));
      list.dataset.state = 'ready';
    } catch (err) {
      clear(list, problemsBox(err));
      list.dataset.state = 'error';
    }
  };
  clear(el, h('div', { class: 'page-head' }, h('h1', {}, 'Subscriber'), h('p', {}, h('a', { href: `#/s/${encodeURIComponent(site)}/subscribers` }, '← all subscribers'))), list);
  await load();
}
