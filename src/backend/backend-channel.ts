import type { Logger } from "../core/logger.js";

/**
 * What the gateway tells the back end (the service that runs AutoCode's
 * projects, docs/backend.md): client feedback, project updates, and who watches a
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
class PendingEvents {
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

export interface OrderedDelivery {
  /** Names the channel in the log. */
  name: string;
  bufferEvents: number;
  log: Logger;
  /** Delivers one event; rejecting keeps it first in line for a later try. */
  send(event: BackendEvent): Promise<void>;
  /** The wait before the next try, given how many tries in a row failed (1, 2, ...). */
  retryDelayMs(failures: number): number;
}

/**
 * The delivery loop both channels share: events go out one at a time and in
 * order; a failure keeps the event first in line and tries again after
 * `retryDelayMs`, so an event is only ever delayed while the back end (or
 * Redis) is down, or, past the buffer, the oldest is dropped with a warning.
 */
export function createOrderedChannel(delivery: OrderedDelivery): BackendChannel {
  const pending = new PendingEvents(delivery.bufferEvents, delivery.log, delivery.name);
  let sending = false;
  let failures = 0;
  let retry: NodeJS.Timeout | undefined;
  let closed = false;

  const drain = async (): Promise<void> => {
    if (sending || retry) return;
    sending = true;
    try {
      for (let event = pending.peek(); event; event = pending.peek()) {
        await delivery.send(event);
        pending.shift();
        failures = 0;
      }
    } catch (error) {
      const waitMs = delivery.retryDelayMs(++failures);
      delivery.log.debug("back-end channel: not delivered, will retry", {
        channel: delivery.name,
        error,
        in_ms: waitMs,
      });
      if (!closed) {
        retry = setTimeout(() => {
          retry = undefined;
          void drain();
        }, waitMs);
        retry.unref();
      }
    } finally {
      sending = false;
    }
  };

  return {
    publish(event) {
      pending.push(event);
      void drain();
    },
    async close() {
      closed = true;
      clearTimeout(retry);
      retry = undefined;
      await drain();
    },
  };
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
