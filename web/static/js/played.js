// @ts-check
// The dashboard's play history: what each station played, with how many
// listened when each track started and how that changed while it played
// ("song impact"), from GET /api/stations/{slug}/history.

import { api } from './api.js';
import { el } from './dom.js';

const SOURCE_TEXT = { playlist: 'Playlist', jingle: 'Jingle', live: 'Live' };

/** change is a listener change as text: "+3", "−2", "0", or "—" when unknown. */
export function change(d) {
  if (typeof d !== 'number') return '—';
  if (d > 0) return `+${d}`;
  if (d < 0) return `−${-d}`;
  return '0';
}

/** Played keeps one station's history table up to date. */
export class Played {
  /** @param {HTMLElement} root */
  constructor(root) {
    this.root = root;
    this.slug = '';
    this.timer = 0;
  }

  /** show loads slug's history into the table. */
  async show(slug) {
    this.slug = slug;
    try {
      const answer = await api('GET', `/api/stations/${encodeURIComponent(slug)}/history?limit=20`);
      if (this.slug === slug) this.render(answer.history || []);
    } catch {
      /* the table stays as it was; the next track change retries */
    }
  }

  /** changed reloads a little later: the server writes its row just after it announces a track. */
  changed() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.show(this.slug), 2000);
  }

  render(rows) {
    if (rows.length === 0) {
      this.root.replaceChildren(el('p', { className: 'hint' }, 'Nothing played yet.'));
      return;
    }
    const head = el('tr', {}, ...['Started', 'Title', 'Artist', 'Source', 'Listeners', 'Change']
      .map((h) => el('th', { scope: 'col' }, h)));
    const body = rows.map((h) => {
      const at = new Date(h.started_at);
      const time = Number.isNaN(at.getTime()) ? '' : at.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
      const d = h.listeners_delta;
      return el('tr', {},
        el('td', {}, el('time', { datetime: h.started_at || '' }, time)),
        el('td', {}, h.title || '—'),
        el('td', {}, h.artist || ''),
        el('td', {}, SOURCE_TEXT[h.source] || h.source || ''),
        el('td', { className: 'num' }, typeof h.listeners_start === 'number' ? String(h.listeners_start) : '—'),
        el('td', { className: `num ${d > 0 ? 'up' : d < 0 ? 'down' : ''}`, 'aria-label': typeof d === 'number' ? `listener change ${change(d)}` : 'listener change not known yet' }, change(d)));
    });
    this.root.replaceChildren(el('table', { className: 'played' },
      el('caption', { className: 'visually-hidden' }, 'Tracks played, newest first, with listeners when each started and their change while it played'),
      el('thead', {}, head), el('tbody', {}, ...body)));
  }

  destroy() { clearTimeout(this.timer); }
}
