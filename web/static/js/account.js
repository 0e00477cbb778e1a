// @ts-check
// The dashboard's account panels: changing one's password, and for admins
// the user list with disable/enable and delete. Names reach the page as
// text only (dom.js).

import { api } from './api.js';
import { byId, el, say } from './dom.js';

const form = /** @type {HTMLFormElement} */ (byId('password-form'));
const formError = byId('password-error');
const formDone = byId('password-done');
const usersPanel = byId('users-panel');
const usersBody = byId('users-body');
const usersError = byId('users-error');

/** @type {{id:number, username:string, role:string} | null} */
let me = null;

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const data = new FormData(form);
  say(formError, '');
  say(formDone, '');
  try {
    await api('POST', '/api/auth/password', {
      current_password: String(data.get('current_password') || ''),
      new_password: String(data.get('new_password') || ''),
    });
    form.reset();
    say(formDone, 'Password changed. Your other sessions are logged out.');
  } catch (err) {
    say(formError, err instanceof Error ? err.message : String(err));
  }
});

/** showAccount sets the panels up for the logged-in user. */
export function showAccount(u) {
  me = u;
  usersPanel.hidden = u.role !== 'admin';
  if (u.role === 'admin') loadUsers();
}

async function loadUsers() {
  say(usersError, '');
  try {
    const { users } = await api('GET', '/api/users');
    renderUsers(users);
  } catch (err) {
    say(usersError, err instanceof Error ? err.message : String(err));
  }
}

/** act runs one admin action on a user, then reloads the list. */
async function act(method, name, body) {
  say(usersError, '');
  try {
    await api(method, `/api/users/${encodeURIComponent(name)}`, body);
  } catch (err) {
    say(usersError, err instanceof Error ? err.message : String(err));
  }
  await loadUsers();
}

function renderUsers(users) {
  usersBody.replaceChildren(...users.map((u) => {
    const self = me !== null && u.id === me.id;
    const toggle = el('button', {
      type: 'button', className: 'secondary', disabled: self,
      textContent: u.disabled ? 'Enable' : 'Disable',
      'aria-label': `${u.disabled ? 'Enable' : 'Disable'} ${u.username}`,
      onclick: () => act('PATCH', u.username, { disabled: !u.disabled }),
    });
    const del = el('button', {
      type: 'button', className: 'danger', disabled: self, textContent: 'Delete',
      'aria-label': `Delete ${u.username}`,
      onclick: () => {
        if (confirm(`Delete the account ${u.username}? This cannot be undone.`)) act('DELETE', u.username);
      },
    });
    return el('tr', {},
      el('td', {}, u.username),
      el('td', {}, u.role),
      el('td', {}, u.disabled ? 'disabled' : 'active'),
      el('td', {}, toggle, ' ', del));
  }));
}
