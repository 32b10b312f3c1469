import type { Config } from "../core/config.js";
import { GatewayError, toGatewayError, toWireError, type WireError } from "../core/errors.js";
import type { AckResponse } from "../core/protocol.js";
import { exceedsDepth } from "../core/json-depth.js";
import { describeErrors, type ValidationIssue } from "../core/validator.js";
import { withTimeout } from "../core/with-timeout.js";
import type { HandlerRegistry, LoadedHandler } from "../registry/load-handlers.js";
import type { ConnectionRegistry } from "../state/types.js";
import type { Admitted } from "./admission.js";
import type { HandlerContext } from "../registry/handler-context.js";
import type { Connection, SessionHandlerContext } from "./connection.js";
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

/** What a transport can read of a frame without decoding it: enough to answer a refusal. */
export interface FramePeek {
  type?: string;
  reply?: Ack;
}

/**
 * Applies the connection's own budget to one client event before the
 * transport decodes it. False: it was refused (answered, counted, the
 * connection paused or cut off) and must be dropped unread. `peek` is called
 * only for a refusal.
 */
export type AdmitFrame = (peek: () => FramePeek) => boolean;

/** A connection's two entry points: every frame passes `admitFrame`, then what it admits reaches `receive`. */
export interface EventIntake {
  admitFrame: AdmitFrame;
  receive: Receive;
}

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
  ctx: SessionHandlerContext,
  deps: DispatcherDeps,
): EventIntake {
  return new Dispatcher(conn, ctx, deps, {
    sessionId: admitted.sessionKey,
    person: admitted.principal,
  });
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
  /** Bound, not arrows: under tsx an arrow per connection would also carry its name. */
  readonly receive: Receive;
  readonly admitFrame: AdmitFrame;
  /** Acks of the events being dispatched, each answered once (made on first use). */
  private awaiting: Set<Ack> | undefined;
  /** Set when the connection is cut off for flooding: what it still sends gets this at once. */
  private cutOff: WireError | undefined;

  constructor(
    private readonly conn: Connection,
    private readonly ctx: SessionHandlerContext,
    private readonly deps: DispatcherDeps,
    private readonly keys: BudgetKeys,
  ) {
    const { person } = keys;
    const share = person.scope === "ip" ? deps.budgets.addresses?.join(person.key) : undefined;
    if (share) conn.onClose(() => share.leave());
    this.guard = new FloodGuard(guardOptionsOf(deps.config), share);
    this.receive = this.take.bind(this);
    this.admitFrame = this.admit.bind(this);
  }

  /**
   * The cheap path, applied by the transport before it decodes the frame: a
   * flood is refused synchronously, before any parse, promise or store call.
   */
  private admit(peek: () => FramePeek): boolean {
    if (this.cutOff) {
      peek().reply?.({ ok: false, error: this.cutOff });
      return false;
    }
    const waitMs = this.guard.take(performance.now());
    if (waitMs === 0) return true;
    const { type, reply } = peek();
    this.count(type);
    this.refuseRate(echoedType(type), "connection", waitMs, reply);
    return false;
  }

  private take({ type, payload, bytes, reply, malformed }: Incoming): void {
    if (this.cutOff) return reply?.({ ok: false, error: this.cutOff });
    this.count(type);
    void this.dispatch(
      type,
      payload,
      bytes,
      this.answeredOnce(metrics.timedAck(reply, type, this.deps.handlers)),
      malformed,
    );
  }

  private count(type: unknown): void {
    metrics.eventReceived(type, this.deps.handlers);
    this.deps.connections.countMessage(this.ctx.connectionId);
  }

  /** Every request is answered exactly once: by its handler, or before a cut-off. */
  private answeredOnce(ack: Ack | undefined): Ack | undefined {
    if (!ack) return undefined;
    const awaiting = (this.awaiting ??= new Set());
    const once: Ack = (response) => {
      if (awaiting.delete(once)) ack(response);
    };
    awaiting.add(once);
    return once;
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
    if (ack) ctx.ackFirst.ackPending();
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
        const findings = describeErrors(handler.validate.errors);
        throw new GatewayError(
          "invalid_payload",
          `Invalid payload for "${handler.definition.type}": ${firstFinding(findings)}`,
          findings,
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
    } finally {
      if (ack) ctx.ackFirst.ackWritten();
    }
  }

  /** The ack and the `error` event carry the same error, details included. */
  private refuse(wire: WireError, requestType: string, ack: Ack | undefined): void {
    ack?.({ ok: false, error: wire });
    this.ctx.emit("error", { ...wire, request_type: requestType });
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
        `At most ${scope === "connection" ? guard.perSec : perSecond(deps.config, scope)} events per second ${SCOPE_WORDING[scope]}`,
        { scope, retry_after_ms: retryAfterMs },
      ),
    );
    const refusal = guard.refuse(performance.now(), scope);
    if (refusal.disconnect) return this.disconnectFlooder(requestType, refusal.count, ack);
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

  /**
   * The acks the client still waits for (this event's and those of events
   * being dispatched) are answered before the close, so none stays unanswered.
   */
  private disconnectFlooder(
    requestType: string,
    refusedSinceReport: number,
    ack: Ack | undefined,
  ): void {
    const { config } = this.deps;
    const seconds = config.abuse.rateLimitDisconnectAfterMs / 1000;
    this.ctx.log.warn("disconnected: rate limited", {
      reason: "rate_limited",
      request_type: requestType,
      refused: refusedSinceReport,
      refused_total: this.guard.refused,
    });
    const cutOff: WireError = {
      code: "rate_limited",
      message: `Over ${this.guard.perSec} events per second for ${seconds} s: disconnected`,
      details: { scope: "connection", reason: "rate_limited" },
    };
    this.cutOff = cutOff;
    ack?.({ ok: false, error: cutOff });
    for (const pending of this.awaiting ?? []) pending({ ok: false, error: cutOff });
    this.ctx.emit("error", { ...cutOff, request_type: requestType });
    // Not at once: the client should read why; one that does not read meets the output cap.
    this.conn.close("rate_limited");
  }

  private async runWithTimeout(
    handler: LoadedHandler,
    payload: unknown,
    timeoutMs: number,
  ): Promise<unknown> {
    const call = new CallSignal(this.ctx);
    const result = handler.definition.handle(payload, call.context);
    if (!(result instanceof Promise)) return result;
    return withTimeout(result, timeoutMs, () => {
      const timeout = new GatewayError(
        "timeout",
        `"${handler.definition.type}" did not finish within ${timeoutMs} ms`,
      );
      call.abort(timeout);
      return timeout;
    });
  }
}

