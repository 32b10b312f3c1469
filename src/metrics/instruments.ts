import {
  AggregatorRegistry,
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  Registry,
} from "prom-client";
import type { ErrorCode } from "../core/errors.js";

/**
 * Every instrument the gateway exports, in one place. The registry is the
 * process's: several gateways in one process (tests) share it and are told
 * apart by their `node` label where it matters.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry });
// A WORKERS primary asks each worker for this registry (src/metrics/cluster-metrics.ts).
AggregatorRegistry.setRegistries([registry]);

/** Event types come from the handler registry; anything else is `unknown`, never the client's string. */
export type KnownTypes = Pick<ReadonlyMap<string, unknown>, "has">;
// Only names a handler answers become labels: a client cannot grow the series count.
const typeLabel = (type: unknown, known: KnownTypes) =>
  typeof type === "string" && known.has(type) ? type : "unknown";

/** What a gateway shows of itself at scrape time; read, never pushed, so nothing drifts. */
export interface NodeSource {
  nodeId: string;
  connections: () => Iterable<{ transport: string; sessionKey: string }>;
  queuedRuns(): number;
  activeRuns(): number;
  /** Undefined without Redis. */
  redisReady: (() => boolean) | undefined;
}

const sources = new Set<NodeSource>();

/** The node's gauges follow this gateway on every scrape until the returned function is called. */
export function watchNode(source: NodeSource): () => void {
  sources.add(source);
  return () => {
    sources.delete(source);
  };
}

const SHORT_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const RUN_SECONDS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 1800];

const instruments = {
  connections: new Gauge({
    name: "gateway_connections",
    help: "Connected clients, by transport and node",
    labelNames: ["transport", "node"] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const { connections, nodeId } of sources)
        for (const { transport } of connections()) this.inc({ transport, node: nodeId });
    },
  }),
  sessions: new Gauge({
    name: "gateway_sessions",
    help: "Distinct sessions with a connection on this node",
    labelNames: ["node"] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const { connections, nodeId } of sources) {
        const ids = [...connections()].map((c) => c.sessionKey);
        this.set({ node: nodeId }, new Set(ids).size);
      }
    },
  }),
  admissionsRefused: new Counter({
    name: "gateway_admissions_refused_total",
    help: "Handshakes refused, by error code",
    labelNames: ["code"] as const,
    registers: [registry],
  }),
  eventsReceived: new Counter({
    name: "gateway_events_received_total",
    help: "Client events received, by type (unknown types: unknown)",
    labelNames: ["type"] as const,
    registers: [registry],
  }),
  eventsRefused: new Counter({
    name: "gateway_events_refused_total",
    help: "Client events refused, by type and error code",
    labelNames: ["type", "code"] as const,
    registers: [registry],
  }),
  rateLimited: new Counter({
    name: "gateway_rate_limit_refusals_total",
    help: "Events refused by a rate budget, by the budget's scope",
    labelNames: ["scope"] as const,
    registers: [registry],
  }),
  handlerSeconds: new Histogram({
    name: "gateway_handler_duration_seconds",
    help: "Time a handler took to answer an event it accepted, by type",
    labelNames: ["type"] as const,
    buckets: SHORT_SECONDS,
    registers: [registry],
  }),
  ackSeconds: new Histogram({
    name: "gateway_ack_latency_seconds",
    help: "From an event's arrival to its ack, accepted or refused, by type",
    labelNames: ["type"] as const,
    buckets: SHORT_SECONDS,
    registers: [registry],
  }),
  runs: new Counter({
    name: "gateway_agent_runs_total",
    help: "Agent runs finished, by outcome (completed, cancelled, failed, error)",
    labelNames: ["outcome"] as const,
    registers: [registry],
  }),
  runSeconds: new Histogram({
    name: "gateway_agent_run_duration_seconds",
    help: "Agent run duration from its start (not its queueing), by outcome",
    labelNames: ["outcome"] as const,
    buckets: RUN_SECONDS,
    registers: [registry],
  }),
  firstTokenSeconds: new Histogram({
    name: "gateway_agent_first_token_seconds",
    help: "From a run's start to its first stream_chunk",
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    registers: [registry],
  }),
  tokens: new Counter({
    name: "gateway_stream_tokens_total",
    help: "stream_chunk events published (one model token each unless WS_STREAM_COALESCE_MS merges them)",
    registers: [registry],
  }),
  resumes: new Counter({
    name: "gateway_stream_resumes_total",
    help: "Streams resumed by a client",
    registers: [registry],
  }),
  queueDepth: new Gauge({
    name: "gateway_agent_queue_depth",
    help: "Agent runs waiting behind a session's current run, by node",
    labelNames: ["node"] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const source of sources) this.set({ node: source.nodeId }, source.queuedRuns());
    },
  }),
  runsActive: new Gauge({
    name: "gateway_agent_runs_active",
    help: "Agent runs running or queued, by node",
    labelNames: ["node"] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const source of sources) this.set({ node: source.nodeId }, source.activeRuns());
    },
  }),
  redisUp: new Gauge({
    name: "gateway_redis_up",
    help: "1 when the node's Redis answers, 0 when it does not (absent without REDIS_URL)",
    labelNames: ["node"] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const { nodeId, redisReady } of sources)
        if (redisReady) this.set({ node: nodeId }, redisReady() ? 1 : 0);
    },
  }),
  checkpointerSeconds: new Histogram({
    name: "gateway_checkpointer_duration_seconds",
    help: "Checkpointer reads (getTuple) and writes (put), by operation and backend",
    labelNames: ["operation", "backend"] as const,
    buckets: SHORT_SECONDS,
    registers: [registry],
  }),
};

