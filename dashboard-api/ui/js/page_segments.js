// Segments: the list, the text-form editor with a live preview count, the
// members of one, and why a subscriber is (not) a member.

import { api, sitePath, query } from './api.js';
import { h, clear, problemsBox, table, field, fmt, debounce, busy } from './dom.js';

function reasonTree(r) {
  return h('li', { class: r.held ? 'held' : 'not-held' },
    h('span', { class: 'mark' }, r.held ? '✔' : '✘'), ' ', h('code', {}, r.rule),
    r.detail ? h('small', { class: 'muted' }, ` — ${r.detail}`) : null,
    r.events && r.events.length ? h('ul', { class: 'evidence' }, r.events.map((e) => h('li', {}, `${e.type}${e.name ? ` ${e.name}` : ''} at ${new Date(e.time).toLocaleString()}`))) : null,
    r.children && r.children.length ? h('ul', {}, r.children.map(reasonTree)) : null);
}

function editor(site, seg, onSaved) {
  const name = h('input', { name: 'name', required: true, value: seg ? seg.name : '' });
  const description = h('input', { name: 'description', value: seg ? seg.description : '' });
  const text = h('textarea', { name: 'text', rows: 4, spellcheck: 'false', required: true, value: seg ? seg.text : '', placeholder: 'country = "FR" and event page_view count >= 3 within 7d' });
  const preview = h('p', { class: 'preview', 'aria-live': 'polite', id: 'segment-preview' }, 'Type a rule to see how many subscribers match it now.');
  const out = h('div', { class: 'form-out' });
  let seq = 0;
  const runPreview = debounce(async () => {
    const mine = ++seq;
    if (!text.value.trim()) return;
    preview.textContent = 'Counting…';
    try {
      const r = await api('POST', sitePath(site, '/segments/preview'), { text: text.value });
      if (mine !== seq) return;
      clear(preview, h('strong', { 'data-count': r.count }, fmt(r.count)), ` subscribers match now (${new Date(r.at).toLocaleTimeString()})`);
      preview.dataset.count = String(r.count);
    } catch (err) {
      if (mine === seq) clear(preview, problemsBox(err));
    }
  }, 350);
  text.addEventListener('input', runPreview);
  if (seg) runPreview();
  const button = h('button', { type: 'submit', class: 'primary' }, seg ? 'Save changes' : 'Create segment');
  return h('form', {
    class: 'card', id: 'segment-form',
    onsubmit: async (ev) => {
      ev.preventDefault();
      clear(out);
      const body = { name: name.value, description: description.value, text: text.value };
      try {
        const saved = seg
          ? await busy(button, api('PUT', sitePath(site, `/segments/${encodeURIComponent(seg.id)}`), body, { 'If-Match': `"${seg.version}"` }))
          : await busy(button, api('POST', sitePath(site, '/segments'), body));
        onSaved(saved);
      } catch (err) {
        clear(out, problemsBox(err));
      }
    },
  }, h('h2', {}, seg ? `Edit ${seg.name}` : 'New segment'), field('Name', name), field('Description', description),
  field('Rule (text form)', text, 'For example: event purchase count >= 1 within 30d and not browser = "Safari"'), preview, button, out);
}

function explainForm(site, segs) {
  const seg = h('select', { name: 'segment' }, segs.map((s) => h('option', { value: s.id }, s.name)));
  const sub = h('input', { name: 'subscriber', required: true, placeholder: 'subscriber id' });
  const out = h('div', { class: 'form-out' });
  const button = h('button', { type: 'submit' }, 'Explain');
  return h('form', {
    class: 'card', id: 'explain-form',
    onsubmit: async (ev) => {
      ev.preventDefault();
      try {
        const x = await busy(button, api('GET', sitePath(site, `/segments/${encodeURIComponent(seg.value)}/explain`) + query({ subscriber: sub.value })));
        clear(out, h('p', {}, h('strong', {}, x.member ? 'Member' : 'Not a member'), ` at ${new Date(x.at).toLocaleString()}`, x.has_events ? '' : ' (no events yet)'),
          h('ul', { class: 'explain' }, reasonTree(x.rule)));
      } catch (err) {
        clear(out, problemsBox(err));
      }
    },
  }, h('h2', {}, 'Why is a subscriber (not) in a segment?'), field('Segment', seg), field('Subscriber', sub), button, out);
}

async function members(site, s, box) {
  try {
    const r = await api('GET', sitePath(site, `/segments/${encodeURIComponent(s.id)}/members`) + query({ limit: 100 }));
    const link = (m, c) => (c === 'subscriber_id' ? `#/s/${encodeURIComponent(site)}/subscribers/${encodeURIComponent(m.subscriber_id)}` : null);
    clear(box, h('h3', {}, `Members of ${s.name}`), table(r.members, { link, empty: 'No members yet.' }), r.next_cursor ? h('p', { class: 'muted' }, 'First 100 shown.') : null);
  } catch (err) {
    clear(box, problemsBox(err));
  }
}

/** segmentsPage is the segments of site. */
export async function segmentsPage(el, site) {
  const { segments } = await api('GET', sitePath(site, '/segments'));
  const side = h('div', { class: 'stack' });
  const detail = h('div', { class: 'card', hidden: true, id: 'segment-members' });
  const reload = () => segmentsPage(el, site);
  const list = h('section', { class: 'card', 'data-table': 'segments' }, h('h2', {}, 'Segments'),
    segments.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'data' },
      h('thead', {}, h('tr', {}, ['name', 'rule', 'version', ''].map((c) => h('th', {}, c)))),
      h('tbody', {}, segments.map((s) => h('tr', { 'data-segment': s.name },
        h('td', {}, s.name), h('td', {}, h('code', {}, s.text)), h('td', { class: 'num' }, s.version),
        h('td', { class: 'actions' },
          h('button', { type: 'button', onclick: () => { clear(side, editor(site, s, reload), explainForm(site, segments)); } }, 'Edit'),
          h('button', { type: 'button', onclick: () => { detail.hidden = false; members(site, s, detail); } }, 'Members'),
          h('button', {
            type: 'button', class: 'danger',
            onclick: async (ev) => {
              if (!confirm(`Delete the segment ${s.name}?`)) return;
              try {
                await busy(ev.target, api('DELETE', sitePath(site, `/segments/${encodeURIComponent(s.id)}`)));
                reload();
              } catch (err) {
                list.append(problemsBox(err));
              }
            },
          }, 'Delete'))))))) : h('p', { class: 'muted empty' }, 'No segments yet: create one.'));
  clear(side, editor(site, null, reload), segments.length ? explainForm(site, segments) : null);
  clear(el, h('div', { class: 'page-head' }, h('h1', {}, 'Segments')), h('div', { class: 'split' }, h('div', { class: 'stack' }, list, detail), side));
}
