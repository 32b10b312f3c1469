import { createHmac } from "node:crypto";
import { backoffMs } from "../core/backoff.js";
import type { Logger } from "../core/logger.js";
import { createOrderedChannel, type BackendChannel } from "./backend-channel.js";

export interface WebhookChannelOptions {
  url: string;
  /** Signs each body: `X-Gateway-Signature: sha256=<hex HMAC of the body>`. */
  secret: string | undefined;
  /** Events kept while the back end does not accept them. */
  bufferEvents: number;
  /** Longest wait between two tries; the first retry comes within 250 ms, then about twice as late each time. */
  maxBackoffMs: number;
  timeoutMs: number;
  log: Logger;
}

const FIRST_RETRY_MS = 250;

/**
 * POSTs each event as JSON, one at a time and in order. A 2xx answer
 * delivers it; anything else (an error status, a refused connection, a time
 * out) keeps it first in line and tries again later. At least once: the `id`
 * lets a receiver ignore a repeat.
 */
export function createWebhookChannel(options: WebhookChannelOptions): BackendChannel {
  const { url, secret } = options;
  return createOrderedChannel({
    name: `webhook:${url}`,
    bufferEvents: options.bufferEvents,
    log: options.log,
    retryDelayMs: (failures) =>
      backoffMs(failures, { firstMs: FIRST_RETRY_MS, maxMs: options.maxBackoffMs }),
    async send(event) {
      const body = JSON.stringify(event);
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (secret) headers["x-gateway-signature"] = `sha256=${sign(secret, body)}`;
      const response = await fetch(url, {
        method: "POST",
        headers,
        body,
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      await response.body?.cancel();
      if (!response.ok) throw new Error(`the back end answered ${response.status}`);
    },
  });
}

export function sign(secret: string, body: string): string {
  return createHmac("sha256", secret).update(body).digest("hex");
}
