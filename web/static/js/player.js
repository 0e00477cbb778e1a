// The player page, /stations/{slug}: Play/Stop over WebRTC, volume, now
// playing, listeners, chat and likes, all live over the page's one
// WebSocket; the stream URL and playlist files for media players.

import { api, ApiError, iceServers, login, logout, me, register, slugFromPath } from './api.js';
import { absoluteURL, append, byId, el, Progress, say, setText, wireCopyButtons } from './dom.js';
import { describeStatus, Signal } from './signal.js';
import { Radio } from './radio.js';

const MAX_CHAT = 200;
const HISTORY_SHOWN = 10;

const slug = slugFromPath();
const ui = {
  name: byId('name'), badge: byId('badge'), about: byId('about'), conn: byId('conn'), notice: byId('notice'),
  station: byId('station'), play: byId('play'), volume: byId('volume'), status: byId('status'),
  title: byId('np-title'), artist: byId('np-artist'), show: byId('np-show'), showText: byId('np-show-text'),
  listeners: byId('listeners'), listenersLabel: byId('listeners-label'), like: byId('like'), likes: byId('likes'),
  likeHint: byId('like-hint'), chat: byId('chat'), chatEmpty: byId('chat-empty'), chatForm: byId('chat-form'),
  chatText: byId('chat-text'), chatError: byId('chat-error'), chatLogin: byId('chat-login'),
  loginForm: byId('login-form'), loginError: byId('login-error'), register: byId('register'),
  whoami: byId('whoami'), meName: byId('me-name'), logout: byId('logout'),
  liveSource: byId('live-source'),
  streamURL: byId('stream-url'), m3u: byId('m3u'), pls: byId('pls'), audio: byId('audio'),
  art: byId('np-art'), history: byId('history'), historyEmpty: byId('history-empty'),
};
const progress = new Progress({ box: byId('np-time'), elapsed: byId('np-elapsed'), bar: byId('np-progress'), total: byId('np-duration') });

let user = null;
let radio = null;
let likeCount = 0;
const chatSeen = new Set();

const signal = new Signal({
  onEvent(event, data, ref) {
    if (radio) radio.handle(event, data, ref);
    if (data.station !== slug) return;
    switch (event) {
      case 'stream:live': case 'stream:started': setLive(true); break;
      case 'stream:offline': case 'stream:stopped': setLive(false); break;
      case 'stream:metadata': showNowPlaying(data); played(data); break;
      case 'stream:source': showSource(data.source); break;
      case 'stream:listeners': showListeners(data.count); break;
      case 'chat:message': addChat(data); break;
      case 'interaction:count': if (data.type === 'like') showLikes(data.count); break;
    }
  },
  onStatus(state, info) {
    setText(ui.conn, describeStatus(state, info));
    if (!radio) return;
    if (state === 'open') radio.socketOpen();
    if (state === 'closed') radio.socketClosed();
  },
});

// onairPlayer is for people debugging and for the browser tests: the
// live RTCPeerConnection (getStats) and the WebSocket.
window.onairPlayer = {
  get pc() { return radio ? radio.pc : null; },
  get ws() { return signal.ws; },
  get connects() { return signal.connects; },
  get state() { return radio ? radio.state : 'loading'; },
  get signal() { return signal; },
  get audio() { return ui.audio; },
  // What plays ("webrtc", "http" or ""), and the timing of each Play:
  // {path, offer, answer, ice, dtls, packet, audible, fallback} in ms
  // after the click (see radio.js).
  get path() { return radio ? radio.path : ''; },
  get phases() { return radio ? radio.phases : null; },
  get plays() { return radio ? radio.plays : []; },
  get prepared() { return !!radio && radio.prepared; },
};

function setLive(live) {
  ui.badge.hidden = false;
  setText(ui.badge, live ? 'Live' : 'Off air');
  ui.badge.classList.toggle('live', live);
  if (!live) {
    showSource(null);
    showNowPlaying(null);
    showListeners(0);
  }
  if (radio) radio.setLive(live);
  if (radio && radio.state === 'stopped') showRadioState('stopped');
}

function showNowPlaying(np) {
  const has = np && np.title;
  setText(ui.title, has ? np.title : '—');
  setText(ui.artist, has ? np.artist || '' : '');
  const show = np && np.show ? np.show : '';
  setText(ui.showText, show);
  ui.show.hidden = !show;
  progress.set(has ? np : null);
  showArt(has && np.art ? np : null);
  document.title = has ? `${np.title} · ${ui.name.textContent} · onair` : `${ui.name.textContent} · onair`;
}

// showSource says who is on air live, instead of the playlist.
function showSource(src) {
  say(ui.liveSource, src ? `LIVE: ${src.streamer}` : '');
}

