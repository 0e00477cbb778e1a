// Radio plays one station over WebRTC, negotiated on the page's Signal.
//
// Decisions:
//   - Play builds the RTCPeerConnection and calls audio.play() inside the
//     click, with the receiver's track already in the element's stream, so
//     browsers that tie playback to a gesture allow it. A refusal
//     (NotAllowedError) is reported, never retried silently.
//   - The element keeps one MediaStream for the page's life; a new
//     PeerConnection swaps its track in, so recovering never needs another
//     play() (and so no new click).
//   - ICE trouble on a live socket: "disconnected" for a few seconds or
//     "failed" → pc.restartIce() and a restart offer on the same
//     PeerConnection (the server answers it on its side of the same peer);
//     if that does not connect, or cannot be made, → a new PeerConnection.
//   - The server closes a socket's PeerConnections with the socket, so
//     after a WebSocket reconnect the audio always gets a new one.
//   - Stop closes the PeerConnection and sends stream:leave, which closes
//     the server's side at once (the listener count drops now, not after an
//     ICE timeout), then stream:join again: the page stays in the room for
//     now playing, listeners and chat. A new PeerConnection on a socket that
//     had one does the same leave/join first, so the server never mistakes
//     its offer for an ICE restart of the old one.
//   - A station that goes off air closes the PeerConnection; if the person
//     had pressed Play, listening resumes by itself when it is back on air.
//   - Reach: when WebRTC has not connected FALLBACK_AFTER ms after Play
//     (UDP blocked and ICE over TCP unreachable too), the element plays the
//     HTTP stream instead (Ogg Opus where the browser plays it, else MP3)
//     until Stop; the page stays in the room, so now playing goes on.
//     path says which plays: "webrtc" or "http".
//   - Start: the next PeerConnection is made before the click (recvonly
//     transceiver, offer set, candidates gathered), so Play only sends the
//     offer; the server answers with its candidates. The offer is never
//     sent before the click: an offer makes the station encode for us.
//   - phases times each Play (ms after the click): offer sent, answer
//     received, ICE connected, DTLS done (connectionState "connected"),
//     first RTP packet, first decoded sound (audio energy > 0).

const DISCONNECT_GRACE = 2500; // ms in "disconnected" before an ICE restart
const RESTART_TIMEOUT = 8000; // ms for an ICE restart to connect
const CONNECT_TIMEOUT = 15000; // ms for a new PeerConnection to connect
// ms after Play without a connected PeerConnection before the HTTP stream
// plays instead: ICE over UDP connects in well under a second, ICE over
// TCP in one or two; the HTTP stream then starts within a second, inside
// the 5 s the contract allows.
const FALLBACK_AFTER = 2500;
const PHASE_POLL = 10; // ms between getStats polls while timing a Play
const PHASE_LIMIT = 10000; // ms after which a Play's timing gives up
const MAX_PLAYS = 50; // timed Plays kept in plays

export class Radio {
  /**
   * onState(state, detail) hears "stopped", "connecting", "playing",
   * "reconnecting", "offline", "blocked" and "error".
   */
  constructor({ signal, station, audio, iceServers = [], streams = {}, onState = () => {} }) {
    Object.assign(this, { signal, station, audio, iceServers, streams, onState });
    this.want = false; // the person pressed Play and not Stop
    this.live = false;
    this.pc = null;
    this.stream = new MediaStream();
    this.offerRef = null;
    this.peerSocket = -1; // the Signal connection the last offer went on
    this.restarting = false;
    this.timers = new Set();
    this.retries = 0;
    this.state = 'stopped';
    this.path = ''; // what plays: "webrtc", "http" or "" (nothing)
    this.spare = null; // the next PeerConnection, made before the click
    this.fallbackTimer = 0;
    this.httpRetries = 0;
    this.httpTimer = 0;
    this.phases = null; // the timing of the current Play
    this.plays = []; // timings of the Plays so far, oldest first
    audio.addEventListener('playing', () => {
      if (this.path === 'http' && this.want) {
        this.httpRetries = 0;
        this.mark('audible');
        this.setState('playing');
      }
    });
    for (const ev of ['error', 'ended']) {
      audio.addEventListener(ev, () => { if (this.path === 'http') this.httpTrouble(); });
    }
  }

