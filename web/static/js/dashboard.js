// The owners' dashboard, /dashboard: log in, manage stations, upload tracks
// with per-file progress, order the playlist, set each track's kind and cue
// points, the station's audio (crossfade, loudness, jingles, MP3 output),
// run the station (start, stop, skip, show title) and watch it live over
// the WebSocket. State changes go over REST with the session cookie.

import { api, ApiError, login, logout, me, uploadFile } from './api.js';
import { showAccount } from './account.js';
import { absoluteURL, byId, el, duration, Progress, say, setText, wireCopyButtons } from './dom.js';
import { GoLive } from './golive.js';
import { showStreamers } from './streamers.js';
import { describeStatus, Signal } from './signal.js';
import { Played } from './played.js';
import { StatsPanel } from './stats.js';

const $ = byId;
const ui = {
  conn: $('conn'), notice: $('notice'),
  loginView: $('login-view'), loginForm: $('login-form'), loginError: $('login-error'),
  appView: $('app-view'), meName: $('me-name'), meRole: $('me-role'), logout: $('logout'), roleNote: $('role-note'),
  stationList: $('station-list'), stationsEmpty: $('stations-empty'),
  createBox: $('create-box'), createForm: $('create-form'), createError: $('create-error'),
  view: $('station-view'), name: $('st-name'), badge: $('st-badge'), player: $('st-player'),
  title: $('st-title'), artist: $('st-artist'),
  listeners: $('st-listeners'), http: $('st-http'), webrtc: $('st-webrtc'),
  start: $('start'), stop: $('stop'), skip: $('skip'),
  showForm: $('show-form'), showInput: $('show-input'), controlError: $('control-error'),
  dropzone: $('dropzone'), fileInput: $('file-input'), uploads: $('uploads'),
  shuffle: $('shuffle'), loop: $('loop'), playlist: $('playlist'), playlistEmpty: $('playlist-empty'), playlistError: $('playlist-error'),
  urlMP3: $('url-mp3'), urlOpus: $('url-opus'), urlM3U: $('url-m3u'), urlPLS: $('url-pls'),
  analysis: $('analysis'),
  audioForm: $('audio-form'), audioCrossfade: $('audio-crossfade'), audioLoudness: $('audio-loudness'),
  audioTarget: $('audio-target'), audioJingles: $('audio-jingles'), audioBitrate: $('audio-bitrate'),
  audioRate: $('audio-rate'), audioSaved: $('audio-saved'), audioError: $('audio-error'),
  editForm: $('edit-form'), editError: $('edit-error'),
  del: $('delete'), delConfirm: $('delete-confirm'), delYes: $('delete-yes'), delNo: $('delete-no'),
  goLive: $('golive'), liveMute: $('golive-mute'), liveEnd: $('golive-end'), liveLevel: $('golive-level'),
  liveLevelText: $('golive-level-text'), liveStatus: $('golive-status'), liveError: $('golive-error'),
  stationStats: $('station-stats'), played: $('played'), serverStatsPanel: $('server-stats-panel'), serverStats: $('server-stats'),
};
// The statistics of the selected station, and of the server for admins.
const statsPanels = { station: null, server: null };
const played = new Played(ui.played);
// For the tests and the curious: the panels and their charts.
window.onairStats = statsPanels;
const progress = new Progress({ box: $('st-time'), elapsed: $('st-elapsed'), bar: $('st-progress'), total: $('st-duration') });

let user = null;
let stations = [];
let current = null; // the selected station (API JSON)
let tracks = [];

const signal = new Signal({
  onEvent(event, data) {
    const st = stations.find((s) => s.slug === data.station);
    if (!st) return;
    switch (event) {
      case 'stream:started': case 'stream:live': st.live = true; break;
      case 'stream:stopped': case 'stream:offline':
        st.live = false; st.now_playing = null; st.source = null; st.listeners = { total: 0, http: 0, webrtc: 0 }; break;
      case 'stream:metadata':
        st.now_playing = data;
        st.show = data.show || '';
        break;
      case 'stream:listeners': st.listeners = { total: data.count, http: data.http, webrtc: data.webrtc }; break;
      case 'stream:source': st.source = data.source || null; break;
      default: return;
    }
    renderList();
    if (current && current.slug === st.slug) {
      renderLive();
      if (event === 'stream:metadata') played.changed();
      const counts = event === 'stream:listeners' || event.startsWith('stream:st') || event === 'stream:offline';
      if (statsPanels.station && counts) statsPanels.station.setLive(st.live ? st.listeners : { http: 0, webrtc: 0 });
    }
  },
  onStatus(state, info) { setText(ui.conn, describeStatus(state, info)); },
});

