// Shows a JSON document with the problems of a refused request next to the
// lines they are about: a problem's field such as
// definition.steps[1].message.title is matched to the line of that path, or
// of its nearest parent present in the document (a missing field).

import { h } from './dom.js';

/** jsonLines pretty-prints value as lines, each with its path (steps[1].message). */
export function jsonLines(value, path = '', key = null, indent = 0, last = true, out = []) {
  const pad = '  '.repeat(indent);
  const head = key === null ? '' : `${JSON.stringify(key)}: `;
  const comma = last ? '' : ',';
  const child = (k) => (typeof k === 'number' ? `${path}[${k}]` : path ? `${path}.${k}` : k);
  if (Array.isArray(value) || (value && typeof value === 'object')) {
    const isArr = Array.isArray(value);
    const entries = isArr ? value.map((v, i) => [i, v]) : Object.entries(value);
    if (!entries.length) {
      out.push({ path, text: `${pad}${head}${isArr ? '[]' : '{}'}${comma}` });
      return out;
    }
    out.push({ path, text: `${pad}${head}${isArr ? '[' : '{'}` });
    entries.forEach(([k, v], i) => jsonLines(v, child(k), isArr ? null : k, indent + 1, i === entries.length - 1, out));
    out.push({ path, text: `${pad}${isArr ? ']' : '}'}${comma}` });
    return out;
  }
  out.push({ path, text: `${pad}${head}${JSON.stringify(value)}${comma}` });
  return out;
}

/** parentPath is the path one level up: a.b[2] -> a.b, a.b -> a, a -> "". */
export function parentPath(p) {
  const m = p.match(/^(.*)(\[\d+\]|\.[^.[\]]+)$/);
  return m ? m[1] : '';
}

/**
 * annotated renders doc with each problem (field under prefix, such as
 * "definition") after the first line of its path or nearest parent.
 */
export function annotated(doc, problems, prefix) {
  const lines = jsonLines(doc);
  const at = new Map(); // line index -> problems
  for (const p of problems) {
    if (!p.field || !(p.field === prefix || p.field.startsWith(`${prefix}.`) || p.field.startsWith(`${prefix}[`))) continue;
    let path = p.field.slice(prefix.length).replace(/^\./, '');
    let i = lines.findIndex((l) => l.path === path);
    while (i < 0 && path) {
      path = parentPath(path);
      i = lines.findIndex((l) => l.path === path);
    }
    const idx = Math.max(i, 0);
    at.set(idx, [...(at.get(idx) || []), p]);
  }
  return h('ol', { class: 'json-lines' }, lines.map((l, i) => h('li', { class: at.has(i) ? 'bad' : null, 'data-path': l.path },
    h('code', {}, l.text),
    at.has(i) ? at.get(i).map((p) => h('div', { class: 'at-path-problem', role: 'note' }, h('code', {}, p.field), ` ${p.problem}`)) : null)));
}