  /**
   * prepare makes the next PeerConnection ahead of Play: its offer set
   * and its candidates gathered, nothing sent. Cheap (no server side) and
   * done again after every Stop.
   */
  prepare() {
    if (this.spare || typeof RTCPeerConnection === 'undefined') return;
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    const spare = { pc, track: null, ready: null };
    pc.onicecandidate = () => {}; // gathered into localDescription
    const tr = pc.addTransceiver('audio', { direction: 'recvonly' });
    spare.track = tr.receiver.track;
    spare.ready = pc.createOffer().then((offer) => pc.setLocalDescription(offer));
    spare.ready.catch(() => {
      if (this.spare === spare) this.spare = null;
      pc.close();
    });
    this.spare = spare;
  }

  /** prepared: the next PeerConnection is ready, candidates and all. */
  get prepared() {
    const pc = this.spare && this.spare.pc;
    return !!pc && !!pc.localDescription && pc.iceGatheringState === 'complete';
  }

  /** takeSpare hands over the prepared PeerConnection, if any. */
  takeSpare() {
    const spare = this.spare;
    this.spare = null;
    if (spare && spare.pc.signalingState === 'closed') return null;
    return spare;
  }

  setState(state, detail) {
    this.state = state;
    this.onState(state, detail);
  }

  /** play starts listening; call it from the click handler. */
  play() {
    this.want = true;
    this.retries = 0;
    this.path = 'webrtc';
    this.startPhases();
    this.useStream();
    clearTimeout(this.fallbackTimer);
    this.fallbackTimer = setTimeout(() => this.maybeFallBack(), FALLBACK_AFTER);
    if (this.live && this.signal.open) {
      this.newPeer();
    } else {
      this.setState(this.live ? 'reconnecting' : 'offline');
    }
    const started = this.audio.play();
    if (started && typeof started.catch === 'function') {
      started.catch((err) => {
        if (err && err.name === 'NotAllowedError') {
          this.want = false;
          this.closePeer(true);
          this.setState('blocked');
        }
      });
    }
  }

  /** stop stops listening and frees the server's side at once. */
  stop() {
    this.want = false;
    clearTimeout(this.fallbackTimer);
    this.closePeer(true);
    this.stopHTTP();
    this.audio.pause();
    this.path = '';
    this.setState('stopped');
    this.prepare();
  }

  // --- the HTTP stream, where WebRTC cannot connect ---------------------

  /** maybeFallBack plays the HTTP stream if WebRTC has not connected. */
  maybeFallBack() {
    if (!this.want || this.path !== 'webrtc' || !this.live) return;
    if (this.pc && this.pc.connectionState === 'connected') return;
    this.closePeer(true);
    this.path = 'http';
    if (this.phases) this.phases.fallback = Math.round(performance.now() - this.phases.at);
    this.httpRetries = 0;
    this.playHTTP();
  }

  /** httpURL is the stream the element can play: Ogg Opus, else MP3. */
  httpURL() {
    const opus = this.streams.opus || `/stream/${encodeURIComponent(this.station)}.opus`;
    const mp3 = this.streams.mp3 || `/stream/${encodeURIComponent(this.station)}`;
    return this.audio.canPlayType('audio/ogg; codecs="opus"') ? opus : mp3;
  }

