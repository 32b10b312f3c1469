import type { Socket } from "socket.io";
import { RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import type { Config } from "../core/config.js";
import { GatewayError, toGatewayError, toWireError } from "../core/errors.js";
import type { AckResponse } from "../core/protocol.js";
import { describeErrors } from "../core/validator.js";
import type { HandlerContext } from "../registry/handler-context.js";
import type { HandlerRegistry, LoadedHandler } from "../registry/load-handlers.js";
import type { ConnectionRegistry } from "../state/types.js";

type Ack = (response: AckResponse) => void;

interface DispatcherDeps {
  config: Config;
  handlers: HandlerRegistry;
  rateLimiter: RateLimiterAbstract;
  connections: ConnectionRegistry;
}

/**
 * Routes every client event of one connection to its handler. It is the
 * socket's only packet middleware and never passes a packet on, so all the
 * checks, the ack and the error event live in this one place.
 */
export function attachDispatcher(socket: Socket, ctx: HandlerContext, deps: DispatcherDeps): void {
  const { maxMessageBytes, handlerTimeoutMs } = deps.config.limits;
  // Socket.IO hands decoded arguments to middleware, without their size; the
  // engine's "packet" event, fired synchronously just before, has the frame.
  let lastFrameBytes = 0;
  socket.conn.on("packet", (packet: { type: string; data?: unknown }) => {
    if (packet.type !== "message") return;
    const data = packet.data;
    if (typeof data === "string") {
      // A UTF-8 byte is at most 3 per UTF-16 unit: skip the exact count when it cannot matter.
      lastFrameBytes = data.length * 3 <= maxMessageBytes ? data.length : Buffer.byteLength(data);
    } else if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) {
      lastFrameBytes = data.byteLength;
    }
  });

  socket.use((packet) => {
    const frameBytes = lastFrameBytes;
    const [type, ...args] = packet as [string, ...unknown[]];
    const ack = typeof args.at(-1) === "function" ? (args.pop() as Ack) : undefined;
    void dispatch(type, args.length === 0 ? {} : args[0], frameBytes, ack);
  });

  async function dispatch(
    type: string,
    payload: unknown,
    frameBytes: number,
    ack: Ack | undefined,
  ) {
    const started = performance.now();
    deps.connections.countMessage(ctx.connectionId);
    try {
      await consumeRateLimit();
      if (frameBytes > maxMessageBytes) {
        throw new GatewayError(
          "message_too_large",
          `Messages are limited to ${maxMessageBytes} bytes`,
          {
            limit_bytes: maxMessageBytes,
            received_bytes: frameBytes,
          },
        );
      }
      const handler = deps.handlers.get(type);
      if (!handler) throw new GatewayError("unknown_type", `No handler for "${String(type)}"`);
      if (!handler.validate(payload)) {
        throw new GatewayError(
          "invalid_payload",
          `Invalid payload for "${type}"`,
          describeErrors(handler.validate.errors),
        );
      }
      // Per-event logs are debug-level and skipped whole below it: winston builds
      // and pipes an entry even for a level it then drops, which was ~40% of the
      // server CPU per ping (docs/performance.md).
      const debug = ctx.log.isDebugEnabled();
      if (debug) ctx.log.debug("event payload", { request_type: type, payload });
      const data = await runWithTimeout(
        handler,
        payload,
        handler.definition.timeoutMs ?? handlerTimeoutMs,
      );
      ack?.({ ok: true, data: data ?? {} });
      if (debug)
        ctx.log.debug("event handled", {
          request_type: type,
          ms: round(performance.now() - started),
        });
    } catch (error) {
      const gatewayError = toGatewayError(error);
      const wire = toWireError(gatewayError);
      if (gatewayError.code === "internal_error") {
        ctx.log.error("handler failed", {
          request_type: type,
          error: gatewayError.cause ?? gatewayError,
        });
      } else {
        ctx.log.info("event refused", { request_type: type, code: wire.code });
      }
      ack?.({ ok: false, error: wire });
      ctx.emit("error", { ...wire, request_type: String(type) });
    }
  }

  async function consumeRateLimit(): Promise<void> {
    try {
      await deps.rateLimiter.consume(ctx.connectionId);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      throw new GatewayError(
        "rate_limited",
        `At most ${deps.config.limits.rateLimitPerSec} events per second`,
        {
          retry_after_ms: rejection.msBeforeNext,
        },
      );
    }
  }

  async function runWithTimeout(
    handler: LoadedHandler,
    payload: unknown,
    timeoutMs: number,
  ): Promise<unknown> {
    const result = handler.definition.handle(payload, ctx);
    if (!(result instanceof Promise)) return result;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new GatewayError(
              "timeout",
              `"${handler.definition.type}" did not finish within ${timeoutMs} ms`,
            ),
          ),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([result, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }
}

const round = (ms: number) => Math.round(ms * 100) / 100;
