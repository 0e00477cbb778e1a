// Go live from the dashboard: the microphone goes on a station's air over
// WHIP (RFC 9725). The page offers one sendonly audio track, POSTs the SDP
// to /api/stations/{slug}/whip with the session cookie (same origin, so
// the server's Origin check passes), applies the answer, and DELETEs the
// session's Location at the end. The offer waits for ICE gathering, as the
// server takes no trickled candidates.
//   - The level meter reads the microphone through a WebAudio AnalyserNode
//     ten times a second; a muted track is silent there too.
//   - Mute disables the track: the browser keeps sending (silent) packets,
//     so the station does not take the air back for a stalled source.
//   - A connection that fails, or the page going away, ends the session
//     (the DELETE is sent with keepalive so it survives the unload).

import { ApiError, iceServers } from './api.js';

const GATHER_TIMEOUT = 2000; // ms to wait for the browser's candidates
const LEVEL_EVERY = 100; // ms between level readings

export class GoLive {
  /**
   * onState(state, detail) hears "idle", "starting", "live" (detail:
   * {slug}), "ended" and "error" (detail: a message); onLevel(level, muted)
   * gets the microphone's peak level 0..1.
   */
  constructor({ onState = () => {}, onLevel = () => {} } = {}) {
    this.onState = onState;
    this.onLevel = onLevel;
    this.slug = '';
    this.pc = null;
    this.stream = null;
    this.audio = null;
    this.location = '';
    this.timer = 0;
    this.busy = false;
    window.addEventListener('pagehide', () => { if (this.location) this.end(true); });
  }

  get live() { return this.pc !== null; }

  get muted() {
    const t = this.stream && this.stream.getAudioTracks()[0];
    return !!t && !t.enabled;
  }

  /** start asks for the microphone and goes live on station slug. */
  async start(slug) {
    if (this.busy || this.pc) return;
    this.busy = true;
    this.slug = slug;
    this.onState('starting');
    try {
      if (!navigator.mediaDevices || !window.isSecureContext) {
        throw new Error('The microphone needs a secure page: open the dashboard over HTTPS or on localhost.');
      }
      this.stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      const track = this.stream.getAudioTracks()[0];
      if (!track) throw new Error('the browser gave no microphone track');
      this.meter();
      const pc = new RTCPeerConnection({ iceServers: await iceServers() });
      this.pc = pc;
      pc.addTransceiver(track, { direction: 'sendonly', streams: [this.stream] });
      pc.onconnectionstatechange = () => {
        if (pc !== this.pc) return;
        if (pc.connectionState === 'connected') this.onState('live', { slug });
        if (pc.connectionState === 'failed') void this.fail('the connection to the server was lost');
      };
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc);
      const resp = await fetch(`/api/stations/${encodeURIComponent(slug)}/whip`, {
        method: 'POST', credentials: 'same-origin',
        headers: { 'Content-Type': 'application/sdp', Accept: 'application/sdp' },
        body: pc.localDescription.sdp,
      });
      if (resp.status !== 201) throw await refusal(resp);
      this.location = resp.headers.get('Location') || '';
      const answer = await resp.text();
      if (pc !== this.pc) return; // ended while waiting
      await pc.setRemoteDescription({ type: 'answer', sdp: answer });
    } catch (err) {
      await this.fail(describe(err));
    } finally {
      this.busy = false;
    }
  }

  /** toggleMute mutes or unmutes the microphone; it returns the new state. */
  toggleMute() {
    const t = this.stream && this.stream.getAudioTracks()[0];
    if (!t) return false;
    t.enabled = !t.enabled;
    return !t.enabled;
  }

  /** end gives the air back: DELETE of the session, then local cleanup. */
  async end(unloading = false) {
    const loc = this.location;
    this.cleanup();
    if (loc) {
      try {
        await fetch(loc, { method: 'DELETE', credentials: 'same-origin', keepalive: unloading });
      } catch { /* the server ends a silent session by itself within seconds */ }
    }
    if (!unloading) this.onState('ended');
  }

  async fail(message) {
    const loc = this.location;
    this.cleanup();
    if (loc) {
      try { await fetch(loc, { method: 'DELETE', credentials: 'same-origin' }); } catch { /* as in end */ }
    }
    this.onState('error', message);
  }

  cleanup() {
    clearInterval(this.timer);
    this.timer = 0;
    if (this.pc) { this.pc.onconnectionstatechange = null; this.pc.close(); }
    this.pc = null;
    if (this.stream) for (const t of this.stream.getTracks()) t.stop();
    this.stream = null;
    if (this.audio) void this.audio.close();
    this.audio = null;
    this.location = '';
    this.onLevel(0, false);
  }

  /** meter feeds onLevel with the microphone's peak level. */
  meter() {
    const ctx = new AudioContext();
    this.audio = ctx;
    const analyser = ctx.createAnalyser();
    analyser.fftSize = 2048;
    ctx.createMediaStreamSource(this.stream).connect(analyser);
    const buf = new Float32Array(analyser.fftSize);
    this.timer = setInterval(() => {
      if (ctx.state === 'suspended') void ctx.resume();
      analyser.getFloatTimeDomainData(buf);
      let peak = 0;
      for (const v of buf) peak = Math.max(peak, Math.abs(v));
      this.onLevel(Math.min(1, peak), this.muted);
    }, LEVEL_EVERY);
  }
}

/** gathered resolves when pc has its candidates, or after GATHER_TIMEOUT. */
function gathered(pc) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      if (pc.iceGatheringState !== 'complete') return;
      pc.removeEventListener('icegatheringstatechange', done);
      resolve();
    };
    pc.addEventListener('icegatheringstatechange', done);
    setTimeout(resolve, GATHER_TIMEOUT);
  });
}

/** refusal turns a WHIP error answer (JSON {"error"}) into an ApiError. */
async function refusal(resp) {
  let msg = `${resp.status} ${resp.statusText}`;
  try {
    const body = await resp.json();
    if (body && typeof body.error === 'string' && body.error) msg = body.error;
  } catch { /* not JSON: keep the status */ }
  return new ApiError(resp.status, msg);
}

function describe(err) {
  if (err instanceof ApiError) return err.message;
  if (err && err.name === 'NotAllowedError') return 'The browser was not allowed to use the microphone.';
  if (err && err.name === 'NotFoundError') return 'No microphone was found.';
  return err && err.message ? err.message : String(err);
}