/** showArt shows the cover art of np, or hides the picture. */
function showArt(np) {
  if (!np) {
    ui.art.hidden = true;
    ui.art.removeAttribute('src');
    ui.art.alt = '';
    return;
  }
  ui.art.alt = np.artist ? `Cover art of ${np.title} by ${np.artist}` : `Cover art of ${np.title}`;
  if (ui.art.getAttribute('src') !== np.art) ui.art.src = np.art;
  ui.art.hidden = false;
}
// A picture that fails to load leaves no broken-image icon behind.
ui.art.addEventListener('error', () => { ui.art.hidden = true; });

// --- recently played -----------------------------------------------------

let historyRows = [];
let historyTimer = 0;

async function loadHistory() {
  try {
    const answer = await api('GET', `/api/stations/${encodeURIComponent(slug)}/history?limit=${HISTORY_SHOWN}`);
    historyRows = answer.history;
    renderHistory();
  } catch { /* the list stays as it was; the next track change retries */ }
}

/**
 * played puts a track change at the top of the list at once, then asks the
 * server again a little later: the server writes its history row just after
 * it announces the track.
 */
function played(np) {
  if (!np || !np.title || !np.started_at) return;
  const top = historyRows[0];
  if (!top || top.started_at !== np.started_at || top.track_id !== np.track_id) {
    historyRows = [{ track_id: np.track_id, title: np.title, artist: np.artist, started_at: np.started_at, source: np.source || 'playlist' }, ...historyRows].slice(0, HISTORY_SHOWN);
    renderHistory();
  }
  clearTimeout(historyTimer);
  historyTimer = setTimeout(loadHistory, 2000);
}

const SOURCE_TEXT = { jingle: 'Jingle', live: 'Live' };

function renderHistory() {
  ui.history.replaceChildren(...historyRows.map((h) => {
    const at = new Date(h.started_at);
    const time = Number.isNaN(at.getTime()) ? '' : at.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    const source = SOURCE_TEXT[h.source];
    return el('li', {},
      el('time', { className: 'history-time', datetime: h.started_at || '' }, time),
      el('span', { className: 'history-text' },
        el('span', { className: 'history-title' }, h.title || '—'),
        h.artist ? el('span', { className: 'history-artist' }, h.artist) : null),
      source ? el('span', { className: 'badge' }, source) : null);
  }));
  ui.historyEmpty.hidden = historyRows.length > 0;
}

function showListeners(n) {
  setText(ui.listeners, String(n || 0));
  setText(ui.listenersLabel, n === 1 ? 'listener' : 'listeners');
}

function showLikes(n) {
  likeCount = n || 0;
  setText(ui.likes, String(likeCount));
  ui.like.setAttribute('aria-label', `Like (${likeCount} ${likeCount === 1 ? 'like' : 'likes'})`);
}

function addChat(m) {
  if (chatSeen.has(m.id)) return;
  chatSeen.add(m.id);
  const stick = ui.chat.scrollTop + ui.chat.clientHeight >= ui.chat.scrollHeight - 8;
  const at = new Date(m.at);
  const time = Number.isNaN(at.getTime()) ? '' : at.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  ui.chat.append(el('li', {},
    el('span', { className: 'chat-user' }, m.user || '?'), ' ',
    el('time', { className: 'chat-time', datetime: m.at || '' }, time), ' ',
    el('span', { className: 'chat-text' }, m.text || '')));
  while (ui.chat.children.length > MAX_CHAT) ui.chat.firstElementChild.remove();
  ui.chatEmpty.hidden = true;
  if (stick) ui.chat.scrollTop = ui.chat.scrollHeight;
}

const STATE_TEXT = {
  stopped: '',
  connecting: 'Connecting…',
  playing: 'Playing',
  reconnecting: 'Reconnecting… the sound resumes by itself.',
  offline: 'The station is off air. It will play as soon as it is back.',
  blocked: 'Your browser blocked playback. Press Play again to start the sound.',
  error: 'Playback failed.',
};

// PATH_TEXT says which way the sound comes: WebRTC, or the HTTP stream
// the page falls back to where WebRTC cannot connect.
const PATH_TEXT = { webrtc: ' · WebRTC', http: ' · HTTP stream' };

function showRadioState(state) {
  const playing = radio && radio.want;
  setText(ui.play, playing ? 'Stop' : 'Play');
  ui.play.classList.toggle('stop', playing);
  let text = STATE_TEXT[state] ?? '';
  if (state === 'playing' && radio) text += PATH_TEXT[radio.path] || '';
  if (state === 'stopped' && ui.badge.textContent === 'Off air') text = 'The station is off air.';
  setText(ui.status, text);
  ui.status.dataset.state = state;
  ui.status.dataset.path = radio ? radio.path : '';
}

function showUser(u) {
  user = u;
  ui.chatForm.hidden = !u;
  ui.chatLogin.hidden = !!u;
  ui.whoami.hidden = !u;
  setText(ui.meName, u ? u.username : '');
  say(ui.likeHint, '');
}

// --- controls ------------------------------------------------------------

ui.play.addEventListener('click', () => {
  if (!radio) return;
  if (radio.want) radio.stop();
  else radio.play();
  showRadioState(radio.state);
});

