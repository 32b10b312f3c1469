/** The part of a net.Socket (or any Writable) that holds writes back. */
export interface Corkable {
  cork(): void;
  uncork(): void;
  readonly writableLength: number;
  readonly writableHighWaterMark: number;
  readonly destroyed: boolean;
}

/** When the held frames leave. */
type Schedule = (flush: () => void) => void;

/**
 * After this loop iteration's I/O callbacks, rather than at the end of the
 * current one (process.nextTick): engine.io's next flush, which waits for the
 * previous write's callback, then joins the same write; measured in
 * docs/performance.md, "Corked writes".
 */
const uncorkAfterIo: Schedule = (flush) => void setImmediate(flush);

/**
 * Writes to one socket within one event-loop turn leave in one `writev`
 * instead of one syscall per frame. The first frame of the turn corks the
 * socket; one callback per turn, shared by every socket held, uncorks them
 * all. Frames stay separate WebSocket frames, in their order; only their
 * leaving is deferred, by at most the rest of the turn.
 *
 * `cork()` is counted, so `ws`'s own cork/uncork around each frame nests
 * inside this one. A socket whose held bytes pass its high-water mark is
 * released at once (and held again), so a burst never waits in memory
 * longer than the kernel would have let it: the output caps, which read
 * writableLength, see the same bytes either way.
 */
export class TurnCork {
  private held = new Set<Corkable>();
  private scheduled = false;
  private readonly flush = (): void => {
    this.scheduled = false;
    const held = this.held;
    this.held = new Set();
    for (const socket of held) if (!socket.destroyed) socket.uncork();
  };

  constructor(private readonly schedule: Schedule = uncorkAfterIo) {}

  /** Call before each write to `socket`; a no-op after the first in a turn, unless the burst is large. */
  hold(socket: Corkable): void {
    if (this.held.has(socket)) {
      if (socket.writableLength < socket.writableHighWaterMark) return;
      socket.uncork();
      socket.cork();
      return;
    }
    if (socket.destroyed) return;
    socket.cork();
    this.held.add(socket);
    if (this.scheduled) return;
    this.scheduled = true;
    this.schedule(this.flush);
  }
}

/**
 * The TCP socket under a `ws` WebSocket (its `_socket`, which `ws` does not
 * type); undefined if a `ws` release moves it, and frames then go uncorked.
 */
export function socketUnder(ws: object): Corkable | undefined {
  const socket = (ws as { _socket?: Partial<Corkable> })._socket;
  return typeof socket?.cork === "function" && typeof socket.uncork === "function"
    ? (socket as Corkable)
    : undefined;
}
