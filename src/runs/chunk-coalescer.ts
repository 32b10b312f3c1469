import type { Emit } from "../core/protocol.js";

/** Receives a chunk's text, the agent it speaks for and that agent's subgraph path. */
export type ChunkSink = (content: string, agent: string, namespace: string[]) => void;

export interface CoalescingPolicy {
  /** WS_STREAM_COALESCE_MS: how long tokens may wait for others; 0 = to the end of the event-loop turn. */
  windowMs: number;
  /** WS_STREAM_COALESCE_MAX_CHARS: a chunk leaves once it holds this many characters; 1 = each token alone. */
  maxChars: number;
}

/**
 * Tokens produced close together leave as one chunk, to spare the server a
 * frame and a write per token per client and the clients an event per token.
 *
 * By default "close together" is the same event-loop turn: what a model's
 * one network read yields, or a whole answer from a model that never waits.
 * The turn's first token leaves at once and the others at the turn's end, so
 * no token waits longer than the turn that produced it, and the CPU saved per
 * token is most of what the gateway spent outside LangGraph
 * (docs/performance.md). A window in milliseconds merges more; `maxChars`
 * bounds a chunk either way, so a long answer produced in one turn still
 * leaves in pieces.
 */
export class ChunkCoalescer {
  /** Tokens waiting for the turn or window to end, all from `pendingAgent`. */
  private pending = "";
  private pendingAgent = "";
  private pendingNamespace: string[] = [];
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;

  constructor(
    private readonly policy: CoalescingPolicy,
    private readonly send: ChunkSink,
  ) {}

  private get each(): boolean {
    return this.policy.maxChars <= 1;
  }

  add(content: string, agent: string, namespace: string[]): void {
    if (this.each) {
      this.send(content, agent, namespace);
      return;
    }
    // A chunk speaks for one agent: a new speaker closes it early.
    if (
      this.pending.length > 0 &&
      (agent !== this.pendingAgent || !sameNamespace(namespace, this.pendingNamespace))
    )
      this.flush();
    if (this.policy.windowMs <= 0 && this.timer === undefined) {
      // The turn's first token leaves at once: the rest of the turn may be the graph's own
      // work (a checkpoint, the next node), which the first token must not wait for.
      this.send(content, agent, namespace);
      this.timer = this.schedule();
      return;
    }
    this.pending += content;
    this.pendingAgent = agent;
    this.pendingNamespace = namespace;
    if (this.pending.length >= this.policy.maxChars) this.flush();
    else this.timer ??= this.schedule();
  }

  flush(): void {
    this.cancelTimer();
    if (this.pending.length === 0) return;
    const content = this.pending;
    this.pending = "";
    this.send(content, this.pendingAgent, this.pendingNamespace);
  }

  /** Forgets the waiting tokens, so a stopped run's partial content is what clients received. */
  drop(): void {
    this.cancelTimer();
    this.pending = "";
  }

  /**
   * Coalescing happens before the run manager's publisher, so the history a
   * resume replays holds the same chunks (and seqs) the live clients got.
   * Any other event first sends the waiting tokens, to keep order.
   */
  flushingFirst(publish: Emit): Emit {
    if (this.each) return publish;
    return (type, data) => {
      if (type !== "stream_chunk") this.flush();
      publish(type, data);
    };
  }

  private schedule(): NodeJS.Timeout | NodeJS.Immediate {
    const flush = () => {
      this.timer = undefined;
      this.flush();
    };
    return this.policy.windowMs > 0 ? setTimeout(flush, this.policy.windowMs) : setImmediate(flush);
  }

  private cancelTimer(): void {
    if (this.timer === undefined) return;
    if (this.policy.windowMs > 0) clearTimeout(this.timer as NodeJS.Timeout);
    else clearImmediate(this.timer as NodeJS.Immediate);
    this.timer = undefined;
  }
}

/** Tokens of one model call share one array; others compare by their path. */
function sameNamespace(a: string[], b: string[]): boolean {
  return a === b || a.join("|") === b.join("|");
}