const savedVolume = Number(localStorage.getItem('onair.volume'));
if (Number.isFinite(savedVolume) && localStorage.getItem('onair.volume') !== null) {
  ui.volume.value = String(Math.min(100, Math.max(0, savedVolume)));
}
function applyVolume() {
  ui.audio.volume = Number(ui.volume.value) / 100;
  ui.volume.setAttribute('aria-valuetext', `${ui.volume.value}%`);
}
ui.volume.addEventListener('input', () => {
  applyVolume();
  localStorage.setItem('onair.volume', ui.volume.value);
});
applyVolume();

ui.like.addEventListener('click', async () => {
  if (!user) {
    say(ui.likeHint, 'Log in (below, in the chat) to like this station.');
    return;
  }
  try {
    await signal.requestQueued('interaction:send', { station: slug, type: 'like' },
      () => say(ui.likeHint, 'Like sending… (reconnecting)'));
    say(ui.likeHint, '');
  } catch (err) {
    say(ui.likeHint, err.message);
  }
});

ui.chatForm.addEventListener('submit', async (e) => {
  e.preventDefault();
  const text = ui.chatText.value.trim();
  if (!text) return;
  // While the socket reconnects the message waits, shown as sending.
  let pending = null;
  const queued = () => {
    ui.chatText.value = '';
    pending = el('li', { className: 'pending' },
      el('span', { className: 'chat-user' }, user ? user.username : ''), ' ',
      el('span', { className: 'chat-text' }, text), ' ',
      el('span', { className: 'chat-status' }, 'sending…'));
    ui.chat.append(pending);
    ui.chatEmpty.hidden = true;
  };
  try {
    await signal.requestQueued('chat:send', { station: slug, text }, queued);
    if (!pending) ui.chatText.value = '';
    say(ui.chatError, '');
  } catch (err) {
    say(ui.chatError, err.message);
    // Give the text back, unless something new was typed meanwhile.
    if (pending && !ui.chatText.value) ui.chatText.value = text;
  } finally {
    if (pending) pending.remove();
  }
});

async function loggedIn(answer) {
  showUser(answer.user);
  ui.loginForm.reset();
  // The socket opened before the login: give it the session too.
  try {
    await signal.request('auth', { token: answer.token });
  } catch {
    signal.reconnect();
  }
}

ui.loginForm.addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = new FormData(ui.loginForm);
  try {
    await loggedIn(await login(String(f.get('username')), String(f.get('password'))));
    say(ui.loginError, '');
  } catch (err) {
    say(ui.loginError, err.message);
  }
});

ui.register.addEventListener('click', async () => {
  if (!ui.loginForm.reportValidity()) return;
  const f = new FormData(ui.loginForm);
  const name = String(f.get('username'));
  const pass = String(f.get('password'));
  try {
    await register(name, pass);
    await loggedIn(await login(name, pass));
    say(ui.loginError, '');
  } catch (err) {
    say(ui.loginError, err.message);
  }
});

ui.logout.addEventListener('click', async () => {
  try { await logout(); } catch { /* the session ends with the cookie anyway */ }
  showUser(null);
  // The socket still carries the old identity: start a fresh one. Playing
  // audio renegotiates by itself.
  signal.reconnect();
});

// --- start -----------------------------------------------------------------

async function start() {
  if (!slug) {
    notFound();
    return;
  }
  let st;
  try {
    st = await api('GET', `/api/stations/${encodeURIComponent(slug)}`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) notFound();
    else say(ui.notice, `The station could not be loaded: ${err.message}`);
    return;
  }
  setText(ui.name, st.name);
  document.title = `${st.name} · onair`;
  setText(ui.about, [st.genre, st.description].filter(Boolean).join(' · '));
  ui.streamURL.value = absoluteURL(st.streams.mp3);
  ui.m3u.href = st.streams.m3u;
  ui.pls.href = st.streams.pls;
  ui.station.hidden = false;
  showLikes(st.likes);
  showListeners(st.listeners.total);
  setLive(st.live);
  showSource(st.source);
  showNowPlaying(st.now_playing ? { ...st.now_playing, show: st.show } : null);

  let ice = [];
  try { ice = await iceServers(); } catch (err) { say(ui.notice, `Listening settings could not be loaded: ${err.message}`); }
  radio = new Radio({ signal, station: slug, audio: ui.audio, iceServers: ice, streams: st.streams, onState: showRadioState });
  radio.live = st.live;
  // The PeerConnection and its offer are made now, so Play only sends it.
  radio.prepare();
  ui.play.disabled = false;
  showRadioState('stopped');

  signal.join(slug);
  signal.connect();
  void loadHistory();
  try { showUser(await me()); } catch { showUser(null); }
}

function notFound() {
  setText(ui.name, 'Station not found');
  document.title = 'Station not found · onair';
  ui.about.replaceChildren();
  append(ui.about, 'There is no station at this address. ', el('a', { href: '/' }, 'See all stations'), '.');
}

wireCopyButtons();
start();
