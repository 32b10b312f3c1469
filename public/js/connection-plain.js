import { ACK_TIMEOUT_MS, ackTimeout, ClientConnection, failure } from "./connection-base.js";

const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 4000;
/**
 * Close codes after which trying again can help: going away (a node stopping),
 * abnormal (the network), server error, service restart, try again later.
 * After the others (1000, 1008 rate limited or token expired, 1009 too big) it cannot.
 */
const RETRYABLE_CLOSE = new Set([1001, 1006, 1011, 1012, 1013]);

/**
 * The console's client over plain WebSocket (the gateway's /ws path): one JSON
 * object per text frame, a `request_id` on each request, answered by an `ack` frame.
 */
export class PlainConnection extends ClientConnection {
  constructor(options) {
    super(options);
    this.nextRequestId = 1;
    this.pending = new Map();
    this.attempt = 0;
    this.everOpen = false;
  }

  /** ws(s)://host/ws?session_id=…&token=… (a browser cannot set an Authorization header here). */
  address() {
    const url = new URL(`${this.url}/ws`);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    if (this.sessionId) url.searchParams.set("session_id", this.sessionId);
    if (this.token) url.searchParams.set("token", this.token);
    return url.href;
  }

  connect() {
    this.setState("connecting", "Connecting…");
    this.open();
  }

  open() {
    let ws;
    try {
      ws = new window.WebSocket(this.address());
    } catch (error) {
      this.setState("refused", `Refused: ${error.message}`);
      return;
    }
    this.ws = ws;
    let opened = false;
    ws.addEventListener("open", () => {
      opened = true;
      this.everOpen = true;
      if (this.attempt > 0) this.log("local", "reconnect", { attempt: this.attempt });
      this.attempt = 0;
      this.log("local", "connect", { transport: "plain WebSocket", path: "/ws" });
    });
    ws.addEventListener("message", (message) => this.frame(message.data));
    ws.addEventListener("close", (event) => {
      if (ws !== this.ws || this.closed) return;
      this.dropPending();
      const reason = event.reason || `close ${event.code}`;
      if (!opened && !this.everOpen) {
        // The upgrade was refused: the browser hides the server's status and body.
        this.log("in", "connect_error", { code: event.code });
        this.setState(
          "refused",
          "Refused: the server did not accept the WebSocket (a browser is not told why: check the token and the session id)",
        );
        return;
      }
      if (opened) this.log("local", "disconnect", { reason, code: event.code });
      if (opened && !RETRYABLE_CLOSE.has(event.code))
        this.setState("disconnected", `Disconnected: ${reason}`);
      else this.retry(reason);
    });
  }

  retry(reason) {
    this.attempt += 1;
    const delay = Math.min(RETRY_FIRST_MS * 2 ** (this.attempt - 1), RETRY_MAX_MS);
    this.setState("reconnecting", `Reconnecting (attempt ${this.attempt})… (${reason})`, {
      attempt: this.attempt,
    });
    this.log("local", "reconnect_attempt", { attempt: this.attempt });
    this.retryTimer = setTimeout(() => this.open(), delay);
  }

  frame(text) {
    let message;
    try {
      message = JSON.parse(text);
    } catch {
      this.log("in", "unreadable_frame", { text: String(text).slice(0, 200) });
      return;
    }
    if (typeof message !== "object" || message === null || typeof message.type !== "string") {
      this.log("in", "unreadable_frame", { frame: message });
      return;
    }
    if (message.type === "ack") {
      const settle = this.pending.get(message.request_id);
      const { ok, data, error } = message;
      settle?.(ok ? { ok, data } : { ok: false, error });
      return;
    }
    this.receive(message.type, message);
  }

  request(type, payload) {
    const ws = this.ws;
    if (ws?.readyState !== window.WebSocket.OPEN || this.closed)
      return Promise.resolve(failure("not_connected", "Connect first"));
    const requestId = this.nextRequestId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => settle(ackTimeout(type)), ACK_TIMEOUT_MS);
      const settle = (ack) => {
        clearTimeout(timer);
        this.pending.delete(requestId);
        resolve(ack);
      };
      this.pending.set(requestId, settle);
      // The payload goes under `data`, so none of its fields can be taken for `type` or `request_id`.
      ws.send(JSON.stringify({ type, request_id: requestId, data: payload }));
    });
  }

  /** Requests on a dropped connection get no ack: they fail now rather than at the timeout. */
  dropPending() {
    for (const settle of [...this.pending.values()])
      settle(failure("connection_lost", "The connection dropped before the answer"));
  }

  close() {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.dropPending();
    this.ws?.close(1000, "closed by the page");
    this.setState("disconnected", "Disconnected");
  }
}
