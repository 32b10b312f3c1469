import type { Logger } from "../core/logger.js";
import type { RedisCommands } from "../state/redis/lua.js";
import { createOrderedChannel, type BackendChannel, type BackendEvent } from "./backend-channel.js";

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
 * (scripts/backend-consumer.ts). While Redis is down the events wait here,
 * bounded, and are written in order when it returns.
 */
export function createRedisStreamChannel(options: RedisStreamChannelOptions): BackendChannel {
  const { client, stream, maxLength } = options;
  const retryMs = options.retryMs ?? 500;
  return createOrderedChannel({
    name: `redis:${stream}`,
    bufferEvents: options.bufferEvents,
    log: options.log,
    retryDelayMs: () => retryMs,
    async send(event) {
      await client.sendCommand([
        "XADD",
        stream,
        "MAXLEN",
        "~",
        String(maxLength),
        "*",
        ...fieldsOf(event),
      ]);
    },
  });
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
