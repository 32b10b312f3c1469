import { Type, type Static } from "@sinclair/typebox";
import type { ErrorObject } from "ajv";
import { createValidator } from "./validator.js";

/** The plain WebSocket paths WS_PLAIN_PATHS may list (src/transports/ws/routes.ts). */
export const PLAIN_PATH_PATTERNS = [
  "/ws/agent",
  "/ws/agents/{session_id}",
  "/ws/projects/{project_id}/status",
  "/ws",
] as const;
export type PlainPathPattern = (typeof PLAIN_PATH_PATTERNS)[number];
const isPlainPathPattern = (path: string): path is PlainPathPattern =>
  (PLAIN_PATH_PATTERNS as readonly string[]).includes(path);

/**
 * Every setting the gateway reads from the environment. Defaults live here and
 * nowhere else; `.env.example` and the README table document the same names.
 */
const EnvSchema = Type.Object({
  NODE_ENV: Type.String({ default: "development" }),
  HOST: Type.String({ default: "0.0.0.0" }),
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8003 }),
  LOG_LEVEL: Type.Union(
    ["error", "warn", "info", "http", "verbose", "debug"].map((l) => Type.Literal(l)),
    { default: "info" },
  ),
  LOG_FORMAT: Type.Optional(Type.Union([Type.Literal("json"), Type.Literal("pretty")])),
  WS_HEARTBEAT_INTERVAL: Type.Number({ exclusiveMinimum: 0, default: 30 }),
  WS_HEARTBEAT_TIMEOUT: Type.Number({ exclusiveMinimum: 0, default: 60 }),
  WS_MAX_CONNECTIONS: Type.Integer({ minimum: 1, default: 10000 }),
  WS_MAX_CONNECTIONS_PER_SESSION: Type.Integer({ minimum: 1, default: 5 }),
  WS_MAX_MESSAGE_BYTES: Type.Integer({ minimum: 1024, default: 1048576 }),
  // Unset: WS_MAX_MESSAGE_BYTES + FRAME_ENVELOPE_BYTES (see frameCapOf).
  WS_MAX_FRAME_BYTES: Type.Optional(Type.Integer({ minimum: 1024 })),
  WS_RATE_LIMIT_PER_SEC: Type.Integer({ minimum: 1, default: 50 }),
  WS_HANDLER_TIMEOUT: Type.Number({ exclusiveMinimum: 0, default: 30 }),
  WS_STREAM_COALESCE_MS: Type.Number({ minimum: 0, default: 0 }),
  WS_STREAM_COALESCE_MAX_CHARS: Type.Integer({ minimum: 1, default: 1024 }),
  API_KEY: Type.Optional(Type.String({ minLength: 16 })),
  AUTH_JWT_SECRET: Type.Optional(Type.String({ minLength: 32 })),
  CORS_ORIGINS: Type.String({ default: "" }),
  SHUTDOWN_GRACE_SECONDS: Type.Number({ minimum: 0, default: 10 }),
  AGENT_MODEL: Type.String({ pattern: "^(demo|openai:.+)$", default: "demo" }),
  DEMO_TOKEN_DELAY_MS: Type.Number({ minimum: 0, default: 30 }),
  OPENAI_API_KEY: Type.Optional(Type.String()),
  OPENAI_BASE_URL: Type.Optional(Type.String({ format: "uri" })),
  CHECKPOINT_DATABASE_URL: Type.Optional(Type.String({ pattern: "^postgres(ql)?://" })),
  // Written into SQL as a quoted identifier by PostgresSaver, so only plain names.
  CHECKPOINT_DATABASE_SCHEMA: Type.String({
    pattern: "^[A-Za-z_][A-Za-z0-9_]{0,62}$",
    default: "public",
  }),
  AGENT_STREAM_RETENTION: Type.Number({ minimum: 0, default: 600 }),
  AGENT_CANCEL_ON_DISCONNECT: Type.Boolean({ default: false }),
  AGENT_MULTITASK: Type.Union(
    [Type.Literal("enqueue"), Type.Literal("reject"), Type.Literal("interrupt")],
    {
      default: "enqueue",
    },
  ),
  AGENT_MAX_QUEUE: Type.Integer({ minimum: 1, default: 10 }),
  AGENT_RUN_TIMEOUT: Type.Number({ exclusiveMinimum: 0, default: 1800 }),
  REDIS_URL: Type.Optional(Type.String({ pattern: "^rediss?://" })),
  CLUSTER_NODE_TTL_SECONDS: Type.Number({ exclusiveMinimum: 0, default: 15 }),
  WORKERS: Type.Integer({ minimum: 1, default: 1 }),
  CLUSTER_LOCAL_BROADCASTS: Type.Boolean({ default: true }),
  // Security (docs/security.md)
  WS_SESSION_IDS: Type.Union([Type.Literal("any"), Type.Literal("strong")], { default: "any" }),
  WS_CONNECT_TIMEOUT: Type.Number({ exclusiveMinimum: 0, default: 5 }),
  WS_MAX_PENDING_HANDSHAKES: Type.Integer({ minimum: 1, default: 1000 }),
  WS_MAX_PAYLOAD_DEPTH: Type.Integer({ minimum: 1, default: 32 }),
  AUTH_ALLOW_NO_EXP: Type.Boolean({ default: false }),
  AUTH_MAX_TOKEN_BYTES: Type.Integer({ minimum: 256, default: 8192 }),
  AGENT_MAX_RUNS: Type.Integer({ minimum: 1, default: 100 }),
  AGENT_MAX_QUEUED_PER_USER: Type.Integer({ minimum: 1, default: 20 }),
  // Shared state: session owners, Redis outages, stream history.
  AGENT_THREAD_TTL: Type.Number({ exclusiveMinimum: 0, default: 86400 }),
  WS_MAX_SESSIONS: Type.Integer({ minimum: 1, default: 100000 }),
  CLUSTER_ADMISSION_ON_REDIS_DOWN: Type.Union([Type.Literal("refuse"), Type.Literal("local")], {
    default: "refuse",
  }),
  CLUSTER_OUTAGE_BUFFER_EVENTS: Type.Integer({ minimum: 0, default: 10000 }),
  AGENT_STREAM_MAX_EVENTS: Type.Integer({ minimum: 1, default: 10000 }),
  // Conversation memory bounds (src/agents/thread-bounds.ts)
  AGENT_HISTORY_MAX_MESSAGES: Type.Integer({ minimum: 1, default: 50 }),
  AGENT_THREAD_MAX_MESSAGES: Type.Integer({ minimum: 2, default: 200 }),
  AGENT_MAX_THREADS: Type.Integer({ minimum: 1, default: 10000 }),
  // Graphs (docs/graphs.md)
  AGENT_DEFAULT_GRAPH: Type.String({ pattern: "^[A-Za-z][A-Za-z0-9_-]{0,63}$", default: "agent" }),
  AGENT_INTERRUPT_TTL: Type.Number({ exclusiveMinimum: 0, default: 86400 }),
  // Model upstream (src/agents/model-health.ts)
  AGENT_MODEL_TIMEOUT: Type.Number({ exclusiveMinimum: 0, default: 30 }),
  AGENT_MODEL_FAILURES_NOT_READY: Type.Integer({ minimum: 1, default: 3 }),
  AGENT_MODEL_IDLE_TIMEOUT: Type.Number({ exclusiveMinimum: 0, default: 120 }),
  // The back-end channel (src/backend/)
  BACKEND_STREAM: Type.String({ minLength: 1, default: "gateway:backend-events" }),
  BACKEND_STREAM_MAX_LEN: Type.Integer({ minimum: 1, default: 100000 }),
  BACKEND_BUFFER_EVENTS: Type.Integer({ minimum: 1, default: 10000 }),
  BACKEND_WEBHOOK_URL: Type.Optional(Type.String({ format: "uri", pattern: "^https?://" })),
  BACKEND_WEBHOOK_SECRET: Type.Optional(Type.String({ minLength: 16 })),
  BACKEND_WEBHOOK_MAX_BACKOFF: Type.Number({ exclusiveMinimum: 0, default: 30 }),
  BACKEND_WEBHOOK_TIMEOUT: Type.Number({ exclusiveMinimum: 0, default: 10 }),
  // Abuse bounds of the event path (src/sessions/flood-guard.ts, shared-budgets.ts; the output cap in src/transports/).
  WS_RATE_LIMIT_PER_SESSION_PER_SEC: Type.Integer({ minimum: 1, default: 100 }),
  WS_RATE_LIMIT_PER_USER_PER_SEC: Type.Integer({ minimum: 1, default: 200 }),
  WS_RATE_LIMIT_DISCONNECT_AFTER: Type.Number({ minimum: 0, default: 10 }),
  WS_RATE_LIMIT_SHARE_ADDRESS: Type.Boolean({ default: true }),
  WS_MAX_BUFFERED_BYTES: Type.Integer({ minimum: 1024, default: 4194304 }),
  // Both transports' write path (src/transports/turn-cork.ts).
  WS_CORK_FRAMES: Type.Boolean({ default: true }),
  // The plain WebSocket endpoint (src/transports/ws/).
  WS_PLAIN_ENABLED: Type.Boolean({ default: true }),
  WS_PLAIN_PATHS: Type.String({ default: PLAIN_PATH_PATTERNS.join(",") }),
  // Operating (src/metrics/, src/transports/socketio/admin-ui.ts)
  METRICS_PORT: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
  METRICS_TOKEN: Type.Optional(Type.String({ minLength: 16 })),
  ADMIN_UI_USERNAME: Type.Optional(Type.String({ minLength: 1 })),
  ADMIN_UI_PASSWORD: Type.Optional(Type.String({ minLength: 12 })),
  WS_STATISTICS_PUBLIC: Type.Boolean({ default: false }),
});