// --- login -------------------------------------------------------------

ui.loginForm.addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = new FormData(ui.loginForm);
  try {
    const answer = await login(String(f.get('username')), String(f.get('password')));
    ui.loginForm.reset();
    say(ui.loginError, '');
    // The socket opened anonymous; the cookie counts from the next one.
    signal.reconnect();
    await showApp(answer.user);
  } catch (err) {
    say(ui.loginError, err.message);
  }
});

ui.logout.addEventListener('click', async () => {
  try { await logout(); } catch { /* the cookie is gone either way */ }
  user = null;
  current = null;
  stations = [];
  for (const slug of [...signal.rooms]) signal.leave(slug);
  signal.reconnect();
  closeStats();
  showLogin();
});

function showLogin() {
  ui.appView.hidden = true;
  ui.loginView.hidden = false;
  ui.loginForm.querySelector('input').focus();
}

async function showApp(u) {
  user = u;
  setText(ui.meName, u.username);
  setText(ui.meRole, u.role);
  ui.roleNote.hidden = u.role !== 'listener';
  ui.loginView.hidden = true;
  ui.appView.hidden = false;
  showServerStats();
  showAccount(u);
  await loadStations(decodeURIComponent(location.hash.slice(1)));
  if (u.role !== 'listener') void watchAnalysis();
}

// --- stations ------------------------------------------------------------

async function loadStations(select) {
  try {
    const all = await api('GET', '/api/stations');
    stations = user.role === 'admin' ? all.stations : all.stations.filter((s) => s.owner === user.username);
  } catch (err) {
    say(ui.notice, `Stations could not be loaded: ${err.message}`);
    return;
  }
  say(ui.notice, '');
  renderList();
  const pick = stations.find((s) => s.slug === select) || (current && stations.find((s) => s.slug === current.slug)) ||
    stations.find((s) => s.live) || stations[0];
  if (pick) await selectStation(pick.slug);
  else showStation(null);
  ui.createBox.open = stations.length === 0;
}

function renderList() {
  ui.stationList.replaceChildren(...stations.map((st) => {
    const selected = current && current.slug === st.slug;
    const badge = el('span', { className: st.live ? 'badge live' : 'badge' }, st.live ? 'Live' : 'Off air');
    const owner = user && user.role === 'admin' ? el('span', { className: 'hint' }, ` (${st.owner})`) : null;
    const btn = el('button', {
      type: 'button', className: 'station-button', 'aria-current': selected ? 'true' : undefined,
      onclick: () => selectStation(st.slug),
    }, el('span', { className: 'card-name' }, st.name), owner, badge);
    return el('li', {}, btn);
  }));
  ui.stationsEmpty.hidden = stations.length > 0;
}

async function selectStation(slug) {
  const st = stations.find((s) => s.slug === slug);
  if (!st) return;
  if (current && current.slug !== slug) signal.leave(current.slug);
  current = st;
  history.replaceState(null, '', `#${encodeURIComponent(slug)}`);
  signal.join(slug);
  showStation(st);
  renderList();
  await Promise.all([loadTracks(), showStreamers(st), played.show(st.slug)]);
}

function showStation(st) {
  ui.view.hidden = !st;
  if (statsPanels.station && (!st || statsPanels.station.slug !== st.slug)) {
    statsPanels.station.destroy();
    statsPanels.station = null;
  }
  if (!st) return;
  if (!statsPanels.station) {
    statsPanels.station = new StatsPanel(ui.stationStats, {
      url: `/api/stations/${encodeURIComponent(st.slug)}/stats`, what: st.name, prefix: 'st-stats',
    });
    statsPanels.station.slug = st.slug;
  }
  if (st.live && st.listeners) statsPanels.station.setLive(st.listeners);
  setText(ui.name, st.name);
  ui.player.href = `/stations/${encodeURIComponent(st.slug)}`;
  ui.urlMP3.value = absoluteURL(st.streams.mp3);
  ui.urlOpus.value = st.streams.opus ? absoluteURL(st.streams.opus) : '';
  ui.urlM3U.value = absoluteURL(st.streams.m3u);
  ui.urlPLS.value = absoluteURL(st.streams.pls);
  ui.editForm.elements.name.value = st.name;
  ui.editForm.elements.genre.value = st.genre || '';
  ui.editForm.elements.description.value = st.description || '';
  ui.shuffle.checked = !!st.shuffle;
  ui.loop.checked = !!st.loop;
  ui.showInput.value = st.show || '';
  showAudio(st.audio);
  ui.delConfirm.hidden = true;
  say(ui.controlError, '');
  say(ui.editError, '');
  say(ui.playlistError, '');
  ui.uploads.replaceChildren();
  renderLive();
}

