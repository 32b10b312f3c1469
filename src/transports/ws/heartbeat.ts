import type { Logger } from "../../core/logger.js";
import type { PlainConnection } from "./connection.js";

/**
 * The plain WebSocket heartbeat, timed per connection as Socket.IO times its
 * own: a ping every WS_HEARTBEAT_INTERVAL from the connection's start, and a
 * connection silent (no frame, no pong) for WS_HEARTBEAT_TIMEOUT is dropped
 * then. One timer shared by every connection could only act on its ticks,
 * which put the learning-coach protocol's 30 s / 60 s at up to 45 s / 75 s.
 * A frame only stamps `lastHeard`; the silence timer reads it when it fires
 * and waits out the rest, so traffic never touches a timer.
 */
export function watchHeartbeat(
  conn: PlainConnection,
  { intervalMs, timeoutMs }: { intervalMs: number; timeoutMs: number },
  log: Logger,
): void {
  const pings = setInterval(() => conn.ping(), intervalMs).unref();
  const checkSilence = () => {
    const silentMs = performance.now() - conn.lastHeard;
    if (silentMs < timeoutMs) {
      silence = setTimeout(checkSilence, timeoutMs - silentMs).unref();
      return;
    }
    log.info("closing the connection: no frame or pong within WS_HEARTBEAT_TIMEOUT", {
      connection_id: conn.id,
      reason: "heartbeat_timeout",
    });
    conn.terminate();
  };
  let silence = setTimeout(checkSilence, timeoutMs).unref();
  conn.onClose(() => {
    clearInterval(pings);
    clearTimeout(silence);
  });
}