export type Env = Static<typeof EnvSchema>;

export interface Config {
  env: Env;
  production: boolean;
  host: string;
  port: number;
  logLevel: string;
  logFormat: "json" | "pretty";
  heartbeat: { intervalMs: number; timeoutMs: number };
  limits: {
    maxConnections: number;
    maxConnectionsPerSession: number;
    maxMessageBytes: number;
    /** The transport's own cap: a bigger frame closes the connection to protect memory. */
    maxFrameBytes: number;
    rateLimitPerSec: number;
    handlerTimeoutMs: number;
    /** How long a transport may stay open without completing a Socket.IO CONNECT. */
    connectTimeoutMs: number;
    /** Transports open but not (yet) admitted, beyond which new handshakes are refused. */
    maxPendingHandshakes: number;
    /** Deepest nesting of objects and arrays in a payload or request body. */
    maxPayloadDepth: number;
    /** Sessions whose owner is remembered at once, per store (cluster-wide with Redis). */
    maxSessions: number;
    /** How long a session remembers its owner after its last admission or release. */
    sessionOwnerTtlMs: number;
  };
  apiKey: string | undefined;
  jwtSecret: string | undefined;
  auth: {
    /** Tokens without `exp` are refused unless this is set. */
    allowNoExp: boolean;
    /** Longer tokens are refused before they are verified (bounds `sub` and `projects`). */
    maxTokenBytes: number;
  };
  /** Which client-chosen session ids anonymous clients may use (src/sessions/session-id.ts). */
  sessionIdPolicy: "any" | "strong";
  /** `"*"` allows every origin; an empty list allows same-origin browsers only. */
  corsOrigins: string[] | "*";
  shutdownGraceMs: number;
  agent: {
    /** `demo` or `openai:<model>`. */
    model: string;
    demoTokenDelayMs: number;
    openaiApiKey: string | undefined;
    openaiBaseUrl: string | undefined;
    checkpointDatabaseUrl: string | undefined;
    /** PostgreSQL schema of the checkpoint tables (created by setup() when missing). */
    checkpointDatabaseSchema: string;
    streamRetentionMs: number;
    cancelOnDisconnect: boolean;
    multitask: "enqueue" | "reject" | "interrupt";
    /** Most runs waiting behind the current one in a session, under `enqueue`. */
    maxQueue: number;
    runTimeoutMs: number;
    /** Runs executing at once on this node; more are refused with `busy`. */
    maxRuns: number;
    /** Runs (running or queued) one user, or one IP for anonymous clients, may have on this node. */
    maxQueuedPerUser: number;
    /** Which tokens leave together as one stream_chunk (src/runs/chunk-coalescer.ts). */
    streamCoalescing: { windowMs: number; maxChars: number };
    /** Events kept per stream history; older chunks are dropped first. */
    streamMaxEvents: number;
    /** The newest messages of a thread the model sees, besides the system prompt. */
    historyMaxMessages: number;
    /** The newest messages of a thread the checkpointer keeps; older ones are removed. */
    threadMaxMessages: number;
    /** A conversation not written for this long is deleted from the checkpointer. */
    threadTtlMs: number;
    /** Most conversations the in-memory checkpointer holds; the least recently written go first. */
    maxThreads: number;
    /** The graph a session runs when neither the message nor the session names one. */
    defaultGraph: string;
    /** How long an interrupted run may wait for `resume_run`. */
    interruptTtlMs: number;
    /** How long an OpenAI-compatible model may take to connect and start answering. */
    modelTimeoutMs: number;
    /** A model call that sends nothing for this long fails the run (src/runs/model-watchdog.ts). */
    modelIdleMs: number;
    /** Consecutive model failures after which /readyz reports the node not ready. */
    modelFailuresNotReady: number;
  };
  /** Set: the node joins a cluster through Redis. Unset: everything stays in memory. */
  redisUrl: string | undefined;
  /** How long a node that stops heartbeating keeps counting (its connections, its runs). */
  clusterNodeTtlMs: number;
  /** Worker processes behind this one port (src/cluster/workers.ts). */
  workers: number;
  /** A broadcast to a session with no member on another node stays on this one (src/cluster/peer-groups.ts). */
  clusterLocalBroadcasts: boolean;
  /** `local`: while Redis is unreachable, admit under this node's own caps. */
  admissionOnRedisDown: "refuse" | "local";
  /** Stream writes kept per node while Redis is down, written when it returns. */
  outageBufferEvents: number;
  /** Where client feedback and project updates go for the back end (docs/backend.md). */
  backend: {
    /** Redis Stream key, written when REDIS_URL is set. */
    stream: string;
    streamMaxLength: number;
    /** Events kept per channel while it cannot deliver. */
    bufferEvents: number;
    webhookUrl: string | undefined;
    webhookSecret: string | undefined;
    webhookMaxBackoffMs: number;
    webhookTimeoutMs: number;
  };
  abuse: {
    rateLimitPerSessionPerSec: number;
    /** Per authenticated user, or per client IP for anonymous connections. */
    rateLimitPerUserPerSec: number;
    /** A connection over its own rate for this long is disconnected; 0 never disconnects. */
    rateLimitDisconnectAfterMs: number;
    /** Anonymous connections of one address each get an equal part of its budget as their own. */
    rateLimitShareAddress: boolean;
    /** Output waiting for a client that does not read; over it the connection is closed. */
    maxBufferedBytes: number;
  };
  /** A connection's frames of one event-loop turn leave in one write (src/transports/turn-cork.ts). */
  corkFrames: boolean;
  plainWebSocket: {
    enabled: boolean;
    /** Path patterns served, with `{session_id}` and `{project_id}` placeholders. */
    paths: PlainPathPattern[];
  };
  operating: {
    /** Set: /metrics is served on this port alone (the primary's sum with WORKERS > 1). */
    metricsPort: number | undefined;
    /** Bearer token /metrics asks for; API_KEY when unset; open when neither is set. */
    metricsToken: string | undefined;
    /** Set: the Socket.IO Admin UI is instrumented and served at /admin-ui/. */
    adminUi: { username: string; password: string } | undefined;
    /** GET /ws/statistics lists every connection (ids, sessions) without the API key. */
    statisticsPublic: boolean;
  };
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** Settings whose values are never printed: an error says what is wrong with them, not what they are. */
const SECRET_SETTINGS: ReadonlySet<string> = new Set([
  "API_KEY",
  "AUTH_JWT_SECRET",
  "ADMIN_UI_PASSWORD",
  "METRICS_TOKEN",
  "BACKEND_WEBHOOK_SECRET",
  "OPENAI_API_KEY",
]);
/** URLs that may carry a password: printed with it masked. */
const URL_SETTINGS: ReadonlySet<string> = new Set([
  "REDIS_URL",
  "CHECKPOINT_DATABASE_URL",
  "OPENAI_BASE_URL",
  "BACKEND_WEBHOOK_URL",
]);

/** A URL as it may be printed: its password, if any, masked. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(not a URL)";
  }
}

/** How a bad value is named in an error: secrets by their length only. */
function shownValue(name: string, value: string): string {
  if (SECRET_SETTINGS.has(name)) return `${name} (${value.length} characters, value not shown)`;
  return `${name}=${JSON.stringify(URL_SETTINGS.has(name) ? redactUrl(value) : value)}`;
}

function problemOf(e: ErrorObject): string {
  if (e.keyword === "minLength") return `must be at least ${String(e.params["limit"])} characters`;
  return e.message ?? "is invalid";
}

/** One line per bad variable; a choice among literals reads "must be one of: a, b". */
function describeEnvErrors(env: Record<string, string>, errors: ErrorObject[]): string[] {
  const byName = new Map<string, string>();
  const choices = new Map<string, unknown[]>();
  for (const e of errors) {
    const name = e.instancePath.slice(1);
    if (e.keyword === "const")
      choices.set(name, [...(choices.get(name) ?? []), e.params["allowedValue"]]);
    else if (e.keyword !== "anyOf" && !byName.has(name)) byName.set(name, problemOf(e));
  }
  for (const [name, allowed] of choices) byName.set(name, `must be one of: ${allowed.join(", ")}`);
  return [...byName].map(([name, problem]) => `${shownValue(name, env[name] ?? "")}: ${problem}`);
}

// Environment values are strings: this validator coerces them, unlike the handlers' one.
const validateEnv = createValidator({ coerceTypes: true, allErrors: true }).compile<Env>(EnvSchema);

/**
 * Browsers send an Origin as `scheme://host[:port]`, lower-case, default port
 * left out, and it is compared as written: an entry in any other spelling
 * (a path, a trailing slash, no scheme) would never match, so it is refused.
 */
function checkOrigin(entry: string): void {
  if (entry === "*") return;
  let canonical: string | undefined;
  try {
    const url = new URL(entry);
    if (url.protocol === "http:" || url.protocol === "https:") canonical = url.origin;
  } catch {
    canonical = undefined;
  }
  if (canonical === entry) return;
  const hint = canonical ? `; write it as ${canonical}` : ", e.g. https://app.example.com";
  throw new ConfigError(
    `Invalid configuration: CORS_ORIGINS entry "${entry}" is not an origin (http(s)://host[:port])${hint}`,
  );
}

/**
 * Room in a frame for what wraps a message: the Engine.IO packet type, the
 * Socket.IO header (type, attachment count, ack id) and a polling body's
 * separators.
 */
export const FRAME_ENVELOPE_BYTES = 1024;

/**
 * WS_MAX_FRAME_BYTES by default: a frame that cannot become an accepted
 * message (over WS_MAX_MESSAGE_BYTES) is refused as soon as its header
 * announces its length, before it is buffered. An 8 MiB cap let 7.9 MB
 * frames be buffered and parsed only to be refused (docs/performance.md).
 */
export function frameCapOf(maxMessageBytes: number): number {
  return maxMessageBytes + FRAME_ENVELOPE_BYTES;
}

/** Reads and checks the environment; a bad value throws a ConfigError naming the variable. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const known = Object.keys(EnvSchema.properties);
  // An empty value (`PORT=` in a .env file) means "use the default", as most tools read it.
  const env: Record<string, string> = {};
  for (const key of known) {
    const value = source[key];
    if (value !== undefined && value !== "") env[key] = value;
  }
  // Ajv coerces in place, so keep the values as written for the error message.
  const written = { ...env };
  if (!validateEnv(env)) {
    throw new ConfigError(
      `Invalid configuration: ${describeEnvErrors(written, validateEnv.errors ?? []).join("; ")}`,
    );
  }
  const checked = env as unknown as Env;
  if (checked.WS_HEARTBEAT_TIMEOUT <= checked.WS_HEARTBEAT_INTERVAL) {
    throw new ConfigError(
      `Invalid configuration: WS_HEARTBEAT_TIMEOUT=${checked.WS_HEARTBEAT_TIMEOUT} must be greater than WS_HEARTBEAT_INTERVAL=${checked.WS_HEARTBEAT_INTERVAL}`,
    );
  }
  if (
    checked.WS_MAX_FRAME_BYTES !== undefined &&
    checked.WS_MAX_FRAME_BYTES < checked.WS_MAX_MESSAGE_BYTES
  ) {
    throw new ConfigError(
      `Invalid configuration: WS_MAX_FRAME_BYTES=${checked.WS_MAX_FRAME_BYTES} must be at least WS_MAX_MESSAGE_BYTES=${checked.WS_MAX_MESSAGE_BYTES}`,
    );
  }
  if (checked.AGENT_THREAD_MAX_MESSAGES < checked.AGENT_HISTORY_MAX_MESSAGES) {
    throw new ConfigError(
      `Invalid configuration: AGENT_THREAD_MAX_MESSAGES=${checked.AGENT_THREAD_MAX_MESSAGES} must be at least AGENT_HISTORY_MAX_MESSAGES=${checked.AGENT_HISTORY_MAX_MESSAGES}`,
    );
  }
  const plainPaths = checked.WS_PLAIN_PATHS.split(",")
    .map((p) => p.trim())
    .filter(Boolean);
  const unknownPath = plainPaths.find((p) => !isPlainPathPattern(p));
  if (unknownPath !== undefined) {
    throw new ConfigError(
      `Invalid configuration: WS_PLAIN_PATHS has ${JSON.stringify(unknownPath)}; it takes a comma list of: ${PLAIN_PATH_PATTERNS.join(", ")}`,
    );
  }
  if (
    checked.AGENT_MODEL.startsWith("openai:") &&
    checked.OPENAI_API_KEY === undefined &&
    checked.OPENAI_BASE_URL === undefined
  ) {
    throw new ConfigError(
      `Invalid configuration: AGENT_MODEL=${checked.AGENT_MODEL} needs OPENAI_API_KEY (or OPENAI_BASE_URL for a local OpenAI-compatible server)`,
    );
  }
  if ((checked.ADMIN_UI_USERNAME === undefined) !== (checked.ADMIN_UI_PASSWORD === undefined)) {
    throw new ConfigError(
      "Invalid configuration: ADMIN_UI_USERNAME and ADMIN_UI_PASSWORD are set together or not at all",
    );
  }
  const production = checked.NODE_ENV === "production";
  const threadTtlMs = checked.AGENT_THREAD_TTL * 1000;
  const runTimeoutMs = checked.AGENT_RUN_TIMEOUT * 1000;
  const streamRetentionMs = checked.AGENT_STREAM_RETENTION * 1000;
  const origins = checked.CORS_ORIGINS.split(",")
    .map((o) => o.trim())
    .filter(Boolean);
  for (const origin of origins) checkOrigin(origin);
  return {
    env: checked,
    production,
    host: checked.HOST,
    port: checked.PORT,
    logLevel: checked.LOG_LEVEL,
    logFormat: checked.LOG_FORMAT ?? (production ? "json" : "pretty"),
    heartbeat: {
      intervalMs: checked.WS_HEARTBEAT_INTERVAL * 1000,
      timeoutMs: checked.WS_HEARTBEAT_TIMEOUT * 1000,
    },
    limits: {
      maxConnections: checked.WS_MAX_CONNECTIONS,
      maxConnectionsPerSession: checked.WS_MAX_CONNECTIONS_PER_SESSION,
      maxMessageBytes: checked.WS_MAX_MESSAGE_BYTES,
      maxFrameBytes: checked.WS_MAX_FRAME_BYTES ?? frameCapOf(checked.WS_MAX_MESSAGE_BYTES),
      rateLimitPerSec: checked.WS_RATE_LIMIT_PER_SEC,
      handlerTimeoutMs: checked.WS_HANDLER_TIMEOUT * 1000,
      connectTimeoutMs: checked.WS_CONNECT_TIMEOUT * 1000,
      maxPendingHandshakes: checked.WS_MAX_PENDING_HANDSHAKES,
      maxPayloadDepth: checked.WS_MAX_PAYLOAD_DEPTH,
      maxSessions: checked.WS_MAX_SESSIONS,
      // A stream or a conversation must never outlive its owner record: once
      // the owner is forgotten, anyone may claim the session id and would
      // inherit whatever history is still stored under it.
      sessionOwnerTtlMs: Math.max(threadTtlMs, runTimeoutMs + streamRetentionMs),
    },
    apiKey: checked.API_KEY,
    jwtSecret: checked.AUTH_JWT_SECRET,
    auth: { allowNoExp: checked.AUTH_ALLOW_NO_EXP, maxTokenBytes: checked.AUTH_MAX_TOKEN_BYTES },
    sessionIdPolicy: checked.WS_SESSION_IDS,
    corsOrigins: origins.includes("*") ? "*" : origins,
    shutdownGraceMs: checked.SHUTDOWN_GRACE_SECONDS * 1000,
    agent: {
      model: checked.AGENT_MODEL,
      demoTokenDelayMs: checked.DEMO_TOKEN_DELAY_MS,
      openaiApiKey: checked.OPENAI_API_KEY,
      openaiBaseUrl: checked.OPENAI_BASE_URL,
      checkpointDatabaseUrl: checked.CHECKPOINT_DATABASE_URL,
      checkpointDatabaseSchema: checked.CHECKPOINT_DATABASE_SCHEMA,
      streamRetentionMs,
      cancelOnDisconnect: checked.AGENT_CANCEL_ON_DISCONNECT,
      multitask: checked.AGENT_MULTITASK,
      maxQueue: checked.AGENT_MAX_QUEUE,
      maxRuns: checked.AGENT_MAX_RUNS,
      maxQueuedPerUser: checked.AGENT_MAX_QUEUED_PER_USER,
      runTimeoutMs,
      streamCoalescing: {
        windowMs: checked.WS_STREAM_COALESCE_MS,
        maxChars: checked.WS_STREAM_COALESCE_MAX_CHARS,
      },
      streamMaxEvents: checked.AGENT_STREAM_MAX_EVENTS,
      historyMaxMessages: checked.AGENT_HISTORY_MAX_MESSAGES,
      threadMaxMessages: checked.AGENT_THREAD_MAX_MESSAGES,
      threadTtlMs,
      maxThreads: checked.AGENT_MAX_THREADS,
      defaultGraph: checked.AGENT_DEFAULT_GRAPH,
      interruptTtlMs: checked.AGENT_INTERRUPT_TTL * 1000,
      modelTimeoutMs: checked.AGENT_MODEL_TIMEOUT * 1000,
      modelFailuresNotReady: checked.AGENT_MODEL_FAILURES_NOT_READY,
      modelIdleMs: checked.AGENT_MODEL_IDLE_TIMEOUT * 1000,
    },
    redisUrl: checked.REDIS_URL,
    clusterNodeTtlMs: checked.CLUSTER_NODE_TTL_SECONDS * 1000,
    workers: checked.WORKERS,
    clusterLocalBroadcasts: checked.CLUSTER_LOCAL_BROADCASTS,
    admissionOnRedisDown: checked.CLUSTER_ADMISSION_ON_REDIS_DOWN,
    outageBufferEvents: checked.CLUSTER_OUTAGE_BUFFER_EVENTS,
    backend: {
      stream: checked.BACKEND_STREAM,
      streamMaxLength: checked.BACKEND_STREAM_MAX_LEN,
      bufferEvents: checked.BACKEND_BUFFER_EVENTS,
      webhookUrl: checked.BACKEND_WEBHOOK_URL,
      webhookSecret: checked.BACKEND_WEBHOOK_SECRET,
      webhookMaxBackoffMs: checked.BACKEND_WEBHOOK_MAX_BACKOFF * 1000,
      webhookTimeoutMs: checked.BACKEND_WEBHOOK_TIMEOUT * 1000,
    },
    abuse: {
      rateLimitPerSessionPerSec: checked.WS_RATE_LIMIT_PER_SESSION_PER_SEC,
      rateLimitPerUserPerSec: checked.WS_RATE_LIMIT_PER_USER_PER_SEC,
      rateLimitDisconnectAfterMs: checked.WS_RATE_LIMIT_DISCONNECT_AFTER * 1000,
      rateLimitShareAddress: checked.WS_RATE_LIMIT_SHARE_ADDRESS,
      maxBufferedBytes: checked.WS_MAX_BUFFERED_BYTES,
    },
    corkFrames: checked.WS_CORK_FRAMES,
    plainWebSocket: {
      enabled: checked.WS_PLAIN_ENABLED,
      paths: plainPaths.filter(isPlainPathPattern),
    },
    operating: {
      metricsPort: checked.METRICS_PORT,
      metricsToken: checked.METRICS_TOKEN ?? checked.API_KEY,
      adminUi: adminUiLogin(checked),
      statisticsPublic: checked.WS_STATISTICS_PUBLIC,
    },
  };
}

function adminUiLogin(env: Env): Config["operating"]["adminUi"] {
  const { ADMIN_UI_USERNAME: username, ADMIN_UI_PASSWORD: password } = env;
  return username === undefined || password === undefined ? undefined : { username, password };
}