  playHTTP() {
    clearTimeout(this.httpTimer);
    if (!this.want || this.path !== 'http') return;
    if (!this.live) {
      this.stopHTTP();
      this.setState('offline');
      return;
    }
    this.setState(this.state === 'playing' ? 'reconnecting' : 'connecting');
    this.audio.srcObject = null;
    this.audio.src = this.httpURL();
    this.audio.play().catch((err) => {
      if (err && err.name === 'NotAllowedError') {
        this.want = false;
        this.stopHTTP();
        this.setState('blocked');
      }
    });
  }

  /** stopHTTP ends the HTTP stream's request. */
  stopHTTP() {
    clearTimeout(this.httpTimer);
    if (!this.audio.hasAttribute('src')) return;
    this.audio.pause();
    this.audio.removeAttribute('src');
    this.audio.load();
  }

  /** httpTrouble: the stream failed or ended; try again after a backoff. */
  httpTrouble() {
    if (!this.want || this.path !== 'http' || !this.audio.hasAttribute('src')) return;
    const delay = Math.min(10000, 500 * 2 ** this.httpRetries++);
    this.setState(this.live ? 'reconnecting' : 'offline', { retryIn: delay });
    clearTimeout(this.httpTimer);
    this.httpTimer = setTimeout(() => this.playHTTP(), delay);
  }

  /** useStream points the element back at the WebRTC stream. */
  useStream() {
    this.stopHTTP();
    if (this.audio.srcObject !== this.stream) this.audio.srcObject = this.stream;
  }

  // --- timing ------------------------------------------------------------

  startPhases() {
    this.phases = { at: performance.now(), path: 'webrtc' };
    this.plays.push(this.phases);
    if (this.plays.length > MAX_PLAYS) this.plays.shift();
  }

  /** mark records a phase of the current Play, the first time only. */
  mark(name) {
    const p = this.phases;
    if (!p || p[name] !== undefined) return;
    p[name] = Math.round(performance.now() - p.at);
    if (name === 'audible') p.path = this.path;
  }

  /** watchMedia polls pc's stats for its first packet and first sound. */
  watchMedia(pc) {
    const p = this.phases;
    if (!p || p.audible !== undefined) return;
    const poll = async () => {
      if (pc !== this.pc || this.phases !== p || p.audible !== undefined) return;
      if (performance.now() - p.at > PHASE_LIMIT) return;
      try {
        const stats = await pc.getStats();
        for (const r of stats.values()) {
          if (r.type !== 'inbound-rtp' || r.kind !== 'audio') continue;
          if (r.packetsReceived > 0) this.mark('packet');
          if (r.totalAudioEnergy > 0) this.mark('audible');
        }
      } catch { /* closed meanwhile */ }
      if (p.audible === undefined) setTimeout(poll, PHASE_POLL);
    };
    poll();
  }

  // --- events from the page -------------------------------------------

  /** socketOpen is the Signal's "open": after a reconnect, renegotiate. */
  socketOpen() {
    if (this.path === 'http') return;
    if (this.want && this.live && this.peerSocket !== this.signal.connects) {
      this.newPeer();
    }
  }

  /** socketClosed: the server dropped our PeerConnection with the socket. */
  socketClosed() {
    if (!this.want || this.path === 'http') return;
    this.clearTimers();
    this.setState('reconnecting');
  }

  /** setLive follows stream:live/offline/started/stopped for the station. */
  setLive(live) {
    const was = this.live;
    this.live = live;
    if (!this.want) return;
    if (this.path === 'http') {
      if (!live) {
        this.stopHTTP();
        this.setState('offline');
      } else if (!was) {
        this.playHTTP();
      }
      return;
    }
    if (!live) {
      this.closePeer(false);
      this.setState('offline');
    } else if (!was || !this.pc) {
      if (this.signal.open && !this.pc) this.newPeer();
    }
  }