/**
 * One handler call's view of the context: the same context, except that its
 * `signal` also fires when the call times out, so the handler's work stops
 * rather than going on unseen after the client was told `timeout`. The
 * signal is made only when the handler reads it.
 */
class CallSignal {
  readonly context: HandlerContext;
  private controller: AbortController | undefined;
  private signal: AbortSignal | undefined;
  private reason: GatewayError | undefined;

  constructor(ctx: HandlerContext) {
    this.context = new Proxy(ctx, {
      get: (target, key): unknown =>
        key === "signal" ? this.signalOf(target) : Reflect.get(target, key, target),
    });
  }

  abort(reason: GatewayError): void {
    this.reason = reason;
    this.controller?.abort(reason);
  }

  private signalOf(ctx: HandlerContext): AbortSignal {
    if (!this.signal) {
      this.controller = new AbortController();
      if (this.reason) this.controller.abort(this.reason);
      this.signal = AbortSignal.any([ctx.signal, this.controller.signal]);
    }
    return this.signal;
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

/** Long enough for a path and a property name; a client may send a property name of megabytes. */
const MAX_FINDING_LENGTH = 200;

/** The validator's first finding, as a message can show it: `/text must be string`. */
function firstFinding(findings: ValidationIssue[]): string {
  const first = findings[0];
  if (!first) return "the payload is invalid";
  const where = first.path === "/" ? "the payload" : first.path;
  const text = `${where} ${first.message}`;
  return text.length > MAX_FINDING_LENGTH ? `${text.slice(0, MAX_FINDING_LENGTH)}…` : text;
}

const round = (ms: number) => Math.round(ms * 100) / 100;
