// Renders a dashboard answer of the API without knowing its exact shape:
// numbers become cards (with the previous period's change when the answer
// has one), time series become charts, lists of rows become tables with a
// CSV link each.

import { h, fmt, pct, flatten, table, ratioColumn } from './dom.js';
import { lineChart } from './chart.js';

const timeKeys = ['bucket', 'start', 'minute', 'time', 't'];

function isRows(v) {
  return Array.isArray(v) && v.length > 0 && v.every((r) => r && typeof r === 'object' && !Array.isArray(r));
}

function timeKey(rows) {
  return timeKeys.find((k) => rows.every((r) => typeof r[k] === 'string' && !Number.isNaN(Date.parse(r[k]))));
}

/** isSeries reports whether v is a time series: rows with a time key. */
export function isSeries(v) {
  return isRows(v) && !!timeKey(v);
}

/** seriesOf turns rows of a time series into buckets and one line per numeric field. */
export function seriesOf(rows) {
  const tk = timeKey(rows);
  const flat = rows.map((r) => flatten(r));
  let names = [...new Set(flat.flatMap((r) => Object.keys(r).filter((k) => k !== tk && typeof r[k] === 'number')))];
  // Money and counts do not share an axis: chart the counts, the table has the revenue.
  const counts = names.filter((n) => !/revenue/.test(n));
  if (counts.length) names = counts;
  return {
    buckets: rows.map((r) => r[tk]),
    lines: names.map((n) => ({ label: n.replace(/^(counts|values)\./, ''), values: flat.map((r) => (typeof r[n] === 'number' ? r[n] : 0)) })),
  };
}

/** chartBox draws a time series into a new box; it must be in the document before drawing. */
export function chartBox(title, rows, opts = {}) {
  const box = h('div', { class: 'chart', 'data-title': title });
  const { buckets, lines } = seriesOf(rows);
  requestAnimationFrame(() => {
    if (!lines.length) {
      box.append(h('p', { class: 'muted empty' }, 'Nothing to chart.'));
      box.classList.add('chart-ready');
      return;
    }
    lineChart(box, buckets, lines, { title, ...opts });
  });
  return box;
}

/** label names a number: ctr is CTR, dots separate levels. */
function label(k) {
  return k.replace(/^totals?\./, '').replaceAll('_', ' ').replaceAll('.', ' · ').replace(/\bctr\b/, 'CTR');
}

function cardValue(k, v) {
  return ratioColumn.test(k) ? pct(v) : fmt(v);
}

function change(cur, prev) {
  if (typeof prev !== 'number') return null;
  if (prev === 0) return h('span', { class: 'delta' }, cur === 0 ? '±0' : 'new');
  const d = (cur - prev) / Math.abs(prev);
  return h('span', { class: `delta ${d > 0 ? 'up' : d < 0 ? 'down' : ''}`, title: `previous period: ${fmt(prev)}` },
    `${d > 0 ? '▲' : d < 0 ? '▼' : '±'} ${pct(Math.abs(d))}`);
}

/** cards shows every number of obj (nested maps flattened) and its change against prev. */
export function cards(obj, prev) {
  const flat = flatten(obj);
  const pflat = flatten(prev || {});
  const keys = Object.keys(flat).filter((k) => typeof flat[k] === 'number');
  if (!keys.length) return null;
  return h('div', { class: 'cards' }, keys.map((k) => h('div', { class: 'kpi', 'data-key': k },
    h('span', { class: 'kpi-label' }, label(k)),
    h('strong', { class: 'kpi-value' }, cardValue(k, flat[k])),
    change(flat[k], k in pflat ? pflat[k] : pflat[k.split('.').slice(1).join('.')]))));
}

/** metricCards shows metrics given as [{name, value, previous, change}]. */
export function metricCards(metrics) {
  return h('div', { class: 'cards' }, metrics.map((m) => {
    const d = m.change;
    return h('div', { class: 'kpi', 'data-key': m.name },
      h('span', { class: 'kpi-label' }, label(m.name)),
      h('strong', { class: 'kpi-value' }, cardValue(m.name, m.value)),
      typeof d === 'number'
        ? h('span', { class: `delta ${d > 0 ? 'up' : d < 0 ? 'down' : ''}`, title: `previous period: ${cardValue(m.name, m.previous)}` },
          `${d > 0 ? '▲' : d < 0 ? '▼' : '±'} ${pct(Math.abs(d))} vs ${cardValue(m.name, m.previous)}`)
        : h('span', { class: 'delta' }, `previous: ${cardValue(m.name, m.previous)}`));
  }));
}