  /** handle takes the WebRTC messages of the Signal. */
  handle(event, data, ref) {
    if (data.station !== undefined && data.station !== this.station) return;
    const pc = this.pc;
    switch (event) {
      case 'webrtc:answer':
        if (!pc || !ref || ref !== this.offerRef) return;
        this.offerRef = null;
        this.mark('answer');
        this.chain(pc, async () => {
          await pc.setRemoteDescription({ type: 'answer', sdp: data.sdp });
          pc.onairAnswered = true;
          this.watchMedia(pc);
        }, () => this.failed(pc, 'answer'));
        break;
      case 'webrtc:candidate':
        if (!pc || !data.candidate) return;
        // A candidate of a PeerConnection already replaced fails: harmless.
        this.chain(pc, () => pc.addIceCandidate(data.candidate), () => {});
        break;
      case 'error':
        if (ref && ref === this.offerRef) {
          this.offerRef = null;
          this.failed(pc, data.message);
        }
        break;
    }
  }

  // --- negotiation ------------------------------------------------------

  /** chain runs PeerConnection operations one after another. */
  chain(pc, op, onError) {
    pc.onairOps = (pc.onairOps || Promise.resolve()).then(() => {
      if (pc !== this.pc) return undefined;
      return op();
    }).catch((err) => {
      if (pc === this.pc) onError(err);
    });
    return pc.onairOps;
  }

  newPeer() {
    this.closePeer(false);
    const spare = this.takeSpare();
    const pc = spare ? spare.pc : new RTCPeerConnection({ iceServers: this.iceServers });
    this.pc = pc;
    // Local candidates until the offer is out; a spare's are in its
    // offer already, as the browser adds them to localDescription.
    pc.onairQueue = [];
    pc.onairSent = false;
    if (spare) {
      this.useTrack(spare.track);
    } else {
      const tr = pc.addTransceiver('audio', { direction: 'recvonly' });
      this.useTrack(tr.receiver.track);
    }
    pc.ontrack = (e) => { if (pc === this.pc) this.useTrack(e.track); };
    pc.onicecandidate = (e) => {
      if (pc !== this.pc) return;
      const cand = e.candidate ? e.candidate.toJSON() : null;
      if (!pc.onairSent) pc.onairQueue.push(cand);
      else this.signal.send('webrtc:candidate', { station: this.station, candidate: cand });
    };
    pc.onconnectionstatechange = () => this.watch(pc);
    pc.oniceconnectionstatechange = () => this.watch(pc);
    pc.onnegotiationneeded = () => this.renegotiate(pc);
    this.setState(this.state === 'playing' || this.state === 'reconnecting' ? 'reconnecting' : 'connecting');
    this.after(CONNECT_TIMEOUT, () => {
      if (pc === this.pc && pc.connectionState !== 'connected') this.failed(pc, 'timeout');
    }, pc);
    this.chain(pc, async () => {
      if (spare) await spare.ready;
      else await pc.setLocalDescription(await pc.createOffer());
      if (pc !== this.pc) return;
      if (!this.signal.open) throw new Error('socket closed');
      if (this.peerSocket === this.signal.connects) {
        // This socket had a PeerConnection for the station: close the
        // server's side first (see the top of this file).
        this.signal.send('stream:leave', { station: this.station });
        this.signal.send('stream:join', { station: this.station });
      }
      this.sendOffer(pc);
    }, () => this.failed(pc, 'offer'));
  }

  sendOffer(pc) {
    this.offerRef = this.signal.nextRef('offer');
    this.peerSocket = this.signal.connects;
    pc.onairSent = false;
    this.signal.send('webrtc:offer', { station: this.station, sdp: pc.localDescription.sdp }, this.offerRef);
    this.mark('offer');
    pc.onairSent = true;
    for (const cand of pc.onairQueue.splice(0)) {
      this.signal.send('webrtc:candidate', { station: this.station, candidate: cand });
    }
  }

