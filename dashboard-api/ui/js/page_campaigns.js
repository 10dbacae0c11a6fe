// Campaigns: create (to segments, now or scheduled, with variants),
// schedule, cancel, delete drafts, and the progress of each.

import { api, sitePath } from './api.js';
import { h, clear, problemsBox, field, fmt, busy } from './dom.js';

function variantFields(n) {
  const title = h('input', { name: `title${n}`, required: n === 1, placeholder: n === 1 ? 'Sale starts now' : 'optional second variant' });
  const body = h('input', { name: `body${n}` });
  const url = h('input', { name: `url${n}`, type: 'url', placeholder: 'https://shop.example/sale' });
  return {
    el: h('fieldset', {}, h('legend', {}, `Variant ${n === 1 ? 'a' : 'b'}`), field('Title', title), field('Body', body), field('Link', url)),
    value: () => {
      if (!title.value) return null;
      const message = { title: title.value };
      if (body.value) message.body = body.value;
      if (url.value) message.url = url.value;
      return { name: n === 1 ? 'a' : 'b', weight: 1, message };
    },
  };
}

function createForm(site, segments, reload) {
  const name = h('input', { name: 'name', required: true });
  const segOptions = () => segments.map((s) => h('option', { value: s.id }, s.name));
  const include = h('select', { name: 'include', multiple: true, required: true, size: Math.min(5, Math.max(2, segments.length)) }, segOptions());
  const exclude = h('select', { name: 'exclude', multiple: true, size: Math.min(5, Math.max(2, segments.length)) }, segOptions());
  const v1 = variantFields(1);
  const v2 = variantFields(2);
  const when = h('select', { name: 'when' }, [['now', 'As soon as it is scheduled'], ['at', 'At a date and time'], ['local', 'At a local time in each subscriber\'s timezone']]
    .map(([v, l]) => h('option', { value: v }, l)));
  const at = h('input', { type: 'datetime-local', name: 'at' });
  const local = h('input', { type: 'time', name: 'local_time', value: '09:00' });
  const throttle = h('input', { type: 'number', name: 'throttle_per_minute', min: 0, value: 0 });
  const holdout = h('input', { type: 'number', name: 'holdout_pct', min: 0, max: 50, step: 'any', value: 0 });
  const out = h('div', { class: 'form-out' });
  const button = h('button', { type: 'submit', class: 'primary' }, 'Create campaign');
  const selected = (sel) => [...sel.selectedOptions].map((o) => o.value);
  return h('form', {
    class: 'card', id: 'campaign-form',
    onsubmit: async (ev) => {
      ev.preventDefault();
      clear(out);
      const def = { include: selected(include), variants: [v1.value(), v2.value()].filter(Boolean) };
      if (selected(exclude).length) def.exclude = selected(exclude);
      if (when.value === 'at' && at.value) def.schedule = { at: new Date(at.value).toISOString() };
      if (when.value === 'local') def.schedule = { local_time: local.value, ...(at.value ? { at: new Date(at.value).toISOString() } : {}) };
      if (+throttle.value > 0) def.throttle_per_minute = +throttle.value;
      if (+holdout.value > 0) def.holdout_pct = +holdout.value;
      try {
        await busy(button, api('POST', sitePath(site, '/campaigns'), { name: name.value, definition: def }));
        reload();
      } catch (err) {
        clear(out, problemsBox(err));
      }
    },
  }, h('h2', {}, 'New campaign'), field('Name', name),
  field('To members of', include, segments.length ? 'Hold Ctrl or ⌘ to pick several.' : 'Create a segment first.'), field('Except members of', exclude),
  v1.el, v2.el, field('When', when), field('Date and time', at, 'For “at a local time”: the day (default today).'), field('Local time', local),
  h('div', { class: 'row' }, field('Pushes per minute at most (0: no limit)', throttle), field('Holdout %', holdout)), button, out);
}

function progressBar(p) {
  const done = p.sent + p.failed + p.skipped + p.held_out + p.cancelled;
  const meter = h('progress', { max: Math.max(1, p.total), value: Math.min(done, p.total) });
  return h('div', { class: 'progress' }, meter,
    h('small', {}, `${fmt(p.sent)} sent · ${fmt(p.delivered)} delivered · ${fmt(p.clicked)} clicked · ${fmt(p.failed)} failed · ${fmt(p.pending + p.queued)} waiting · ${fmt(p.held_out)} held out of ${fmt(p.total)}`));
}

async function showProgress(site, c, cell) {
  try {
    const p = await api('GET', sitePath(site, `/campaigns/${encodeURIComponent(c.id)}/progress`));
    clear(cell, progressBar(p));
  } catch (err) {
    clear(cell, problemsBox(err));
  }
}

/** campaignsPage is the campaigns of site. */
export async function campaignsPage(el, site) {
  const [{ campaigns }, { segments }] = await Promise.all([api('GET', sitePath(site, '/campaigns')), api('GET', sitePath(site, '/segments'))]);
  const reload = () => campaignsPage(el, site);
  const msg = h('div', { class: 'form-out' });
  const act = (path, method = 'POST') => async (ev) => {
    try {
      await busy(ev.target, api(method, sitePath(site, path)));
      reload();
    } catch (err) {
      clear(msg, problemsBox(err));
    }
  };
  const rows = campaigns.map((c) => {
    const progress = h('td', { class: 'progress-cell' });
    if (c.status !== 'draft') showProgress(site, c, progress);
    const id = encodeURIComponent(c.id);
    return h('tr', { 'data-campaign': c.name },
      h('td', {}, c.name), h('td', {}, h('span', { class: `badge ${c.status}` }, c.status)),
      h('td', {}, c.send_at ? new Date(c.send_at).toLocaleString() : 'now'), progress,
      h('td', { class: 'actions' },
        c.status === 'draft' ? h('button', { type: 'button', class: 'primary', onclick: act(`/campaigns/${id}/schedule`) }, 'Schedule') : null,
        c.status === 'scheduled' || c.status === 'running' ? h('button', { type: 'button', onclick: act(`/campaigns/${id}/cancel`) }, 'Cancel') : null,
        c.status === 'draft' ? h('button', { type: 'button', class: 'danger', onclick: act(`/campaigns/${id}`, 'DELETE') }, 'Delete') : null,
        c.status !== 'draft' ? h('button', { type: 'button', onclick: () => showProgress(site, c, progress) }, 'Refresh') : null));
  });
  const list = h('section', { class: 'card', 'data-table': 'campaigns' }, h('h2', {}, 'Campaigns'), msg,
    campaigns.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'data' },
      h('thead', {}, h('tr', {}, ['name', 'status', 'send at', 'progress', ''].map((c) => h('th', {}, c)))), h('tbody', {}, rows)))
      : h('p', { class: 'muted empty' }, 'No campaigns yet.'));
  clear(el, h('div', { class: 'page-head' }, h('h1', {}, 'Campaigns')), h('div', { class: 'split' }, list, createForm(site, segments, reload)));
}
