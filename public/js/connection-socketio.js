import { ACK_TIMEOUT_MS, ackTimeout, ClientConnection, failure } from "./connection-base.js";

/** The console's client over Socket.IO, with the client script the gateway serves. */
export class SocketIoConnection extends ClientConnection {
  connect() {
    if (typeof window.io !== "function") {
      this.setState("refused", "Refused: the Socket.IO client script did not load");
      return;
    }
    this.setState("connecting", "Connecting…");
    const socket = window.io(this.url, {
      // A function, so each reconnection sends the session pinned by `connected`.
      auth: (cb) => cb(this.auth()),
      forceNew: true,
      // WebSocket first: one connection, no long-polling round trips to the gateway.
      transports: ["websocket", "polling"],
      reconnection: true,
      reconnectionDelay: 500,
      reconnectionDelayMax: 4000,
    });
    this.socket = socket;
    socket.onAny((type, payload) => this.receive(type, payload ?? {}));
    socket.on("connect", () =>
      this.log("local", "connect", {
        id: socket.id,
        transport: `socket.io (${socket.io.engine?.transport?.name})`,
      }),
    );
    socket.on("disconnect", (reason) => {
      if (this.closed) return;
      this.log("local", "disconnect", { reason });
      if (socket.active) this.setState("reconnecting", `Reconnecting… (${reason})`);
      else
        this.setState(
          "disconnected",
          reason === "io client disconnect" ? "Disconnected" : `Disconnected: ${reason}`,
        );
    });
    socket.on("connect_error", (err) => {
      if (this.closed) return;
      const data = err?.data;
      this.log("in", "connect_error", data ?? { message: err?.message });
      if (data?.code)
        this.setState("refused", `Refused: ${data.code} — ${data.message ?? err.message}`);
      else if (socket.active) this.setState("reconnecting", `Reconnecting… (${err.message})`);
      else this.setState("refused", `Refused: ${err.message}`);
    });
    socket.io.on("reconnect_attempt", (attempt) => {
      if (this.closed) return;
      this.setState("reconnecting", `Reconnecting (attempt ${attempt})…`, { attempt });
      this.log("local", "reconnect_attempt", { attempt });
    });
    socket.io.on("reconnect", (attempt) => this.log("local", "reconnect", { attempt }));
    socket.io.on("reconnect_failed", () => {
      if (!this.closed) this.setState("disconnected", "Disconnected: gave up reconnecting");
    });
  }

  auth() {
    const auth = {};
    if (this.sessionId) auth.session_id = this.sessionId;
    if (this.token) auth.token = this.token;
    return auth;
  }

  request(type, payload) {
    const socket = this.socket;
    if (!socket?.connected || this.closed)
      return Promise.resolve(failure("not_connected", "Connect first"));
    return new Promise((resolve) => {
      socket
        .timeout(ACK_TIMEOUT_MS)
        .emit(type, payload, (err, ack) => resolve(err ? ackTimeout(type) : ack));
    });
  }

  close() {
    this.closed = true;
    this.socket?.offAny();
    this.socket?.disconnect();
    this.setState("disconnected", "Disconnected");
  }
}
