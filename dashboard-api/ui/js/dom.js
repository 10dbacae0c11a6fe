// Small DOM helpers. Data only ever becomes text nodes or attribute values:
// nothing here parses HTML.

/**
 * h creates an element: attrs sets attributes (class, for, …), on* keys add
 * event listeners, `hidden`/`disabled`/`checked`/`value` set properties;
 * children are nodes or strings (text), nested arrays and null are allowed.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (['hidden', 'disabled', 'checked', 'value', 'selected', 'multiple', 'required'].includes(k)) el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** clear empties el and appends children. */
export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** problemsBox lists an error's problems (an ApiError's, or the message). */
export function problemsBox(err) {
  const probs = err && Array.isArray(err.problems) ? err.problems : [{ field: '', problem: String(err && err.message || err) }];
  return h('div', { class: 'problems', role: 'alert' },
    h('ul', {}, probs.map((p) => h('li', {}, p.field ? h('code', {}, p.field) : null, p.field ? ' ' : null, p.problem))));
}

const numberFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });

/** fmt shows a cell value: numbers grouped, objects as JSON. */
export function fmt(v) {
  if (v === null || v === undefined) return '–';
  if (typeof v === 'number') return numberFormat.format(v);
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** pct shows a ratio (0.123) as a percentage. */
export function pct(v) {
  return v === null || v === undefined || Number.isNaN(v) ? '–' : `${numberFormat.format(v * 100)} %`;
}

/** ratioColumn matches the columns that hold a ratio (0.25), shown as a percentage. */
export const ratioColumn = /(^|[_.])(ctr|rate|ratio|lift)$/;

/** flatten turns {a:{b:1}} into {"a.b":1}; arrays stay values. */
export function flatten(obj, prefix = '', out = {}) {
  for (const [k, v] of Object.entries(obj || {})) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === 'object' && !Array.isArray(v)) flatten(v, key, out);
    else out[key] = v;
  }
  return out;
}

/**
 * table renders rows (objects) as a table; columns defaults to every key of
 * the flattened rows; link(row, col) may return an href for a cell.
 */
export function table(rows, { columns, caption, link, empty = 'No rows in this range.' } = {}) {
  const flat = rows.map((r) => flatten(r));
  const cols = columns || [...new Set(flat.flatMap((r) => Object.keys(r)))];
  if (!flat.length) return h('p', { class: 'muted empty' }, empty);
  return h('div', { class: 'table-wrap' },
    h('table', { class: 'data' },
      caption ? h('caption', {}, caption) : null,
      h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col' }, c.replaceAll('_', ' ').replaceAll('.', ' · '))))),
      h('tbody', {}, flat.map((r, i) => h('tr', {}, cols.map((c) => {
        const v = r[c];
        const href = link && link(rows[i], c);
        const text = typeof v === 'number' && ratioColumn.test(c) ? pct(v) : fmt(v);
        return h('td', { class: typeof v === 'number' ? 'num' : null }, href ? h('a', { href }, text) : text);
      }))))));
}

/** field wraps an input with its label. */
export function field(label, input, hint) {
  return h('label', { class: 'field' }, h('span', { class: 'label' }, label), input, hint ? h('small', { class: 'muted' }, hint) : null);
}

/** debounce calls fn once calls stop for ms. */
export function debounce(fn, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** busy disables a button while the promise runs. */
export async function busy(button, promise) {
  button.disabled = true;
  try {
    return await promise;
  } finally {
    button.disabled = false;
  }
}
