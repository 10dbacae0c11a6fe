// Charts with the vendored uPlot (window.uPlot, loaded by index.html).

const palette = ['#2563eb', '#16a34a', '#dc2626', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777'];

/**
 * lineChart draws one line per series over the time buckets (ISO strings)
 * into el, sized to el's width; it redraws when el is resized.
 * series: [{label, values: number[]}].
 */
export function lineChart(el, buckets, series, { title, bars = false } = {}) {
  const uPlot = window.uPlot;
  if (!uPlot) {
    el.textContent = 'The chart library did not load.';
    return null;
  }
  const xs = buckets.map((b) => Date.parse(b) / 1000);
  const opts = {
    title,
    width: Math.max(el.clientWidth, 280),
    height: el.clientWidth < 500 ? 200 : 260,
    series: [{}, ...series.map((s, i) => ({
      label: s.label,
      stroke: palette[i % palette.length],
      fill: bars ? `${palette[i % palette.length]}33` : undefined,
      width: 2,
      paths: bars && uPlot.paths && uPlot.paths.bars ? uPlot.paths.bars({ size: [0.6, 40] }) : undefined,
      points: { show: xs.length < 60 },
    }))],
    axes: [{}, { size: 56 }],
    legend: { live: true },
    cursor: { drag: { x: false, y: false } },
  };
  const plot = new uPlot(opts, [xs, ...series.map((s) => s.values)], el);
  el.classList.add('chart-ready');
  el.dataset.points = String(xs.length);
  const ro = new ResizeObserver(() => {
    if (!el.isConnected) {
      ro.disconnect();
      return;
    }
    const w = Math.max(el.clientWidth, 280);
    if (Math.abs(w - plot.width) > 4) plot.setSize({ width: w, height: w < 500 ? 200 : 260 });
  });
  ro.observe(el);
  return plot;
}

/**
 * barList is a horizontal bar list (a breakdown by label) without canvas.
 * items: [{label, value}].
 */
export function barList(items, format = String) {
  const max = Math.max(1, ...items.map((i) => i.value));
  const ul = document.createElement('ul');
  ul.className = 'bars';
  for (const it of items) {
    const li = document.createElement('li');
    const bar = document.createElement('span');
    bar.className = 'bar';
    bar.style.width = `${(100 * it.value) / max}%`;
    const label = document.createElement('span');
    label.className = 'bar-label';
    label.textContent = `${it.label} · ${format(it.value)}`;
    li.append(bar, label);
    ul.append(li);
  }
  return ul;
}
