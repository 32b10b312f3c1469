import type { Connection } from "./connection.js";
import type { Fanout, WireEvent } from "./fanout.js";

/**
 * Keeps a connection's acks ahead of the streams they start (docs/protocol.md,
 * "Acks"). A run a handler submits broadcasts to the session at once, so a
 * fast model's `stream_start` (even its `stream_end`) could be written before
 * the handler had returned the ack carrying its `message_id`. Once a run is
 * submitted while an ack of this connection is pending, broadcasts to this
 * connection wait here and leave, in their order, right after the last
 * pending ack is written. A hold lasts at most the handler timeout
 * (WS_HANDLER_TIMEOUT), by which time the dispatcher has answered the ack:
 * a client that keeps some ack pending all the time cannot make the held
 * events pile up.
 *
 * Only this connection waits: the session's other connections get the
 * stream as it comes. Events sent to this connection alone (`ctx.emit`) are
 * never held.
 */
export class AckFirst {
  private pendingAcks = 0;
  private held: WireEvent[] | undefined;
  private stopHolding: (() => void) | undefined;
  private holdTimer: NodeJS.Timeout | undefined;
  private closed = false;

  /**
   * `translated`: a dialect connection's own delivery, which the bus already
   * calls instead of the shared frame; holding borrows that slot and gives it back.
   */
  constructor(
    private readonly conn: Connection,
    private readonly fanout: Fanout,
    private readonly translated: ((event: WireEvent) => void) | undefined,
    private readonly maxHoldMs: number,
  ) {}

  ackPending(): void {
    this.pendingAcks += 1;
  }

  ackWritten(): void {
    this.pendingAcks -= 1;
    if (this.pendingAcks === 0 && this.held) this.release();
  }

  /** Called before a handler submits a run: what the run broadcasts waits for the ack. */
  runSubmitting(): void {
    if (this.pendingAcks === 0 || this.held || this.closed) return;
    const held: WireEvent[] = [];
    this.held = held;
    this.stopHolding = this.fanout.translateFor(this.conn.id, (event) => held.push(event));
    this.holdTimer = setTimeout(() => this.release(), this.maxHoldMs);
    this.holdTimer.unref();
  }

  /** The connection closed: nothing held is worth writing. */
  drop(): void {
    this.closed = true;
    this.held = undefined;
    clearTimeout(this.holdTimer);
    this.stopHolding?.();
    this.stopHolding = undefined;
  }

  private release(): void {
    const held = this.held;
    if (!held) return;
    this.held = undefined;
    clearTimeout(this.holdTimer);
    const { conn, translated } = this;
    if (translated) this.fanout.translateFor(conn.id, translated);
    else this.stopHolding?.();
    this.stopHolding = undefined;
    const deliver = translated ?? ((event: WireEvent) => conn.send(event.type, event));
    for (const event of held) deliver(event);
  }
}
