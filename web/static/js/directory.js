// The station directory, /: every station with its live badge, now
// playing and listener count, kept current by WebSocket events (no
// polling). stream:started/stopped reach every socket; now playing and
// listeners come from each live station's room, so the page joins the room
// of every live station, spreading them over as many sockets as the
// server's per-socket room limit needs.

import { api } from './api.js';
import { byId, el, nowPlayingLine, say, setText } from './dom.js';
import { describeStatus, Signal } from './signal.js';

// The server's default MaxRooms is 16; stay under it.
const ROOMS_PER_SOCKET = 15;

const ui = { list: byId('stations'), empty: byId('empty'), conn: byId('conn'), notice: byId('notice') };
const cards = new Map(); // slug → {li, station, parts}
const sockets = [];

function onEvent(event, data) {
  const slug = data.station;
  if (!slug) return;
  const card = cards.get(slug);
  if (!card) {
    // A station created after the page loaded: fetch it once.
    if (event === 'stream:started') addLater(slug);
    return;
  }
  const st = card.station;
  switch (event) {
    case 'stream:started': case 'stream:live':
      st.live = true;
      watch(slug);
      break;
    case 'stream:stopped': case 'stream:offline':
      st.live = false;
      st.now_playing = null;
      st.listeners = { total: 0, http: 0, webrtc: 0 };
      unwatch(slug);
      break;
    case 'stream:metadata':
      st.now_playing = data;
      break;
    case 'stream:listeners':
      st.listeners = { total: data.count, http: data.http, webrtc: data.webrtc };
      break;
    default:
      return;
  }
  render(card);
}

function onStatus(state, info) {
  // One line for all sockets: the first one's state is the page's.
  if (sockets[0] && this === sockets[0]) setText(ui.conn, describeStatus(state, info));
}

function newSocket() {
  const s = new Signal({ onEvent, onStatus(state, info) { onStatus.call(s, state, info); } });
  sockets.push(s);
  s.connect();
  return s;
}

/** watch joins a live station's room on a socket with room to spare. */
function watch(slug) {
  if (sockets.some((s) => s.rooms.has(slug))) return;
  const s = sockets.find((x) => x.rooms.size < ROOMS_PER_SOCKET) || newSocket();
  s.join(slug);
}

function unwatch(slug) {
  // Socket 0 stays open for stream:started even with no room.
  for (const s of sockets) s.leave(slug);
}

function makeCard(st) {
  const parts = {
    name: el('span', { className: 'card-name' }),
    badge: el('span', { className: 'badge' }),
    genre: el('span', { className: 'card-genre' }),
    np: el('span', { className: 'card-np' }),
    listeners: el('span', { className: 'card-listeners' }),
    // Decorative: the link's label already says what plays.
    art: el('img', { className: 'card-art', alt: '', width: 56, height: 56, loading: 'lazy', hidden: true }),
  };
  parts.art.addEventListener('error', () => { parts.art.hidden = true; });
  const link = el('a', { className: 'card-link', href: `/stations/${encodeURIComponent(st.slug)}` },
    el('span', { className: 'card-head' }, parts.name, parts.badge),
    el('span', { className: 'card-body' }, parts.art,
      el('span', { className: 'card-text' }, parts.genre, parts.np, parts.listeners)));
  const li = el('li', { className: 'card', dataset: { slug: st.slug } }, link);
  const card = { li, station: st, parts, link };
  cards.set(st.slug, card);
  render(card);
  return card;
}

function render(card) {
  const { station: st, parts, li, link } = card;
  setText(parts.name, st.name);
  setText(parts.badge, st.live ? 'Live' : 'Off air');
  parts.badge.classList.toggle('live', st.live);
  li.classList.toggle('is-live', st.live);
  setText(parts.genre, st.genre || '');
  parts.genre.hidden = !st.genre;
  const line = st.live ? nowPlayingLine(st.now_playing) : '';
  setText(parts.np, line ? `Now playing: ${line}` : (st.live ? 'On air' : 'Not on air right now'));
  const art = st.live && st.now_playing && st.now_playing.art;
  if (art && parts.art.getAttribute('src') !== art) parts.art.src = art;
  if (!art) parts.art.removeAttribute('src');
  parts.art.hidden = !art;
  const n = st.live ? (st.listeners?.total || 0) : 0;
  const count = `${n} ${n === 1 ? 'listener' : 'listeners'}`;
  setText(parts.listeners, count);
  link.setAttribute('aria-label', `${st.name}, ${st.live ? 'live' : 'off air'}${line ? `, now playing ${line}` : ''}, ${count}`);
}

/**
 * place puts the cards in order: live stations first, then by name. It
 * runs when stations are added, not on every change, so cards do not jump
 * under the pointer or the keyboard focus.
 */
function place() {
  const all = [...cards.values()].sort((a, b) =>
    (b.station.live - a.station.live) || a.station.name.localeCompare(b.station.name));
  ui.list.replaceChildren(...all.map((c) => c.li));
  ui.empty.hidden = cards.size > 0;
}

const adding = new Set();
async function addLater(slug) {
  if (adding.has(slug)) return;
  adding.add(slug);
  try {
    const st = await api('GET', `/api/stations/${encodeURIComponent(slug)}`);
    if (!cards.has(slug)) {
      makeCard(st);
      place();
      if (st.live) watch(slug);
    }
  } catch { /* gone again: nothing to show */ } finally {
    adding.delete(slug);
  }
}

async function start() {
  newSocket();
  let list;
  try {
    list = await api('GET', '/api/stations');
  } catch (err) {
    say(ui.notice, `The stations could not be loaded: ${err.message}`);
    return;
  }
  for (const st of list.stations) makeCard(st);
  place();
  for (const st of list.stations) if (st.live) watch(st.slug);
}

start();
