// Listener statistics on the dashboard: a chart of listeners over time
// (split by transport, with chat and likes per interval), the peak,
// listening hours and average session, for one station or the whole
// server. The chart is drawn by uPlot (/static/vendor/uplot, loaded as a
// classic script before this module); everything the chart shows is also
// in text: a summary in its aria-label and a table of the points.

import { api } from './api.js';
import { el, setText, say } from './dom.js';

/** The ranges offered, and how far back each reaches. */
export const RANGES = [
  { key: '1h', label: '1 h', ms: 3600e3 },
  { key: '24h', label: '24 h', ms: 24 * 3600e3 },
  { key: '7d', label: '7 d', ms: 7 * 24 * 3600e3 },
  { key: '30d', label: '30 d', ms: 30 * 24 * 3600e3 },
];

const timeFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'short', timeStyle: 'short' });

/** fmtDuration writes seconds as "1 h 5 min", "4 min 10 s" or "12 s". */
export function fmtDuration(s) {
  s = Math.round(s || 0);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h > 0) return `${h} h ${m} min`;
  if (m > 0) return `${m} min ${s % 60} s`;
  return `${s} s`;
}

function cssVar(name, fallback) {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

/**
 * StatsPanel fills root with range buttons, figures, the chart and its
 * table. url is the stats endpoint without a query; what names the
 * subject in labels ("Night Owl Radio", "the whole server"); prefix starts
 * the ids of its figures, so two panels can share a page.
 */
export class StatsPanel {
  constructor(root, { url, what, prefix = 'stats' }) {
    this.root = root;
    this.prefix = prefix;
    this.url = url;
    this.what = what;
    this.range = RANGES[1];
    this.report = null;
    this.chart = null;
    this.live = null; // the latest live count, {http, webrtc}
    this.timer = 0;
    this.seq = 0;
    this.build();
    this.observer = new ResizeObserver(() => this.resize());
    this.observer.observe(this.chartBox);
    this.load();
  }

  build() {
    const group = el('div', { className: 'range-buttons', role: 'group', 'aria-label': 'Time range' });
    this.buttons = RANGES.map((r) => el('button', {
      type: 'button', className: 'secondary', 'aria-pressed': r === this.range ? 'true' : 'false',
      dataset: { range: r.key }, onclick: () => this.setRange(r),
    }, r.label));
    group.append(...this.buttons);
    this.csv = el('a', { className: 'csv-link', href: '#', download: '' }, 'Download CSV');
    this.figures = {
      now: el('dd', { id: this.id('now') }, '0'),
      peak: el('dd', { id: this.id('peak') }, '—'),
      hours: el('dd', { id: this.id('hours') }, '0'),
      sessions: el('dd', { id: this.id('sessions') }, '0'),
      avg: el('dd', { id: this.id('avg') }, '—'),
      chat: el('dd', { id: this.id('chat') }, '0'),
      likes: el('dd', { id: this.id('likes') }, '0'),
    };
    const f = this.figures;
    const dl = el('dl', { className: 'figures' },
      el('div', {}, el('dt', {}, 'Listening now'), f.now),
      el('div', {}, el('dt', {}, 'Peak'), f.peak),
      el('div', {}, el('dt', {}, 'Listening hours'), f.hours),
      el('div', {}, el('dt', {}, 'Sessions'), f.sessions),
      el('div', {}, el('dt', {}, 'Average session'), f.avg),
      el('div', {}, el('dt', {}, 'Chat messages'), f.chat),
      el('div', {}, el('dt', {}, 'Likes'), f.likes));
    this.chartBox = el('div', { className: 'chart', id: this.id('chart') });
    this.error = el('p', { className: 'error', role: 'alert', hidden: true });
    this.empty = el('p', { className: 'empty', hidden: true }, 'No listeners recorded in this range yet.');
    this.tbody = el('tbody');
    this.caption = el('caption');
    const table = el('table', { className: 'stats-table' }, this.caption,
      el('thead', {}, el('tr', {},
        el('th', { scope: 'col' }, 'Time'), el('th', { scope: 'col' }, 'Listeners'),
        el('th', { scope: 'col' }, 'Media players'), el('th', { scope: 'col' }, 'Browsers'),
        el('th', { scope: 'col' }, 'Chat'), el('th', { scope: 'col' }, 'Likes'))),
      this.tbody);
    this.details = el('details', { className: 'stats-data' }, el('summary', {}, 'Show the numbers as a table'), table);
    this.root.replaceChildren(
      el('div', { className: 'stats-head' }, group, this.csv),
      dl, this.error, this.empty, this.chartBox, this.details);
  }

  id(part) { return `${this.prefix}-${part}`; }

  setRange(r) {
    this.range = r;
    for (const b of this.buttons) b.setAttribute('aria-pressed', b.dataset.range === r.key ? 'true' : 'false');
    this.load();
  }

  query() {
    const to = new Date();
    const from = new Date(to.getTime() - this.range.ms);
    return `?from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}`;
  }

  /** load fetches the range again; stale answers are dropped. */
  async load() {
    clearTimeout(this.timer);
    const seq = ++this.seq;
    const q = this.query();
    this.csv.href = `${this.url}.csv${q}`;
    let rep;
    try {
      rep = await api('GET', this.url + q);
    } catch (err) {
      if (seq !== this.seq) return;
      say(this.error, `Statistics could not be loaded: ${err.message}`);
      this.schedule(30);
      return;
    }
    if (seq !== this.seq) return;
    say(this.error, '');
    this.report = rep;
    this.render();
    // Sessions and listening hours come from the server: refresh them
    // about once a step (at least every 5 s, at most every 5 min).
    this.schedule(Math.min(300, Math.max(5, rep.step_s || 60)));
  }

  schedule(seconds) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (document.hidden) this.schedule(seconds);
      else this.load();
    }, seconds * 1000);
  }

  /** setLive takes a live listener count (a stream:listeners event). */
  setLive(l) {
    this.live = { http: l.http || 0, webrtc: l.webrtc || 0 };
    if (this.report) this.render();
  }

  /** points is the report's points plus, when known, the live count now. */
  points() {
    const pts = this.report.points.map((p) => ({ ...p, t: Date.parse(p.t) / 1000 }));
    if (this.live) {
      const now = Date.now() / 1000;
      const last = pts[pts.length - 1];
      const p = { t: now, http: this.live.http, webrtc: this.live.webrtc, listeners: this.live.http + this.live.webrtc, chat: 0, likes: 0 };
      if (!last || now - last.t >= 1) pts.push(p);
    }
    return pts;
  }

  render() {
    const rep = this.report;
    const pts = this.points();
    let peak = rep.peak && rep.peak.t ? { n: rep.peak.listeners, t: Date.parse(rep.peak.t) } : null;
    const liveTotal = this.live ? this.live.http + this.live.webrtc : null;
    if (liveTotal !== null && (!peak || liveTotal > peak.n)) peak = { n: liveTotal, t: Date.now() };
    const f = this.figures;
    const nowN = liveTotal !== null ? liveTotal : (pts.length ? pts[pts.length - 1].listeners : 0);
    setText(f.now, String(nowN));
    if (peak) f.peak.replaceChildren(String(peak.n), el('small', {}, timeFmt.format(peak.t)));
    else setText(f.peak, '—');
    setText(f.hours, (rep.listening_hours || 0).toFixed(rep.listening_hours < 10 ? 2 : 1));
    setText(f.sessions, String(rep.sessions || 0));
    setText(f.avg, rep.sessions ? fmtDuration(rep.avg_session_s) : '—');
    setText(f.chat, String(rep.chat || 0));
    setText(f.likes, String(rep.likes || 0));
    this.empty.hidden = pts.length > 0;

    const label = `Listeners of ${this.what} over the last ${this.range.label}: ` +
      (pts.length ? `now ${nowN}, peak ${peak ? peak.n : 0}${peak ? ` at ${timeFmt.format(peak.t)}` : ''}, ` +
        `${rep.listening_hours || 0} listening hours, ${rep.chat || 0} chat messages and ${rep.likes || 0} likes.`
        : 'none recorded yet.');
    this.label = label;
    this.draw(pts);
    this.renderTable(pts);
  }

  draw(pts) {
    const data = [
      pts.map((p) => p.t),
      pts.map((p) => p.listeners),
      pts.map((p) => p.http),
      pts.map((p) => p.webrtc),
      pts.map((p) => p.chat),
      pts.map((p) => p.likes),
    ];
    if (!this.chart) {
      this.chart = new window.uPlot(this.options(), data, this.chartBox);
    } else {
      this.chart.setData(data);
    }
    // The canvas is the chart as an image; its label says what it shows.
    const canvas = this.chartBox.querySelector('canvas');
    if (canvas) {
      canvas.setAttribute('role', 'img');
      canvas.setAttribute('aria-label', this.label);
    }
  }

  options() {
    const accent = cssVar('--accent', '#d62d4a');
    const text = cssVar('--text', '#1b1b22');
    const line = cssVar('--line', '#dcdce3');
    const axis = { stroke: text, grid: { stroke: line, width: 1 }, ticks: { stroke: line } };
    return {
      width: this.width(),
      height: this.height(),
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, n: { auto: true } },
      axes: [
        { ...axis },
        { ...axis, label: 'Listeners', labelSize: 18 },
        { ...axis, scale: 'n', side: 1, grid: { show: false }, label: 'Chat, likes', labelSize: 18 },
      ],
      series: [
        {},
        { label: 'Listeners', stroke: accent, width: 2, fill: cssVar('--accent-soft', '#fde8ec') },
        { label: 'Media players', stroke: '#2f6fec', width: 1.5 },
        { label: 'Browsers', stroke: '#1d7a46', width: 1.5, dash: [6, 4] },
        { label: 'Chat', scale: 'n', stroke: '#9b59b6', width: 0, points: { show: true, size: 6, fill: '#9b59b6' } },
        { label: 'Likes', scale: 'n', stroke: '#e67e22', width: 0, points: { show: true, size: 6, fill: '#e67e22' } },
      ],
    };
  }

  width() { return Math.max(240, Math.floor(this.chartBox.clientWidth || 600)); }
  height() { return this.width() < 500 ? 220 : 300; }

  resize() {
    if (this.chart) this.chart.setSize({ width: this.width(), height: this.height() });
  }

  renderTable(pts) {
    setText(this.caption, this.label);
    // Newest first; a long range is capped so the page stays light.
    const rows = pts.slice(-200).reverse().map((p) => el('tr', {},
      el('td', {}, timeFmt.format(p.t * 1000)), el('td', {}, String(p.listeners)),
      el('td', {}, String(p.http)), el('td', {}, String(p.webrtc)),
      el('td', {}, String(p.chat)), el('td', {}, String(p.likes))));
    this.tbody.replaceChildren(...rows);
  }

  /** destroy stops the refresh and frees the chart. */
  destroy() {
    clearTimeout(this.timer);
    this.seq++;
    this.observer.disconnect();
    if (this.chart) this.chart.destroy();
    this.chart = null;
  }
}