  /**
   * restartIce asks pc for new ICE credentials; the browser then fires
   * negotiationneeded, and renegotiate sends the restart offer. A page (or
   * a test) calling pc.restartIce() itself takes the same path.
   */
  restartIce(pc) {
    if (pc !== this.pc || this.restarting) return;
    if (!this.signal.open || this.peerSocket !== this.signal.connects) return; // socketOpen renegotiates
    if (pc.signalingState !== 'stable' || typeof pc.restartIce !== 'function') {
      this.newPeer();
      return;
    }
    this.restarting = true;
    this.setState('reconnecting');
    pc.restartIce();
    this.after(RESTART_TIMEOUT, () => {
      if (pc === this.pc && pc.connectionState !== 'connected') {
        this.restarting = false;
        this.newPeer();
      }
    }, pc);
  }

  /** renegotiate answers negotiationneeded once the first offer is done. */
  renegotiate(pc) {
    if (pc !== this.pc || !pc.onairAnswered) return;
    if (!this.signal.open || this.peerSocket !== this.signal.connects) return;
    this.chain(pc, async () => {
      if (pc.signalingState !== 'stable') return;
      pc.onairSent = false;
      await pc.setLocalDescription(await pc.createOffer());
      if (pc !== this.pc) return;
      if (!this.signal.open) throw new Error('socket closed');
      this.sendOffer(pc);
    }, () => this.failed(pc, 'ice restart'));
  }

  /** failed gives up on pc and tries a new one after a backoff. */
  failed(pc, why) {
    if (pc !== this.pc || !this.want) return;
    this.closePeer(false);
    if (!this.live) {
      this.setState('offline');
      return;
    }
    const delay = Math.min(10000, 500 * 2 ** this.retries++);
    this.setState('reconnecting', { why, retryIn: delay });
    this.after(delay, () => {
      if (this.want && this.live && !this.pc && this.signal.open) this.newPeer();
    });
  }

  watch(pc) {
    if (pc !== this.pc) return;
    const state = pc.connectionState;
    const ice = pc.iceConnectionState;
    if (ice === 'connected' || ice === 'completed') this.mark('ice');
    if (state === 'connected') {
      this.mark('dtls');
      this.retries = 0;
      this.restarting = false;
      this.clearTimers();
      this.setState('playing');
    } else if (state === 'failed' || ice === 'failed') {
      if (this.restarting) this.newPeer();
      else this.restartIce(pc);
    } else if (state === 'disconnected' || ice === 'disconnected') {
      this.after(DISCONNECT_GRACE, () => {
        if (pc === this.pc && (pc.iceConnectionState === 'disconnected' || pc.connectionState === 'disconnected')) {
          this.restartIce(pc);
        }
      }, pc);
    }
  }

  // --- plumbing ---------------------------------------------------------

  useTrack(track) {
    for (const t of this.stream.getAudioTracks()) {
      if (t !== track) this.stream.removeTrack(t);
    }
    if (!this.stream.getTrackById(track.id)) this.stream.addTrack(track);
    if (this.want && this.audio.paused) {
      // Resuming after a swap needs no gesture in browsers that saw the
      // click; where it does, say so.
      this.audio.play().catch((err) => {
        if (err && err.name === 'NotAllowedError') this.setState('blocked');
      });
    }
  }

  /** closePeer closes our side; with leave, the server's side too. */
  closePeer(leave) {
    this.clearTimers();
    this.restarting = false;
    this.offerRef = null;
    const pc = this.pc;
    this.pc = null;
    if (!pc) return;
    pc.onicecandidate = null;
    pc.onconnectionstatechange = null;
    pc.oniceconnectionstatechange = null;
    pc.onnegotiationneeded = null;
    pc.ontrack = null;
    pc.close();
    if (leave && this.peerSocket === this.signal.connects && this.signal.open) {
      this.signal.send('stream:leave', { station: this.station });
      this.signal.send('stream:join', { station: this.station });
      this.peerSocket = -1;
    }
  }

  after(ms, fn, pc) {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (pc === undefined || pc === this.pc) fn();
    }, ms);
    this.timers.add(t);
  }

  clearTimers() {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
