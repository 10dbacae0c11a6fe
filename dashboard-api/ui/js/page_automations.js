// Automations: the list with enable/pause, and a JSON definition editor that
// shows every validation problem at its path.

import { api, sitePath } from './api.js';
import { h, clear, problemsBox, table, field, busy } from './dom.js';
import { annotated } from './json_paths.js';

const example = {
  trigger: { kind: 'event', event: { type: 'custom', name: 'signup' } },
  steps: [{ delay: '1h', message: { title: 'Welcome!', body: 'Thanks for joining.', url: 'https://example.com/start' } }],
  cooldown: '7d',
};

/** locate finds where a problem path (definition.steps[1].message.title) is in the JSON text. */
export function locate(text, path) {
  const parts = path.replace(/^definition\.?/, '').split(/[.[\]]+/).filter(Boolean);
  let from = 0;
  for (const p of parts) {
    if (/^\d+$/.test(p)) continue;
    const i = text.indexOf(`"${p}"`, from);
    if (i < 0) break;
    from = i;
  }
  return from;
}

/**
 * pathProblems lists the problems, and shows the definition with each
 * problem next to the line of its path; clicking one selects that place in
 * the editor.
 */
function pathProblems(err, textarea) {
  const box = problemsBox(err);
  const probs = err.problems || [];
  box.querySelectorAll('li').forEach((li, i) => {
    const p = probs[i];
    if (!p || !p.field || !p.field.startsWith('definition')) return;
    li.classList.add('at-path');
    li.addEventListener('click', () => {
      const at = locate(textarea.value, p.field);
      const end = textarea.value.indexOf('\n', at);
      textarea.focus();
      textarea.setSelectionRange(at, end > 0 ? end : at);
    });
  });
  let doc;
  try {
    doc = JSON.parse(textarea.value);
  } catch {
    return box;
  }
  if (probs.some((p) => p.field && p.field.startsWith('definition'))) box.append(annotated(doc, probs, 'definition'));
  return box;
}

function parseDefinition(textarea) {
  try {
    return { def: JSON.parse(textarea.value) };
  } catch (e) {
    return { err: { problems: [{ field: 'definition', problem: `is not valid JSON: ${e.message}` }] } };
  }
}

function editor(site, a, reload) {
  const name = h('input', { name: 'name', required: true, value: a ? a.name : '' });
  const status = h('select', { name: 'status' }, ['paused', 'enabled'].map((s) => h('option', { value: s, selected: a ? a.status === s : s === 'paused' }, s)));
  const def = h('textarea', { name: 'definition', rows: 16, spellcheck: 'false', class: 'code', value: JSON.stringify(a ? a.definition : example, null, 2) });
  const out = h('div', { class: 'form-out' });
  const save = h('button', { type: 'submit', class: 'primary' }, a ? 'Save new version' : 'Create automation');
  const check = h('button', {
    type: 'button',
    onclick: async () => {
      clear(out);
      const { def: d, err } = parseDefinition(def);
      if (err) return clear(out, pathProblems(err, def));
      try {
        const r = await busy(check, api('POST', sitePath(site, '/automations/backtest'), { definition: d }));
        return clear(out, h('p', { class: 'ok' }, 'The definition is valid. Over the last days it would have sent: '),
          table([r.total], {}), table(r.days || [], { empty: 'No day would have sent anything.' }));
      } catch (e) {
        return clear(out, pathProblems(e, def));
      }
    },
  }, 'Check and backtest');
  return h('form', {
    class: 'card', id: 'automation-form',
    onsubmit: async (ev) => {
      ev.preventDefault();
      clear(out);
      const { def: d, err } = parseDefinition(def);
      if (err) return clear(out, pathProblems(err, def));
      const body = { name: name.value, status: status.value, definition: d };
      try {
        if (a) await busy(save, api('PUT', sitePath(site, `/automations/${encodeURIComponent(a.id)}`), body, { 'If-Match': `"${a.version}"` }));
        else await busy(save, api('POST', sitePath(site, '/automations'), body));
        return reload();
      } catch (e) {
        return clear(out, pathProblems(e, def));
      }
    },
  }, h('h2', {}, a ? `Edit ${a.name} (version ${a.version})` : 'New automation'), field('Name', name), field('Status', status),
  field('Definition (JSON)', def, 'Trigger, steps with delays and messages, cooldown, holdout_pct.'), h('div', { class: 'buttons' }, save, check), out);
}

/** automationsPage is the automations of site. */
export async function automationsPage(el, site) {
  const { automations } = await api('GET', sitePath(site, '/automations'));
  const side = h('div', { class: 'stack' });
  const reload = () => automationsPage(el, site);
  const msg = h('div', { class: 'form-out' });
  const setStatus = async (btn, a, s) => {
    try {
      await busy(btn, api('POST', sitePath(site, `/automations/${encodeURIComponent(a.id)}/status`), { status: s }));
      reload();
    } catch (err) {
      clear(msg, problemsBox(err));
    }
  };
  const list = h('section', { class: 'card', 'data-table': 'automations' }, h('h2', {}, 'Automations'), msg,
    automations.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'data' },
      h('thead', {}, h('tr', {}, ['name', 'status', 'version', 'trigger', ''].map((c) => h('th', {}, c)))),
      h('tbody', {}, automations.map((a) => h('tr', {},
        h('td', {}, a.name), h('td', {}, h('span', { class: `badge ${a.status}` }, a.status)), h('td', { class: 'num' }, a.version),
        h('td', {}, a.definition && a.definition.trigger ? a.definition.trigger.kind : ''),
        h('td', { class: 'actions' },
          h('button', { type: 'button', onclick: () => clear(side, editor(site, a, reload)) }, 'Edit'),
          a.status === 'enabled'
            ? h('button', { type: 'button', onclick: (ev) => setStatus(ev.target, a, 'paused') }, 'Pause')
            : h('button', { type: 'button', onclick: (ev) => setStatus(ev.target, a, 'enabled') }, 'Enable'))))))) : h('p', { class: 'muted empty' }, 'No automations yet.'));
  clear(side, editor(site, null, reload));
  clear(el, h('div', { class: 'page-head' }, h('h1', {}, 'Automations')), h('div', { class: 'split' }, list, side));
}
