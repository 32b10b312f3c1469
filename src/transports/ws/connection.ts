import type { WebSocket } from "ws";
import type { LogSource, Logger } from "../../core/logger.js";
import type { Connection } from "../../sessions/connection.js";
import type { GroupMembership } from "../../sessions/fanout.js";
import { pauseSocket } from "../pause-reading.js";
import { socketUnder, type Corkable, type TurnCork } from "../turn-cork.js";

/** Close codes a client can branch on (RFC 6455 §7.4). */
export const CLOSE = {
  normal: 1000,
  goingAway: 1001,
  policy: 1008,
  tooBig: 1009,
} as const;

const CLOSE_CODES: Record<string, number> = {
  rate_limited: CLOSE.policy,
  token_expired: CLOSE.policy,
  server_shutdown: CLOSE.goingAway,
};

const TEXT_FRAME = { binary: false } as const;

/**
 * A plain WebSocket connection as the session core sees it. Its groups live
 * in Socket.IO's adapter (src/transports/socketio/bus.ts), so broadcasts
 * from any node reach it as they reach a Socket.IO socket.
 */
export class PlainConnection implements Connection {
  readonly transport = "ws" as const;
  /** performance.now() of the last frame or pong from the client (the heartbeat's clock). */
  lastHeard = performance.now();
  private closing = false;
  /** Where this connection's frames are held for the rest of the turn (WS_CORK_FRAMES). */
  private readonly socket: Corkable | undefined;
  /** The connection's own logger, read when a line is written; the server's until then. */
  private logs: LogSource | undefined;

  constructor(
    readonly id: string,
    private readonly ws: WebSocket,
    private readonly groups: GroupMembership,
    private readonly maxBufferedBytes: number,
    private readonly serverLog: Logger,
    private readonly cork: TurnCork | undefined,
  ) {
    this.socket = cork ? socketUnder(ws) : undefined;
    ws.on("pong", () => this.heard());
    ws.once("close", () => groups.leaveAll(this.id));
  }

  heard(): void {
    this.lastHeard = performance.now();
  }

  /** Where the connection's own logger is, once the session core has opened it. */
  useLogs(logs: LogSource): void {
    this.logs = logs;
  }

  private get log(): Logger {
    return this.logs?.log ?? this.serverLog;
  }

  send(_type: string, event: object): void {
    this.sendFrame(Buffer.from(JSON.stringify(event)));
  }

  /**
   * Writes a frame's UTF-8 bytes as a text frame, unless the client has
   * stopped reading: over WS_MAX_BUFFERED_BYTES the connection is dropped at
   * once and its buffers freed.
   *
   * Bytes, not a string: `ws` hands a string to the TCP socket as it is, so
   * a broadcast was encoded again for every member, and a turn's corked
   * `writev` mixing strings and buffers takes Node's slower path, converting
   * each string then (the plain fan-out's extra CPU, docs/performance.md).
   */
  sendFrame(frame: Buffer): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    if (this.socket) this.cork?.hold(this.socket);
    this.ws.send(frame, TEXT_FRAME);
    if (this.ws.bufferedAmount <= this.maxBufferedBytes) return;
    this.log.warn("closing the connection: the client does not read its output", {
      reason: "slow_consumer",
      limit_bytes: this.maxBufferedBytes,
      pending_bytes: this.ws.bufferedAmount,
    });
    this.ws.terminate();
  }

  /** After what was sent: the close frame queues behind it. */
  close(reason: string): void {
    if (this.closing) return;
    this.closing = true;
    this.ws.close(CLOSE_CODES[reason] ?? CLOSE.normal, reason);
  }

  /** Drops the TCP connection without a closing handshake (a silent or non-reading client). */
  terminate(): void {
    this.ws.terminate();
  }

  ping(): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.ping();
  }

  join(group: string): void {
    this.groups.join(this.id, group);
  }

  leave(group: string): void {
    this.groups.leave(this.id, group);
  }

  has(group: string): boolean {
    return this.groups.has(this.id, group);
  }

  onClose(callback: (reason: string) => void): void {
    this.ws.once("close", (code: number, reason: Buffer) =>
      callback(reason.length > 0 ? reason.toString() : `close ${code}`),
    );
  }

  pauseReading(ms: number): void {
    pauseSocket(this.ws, ms);
  }

  /** Resolves once the connection has closed. */
  closed(): Promise<void> {
    if (this.ws.readyState === this.ws.CLOSED) return Promise.resolve();
    return new Promise((resolve) => this.ws.once("close", () => resolve()));
  }
}
