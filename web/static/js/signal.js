// Signal is a page's one WebSocket to /ws. It reconnects by itself with
// exponential backoff and jitter, and re-joins its rooms on every new
// connection, so a page only reacts to events and never has to notice a
// network drop. Each message is {"event","data","ref"?}.

const MAX_DELAY = 15000;
// A connection that lasted this long was healthy: the next drop retries
// quickly again instead of continuing the backoff.
const HEALTHY_AFTER = 5000;
const REQUEST_TIMEOUT = 10000;
// How long a message sent while the socket is down waits for it to come
// back before giving up.
export const QUEUE_TIMEOUT = 30000;

function backoff(attempt) {
  const base = Math.min(MAX_DELAY, 500 * 2 ** attempt);
  return Math.round(base / 2 + Math.random() * base / 2);
}

export class Signal {
  /**
   * onEvent(event, data, ref) gets every server message; onStatus(state,
   * info) gets "connecting", "open" ({reconnected}) and "closed"
   * ({code, retryIn}).
   */
  constructor({ onEvent = () => {}, onStatus = () => {} } = {}) {
    this.onEvent = onEvent;
    this.onStatus = onStatus;
    this.rooms = new Set();
    this.ws = null;
    this.connects = 0; // connections opened so far
    this.attempt = 0;
    this.timer = 0;
    this.stopped = false;
    this.seq = 0;
    this.pending = new Map(); // ref → {resolve, reject, timer}
    this.queue = []; // requests waiting for the socket: {event, data, resolve, reject, timer}
    this.queueTimeout = QUEUE_TIMEOUT;
    window.addEventListener('online', () => { if (!this.ws) this.connect(); });
  }

  get open() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  connect() {
    if (this.stopped) return;
    clearTimeout(this.timer);
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    let ws;
    try {
      ws = new WebSocket(`${proto}//${location.host}/ws`);
    } catch {
      this.retry(1006);
      return;
    }
    this.ws = ws;
    let openedAt = 0;
    this.onStatus('connecting', {});
    ws.addEventListener('open', () => {
      if (ws !== this.ws) return;
      openedAt = Date.now();
      this.connects++;
      for (const slug of this.rooms) this.send('stream:join', { station: slug });
      this.onStatus('open', { reconnected: this.connects > 1 });
      this.flushQueue();
    });
    ws.addEventListener('message', (e) => {
      if (ws !== this.ws) return;
      let msg;
      try { msg = JSON.parse(e.data); } catch { return; }
      if (!msg || typeof msg.event !== 'string') return;
      const data = msg.data && typeof msg.data === 'object' ? msg.data : {};
      const ref = typeof msg.ref === 'string' ? msg.ref : (msg.event === 'error' ? data.ref : undefined);
      this.settle(msg.event, data, ref);
      this.onEvent(msg.event, data, ref);
    });
    ws.addEventListener('close', (e) => {
      if (ws !== this.ws) return;
      this.ws = null;
      this.failPending('The connection to the server was lost.');
      if (openedAt && Date.now() - openedAt > HEALTHY_AFTER) this.attempt = 0;
      this.retry(e.code);
    });
  }

  retry(code) {
    if (this.stopped) return;
    const delay = backoff(this.attempt++);
    this.onStatus('closed', { code, retryIn: delay });
    this.timer = setTimeout(() => this.connect(), delay);
  }

  /** close ends the connection for good (page unload, logout). */
  close() {
    this.stopped = true;
    clearTimeout(this.timer);
    const ws = this.ws;
    this.ws = null;
    this.failPending('closed');
    for (const q of this.queue.splice(0)) {
      clearTimeout(q.timer);
      q.reject(new Error('closed'));
    }
    if (ws) ws.close(1000);
  }

  /**
   * reconnect drops the connection and opens a new one at once, e.g. after
   * a logout, so the socket no longer carries the old session.
   */
  reconnect() {
    const ws = this.ws;
    this.ws = null;
    this.failPending('reconnecting');
    if (ws) ws.close(1000);
    this.attempt = 0;
    this.connect();
  }

  /** send sends one message if the socket is open and reports whether it did. */
  send(event, data, ref) {
    if (!this.open) return false;
    const msg = { event, data };
    if (ref) msg.ref = ref;
    this.ws.send(JSON.stringify(msg));
    return true;
  }

  /** nextRef returns a fresh request reference. */
  nextRef(prefix = 'r') {
    return `${prefix}${++this.seq}`;
  }

  /**
   * request sends a message with a ref and resolves with the server's reply
   * (its ack or answer), or rejects with the error's message.
   */
  request(event, data) {
    return new Promise((resolve, reject) => {
      const ref = this.nextRef();
      if (!this.send(event, data, ref)) {
        reject(new Error('Not connected to the server; trying again shortly.'));
        return;
      }
      const timer = setTimeout(() => {
        this.pending.delete(ref);
        reject(new Error('The server did not answer.'));
      }, REQUEST_TIMEOUT);
      this.pending.set(ref, { resolve, reject, timer });
    });
  }

  /**
   * requestQueued is request for what a person sends (chat, likes): while
   * the socket is reconnecting the message waits, in order, and is sent
   * once the socket is back (after the rooms are joined again). onQueued
   * is called when it has to wait. After queueTimeout it gives up with an
   * error that says so.
   */
  requestQueued(event, data, onQueued = () => {}) {
    if (this.open) return this.request(event, data);
    return new Promise((resolve, reject) => {
      const q = { event, data, resolve, reject, timer: 0 };
      q.timer = setTimeout(() => {
        const i = this.queue.indexOf(q);
        if (i >= 0) this.queue.splice(i, 1);
        reject(new Error(`Not sent: the connection did not come back within ${Math.round(this.queueTimeout / 1000)} s.`));
      }, this.queueTimeout);
      this.queue.push(q);
      onQueued();
    });
  }

  flushQueue() {
    for (const q of this.queue.splice(0)) {
      clearTimeout(q.timer);
      this.request(q.event, q.data).then(q.resolve, q.reject);
    }
  }

  settle(event, data, ref) {
    const p = ref && this.pending.get(ref);
    if (!p) return;
    this.pending.delete(ref);
    clearTimeout(p.timer);
    if (event === 'error') {
      const err = new Error(data.message || 'The request failed.');
      err.code = data.code;
      p.reject(err);
    } else {
      p.resolve({ event, data });
    }
  }

  failPending(message) {
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new Error(message));
    }
    this.pending.clear();
  }

  /** join enters a station's room, now and after every reconnect. */
  join(slug) {
    if (this.rooms.has(slug)) return;
    this.rooms.add(slug);
    this.send('stream:join', { station: slug });
  }

  /** leave leaves a station's room for good. */
  leave(slug) {
    if (!this.rooms.delete(slug)) return;
    this.send('stream:leave', { station: slug });
  }
}

/** describeStatus is a short human text for a Signal status. */
export function describeStatus(state, info) {
  switch (state) {
    case 'connecting': return 'Connecting…';
    case 'open': return '';
    case 'closed': return `Connection lost; reconnecting in ${Math.max(1, Math.round(info.retryIn / 1000))} s…`;
    default: return '';
  }
}
