import type { Config } from "../core/config.js";
import { GatewayError, toGatewayError, toWireError, type WireError } from "../core/errors.js";
import type { AckResponse } from "../core/protocol.js";
import { exceedsDepth } from "../core/json-depth.js";
import { describeErrors } from "../core/validator.js";
import { withTimeout } from "../core/with-timeout.js";
import type { HandlerContext } from "../registry/handler-context.js";
import type { HandlerRegistry, LoadedHandler } from "../registry/load-handlers.js";
import type { ConnectionRegistry } from "../state/types.js";
import type { Admitted } from "./admission.js";
import type { Connection } from "./connection.js";
import { metrics } from "../metrics/instruments.js";
import { echoedType, FloodGuard, type FloodGuardOptions, type RateScope } from "./flood-guard.js";
import { consumeShared, type BudgetKeys, type SharedBudgets } from "./shared-budgets.js";

type Ack = (response: AckResponse) => void;

/** One client event as a transport decoded it. */
export interface Incoming {
  type: unknown;
  payload: unknown;
  /** The whole event's size on the wire, attachments included. */
  bytes: number;
  /** Present when the client asked for a reply (a Socket.IO ack, a frame's request_id). */
  reply?: Ack;
  /** Why the transport could not decode the event (not JSON, binary): refused after the rate and size checks. */
  malformed?: GatewayError;
}

export type Receive = (incoming: Incoming) => void;

export interface DispatcherDeps {
  config: Config;
  handlers: HandlerRegistry;
  budgets: SharedBudgets;
  connections: ConnectionRegistry;
}

/** A flooding connection is logged (and told) once per this interval, with the count since. */
const RATE_REFUSAL_REPORT_MS = 10_000;

const SCOPE_WORDING: Record<RateScope, string> = {
  connection: "on this connection",
  session: "in this session",
  user: "for this user",
  ip: "from this address",
};

/**
 * Routes every client event of one connection to its handler, whatever the
 * transport: the checks, the reply and the `error` event live in this one
 * place. The transport hands over each decoded event and never answers one
 * itself.
 */
export function createDispatcher(
  conn: Connection,
  admitted: Admitted,
  ctx: HandlerContext,
  deps: DispatcherDeps,
): Receive {
  return new Dispatcher(conn, ctx, deps, { sessionId: ctx.sessionId, person: admitted.principal })
    .receive;
}

/** The flood guard's settings, one object for every connection of a configuration. */
const guardOptions = new WeakMap<Config, FloodGuardOptions>();

function guardOptionsOf(config: Config): FloodGuardOptions {
  let options = guardOptions.get(config);
  if (!options) {
    options = {
      perSec: config.limits.rateLimitPerSec,
      disconnectAfterMs: config.abuse.rateLimitDisconnectAfterMs,
      reportIntervalMs: RATE_REFUSAL_REPORT_MS,
    };
    guardOptions.set(config, options);
  }
  return options;
}

/**
 * One connection's dispatcher. A class, not a family of closures: every
 * idle connection keeps one, so its methods live on the prototype and only
 * `receive` is a function of its own.
 */
class Dispatcher {
  private readonly guard: FloodGuard;
  /** Bound, not an arrow: under tsx an arrow per connection would also carry its name. */
  readonly receive: Receive;

  constructor(
    private readonly conn: Connection,
    private readonly ctx: HandlerContext,
    private readonly deps: DispatcherDeps,
    private readonly keys: BudgetKeys,
  ) {
    this.guard = new FloodGuard(guardOptionsOf(deps.config));
    this.receive = this.take.bind(this);
  }

  private take({ type, payload, bytes, reply, malformed }: Incoming): void {
    metrics.eventReceived(type, this.deps.handlers);
    this.deps.connections.countMessage(this.ctx.connectionId);
    // The cheap path: a flood is refused here, synchronously, before any promise or store call.
    const waitMs = this.guard.take(performance.now());
    if (waitMs > 0) this.refuseRate(echoedType(type), "connection", waitMs, reply);
    else
      void this.dispatch(
        type,
        payload,
        bytes,
        metrics.timedAck(reply, type, this.deps.handlers),
        malformed,
      );
  }

