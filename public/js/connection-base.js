export const ACK_TIMEOUT_MS = 30_000;

/** Failures the page makes up itself (no answer, no connection): not counted as received. */
const LOCAL_FAILURES = new Set(["not_connected", "ack_timeout", "connection_lost"]);

export const failure = (code, message) => ({ ok: false, error: { code, message } });

export const isLocalFailure = (ack) => !ack.ok && LOCAL_FAILURES.has(ack.error?.code);

export const ackTimeout = (type) =>
  failure("ack_timeout", `No answer to ${type} within ${ACK_TIMEOUT_MS / 1000} s`);

/**
 * What both transports share: listeners, the state, and the session pinned by
 * the server's `connected` event so that every reconnection returns to it.
 *
 * The interface the page uses: connect(), request(type, payload) → Promise of
 * the ack ({ok, data} or {ok: false, error}), onEvent(cb), onState(cb),
 * onLog(cb), close() and `state`: connecting, connected, reconnecting,
 * refused or disconnected. `connected` means the server's `connected` event
 * has arrived, not only that the transport is open.
 */
export class ClientConnection {
  constructor({ url, sessionId, token }) {
    this.url = url;
    this.sessionId = sessionId || undefined;
    this.token = token || undefined;
    this.state = "disconnected";
    this.closed = false;
    this.listeners = { event: [], state: [], log: [] };
  }

  /** cb(type, payload) for every server event, `connected` included. */
  onEvent(cb) {
    this.listeners.event.push(cb);
  }

  /** cb(state, text, detail) on every change of state (and each reconnection attempt). */
  onState(cb) {
    this.listeners.state.push(cb);
  }

  /** cb(direction, type, payload) for what the transport itself does, for the event log. */
  onLog(cb) {
    this.listeners.log.push(cb);
  }

  setState(state, text, detail = {}) {
    this.state = state;
    for (const cb of this.listeners.state) cb(state, text, detail);
  }

  log(direction, type, payload) {
    for (const cb of this.listeners.log) cb(direction, type, payload);
  }

  /** An event from the server; `connected` pins the session and makes the connection usable. */
  receive(type, payload) {
    if (this.closed) return;
    if (type === "connected" && typeof payload.session_id === "string") {
      this.sessionId = payload.session_id;
      this.setState("connected", "Connected");
    }
    for (const cb of this.listeners.event) cb(type, payload);
  }
}
