import type { Logger } from "../core/logger.js";

/**
 * What the gateway tells the back end (the agents server of the AutoCode
 * project-room protocol): client feedback, project updates, and who watches a
 * project. Delivered at least once; consumers dedupe by `id`.
 */
export type BackendEventKind = "user_feedback" | "project_update" | "project_status_sync";

export interface BackendEvent {
  /** Unique per event, for consumers that must not act twice. */
  id: string;
  kind: BackendEventKind;
  project_id: string;
  session_id: string | null;
  user: string | null;
  data: Record<string, unknown>;
  /** ISO-8601, when the gateway accepted it. */
  timestamp: string;
}

/** Never waits and never throws: an event the back end cannot take yet is kept (bounded) and retried. */
export interface BackendChannel {
  publish(event: BackendEvent): void;
  /** Tries once more to deliver what is waiting, then stops retrying. */
  close(): Promise<void>;
}

/**
 * Events waiting for the back end, oldest first, at most `limit`: past it the
 * oldest is dropped and counted, so an outage costs bounded memory.
 */
export class PendingEvents {
  private readonly events: BackendEvent[] = [];
  private droppedSince = 0;

  constructor(
    private readonly limit: number,
    private readonly log: Logger,
    private readonly channel: string,
  ) {}

  get size(): number {
    return this.events.length;
  }

  push(event: BackendEvent): void {
    if (this.events.length >= this.limit) {
      this.events.shift();
      if (this.droppedSince++ === 0)
        this.log.warn("back-end events dropped: the buffer is full", {
          channel: this.channel,
          limit: this.limit,
        });
    }
    this.events.push(event);
  }

  peek(): BackendEvent | undefined {
    return this.events[0];
  }

  shift(): void {
    this.events.shift();
    if (this.events.length === 0 && this.droppedSince > 0) {
      this.log.warn("back-end channel caught up", {
        channel: this.channel,
        dropped: this.droppedSince,
      });
      this.droppedSince = 0;
    }
  }
}

/** Sends to every channel: Redis Stream, webhook, or both. */
export function fanOut(channels: BackendChannel[]): BackendChannel {
  return {
    publish: (event) => channels.forEach((c) => c.publish(event)),
    close: async () => {
      await Promise.all(channels.map((c) => c.close()));
    },
  };
}
