// The REST API as the pages use it: same-origin requests with the session
// cookie (the browser adds Origin, which the server checks on state
// changes), JSON both ways, errors as ApiError with the server's message.

import { clock } from './dom.js';

/** ApiError is a failed API request: its HTTP status and the server's text. */
export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

/** api sends a request and returns the decoded JSON answer (null for 204). */
export async function api(method, path, body) {
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let resp;
  try {
    resp = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'The server cannot be reached. Check the connection and try again.');
  }
  clock.learn(resp);
  let data = null;
  if (resp.status !== 204) {
    try { data = await resp.json(); } catch { data = null; }
  }
  if (!resp.ok) {
    const msg = (data && typeof data.error === 'string' && data.error) || `${resp.status} ${resp.statusText}`;
    throw new ApiError(resp.status, msg, data);
  }
  return data;
}

/** me returns the logged-in user, or null. */
export async function me() {
  try {
    return await api('GET', '/api/me');
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return null;
    throw err;
  }
}

/** login logs in; the answer's token also authenticates an open WebSocket. */
export function login(username, password) {
  return api('POST', '/api/auth/login', { username, password });
}

export function logout() {
  return api('POST', '/api/auth/logout');
}

export function register(username, password) {
  return api('POST', '/api/auth/register', { username, password });
}

/** iceServers turns /api/config's URLs into RTCPeerConnection's iceServers. */
export async function iceServers() {
  const cfg = await api('GET', '/api/config');
  const urls = (cfg && Array.isArray(cfg.ice_servers)) ? cfg.ice_servers : [];
  return urls.map((u) => ({ urls: u }));
}

/**
 * uploadFile sends one file as a multipart "file" part with XMLHttpRequest,
 * whose upload progress events fetch does not have. onProgress gets a
 * fraction 0..1. It resolves to {status, body} whatever the status; only a
 * network failure rejects.
 */
export function uploadFile(slug, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/api/stations/${encodeURIComponent(slug)}/tracks`);
    xhr.withCredentials = true;
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable && e.total > 0) onProgress(e.loaded / e.total);
    });
    xhr.addEventListener('load', () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch { body = null; }
      resolve({ status: xhr.status, body });
    });
    xhr.addEventListener('error', () => reject(new ApiError(0, 'The upload was interrupted: the server cannot be reached.')));
    xhr.addEventListener('abort', () => reject(new ApiError(0, 'The upload was cancelled.')));
    const form = new FormData();
    form.append('file', file, file.name);
    xhr.send(form);
  });
}

/** slugFromPath is the station slug of a /stations/{slug} address. */
export function slugFromPath(pathname = location.pathname) {
  const m = /^\/stations\/([^/]+)\/?$/.exec(pathname);
  if (!m) return '';
  try { return decodeURIComponent(m[1]); } catch { return ''; }
}