// showServerStats shows the whole server's statistics to admins.
function showServerStats() {
  const admin = user && user.role === 'admin';
  ui.serverStatsPanel.hidden = !admin;
  if (admin && !statsPanels.server) {
    statsPanels.server = new StatsPanel(ui.serverStats, { url: '/api/stats', what: 'the whole server', prefix: 'srv-stats' });
  }
}

function closeStats() {
  for (const k of Object.keys(statsPanels)) {
    if (statsPanels[k]) statsPanels[k].destroy();
    statsPanels[k] = null;
  }
  ui.serverStatsPanel.hidden = true;
}

function renderLive() {
  const st = current;
  if (!st) return;
  setText(ui.badge, st.live ? 'Live' : 'Off air');
  ui.badge.classList.toggle('live', st.live);
  const np = st.live ? st.now_playing : null;
  setText(ui.title, np && np.title ? np.title : (st.live ? 'On air' : 'Not on air'));
  setText(ui.artist, np ? np.artist || '' : '');
  progress.set(np);
  const l = st.live ? st.listeners || {} : {};
  setText(ui.listeners, String(l.total || 0));
  setText(ui.http, String(l.http || 0));
  setText(ui.webrtc, String(l.webrtc || 0));
  ui.start.disabled = st.live;
  ui.stop.disabled = !st.live;
  ui.skip.disabled = !st.live;
  renderGoLive();
  if (document.activeElement !== ui.showInput) ui.showInput.value = st.show || '';
}

/**
 * merge takes a station answer of the API into the list and the view. The
 * answer is a snapshot that may be older than WebSocket events already
 * applied, which always deliver the latest value in the end; so while the
 * station stays live, its listeners and now playing keep the events' values.
 */
function merge(st) {
  const i = stations.findIndex((s) => s.slug === st.slug);
  const old = i >= 0 ? stations[i] : null;
  if (old && old.live && st.live) {
    st.listeners = old.listeners;
    st.now_playing = old.now_playing;
  }
  if (i >= 0) stations[i] = st;
  if (current && current.slug === st.slug) current = st;
  renderList();
  renderLive();
}

async function control(action, body, errBox = ui.controlError) {
  if (!current) return;
  try {
    merge(await api('POST', `/api/stations/${encodeURIComponent(current.slug)}/${action}`, body));
    say(errBox, '');
  } catch (err) {
    say(errBox, err.message);
  }
}

ui.start.addEventListener('click', () => control('start'));
ui.stop.addEventListener('click', () => control('stop'));
ui.skip.addEventListener('click', () => control('skip'));
ui.showForm.addEventListener('submit', (e) => {
  e.preventDefault();
  control('metadata', { show: ui.showInput.value.trim() });
});

ui.createForm.addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = new FormData(ui.createForm);
  const body = { name: String(f.get('name')).trim() };
  for (const k of ['slug', 'genre', 'description']) {
    const v = String(f.get(k) || '').trim();
    if (v) body[k] = v;
  }
  try {
    const st = await api('POST', '/api/stations', body);
    ui.createForm.reset();
    say(ui.createError, '');
    await loadStations(st.slug);
    ui.name.focus();
  } catch (err) {
    say(ui.createError, err.message);
  }
});

ui.editForm.addEventListener('submit', async (e) => {
  e.preventDefault();
  if (!current) return;
  const f = new FormData(ui.editForm);
  try {
    const st = await api('PATCH', `/api/stations/${encodeURIComponent(current.slug)}`, {
      name: String(f.get('name')).trim(), genre: String(f.get('genre')).trim(), description: String(f.get('description')).trim(),
    });
    merge(st);
    setText(ui.name, st.name);
    say(ui.editError, '');
  } catch (err) {
    say(ui.editError, err.message);
  }
});

