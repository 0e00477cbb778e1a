// DOM helpers shared by the pages. Every string that comes from a user or
// a file (station names, ID3 tags, chat, usernames) reaches the page only
// through textContent or attribute setters here: never as HTML.

/** byId returns the element with the id, or throws if the page lacks it. */
export function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`page has no #${id}`);
  return el;
}

// Properties el sets directly; everything else is an attribute. There is
// deliberately no way to set markup.
const PROPS = new Set(['className', 'textContent', 'value', 'hidden', 'disabled', 'checked', 'draggable', 'title']);

/**
 * el builds an element: attrs are properties (see PROPS), "dataset" values,
 * "on<event>" listeners or attributes; children are nodes or strings, and
 * strings become text nodes.
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null) continue;
    if (PROPS.has(k)) {
      node[k] = v;
    } else if (k === 'dataset') {
      Object.assign(node.dataset, v);
    } else if (k.startsWith('on') && typeof v === 'function') {
      node.addEventListener(k.slice(2), v);
    } else if (v !== false) {
      node.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(node, ...children);
  return node;
}

/** append adds nodes and strings (as text) to parent. */
export function append(parent, ...children) {
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    parent.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return parent;
}

/** setText replaces an element's content with plain text. */
export function setText(node, text) {
  node.textContent = text == null ? '' : String(text);
}

/** say shows a message element with text; an empty text hides it. */
export function say(node, text) {
  setText(node, text || '');
  node.hidden = !text;
}

/** duration formats milliseconds as m:ss or h:mm:ss. */
export function duration(ms) {
  if (!Number.isFinite(ms) || ms < 0) ms = 0;
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** nowPlayingLine is "Artist – Title", or the title alone. */
export function nowPlayingLine(np) {
  if (!np || !np.title) return '';
  return np.artist ? `${np.artist} – ${np.title}` : np.title;
}

/** absoluteURL makes a site path absolute, for media players. */
export function absoluteURL(path) {
  return new URL(path, location.origin).href;
}

/**
 * wireCopyButtons makes every button with data-copy="ID" copy the value of
 * the input #ID, saying so on the button for a moment.
 */
export function wireCopyButtons(root = document) {
  for (const btn of root.querySelectorAll('button[data-copy]')) {
    btn.addEventListener('click', async () => {
      const input = document.getElementById(btn.dataset.copy);
      if (!input) return;
      const label = btn.textContent;
      try {
        await navigator.clipboard.writeText(input.value);
        btn.textContent = 'Copied';
      } catch {
        // Clipboard refused (insecure context, permission): select the
        // text so the person can copy it by hand.
        input.focus();
        input.select();
        btn.textContent = 'Press Ctrl+C';
      }
      setTimeout(() => { btn.textContent = label; }, 1500);
    });
  }
}

/**
 * Clock estimates the server's clock from the Date header of API answers,
 * so elapsed times computed from the server's started_at do not drift by
 * the difference between the two clocks.
 */
export const clock = {
  offset: 0,
  learn(resp) {
    const d = Date.parse(resp.headers.get('Date') || '');
    if (Number.isFinite(d)) {
      // The header has whole seconds; its true value is up to 1 s later.
      this.offset = d + 500 - Date.now();
    }
  },
  now() { return Date.now() + this.offset; },
};

/**
 * Progress keeps an elapsed/duration display of the current track up to
 * date once a second (a local timer: nothing is asked of the server).
 */
export class Progress {
  constructor({ box, elapsed, bar, total }) {
    Object.assign(this, { box, elapsed, bar, total });
    this.np = null;
    this.timer = setInterval(() => this.tick(), 1000);
  }
  set(np) {
    this.np = np && np.started_at ? np : null;
    this.tick();
  }
  tick() {
    const np = this.np;
    this.box.hidden = !np;
    if (!np) return;
    const dur = np.duration_ms || 0;
    let el = clock.now() - Date.parse(np.started_at);
    el = Math.max(0, dur > 0 ? Math.min(el, dur) : el);
    setText(this.elapsed, duration(el));
    setText(this.total, dur > 0 ? duration(dur) : '–:––');
    this.bar.max = dur > 0 ? dur : 1;
    this.bar.value = dur > 0 ? el : 0;
  }
}
