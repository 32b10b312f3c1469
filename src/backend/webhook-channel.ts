import { createHmac } from "node:crypto";
import type { Logger } from "../core/logger.js";
import { PendingEvents, type BackendChannel } from "./backend-channel.js";

export interface WebhookChannelOptions {
  url: string;
  /** Signs each body: `X-Gateway-Signature: sha256=<hex HMAC of the body>`. */
  secret: string | undefined;
  /** Events kept while the back end does not accept them. */
  bufferEvents: number;
  /** Longest wait between two tries; the first retry comes after 250 ms, doubling. */
  maxBackoffMs: number;
  timeoutMs: number;
  log: Logger;
}

/**
 * POSTs each event as JSON, one at a time and in order. A 2xx answer
 * delivers it; anything else (an error status, a refused connection, a time
 * out) keeps it first in line and tries again later, so an event is never
 * skipped while the back end is down, only delayed (or, past the buffer, the
 * oldest dropped with a warning). At least once: the `id` lets a receiver
 * ignore a repeat.
 */
export function createWebhookChannel(options: WebhookChannelOptions): BackendChannel {
  const { url, secret, log } = options;
  const pending = new PendingEvents(options.bufferEvents, log, `webhook:${url}`);
  let sending = false;
  let backoffMs = 0;
  let retry: NodeJS.Timeout | undefined;
  let closed = false;

  const drain = async (): Promise<void> => {
    if (sending || retry) return;
    sending = true;
    try {
      for (let event = pending.peek(); event; event = pending.peek()) {
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
        pending.shift();
        backoffMs = 0;
      }
    } catch (error) {
      backoffMs = Math.min(Math.max(250, backoffMs * 2), options.maxBackoffMs);
      log.debug("back-end webhook: not delivered, will retry", { error, in_ms: backoffMs });
      if (!closed) {
        retry = setTimeout(() => {
          retry = undefined;
          void drain();
        }, backoffMs);
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

export function sign(secret: string, body: string): string {
  return createHmac("sha256", secret).update(body).digest("hex");
}