ui.del.addEventListener('click', () => { ui.delConfirm.hidden = false; ui.delNo.focus(); });
ui.delNo.addEventListener('click', () => { ui.delConfirm.hidden = true; ui.del.focus(); });
ui.delYes.addEventListener('click', async () => {
  if (!current) return;
  const slug = current.slug;
  try {
    await api('DELETE', `/api/stations/${encodeURIComponent(slug)}`);
    signal.leave(slug);
    current = null;
    history.replaceState(null, '', location.pathname);
    await loadStations('');
  } catch (err) {
    say(ui.editError, err.message);
  }
});

for (const [box, key] of [[ui.shuffle, 'shuffle'], [ui.loop, 'loop']]) {
  box.addEventListener('change', async () => {
    if (!current) return;
    try {
      merge(await api('PATCH', `/api/stations/${encodeURIComponent(current.slug)}`, { [key]: box.checked }));
      say(ui.playlistError, '');
    } catch (err) {
      box.checked = !box.checked;
      say(ui.playlistError, err.message);
    }
  });
}

// --- audio settings ------------------------------------------------------

const MP3_BITRATES = [32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
ui.audioBitrate.replaceChildren(...MP3_BITRATES.map((k) => el('option', { value: String(k * 1000) }, `${k} kbit/s`)));

function showAudio(a) {
  say(ui.audioError, '');
  setText(ui.audioSaved, '');
  if (!a) return;
  ui.audioCrossfade.value = String((a.crossfade_ms || 0) / 1000);
  ui.audioLoudness.checked = !!(a.loudness && a.loudness.enabled);
  ui.audioTarget.value = String(a.loudness ? a.loudness.target_lufs : -16);
  ui.audioTarget.disabled = !ui.audioLoudness.checked;
  ui.audioJingles.value = String(a.jingle_every || 0);
  ui.audioBitrate.value = String(a.mp3_bitrate);
  ui.audioRate.value = String(a.sample_rate);
}

ui.audioLoudness.addEventListener('change', () => { ui.audioTarget.disabled = !ui.audioLoudness.checked; });

ui.audioForm.addEventListener('submit', async (e) => {
  e.preventDefault();
  if (!current) return;
  const audio = {
    crossfade_ms: Math.round(Number(ui.audioCrossfade.value) * 1000),
    loudness: { enabled: ui.audioLoudness.checked },
    jingle_every: Number(ui.audioJingles.value),
    mp3_bitrate: Number(ui.audioBitrate.value),
    sample_rate: Number(ui.audioRate.value),
  };
  if (ui.audioLoudness.checked) audio.loudness.target_lufs = Number(ui.audioTarget.value);
  setText(ui.audioSaved, 'Saving…');
  try {
    const st = await api('PATCH', `/api/stations/${encodeURIComponent(current.slug)}`, { audio });
    merge(st);
    showAudio(st.audio);
    setText(ui.audioSaved, 'Saved.');
  } catch (err) {
    setText(ui.audioSaved, '');
    say(ui.audioError, err.message);
  }
});

// --- analysis of older tracks ----------------------------------------------

let analysisTimer = 0;

/**
 * watchAnalysis shows how far the server has come measuring tracks
 * uploaded before analysis existed, asking again every 2 s while it runs;
 * when it ends, the track list is reloaded with the new figures.
 */
async function watchAnalysis() {
  clearTimeout(analysisTimer);
  let p;
  try {
    p = await api('GET', '/api/analysis');
  } catch {
    say(ui.analysis, '');
    return;
  }
  if (p.running) {
    say(ui.analysis, `Analysing older tracks for loudness and cue points: ${p.done} of ${p.total} done…`);
    analysisTimer = setTimeout(watchAnalysis, 2000);
    return;
  }
  if (!ui.analysis.hidden) {
    say(ui.analysis, `All ${p.total} older tracks analysed.`);
    analysisTimer = setTimeout(() => say(ui.analysis, ''), 5000);
    await loadTracks();
  }
}


// --- go live ---------------------------------------------------------------

let liveState = 'idle';
const goLive = new GoLive({
  onState(state, detail) {
    liveState = state;
    say(ui.liveError, state === 'error' ? detail : '');
    const name = (slug) => (stations.find((s) => s.slug === slug) || { name: slug }).name;
    const text = {
      starting: 'Asking for the microphone and connecting…',
      live: `You are on air on ${name(goLive.slug)}.`,
      ended: 'Ended: the playlist has the air again.',
    }[state] || '';
    setText(ui.liveStatus, text);
    renderGoLive();
  },
  onLevel(level, muted) {
    // The meter shows -60..0 dBFS, as mixing desks do: speech sits in
    // its upper half instead of near zero.
    const db = level > 0 ? 20 * Math.log10(level) : -Infinity;
    ui.liveLevel.value = Math.max(0, Math.min(1, (db + 60) / 60));
    const text = db > -60 ? `${Math.round(db)} dB` : 'silent';
    setText(ui.liveLevel, text);
    setText(ui.liveLevelText, muted ? 'muted' : (goLive.live ? text : '—'));
  },
});

function renderGoLive() {
  const active = goLive.live || liveState === 'starting';
  const here = current && goLive.slug === current.slug;
  const other = current && current.source && !(goLive.live && here) ? current.source : null;
  ui.goLive.disabled = active || !current || !current.live || !!other;
  ui.goLive.title = '';
  if (current && !current.live) ui.goLive.title = 'Start the station first: a live source takes the air from its playlist.';
  else if (other) ui.goLive.title = `${other.streamer} is on air (${other.kind}).`;
  ui.liveEnd.disabled = !goLive.live;
  ui.liveMute.disabled = !goLive.live;
  const muted = goLive.live && goLive.muted;
  ui.liveMute.setAttribute('aria-pressed', String(muted));
  setText(ui.liveMute, muted ? 'Unmute' : 'Mute');
  if (goLive.live && !here && liveState === 'live') setText(ui.liveStatus, `You are on air on ${goLive.slug}.`);
}

// For tests and the console, as the player page's onairPlayer.
window.onairGoLive = goLive;

ui.goLive.addEventListener('click', () => { if (current) void goLive.start(current.slug); });
ui.liveMute.addEventListener('click', () => { goLive.toggleMute(); renderGoLive(); });
ui.liveEnd.addEventListener('click', () => void goLive.end());

// --- uploads -------------------------------------------------------------

const queue = [];
let uploading = false;

function addFiles(files) {
  if (!current) return;
  for (const file of files) {
    const bar = el('progress', { max: 1, value: 0, 'aria-label': `Upload of ${file.name}` });
    const status = el('span', { className: 'upload-status' }, 'Waiting…');
    const row = el('li', { className: 'upload' }, el('span', { className: 'upload-name' }, file.name), bar, status);
    ui.uploads.append(row);
    queue.push({ file, slug: current.slug, bar, status, row });
  }
  if (!uploading) void drain();
}

/** drain uploads the queued files one at a time. */
async function drain() {
  uploading = true;
  while (queue.length) {
    const job = queue.shift();
    setText(job.status, 'Uploading…');
    job.row.classList.add('busy');
    try {
      const { status, body } = await uploadFile(job.slug, job.file, (f) => {
        job.bar.value = f;
        if (f >= 1) setText(job.status, 'Checking…');
      });
      job.row.classList.remove('busy');
      const added = body && Array.isArray(body.tracks) ? body.tracks : [];
      if (status === 201 && added.length) {
        job.bar.value = 1;
        job.row.classList.add('ok');
        setText(job.status, `Added: ${added.map((t) => t.title).join(', ')}`);
        if (current && current.slug === job.slug) await loadTracks();
      } else {
        const reason = (body && Array.isArray(body.errors) && body.errors[0] && body.errors[0].error) ||
          (body && body.error) || `the server answered ${status}`;
        job.row.classList.add('rejected');
        setText(job.status, `Rejected: ${reason}`);
      }
    } catch (err) {
      job.row.classList.remove('busy');
      job.row.classList.add('rejected');
      setText(job.status, `Failed: ${err.message}`);
    }
  }
  uploading = false;
}

ui.fileInput.addEventListener('change', () => {
  addFiles([...ui.fileInput.files]);
  ui.fileInput.value = '';
});
for (const ev of ['dragenter', 'dragover']) {
  ui.dropzone.addEventListener(ev, (e) => {
    if (!e.dataTransfer || ![...e.dataTransfer.types].includes('Files')) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
    ui.dropzone.classList.add('over');
  });
}
ui.dropzone.addEventListener('dragleave', () => ui.dropzone.classList.remove('over'));
ui.dropzone.addEventListener('drop', (e) => {
  ui.dropzone.classList.remove('over');
  if (!e.dataTransfer || !e.dataTransfer.files.length) return;
  e.preventDefault();
  addFiles([...e.dataTransfer.files]);
});

// --- playlist ------------------------------------------------------------

async function loadTracks() {
  if (!current) return;
  const slug = current.slug;
  try {
    const answer = await api('GET', `/api/stations/${encodeURIComponent(slug)}/tracks`);
    if (current && current.slug === slug) {
      tracks = answer.tracks;
      renderTracks();
    }
  } catch (err) {
    say(ui.playlistError, err.message);
  }
}

/** facts is a track's format and measured sound, as one line. */
function facts(t) {
  const parts = [(t.format || 'mp3').toUpperCase()];
  if (t.loudness_lufs == null) {
    parts.push('not analysed yet');
  } else {
    parts.push(`${t.loudness_lufs.toFixed(1)} LUFS`, `peak ${t.peak_dbtp.toFixed(1)} dBTP`);
  }
  return parts.join(' · ');
}

const seconds = (ms) => (ms / 1000).toFixed(2).replace(/\.?0+$/, '');

/** cueEditor is a track's cue points form, folded away until opened. */
function cueEditor(t, label) {
  const analysed = t.cue_in_ms != null && t.cue_out_ms != null;
  const max = seconds(t.duration_ms);
  const cueIn = el('input', { type: 'number', className: 'cue-in', id: `cue-in-${t.id}`, min: 0, max, step: 0.01, inputmode: 'decimal', required: true, value: analysed ? seconds(t.cue_in_ms) : '0', disabled: !analysed });
  const cueOut = el('input', { type: 'number', className: 'cue-out', id: `cue-out-${t.id}`, min: 0, max, step: 0.01, inputmode: 'decimal', required: true, value: analysed ? seconds(t.cue_out_ms) : max, disabled: !analysed });
  const form = el('form', { className: 'cue-form' },
    el('label', { for: cueIn.id }, 'Cue in (s)'), cueIn,
    el('label', { for: cueOut.id }, 'Cue out (s)'), cueOut,
    el('button', { type: 'submit', className: 'secondary', dataset: { act: 'cue' }, disabled: !analysed }, 'Save cue points'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void patchTrack(t.id, {
      cue_in_ms: Math.round(Number(cueIn.value) * 1000),
      cue_out_ms: Math.round(Number(cueOut.value) * 1000),
    }, 'cue');
  });
  const summary = analysed ? `Cue ${seconds(t.cue_in_ms)}–${seconds(t.cue_out_ms)} s` : 'Cue points after analysis';
  return el('details', { className: 'cue' },
    el('summary', {}, summary, el('span', { className: 'visually-hidden' }, ` of ${label}`)), form);
}

function renderTracks(focus) {
  ui.playlistEmpty.hidden = tracks.length > 0;
  ui.playlist.replaceChildren(...tracks.map((t, i) => {
    const label = t.artist ? `${t.title} by ${t.artist}` : t.title;
    const kind = el('select', { className: 'track-kind', dataset: { act: 'kind' }, 'aria-label': `Kind of ${label}` },
      el('option', { value: 'music' }, 'Music'), el('option', { value: 'jingle' }, 'Jingle'));
    kind.value = t.kind === 'jingle' ? 'jingle' : 'music';
    kind.addEventListener('change', () => patchTrack(t.id, { kind: kind.value }, 'kind'));
    const li = el('li', { className: t.kind === 'jingle' ? 'track jingle' : 'track', draggable: true, dataset: { id: String(t.id) } },
      el('span', { className: 'grip', 'aria-hidden': 'true' }, '⋮⋮'),
      el('span', { className: 'track-text' },
        el('span', { className: 'track-title' }, t.title),
        el('span', { className: 'track-artist' }, t.artist || ''),
        el('span', { className: 'track-facts' }, facts(t))),
      el('span', { className: 'track-duration' }, duration(t.duration_ms)),
      el('span', { className: 'track-buttons' },
        el('button', { type: 'button', className: 'icon', dataset: { act: 'up' }, disabled: i === 0, 'aria-label': `Move ${label} up`, onclick: () => move(t.id, -1, 'up') }, '↑'),
        el('button', { type: 'button', className: 'icon', dataset: { act: 'down' }, disabled: i === tracks.length - 1, 'aria-label': `Move ${label} down`, onclick: () => move(t.id, 1, 'down') }, '↓'),
        el('button', { type: 'button', className: 'icon danger', dataset: { act: 'delete' }, 'aria-label': `Delete ${label}`, onclick: () => removeTrack(t.id) }, '✕')),
      el('span', { className: 'track-edit' }, kind, cueEditor(t, label)));
    li.addEventListener('dragstart', (e) => {
      // Only the row itself drags: text selection in the inputs stays usable.
      if (e.target !== li) return;
      e.dataTransfer.setData('text/x-onair-track', String(t.id));
      e.dataTransfer.effectAllowed = 'move';
      li.classList.add('dragging');
    });
    li.addEventListener('dragend', () => li.classList.remove('dragging'));
    li.addEventListener('dragover', (e) => {
      if (![...e.dataTransfer.types].includes('text/x-onair-track')) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = 'move';
    });
    li.addEventListener('drop', (e) => {
      const id = Number(e.dataTransfer.getData('text/x-onair-track'));
      if (!id) return;
      e.preventDefault();
      const from = tracks.findIndex((x) => x.id === id);
      const to = tracks.findIndex((x) => x.id === t.id);
      if (from < 0 || to < 0 || from === to) return;
      const order = tracks.slice();
      const [moved] = order.splice(from, 1);
      order.splice(to, 0, moved);
      void setOrder(order);
    });
    return li;
  }));
  if (focus) {
    const row = ui.playlist.querySelector(`li[data-id="${focus.id}"]`);
    if (row && focus.act === 'cue') row.querySelector('details.cue').open = true;
    const target = row && (row.querySelector(`[data-act="${focus.act}"]:not([disabled])`) || row.querySelector('button:not([disabled])'));
    if (target) target.focus();
  }
}

/** patchTrack changes one track and shows the server's answer. */
async function patchTrack(id, body, act) {
  if (!current) return;
  try {
    const t = await api('PATCH', `/api/stations/${encodeURIComponent(current.slug)}/tracks/${id}`, body);
    const i = tracks.findIndex((x) => x.id === id);
    if (i >= 0) tracks[i] = t;
    say(ui.playlistError, '');
  } catch (err) {
    say(ui.playlistError, err.message);
  }
  renderTracks({ id, act });
}

async function move(id, delta, act) {
  const i = tracks.findIndex((t) => t.id === id);
  const j = i + delta;
  if (i < 0 || j < 0 || j >= tracks.length) return;
  const order = tracks.slice();
  [order[i], order[j]] = [order[j], order[i]];
  await setOrder(order, { id, act });
}

async function setOrder(order, focus) {
  if (!current) return;
  const before = tracks;
  tracks = order;
  renderTracks(focus);
  try {
    const answer = await api('PUT', `/api/stations/${encodeURIComponent(current.slug)}/playlist`, { track_ids: order.map((t) => t.id) });
    tracks = answer.tracks;
    renderTracks(focus);
    say(ui.playlistError, '');
  } catch (err) {
    tracks = before;
    renderTracks(focus);
    say(ui.playlistError, err.message);
  }
}

async function removeTrack(id) {
  if (!current) return;
  try {
    await api('DELETE', `/api/stations/${encodeURIComponent(current.slug)}/tracks/${id}`);
    say(ui.playlistError, '');
  } catch (err) {
    say(ui.playlistError, err.message);
  }
  await loadTracks();
  const first = ui.playlist.querySelector('button:not([disabled])');
  if (first) first.focus();
}

// --- start -----------------------------------------------------------------

async function start() {
  signal.connect();
  let u = null;
  try {
    u = await me();
  } catch (err) {
    say(ui.notice, err instanceof ApiError ? err.message : 'The server cannot be reached.');
  }
  if (u) await showApp(u);
  else showLogin();
}

wireCopyButtons();
start();
