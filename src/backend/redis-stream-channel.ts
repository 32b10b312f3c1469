import type { Logger } from "../core/logger.js";
import type { RedisCommands } from "../state/redis/lua.js";
import { PendingEvents, type BackendChannel, type BackendEvent } from "./backend-channel.js";

export interface RedisStreamChannelOptions {
  client: RedisCommands;
  /** The stream key back-end workers read with a consumer group. */
  stream: string;
  /** Entries the stream keeps (approximately): what an absent back end may miss at most. */
  maxLength: number;
  /** Events kept in memory while Redis itself is unreachable. */
  bufferEvents: number;
  retryMs?: number;
  log: Logger;
}

/**
 * Appends each event to a Redis Stream (XADD). Back-end workers read it with
 * XREADGROUP and XACK what they handled, so an event waits in Redis while no
 * worker runs and is handed to another worker if one dies before acking
 * (scripts/backend-consumer.ts). Writes are sent one at a time, in order;
 * while Redis is down they wait here, bounded, and are written when it returns.
 */
export function createRedisStreamChannel(options: RedisStreamChannelOptions): BackendChannel {
  const { client, stream, maxLength, log } = options;
  const retryMs = options.retryMs ?? 500;
  const pending = new PendingEvents(options.bufferEvents, log, `redis:${stream}`);
  let writing = false;
  let retry: NodeJS.Timeout | undefined;

  const drain = async (): Promise<void> => {
    if (writing) return;
    writing = true;
    try {
      for (let event = pending.peek(); event; event = pending.peek()) {
        await client.sendCommand([
          "XADD",
          stream,
          "MAXLEN",
          "~",
          String(maxLength),
          "*",
          ...fieldsOf(event),
        ]);
        pending.shift();
      }
    } catch (error) {
      log.debug("back-end stream: Redis unavailable, will retry", { error });
      retry ??= setTimeout(() => {
        retry = undefined;
        void drain();
      }, retryMs);
      retry.unref();
    } finally {
      writing = false;
    }
  };

  return {
    publish(event) {
      pending.push(event);
      void drain();
    },
    async close() {
      clearTimeout(retry);
      await drain();
      clearTimeout(retry);
    },
  };
}

/** Flat string fields, so any Redis client reads them; `data` is JSON. */
function fieldsOf(event: BackendEvent): string[] {
  return [
    "id",
    event.id,
    "kind",
    event.kind,
    "project_id",
    event.project_id,
    "session_id",
    event.session_id ?? "",
    "user",
    event.user ?? "",
    "data",
    JSON.stringify(event.data),
    "timestamp",
    event.timestamp,
  ];
}
