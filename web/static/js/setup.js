// @ts-check
// The first-run page: creates the first administrator with the setup token
// the server logged, then goes to the dashboard, logged in.

import { api } from './api.js';
import { byId, say } from './dom.js';

const form = /** @type {HTMLFormElement} */ (byId('setup-form'));
const tokenInput = /** @type {HTMLInputElement} */ (byId('setup-token'));
const notice = byId('notice');

// The token arrives in the link; keep it out of the history and the
// address bar once read.
const params = new URLSearchParams(location.search);
if (params.has('token')) {
  tokenInput.value = params.get('token') || '';
  history.replaceState(null, '', '/setup');
}

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const data = new FormData(form);
  notice.hidden = true;
  try {
    await api('POST', '/api/setup', {
      token: String(data.get('token') || '').trim(),
      username: String(data.get('username') || ''),
      password: String(data.get('password') || ''),
    });
    location.assign('/dashboard');
  } catch (err) {
    notice.hidden = false;
    say(notice, err instanceof Error ? err.message : String(err));
  }
});
