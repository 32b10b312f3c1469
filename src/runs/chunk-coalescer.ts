import type { Emit } from "../core/protocol.js";

/** Receives a chunk's text and the agent it speaks for. */
export type ChunkSink = (content: string, agent: string) => void;

/**
 * WS_STREAM_COALESCE_MS: tokens produced within one window leave as one
 * chunk, to spare clients an event per token. A window of 0 sends each token
 * at once.
 */
export class ChunkCoalescer {
  /** Tokens waiting for the window to close, all from `pendingAgent`. */
  private pending = "";
  private pendingAgent = "";
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly windowMs: number,
    private readonly send: ChunkSink,
  ) {}

  add(content: string, agent: string): void {
    if (this.windowMs <= 0) {
      this.send(content, agent);
      return;
    }
    // A chunk speaks for one agent: a new speaker closes the window early.
    if (this.pending.length > 0 && agent !== this.pendingAgent) this.flush();
    this.pending += content;
    this.pendingAgent = agent;
    this.flushTimer ??= setTimeout(() => this.flush(), this.windowMs);
  }

  flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.pending.length === 0) return;
    const content = this.pending;
    this.pending = "";
    this.send(content, this.pendingAgent);
  }

  /** Forgets the waiting tokens, so a stopped run's partial content is what clients received. */
  drop(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.pending = "";
  }

  /**
   * Coalescing happens before the run manager's publisher, so the history a
   * resume replays holds the same chunks (and seqs) the live clients got.
   * Any other event first sends the waiting tokens, to keep order.
   */
  flushingFirst(publish: Emit): Emit {
    if (this.windowMs <= 0) return publish;
    return (type, data) => {
      if (type !== "stream_chunk") this.flush();
      publish(type, data);
    };
  }
}
