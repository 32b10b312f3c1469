import type { Config } from "../core/config.js";
import type { Logger } from "../core/logger.js";
import type { RedisCommands } from "../state/redis/lua.js";
import { fanOut, type BackendChannel } from "./backend-channel.js";
import { createRedisStreamChannel } from "./redis-stream-channel.js";
import { createWebhookChannel } from "./webhook-channel.js";

/**
 * The configured channels to the back end: the Redis Stream whenever the node
 * has Redis, the webhook when BACKEND_WEBHOOK_URL is set, or none (events then
 * only reach the project's room).
 */
export function createBackendChannel(
  config: Config,
  log: Logger,
  redis: RedisCommands | undefined,
): BackendChannel | undefined {
  const { backend } = config;
  const channels: BackendChannel[] = [];
  if (redis) {
    channels.push(
      createRedisStreamChannel({
        client: redis,
        stream: backend.stream,
        maxLength: backend.streamMaxLength,
        bufferEvents: backend.bufferEvents,
        log,
      }),
    );
  }
  if (backend.webhookUrl) {
    channels.push(
      createWebhookChannel({
        url: backend.webhookUrl,
        secret: backend.webhookSecret,
        bufferEvents: backend.bufferEvents,
        maxBackoffMs: backend.webhookMaxBackoffMs,
        timeoutMs: backend.webhookTimeoutMs,
        log,
      }),
    );
  }
  return channels.length === 0 ? undefined : fanOut(channels);
}