function isMetrics(v) {
  return isRows(v) && v.every((m) => typeof m.name === 'string' && 'value' in m && 'previous' in m);
}

const prevKeys = ['previous', 'previous_period', 'comparison', 'compare'];
const skip = ['site_id', 'from', 'to', 'interval', 'tz', 'now', 'next_cursor', 'previous_from', 'previous_to'];

/**
 * renderAnswer lays out a dashboard answer into el. csv(key) returns the
 * CSV link of the table under key (or null).
 */
export function renderAnswer(el, data, csv) {
  const prevKey = prevKeys.find((k) => data && typeof data[k] === 'object' && data[k] !== null);
  const prev = prevKey ? data[prevKey] : null;
  const scalars = {};
  const sections = [];
  for (const [k, v] of Object.entries(data || {})) {
    if (k === prevKey || skip.includes(k)) continue;
    if (typeof v === 'number') scalars[k] = v;
    else if (isMetrics(v)) sections.push(h('section', { class: 'card', 'data-cards': k }, h('h2', {}, 'Against the previous period'), metricCards(v)));
    else if (v && typeof v === 'object' && !Array.isArray(v) && Object.values(v).some(isRows)) {
      const sub = h('section', { class: 'card nested', 'data-object': k }, h('h2', {}, title(k)));
      renderAnswer(sub, v, csv);
      sections.push(sub);
    } else if (v && typeof v === 'object' && !Array.isArray(v)) {
      const flat = flatten(v);
      if (Object.values(flat).some((x) => typeof x === 'number')) scalars[k] = v;
    } else if (isSeries(v)) sections.push(seriesSection(k, v, prev && prev[k], csv));
    else if (isRows(v)) sections.push(rowsSection(k, v, csv));
    else if (Array.isArray(v) && v.length && typeof v[0] !== 'object') continue; // a list of names: the tables and charts show them
    else if (Array.isArray(v)) sections.push(h('section', { class: 'card', 'data-table': k }, h('h2', {}, title(k)), h('p', { class: 'muted empty' }, 'No rows in this range.'), csvLink(csv, k)));
  }
  const c = cards(scalars, prev);
  if (c) el.append(h('section', { class: 'card', 'data-cards': '' }, h('h2', {}, prev ? 'Totals, against the previous period' : 'Totals'), c));
  for (const s of sections) el.append(s);
}

const titles = {
  series: 'Over time', rows: 'Breakdown', minutes: 'Last 30 minutes, by minute', goals: 'Goals', segments: 'Segments',
  breakdown: 'Breakdown by property', total: 'Total',
};

function title(k) {
  if (titles[k]) return titles[k];
  const s = k.replaceAll('_', ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function csvLink(csv, key) {
  const href = csv && csv(key);
  return href ? h('a', { class: 'csv', href, download: `${key}.csv`, 'data-csv': key }, 'Download CSV') : null;
}

function seriesSection(k, rows, prevRows, csv) {
  const sec = h('section', { class: 'card', 'data-series': k, 'data-table': k }, h('div', { class: 'card-head' }, h('h2', {}, title(k)), csvLink(csv, k)));
  sec.append(chartBox('', rows));
  sec.append(h('details', { class: 'as-table' }, h('summary', {}, 'As a table'), table(rows.map(flatRow))));
  if (isSeries(prevRows)) sec.append(h('details', {}, h('summary', {}, 'Previous period'), chartBox(`${title(k)} (previous period)`, prevRows)));
  return sec;
}

function rowsSection(k, rows, csv) {
  // Rows with their own series (a goal, a segment): one chart each, and the table without the series.
  const nested = Object.keys(rows[0]).find((c) => isSeries(rows[0][c]));
  const sec = h('section', { class: 'card', 'data-table': k }, h('div', { class: 'card-head' }, h('h2', {}, title(k)), csvLink(csv, k)));
  const plain = nested ? rows.map((r) => Object.fromEntries(Object.entries(r).filter(([c]) => c !== nested))) : rows;
  sec.append(table(plain.map(flatRow)));
  if (nested) {
    const grid = h('div', { class: 'chart-grid' });
    for (const r of rows.slice(0, 12)) {
      const name = r.name || r.goal || r.segment_name || r.segment_id || r.key || r.id || '';
      if (isSeries(r[nested])) grid.append(chartBox(String(name), r[nested]));
    }
    sec.append(grid);
  }
  return sec;
}

function flatRow(r) {
  const out = {};
  for (const [k, v] of Object.entries(flatten(r))) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}
