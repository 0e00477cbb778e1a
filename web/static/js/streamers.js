// @ts-check
// The dashboard's streamers panel: the accounts that may broadcast live on
// the selected station with butt, Mixxx, ffmpeg or Liquidsoap (Icecast's
// source protocol), and what to type into those programs. Names reach the
// page as text only (dom.js).

import { api } from './api.js';
import { byId, el, say, setText } from './dom.js';

const list = byId('streamer-list');
const empty = byId('streamers-empty');
const form = /** @type {HTMLFormElement} */ (byId('streamer-form'));
const error = byId('streamer-error');
const server = byId('src-server');
const port = byId('src-port');
const mount = byId('src-mount');

/** @type {string | null} */
let slug = null;

/** showStreamers loads the streamers of station s (API JSON) and its connection settings. */
export async function showStreamers(s) {
  slug = s.slug;
  const here = new URL(location.href);
  setText(server, here.hostname);
  setText(port, here.port || (here.protocol === 'https:' ? '443' : '80'));
  setText(mount, `/stream/${s.slug}`);
  form.reset();
  say(error, '');
  await load();
}

async function load() {
  if (!slug) return;
  const want = slug;
  try {
    const { streamers } = await api('GET', `/api/stations/${encodeURIComponent(want)}/streamers`);
    if (want === slug) render(streamers);
  } catch (err) {
    say(error, err instanceof Error ? err.message : String(err));
  }
}

function render(streamers) {
  empty.hidden = streamers.length > 0;
  list.replaceChildren(...streamers.map((s) => el('li', {},
    el('span', { className: 'name', textContent: s.username }),
    s.display_name ? el('span', { className: 'hint', textContent: ` on air as “${s.display_name}”` }) : null,
    ' ',
    el('button', {
      type: 'button', className: 'danger', textContent: 'Remove', 'aria-label': `Remove streamer ${s.username}`,
      onclick: async () => {
        if (!slug || !confirm(`Remove the streamer ${s.username}? They can no longer go live here.`)) return;
        say(error, '');
        try {
          await api('DELETE', `/api/stations/${encodeURIComponent(slug)}/streamers/${encodeURIComponent(s.username)}`);
        } catch (err) {
          say(error, err instanceof Error ? err.message : String(err));
        }
        await load();
      },
    }),
  )));
}

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  if (!slug) return;
  const data = new FormData(form);
  say(error, '');
  try {
    await api('POST', `/api/stations/${encodeURIComponent(slug)}/streamers`, {
      username: String(data.get('username') || ''),
      password: String(data.get('password') || ''),
      display_name: String(data.get('display_name') || ''),
    });
    form.reset();
  } catch (err) {
    say(error, err instanceof Error ? err.message : String(err));
  }
  await load();
});