const runStarts = new WeakMap<object, number>();
const seconds = (since: number) => (performance.now() - since) / 1000;

/** The recording side: call sites use these one-liners. */
export const metrics = {
  ...instruments,

  admissionRefused(code: ErrorCode): void {
    instruments.admissionsRefused.inc({ code });
  },

  eventReceived(type: unknown, known: KnownTypes): void {
    instruments.eventsReceived.inc({ type: typeLabel(type, known) });
  },

  eventRefused(type: unknown, code: ErrorCode, known: KnownTypes): void {
    instruments.eventsRefused.inc({ type: typeLabel(type, known), code });
  },

  rateLimitRefused(type: unknown, scope: string, known: KnownTypes): void {
    instruments.rateLimited.inc({ scope });
    instruments.eventsRefused.inc({ type: typeLabel(type, known), code: "rate_limited" });
  },

  handled(type: string, startedAt: number): void {
    instruments.handlerSeconds.observe({ type }, seconds(startedAt));
  },

  /** Wraps an ack so that answering it records the latency. */
  timedAck<A extends (...args: never[]) => void>(
    ack: A | undefined,
    type: unknown,
    known: KnownTypes,
  ): A | undefined {
    if (!ack) return undefined;
    const started = performance.now();
    const label = { type: typeLabel(type, known) };
    return ((...args: Parameters<A>) => {
      instruments.ackSeconds.observe(label, seconds(started));
      ack(...args);
    }) as A;
  },

  /** Times a run from its start and counts its outcome. */
  async timeRun<T extends { status: string }>(run: object, outcome: Promise<T>): Promise<T> {
    const started = performance.now();
    runStarts.set(run, started);
    try {
      const result = await outcome;
      recordRun(result.status, started);
      return result;
    } catch (error) {
      recordRun("error", started);
      throw error;
    } finally {
      runStarts.delete(run);
    }
  },

  published(run: object, type: string): void {
    if (type !== "stream_chunk") return;
    instruments.tokens.inc();
    const started = runStarts.get(run);
    if (started === undefined) return;
    // Only the first chunk of the run: later ones find no start.
    runStarts.delete(run);
    instruments.firstTokenSeconds.observe(seconds(started));
  },
};

function recordRun(outcome: string, started: number): void {
  instruments.runs.inc({ outcome });
  instruments.runSeconds.observe({ outcome }, seconds(started));
}