  private async dispatch(
    type: unknown,
    payload: unknown,
    bytes: number,
    ack: Ack | undefined,
    malformed: GatewayError | undefined,
  ) {
    const { ctx, deps } = this;
    const { maxMessageBytes, handlerTimeoutMs, maxPayloadDepth } = deps.config.limits;
    const started = performance.now();
    try {
      const shared = await consumeShared(deps.budgets, this.keys);
      if (shared) return this.refuseRate(echoedType(type), shared.scope, shared.retryAfterMs, ack);
      if (bytes > maxMessageBytes) {
        throw new GatewayError(
          "message_too_large",
          `Messages are limited to ${maxMessageBytes} bytes`,
          { limit_bytes: maxMessageBytes, received_bytes: bytes },
        );
      }
      if (malformed) throw malformed;
      const handler = typeof type === "string" ? deps.handlers.get(type) : undefined;
      if (!handler) throw new GatewayError("unknown_type", `No handler for "${echoedType(type)}"`);
      // Before the validator, which recurses, and before anything stringifies it again.
      if (exceedsDepth(payload, maxPayloadDepth)) {
        throw new GatewayError(
          "invalid_payload",
          `The payload nests deeper than ${maxPayloadDepth} levels`,
        );
      }
      if (!handler.validate(payload)) {
        throw new GatewayError(
          "invalid_payload",
          `Invalid payload for "${handler.definition.type}"`,
          describeErrors(handler.validate.errors),
        );
      }
      // Per-event logs are debug-level and skipped whole below it: winston builds
      // and pipes an entry even for a level it then drops, which was ~40% of the
      // server CPU per ping (docs/performance.md).
      const debug = ctx.log.isDebugEnabled();
      if (debug) ctx.log.debug("event payload", { request_type: type, payload });
      const data = await this.runWithTimeout(
        handler,
        payload,
        handler.definition.timeoutMs ?? handlerTimeoutMs,
      );
      metrics.handled(handler.definition.type, started);
      ack?.({ ok: true, data: data ?? {} });
      if (debug)
        ctx.log.debug("event handled", {
          request_type: type,
          ms: round(performance.now() - started),
        });
    } catch (error) {
      const gatewayError = toGatewayError(error);
      const requestType = echoedType(type);
      if (gatewayError.code === "internal_error") {
        ctx.log.error("handler failed", {
          request_type: requestType,
          error: gatewayError.cause ?? gatewayError,
        });
      } else {
        ctx.log.info("event refused", { request_type: requestType, code: gatewayError.code });
      }
      metrics.eventRefused(requestType, gatewayError.code, deps.handlers);
      this.refuse(toWireError(gatewayError), requestType, ack);
    }
  }

  /**
   * The details travel once: in the ack when there is one (the `error` event
   * then says only what failed), else in the `error` event.
   */
  private refuse(wire: WireError, requestType: string, ack: Ack | undefined): void {
    if (ack) {
      ack({ ok: false, error: wire });
      this.ctx.emit("error", { code: wire.code, message: wire.message, request_type: requestType });
    } else {
      this.ctx.emit("error", { ...wire, request_type: requestType });
    }
  }

  /**
   * Every refused event with an ack gets its answer; the log line and the
   * `error` event come once per interval, so a flood costs neither a log line
   * nor an output packet per event.
   */
  private refuseRate(
    requestType: string,
    scope: RateScope,
    retryAfterMs: number,
    ack: Ack | undefined,
  ): void {
    const { ctx, deps, guard } = this;
    if (ctx.signal.aborted) return;
    metrics.rateLimitRefused(requestType, scope, deps.handlers);
    const wire = toWireError(
      new GatewayError(
        "rate_limited",
        `At most ${perSecond(deps.config, scope)} events per second ${SCOPE_WORDING[scope]}`,
        { scope, retry_after_ms: retryAfterMs },
      ),
    );
    const refusal = guard.refuse(performance.now(), scope);
    if (refusal.disconnect) return this.disconnectFlooder(requestType, refusal.count);
    if (scope === "connection") this.stopReadingFor(retryAfterMs);
    if (refusal.report) {
      ctx.log.warn("events refused: rate limited", {
        request_type: requestType,
        scope,
        refused: refusal.count,
      });
      this.refuse(wire, requestType, ack);
    } else {
      ack?.({ ok: false, error: wire });
    }
  }

  /**
   * Refusing is cheap, but decoding what a flood sends is not: at 30,000
   * events a second it took the event loop from every other client (a polite
   * ping's p99 went to 9 s). Not reading the flooder's socket until its budget
   * refills leaves the rest of the flood in the kernel, and TCP slows the sender.
   */
  private stopReadingFor(ms: number): void {
    this.conn.pauseReading(ms);
  }

  private disconnectFlooder(requestType: string, refusedSinceReport: number): void {
    const { config } = this.deps;
    const seconds = config.abuse.rateLimitDisconnectAfterMs / 1000;
    this.ctx.log.warn("disconnected: rate limited", {
      reason: "rate_limited",
      request_type: requestType,
      refused: refusedSinceReport,
      refused_total: this.guard.refused,
    });
    this.ctx.emit("error", {
      code: "rate_limited",
      message: `Over ${config.limits.rateLimitPerSec} events per second for ${seconds} s: disconnected`,
      request_type: requestType,
      details: { scope: "connection", reason: "rate_limited" },
    });
    // Not at once: the client should read why; one that does not read meets the output cap.
    this.conn.close("rate_limited");
  }

  private async runWithTimeout(
    handler: LoadedHandler,
    payload: unknown,
    timeoutMs: number,
  ): Promise<unknown> {
    const result = handler.definition.handle(payload, this.ctx);
    if (!(result instanceof Promise)) return result;
    return withTimeout(
      result,
      timeoutMs,
      () =>
        new GatewayError(
          "timeout",
          `"${handler.definition.type}" did not finish within ${timeoutMs} ms`,
        ),
    );
  }
}

/** The budget of a scope, for the refusal's message. */
function perSecond(config: Config, scope: RateScope): number {
  switch (scope) {
    case "connection":
      return config.limits.rateLimitPerSec;
    case "session":
      return config.abuse.rateLimitPerSessionPerSec;
    case "user":
    case "ip":
      return config.abuse.rateLimitPerUserPerSec;
  }
}

const round = (ms: number) => Math.round(ms * 100) / 100;
