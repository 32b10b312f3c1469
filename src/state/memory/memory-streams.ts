import { isReplayed, streamKey, TERMINAL_TYPES } from "../stream-vocabulary.js";
import type { StreamEvent, StreamFollower, StreamRef, StreamStore } from "../types.js";

interface StreamHistory {
  events: StreamEvent[];
  /** The highest chunk seq dropped under the cap (0: none). */
  droppedThrough: number;
  ended: boolean;
  followers: Set<(event: StreamEvent) => void>;
  expiry?: NodeJS.Timeout;
}

/**
 * One node's stream histories. Appends and follower delivery happen in the
 * same synchronous step, so a follower sees every event exactly once.
 */
export class MemoryStreamStore implements StreamStore {
  private readonly streams = new Map<string, StreamHistory>();

  /** `maxEvents`: events kept per stream; the oldest chunks go first. */
  constructor(private readonly maxEvents = 10_000) {}

  open(ref: StreamRef): void {
    const key = streamKey(ref);
    // A reused message id must not be deleted later by its predecessor's expiry.
    clearTimeout(this.streams.get(key)?.expiry);
    this.streams.set(key, { events: [], droppedThrough: 0, ended: false, followers: new Set() });
  }

  append(ref: StreamRef, event: StreamEvent): void {
    const stream = this.streams.get(streamKey(ref));
    if (!stream || stream.ended) return;
    stream.events.push(event);
    if (stream.events.length > this.maxEvents) dropOldest(stream, this.maxEvents);
    for (const follower of stream.followers) follower(event);
  }

  close(ref: StreamRef, retentionMs: number): void {
    const key = streamKey(ref);
    const stream = this.streams.get(key);
    if (!stream) return;
    stream.ended = true;
    stream.followers.clear();
    stream.expiry = setTimeout(() => this.streams.delete(key), retentionMs);
    stream.expiry.unref();
  }

  follow(
    ref: StreamRef,
    afterSeq: number,
    onEvent: (event: StreamEvent) => void,
    signal: AbortSignal,
  ): Promise<StreamFollower | null> {
    const stream = this.streams.get(streamKey(ref));
    if (!stream) return Promise.resolve(null);
    const trimmed =
      afterSeq < stream.droppedThrough ? { trimmedBefore: stream.droppedThrough + 1 } : {};
    for (const event of stream.events) if (isReplayed(event, afterSeq)) onEvent(event);
    if (stream.ended) return Promise.resolve({ done: Promise.resolve("ended"), ...trimmed });
    const done = new Promise<"ended" | "aborted">((resolve) => {
      const follower = (event: StreamEvent) => {
        onEvent(event);
        if (TERMINAL_TYPES.has(event.type)) finish("ended");
      };
      const finish = (result: "ended" | "aborted") => {
        stream.followers.delete(follower);
        signal.removeEventListener("abort", onAbort);
        resolve(result);
      };
      const onAbort = () => finish("aborted");
      stream.followers.add(follower);
      signal.addEventListener("abort", onAbort, { once: true });
    });
    return Promise.resolve({ done, ...trimmed });
  }

  /** Stops expiry timers, for a clean process exit. */
  clear(): void {
    for (const stream of this.streams.values()) clearTimeout(stream.expiry);
    this.streams.clear();
  }
}

/**
 * Drops the oldest events but the opening stream_start, which costs one entry
 * and tells a late reader what the stream is. A sixteenth of the cap goes at
 * once: moving the array down for every token of a long stream cost more CPU
 * than the rest of the store (docs/performance.md). The terminal event is the
 * last one appended, so it is never among the oldest.
 */
function dropOldest(stream: StreamHistory, maxEvents: number): void {
  const keepStart = stream.events[0]?.type === "stream_start" && stream.events.length > 2;
  const index = keepStart ? 1 : 0;
  const count = Math.min(
    stream.events.length - maxEvents + Math.floor(maxEvents / 16),
    stream.events.length - index - 1,
  );
  for (const dropped of stream.events.splice(index, count)) {
    const seq = dropped.payload.seq;
    if (seq !== undefined) stream.droppedThrough = Math.max(stream.droppedThrough, seq);
  }
}
