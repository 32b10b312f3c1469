/**
 * Every setting the gateway reads from the environment, declared once: its
 * variable, type, bounds, default, unit, whether it is secret, and the words
 * the README's settings table shows. The tree has the shape of `Config`
 * (src/core/config.ts): a leaf's key is where its value lands, and Config's
 * types are inferred from here.
 *
 * Adding a setting is one entry where its value should land, e.g. in `agent`:
 *
 *   interruptTtlMs: seconds("AGENT_INTERRUPT_TTL", { exclusiveMinimum: 0, default: 3600 },
 *     "seconds an interrupted run waits to be resumed"),
 *
 * and the code reads `config.agent.interruptTtlMs`. `setting()` takes a default,
 * `optional()` none (its value may be undefined), `seconds()` is a duration
 * written in seconds and held in milliseconds; `secret: true` marks a value
 * that grants access (never printed), `parse` a value held in another form
 * (a list, a flag). A rule between two settings goes in `checkTogether`
 * (src/core/config.ts). Then give it its README row and its `.env.example`
 * line: test/settings-docs.test.ts prints the row to paste until both agree.
 */
import { Type } from "@sinclair/typebox";
import { GRAPH_NAME_PATTERN } from "./protocol.js";
import { oneOf, optional, seconds, setting } from "./setting.js";

/** The plain WebSocket paths WS_PLAIN_PATHS may list (src/transports/ws/routes.ts). */
export const PLAIN_PATH_PATTERNS = [
  "/ws/agent",
  "/ws/agents/{session_id}",
  "/ws/projects/{project_id}/status",
  "/ws",
] as const;
export type PlainPathPattern = (typeof PLAIN_PATH_PATTERNS)[number];

export const SETTINGS = {
  production: setting(
    "NODE_ENV",
    Type.String({ default: "development" }),
    "`production` switches the log format",
    { parse: (value) => value === "production" },
  ),
  host: setting("HOST", Type.String({ default: "0.0.0.0" }), "address to listen on"),
  port: setting(
    "PORT",
    Type.Integer({ minimum: 0, maximum: 65535, default: 8003 }),
    "port to listen on",
  ),
  logLevel: setting(
    "LOG_LEVEL",
    oneOf(["error", "warn", "info", "http", "verbose", "debug"], { default: "info" }),
    "`error`, `warn`, `info`, `http`, `verbose`, `debug` (message contents only at `debug`); anything else, `silly` included, is refused",
  ),
  logFormat: optional("LOG_FORMAT", oneOf(["json", "pretty"]), "JSON lines or readable lines", {
    shownDefault: "`json` in production, else `pretty`",
  }),
  shutdownGraceMs: seconds(
    "SHUTDOWN_GRACE_SECONDS",
    { minimum: 0, default: 10 },
    "on SIGTERM/SIGINT, how long running streams may finish before they are cancelled",
  ),
  heartbeat: {
    intervalMs: seconds(
      "WS_HEARTBEAT_INTERVAL",
      { exclusiveMinimum: 0, default: 30 },
      "seconds between pings, Socket.IO and plain WebSocket",
    ),
    timeoutMs: seconds(
      "WS_HEARTBEAT_TIMEOUT",
      { exclusiveMinimum: 0, default: 60 },
      "a silent client is dropped after at most this many seconds (must exceed the interval)",
    ),
  },
  limits: {
    maxConnections: setting(
      "WS_MAX_CONNECTIONS",
      Type.Integer({ minimum: 1, default: 10000 }),
      "connections per node; more get `server_full`",
    ),
    maxConnectionsPerSession: setting(
      "WS_MAX_CONNECTIONS_PER_SESSION",
      Type.Integer({ minimum: 1, default: 5 }),
      "connections per session (cluster-wide); more get `session_full`",
    ),
    maxMessageBytes: setting(
      "WS_MAX_MESSAGE_BYTES",
      Type.Integer({ minimum: 1024, default: 1048576 }),
      "larger client messages get `message_too_large` and the connection stays (when `WS_MAX_FRAME_BYTES` is set above it; by default a frame that large already closes it)",
      { unit: "bytes" },
    ),
    // Unset: WS_MAX_MESSAGE_BYTES + FRAME_ENVELOPE_BYTES (frameCapOf in src/core/config.ts).
    maxFrameBytes: optional(
      "WS_MAX_FRAME_BYTES",
      Type.Integer({ minimum: 1024 }),
      "transport cap: a larger frame (or HTTP polling body) closes that connection (1009) as soon as its header announces it, before it is buffered",
      { unit: "bytes", shownDefault: "`WS_MAX_MESSAGE_BYTES` + 1024" },
    ),
    rateLimitPerSec: setting(
      "WS_RATE_LIMIT_PER_SEC",
      Type.Integer({ minimum: 1, default: 50 }),
      "events per second per connection; more get `rate_limited`",
    ),
    handlerTimeoutMs: seconds(
      "WS_HANDLER_TIMEOUT",
      { exclusiveMinimum: 0, default: 30 },
      "seconds a handler may take (a handler may set its own `timeoutMs`)",
    ),
    connectTimeoutMs: seconds(
      "WS_CONNECT_TIMEOUT",
      { exclusiveMinimum: 0, default: 5 },
      "seconds a transport may stay open without completing its Socket.IO CONNECT",
    ),
    maxPendingHandshakes: setting(
      "WS_MAX_PENDING_HANDSHAKES",
      Type.Integer({ minimum: 1, default: 1000 }),
      "transports open but not yet admitted; more handshakes are refused until some finish",
    ),
    maxPayloadDepth: setting(
      "WS_MAX_PAYLOAD_DEPTH",
      Type.Integer({ minimum: 1, default: 32 }),
      "deepest nesting of objects and arrays in a message or request body (`invalid_payload` beyond)",
    ),
    maxSessions: setting(
      "WS_MAX_SESSIONS",
      Type.Integer({ minimum: 1, default: 100000 }),
      "sessions whose owner is remembered at once (cluster-wide with Redis); a new session beyond it gets `too_many_sessions`",
    ),
  },
  apiKey: optional(
    "API_KEY",
    Type.String({ minLength: 16 }),
    "bearer key (16+ characters) for `POST /api/projects/:id/events` (disabled while unset)",
    { secret: true },
  ),
  jwtSecret: optional(
    "AUTH_JWT_SECRET",
    Type.String({ minLength: 32 }),
    "HS256 secret (32+ characters); when set, connections need a JWT (`sub` = user, optional `projects` claim)",
    { secret: true },
  ),
  auth: {
    allowNoExp: setting(
      "AUTH_ALLOW_NO_EXP",
      Type.Boolean({ default: false }),
      "accept JWTs without `exp` (refused by default)",
    ),
    maxTokenBytes: setting(
      "AUTH_MAX_TOKEN_BYTES",
      Type.Integer({ minimum: 256, default: 8192 }),
      "longer tokens are refused unread (bounds `sub` and `projects`)",
      { unit: "bytes" },
    ),
  },
  sessionIdPolicy: setting(
    "WS_SESSION_IDS",
    oneOf(["any", "strong"], { default: "any" }),
    "without JWT: `any` well-formed session id, or only `strong` ones (UUIDs, or 22+ base64url characters)",
  ),
  corsOrigins: setting(
    "CORS_ORIGINS",
    Type.String({ default: "" }),
    "comma-separated browser origins allowed for HTTP and Socket.IO, written as browsers send them (`https://app.example.com`, `http://localhost:5173`: no path, no trailing slash; other spellings are refused), `*` for any; empty = same origin only; other browser origins are refused",
    { parse: parseOrigins },
  ),
  agent: {
    model: setting(
      "AGENT_MODEL",
      Type.String({ pattern: "^(demo|openai:.+)$", default: "demo" }),
      "`demo` (offline) or `openai:<model>` for any OpenAI-compatible server",
    ),
    demoTokenDelayMs: setting(
      "DEMO_TOKEN_DELAY_MS",
      Type.Number({ minimum: 0, default: 30 }),
      "the demo model's delay between tokens",
      { unit: "milliseconds" },
    ),
    openaiApiKey: optional(
      "OPENAI_API_KEY",
      Type.String(),
      "key for `openai:` models; without it (and without `OPENAI_BASE_URL`) an `openai:` model refuses to start",
      { secret: true },
    ),
    openaiBaseUrl: optional(
      "OPENAI_BASE_URL",
      Type.String({ format: "uri" }),
      "e.g. `http://127.0.0.1:11434/v1` (Ollama), vLLM, llama.cpp server",
      { shownDefault: "OpenAI" },
    ),
    checkpointDatabaseUrl: optional(
      "CHECKPOINT_DATABASE_URL",
      Type.String({ pattern: "^postgres(ql)?://" }),
      "`postgres://\u2026`: conversations survive restarts and are shared by a cluster; unset = in memory",
      { secret: true },
    ),
    // Written into SQL as a quoted identifier by PostgresSaver, so only plain names.
    checkpointDatabaseSchema: setting(
      "CHECKPOINT_DATABASE_SCHEMA",
      Type.String({ pattern: "^[A-Za-z_][A-Za-z0-9_]{0,62}$", default: "public" }),
      "PostgreSQL schema of the checkpoint tables, created at start when missing (letters, digits, `_`)",
    ),
    streamRetentionMs: seconds(
      "AGENT_STREAM_RETENTION",
      { minimum: 0, default: 600 },
      "seconds a finished stream can still be resumed",
    ),
    cancelOnDisconnect: setting(
      "AGENT_CANCEL_ON_DISCONNECT",
      Type.Boolean({ default: false }),
      "cancel a session's run when its last client leaves",
    ),
    multitask: setting(
      "AGENT_MULTITASK",
      oneOf(["enqueue", "reject", "interrupt"], { default: "enqueue" }),
      "a message during a run: `enqueue`, `reject` (`busy`), or `interrupt`",
    ),
    maxQueue: setting(
      "AGENT_MAX_QUEUE",
      Type.Integer({ minimum: 1, default: 10 }),
      "messages that may wait behind a run, per session",
    ),
    runTimeoutMs: seconds(
      "AGENT_RUN_TIMEOUT",
      { exclusiveMinimum: 0, default: 1800 },
      "seconds before a run is stopped with a `timeout` error",
    ),
    maxRuns: setting(
      "AGENT_MAX_RUNS",
      Type.Integer({ minimum: 1, default: 100 }),
      "runs executing at once on a node; more get `busy`",
    ),
    maxQueuedPerUser: setting(
      "AGENT_MAX_QUEUED_PER_USER",
      Type.Integer({ minimum: 1, default: 20 }),
      "runs (running or waiting) one user, or one IP for anonymous clients, may have on a node; more get `busy`",
    ),
    streamCoalescing: {
      windowMs: setting(
        "WS_STREAM_COALESCE_MS",
        Type.Number({ minimum: 0, default: 0 }),
        "tokens produced within this window leave as one `stream_chunk`; `0`: within one event-loop turn (its first token at once)",
        { unit: "milliseconds" },
      ),
      maxChars: setting(
        "WS_STREAM_COALESCE_MAX_CHARS",
        Type.Integer({ minimum: 1, default: 1024 }),
        "a coalesced `stream_chunk` leaves once it holds this many characters; `1`: every token alone",
      ),
    },
    streamMaxEvents: setting(
      "AGENT_STREAM_MAX_EVENTS",
      Type.Integer({ minimum: 1, default: 10000 }),
      "events kept per stream history (memory and Redis); older chunks are dropped, a resume is told `trimmed_before`",
    ),
    historyMaxMessages: setting(
      "AGENT_HISTORY_MAX_MESSAGES",
      Type.Integer({ minimum: 1, default: 50 }),
      "newest messages of a conversation the model sees (besides the system prompt)",
    ),
    threadTtlMs: seconds(
      "AGENT_THREAD_TTL",
      { exclusiveMinimum: 0, default: 86400 },
      "seconds after its last message a conversation is deleted (memory and PostgreSQL); a session remembers its owner at least this long after its last connection",
    ),
    maxThreads: setting(
      "AGENT_MAX_THREADS",
      Type.Integer({ minimum: 1, default: 10000 }),
      "conversations kept in memory; beyond it the least recently written is deleted",
    ),
    threadMaxMessages: setting(
      "AGENT_THREAD_MAX_MESSAGES",
      Type.Integer({ minimum: 2, default: 200 }),
      "newest messages a stored conversation keeps (at least `AGENT_HISTORY_MAX_MESSAGES`); older ones are removed, a tool call with its results",
    ),
    defaultGraph: setting(
      "AGENT_DEFAULT_GRAPH",
      Type.String({ pattern: GRAPH_NAME_PATTERN, default: "agent" }),
      "the graph a message runs when neither it nor its session names one ([Bringing your graph](#bringing-your-graph))",
    ),
    interruptTtlMs: seconds(
      "AGENT_INTERRUPT_TTL",
      { exclusiveMinimum: 0, default: 86400 },
      "seconds a run paused by `interrupt()` may wait for `resume_run`; later resumes get `interrupt_expired`",
    ),
    modelTimeoutMs: seconds(
      "AGENT_MODEL_TIMEOUT",
      { exclusiveMinimum: 0, default: 30 },
      "seconds an `openai:` model may take to connect and start answering (no retries)",
    ),
    modelIdleMs: seconds(
      "AGENT_MODEL_IDLE_TIMEOUT",
      { exclusiveMinimum: 0, default: 120 },
      "seconds a model call may send nothing (no first or next token) before its run fails with `agent_error`: a server that sends headers and stalls",
    ),
    modelFailuresNotReady: setting(
      "AGENT_MODEL_FAILURES_NOT_READY",
      Type.Integer({ minimum: 1, default: 3 }),
      "consecutive model failures after which `/readyz` says not ready (until one succeeds)",
    ),
  },
  redisUrl: optional(
    "REDIS_URL",
    Type.String({ pattern: "^rediss?://" }),
    "`redis://\u2026`: join a cluster (see below)",
    { secret: true },
  ),
  clusterNodeTtlMs: seconds(
    "CLUSTER_NODE_TTL_SECONDS",
    { exclusiveMinimum: 0, default: 15 },
    "how soon a dead node's connections and runs stop counting in the cluster",
  ),
  workers: setting(
    "WORKERS",
    Type.Integer({ minimum: 1, default: 1 }),
    "worker processes behind one port (Redis recommended when above 1)",
  ),
  clusterLocalBroadcasts: setting(
    "CLUSTER_LOCAL_BROADCASTS",
    Type.Boolean({ default: true }),
    "a broadcast to a session whose clients are all on this node stays on it (nodes announce their sessions' members to each other); `false` sends every broadcast to every node",
  ),
  admissionOnRedisDown: setting(
    "CLUSTER_ADMISSION_ON_REDIS_DOWN",
    oneOf(["refuse", "local"], { default: "refuse" }),
    "while Redis is down: `refuse` new connections (`unavailable`) or admit them under this node's own caps (`local`)",
  ),
  outageBufferEvents: setting(
    "CLUSTER_OUTAGE_BUFFER_EVENTS",
    Type.Integer({ minimum: 0, default: 10000 }),
    "stream events a node holds while Redis is down, written when it returns; beyond it the oldest are dropped",
  ),
  backend: {
    stream: setting(
      "BACKEND_STREAM",
      Type.String({ minLength: 1, default: "gateway:backend-events" }),
      "Redis Stream that client feedback and project updates are forwarded to (with `REDIS_URL`; docs/backend.md)",
    ),
    streamMaxLength: setting(
      "BACKEND_STREAM_MAX_LEN",
      Type.Integer({ minimum: 1, default: 100000 }),
      "entries the stream keeps (approximately)",
    ),
    bufferEvents: setting(
      "BACKEND_BUFFER_EVENTS",
      Type.Integer({ minimum: 1, default: 10000 }),
      "events a channel keeps in memory while it cannot deliver",
    ),
    webhookUrl: optional(
      "BACKEND_WEBHOOK_URL",
      Type.String({ format: "uri", pattern: "^https?://" }),
      "also POST each event to this URL, retried until a 2xx",
      { secret: true },
    ),
    webhookSecret: optional(
      "BACKEND_WEBHOOK_SECRET",
      Type.String({ minLength: 16 }),
      "signs webhook bodies (16+ characters): `X-Gateway-Signature: sha256=<HMAC>`",
      { secret: true },
    ),
    webhookMaxBackoffMs: seconds(
      "BACKEND_WEBHOOK_MAX_BACKOFF",
      { exclusiveMinimum: 0, default: 30 },
      "longest wait, in seconds, between two webhook tries",
    ),
    webhookTimeoutMs: seconds(
      "BACKEND_WEBHOOK_TIMEOUT",
      { exclusiveMinimum: 0, default: 10 },
      "seconds a webhook try may take",
    ),
  },
  abuse: {
    rateLimitPerSessionPerSec: setting(
      "WS_RATE_LIMIT_PER_SESSION_PER_SEC",
      Type.Integer({ minimum: 1, default: 100 }),
      "events per second per session, all its connections together (cluster-wide with Redis); more get `rate_limited`",
    ),
    rateLimitPerUserPerSec: setting(
      "WS_RATE_LIMIT_PER_USER_PER_SEC",
      Type.Integer({ minimum: 1, default: 200 }),
      "events per second per JWT user, or per client IP for anonymous connections (cluster-wide with Redis)",
    ),
    rateLimitShareAddress: setting(
      "WS_RATE_LIMIT_SHARE_ADDRESS",
      Type.Boolean({ default: true }),
      "anonymous connections from one address each get an equal part of `WS_RATE_LIMIT_PER_USER_PER_SEC` as their own budget, so a flooder there is cut off before it starves the rest ([Rate limits](#rate-limits-and-abusive-clients))",
    ),
    rateLimitDisconnectAfterMs: seconds(
      "WS_RATE_LIMIT_DISCONNECT_AFTER",
      { minimum: 0, default: 10 },
      "seconds a connection may stay over `WS_RATE_LIMIT_PER_SEC` before it is disconnected (`0`: never)",
    ),
    maxBufferedBytes: setting(
      "WS_MAX_BUFFERED_BYTES",
      Type.Integer({ minimum: 1024, default: 4194304 }),
      "output waiting for a client that does not read; over it the connection is closed",
      { unit: "bytes" },
    ),
  },
  corkFrames: setting(
    "WS_CORK_FRAMES",
    Type.Boolean({ default: true }),
    "a connection's frames written in one event-loop turn leave in one `writev` (both transports; each stays its own WebSocket frame); `false` writes each frame at once",
  ),
  plainWebSocket: {
    enabled: setting(
      "WS_PLAIN_ENABLED",
      Type.Boolean({ default: true }),
      "serve plain WebSocket clients (JSON text frames) beside Socket.IO on the same port",
    ),
    paths: setting(
      "WS_PLAIN_PATHS",
      Type.String({ default: PLAIN_PATH_PATTERNS.join(",") }),
      "comma list of plain WebSocket paths: `/ws/agent`, `/ws/agents/{session_id}`, `/ws/projects/{project_id}/status`, `/ws`",
      { shownDefault: "all four", parse: parsePlainPaths },
    ),
  },
  operating: {
    statisticsPublic: setting(
      "WS_STATISTICS_PUBLIC",
      Type.Boolean({ default: false }),
      "`true`: `GET /ws/statistics` lists every connection (connection and session ids) without the API key, as the agent-engine protocol's clients read it. Session ids let anonymous clients join a session: trusted networks only",
    ),
    metricsPort: optional(
      "METRICS_PORT",
      Type.Integer({ minimum: 0, maximum: 65535 }),
      "serve `/metrics` on this port alone (the workers' sum with `WORKERS` > 1); unset: on `PORT`",
    ),
    metricsToken: optional(
      "METRICS_TOKEN",
      Type.String({ minLength: 16 }),
      "bearer token (16+ characters) `/metrics` asks for; unset: `API_KEY`; neither: open",
      { secret: true },
    ),
  },
  adminUiLogin: {
    username: optional(
      "ADMIN_UI_USERNAME",
      Type.String({ minLength: 1 }),
      "with `ADMIN_UI_PASSWORD`: Socket.IO Admin UI login, UI at `/admin-ui/`; unset: off",
    ),
    password: optional(
      "ADMIN_UI_PASSWORD",
      Type.String({ minLength: 12 }),
      "the Admin UI password (12+ characters), hashed with bcrypt at start",
      { secret: true },
    ),
  },
};

const commaList = (value: string): string[] =>
  value
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean);

/**
 * `"*"` allows every origin; an empty list allows same-origin browsers only.
 * Browsers send an Origin as `scheme://host[:port]`, lower-case, default port
 * left out, and it is compared as written: an entry in any other spelling
 * (a path, a trailing slash, no scheme) would never match, so it is refused.
 */
function parseOrigins(value: string): string[] | "*" {
  const origins = commaList(value);
  for (const entry of origins.filter((origin) => origin !== "*")) {
    let canonical: string | undefined;
    try {
      const url = new URL(entry);
      if (url.protocol === "http:" || url.protocol === "https:") canonical = url.origin;
    } catch {
      canonical = undefined;
    }
    if (canonical === entry) continue;
    const hint = canonical ? `; write it as ${canonical}` : ", e.g. https://app.example.com";
    throw new Error(`entry "${entry}" is not an origin (http(s)://host[:port])${hint}`);
  }
  return origins.includes("*") ? "*" : origins;
}

function parsePlainPaths(value: string): PlainPathPattern[] {
  const known: readonly string[] = PLAIN_PATH_PATTERNS;
  const paths = commaList(value);
  const unknown = paths.find((path) => !known.includes(path));
  if (unknown !== undefined) {
    throw new Error(
      `has ${JSON.stringify(unknown)}; it takes a comma list of: ${PLAIN_PATH_PATTERNS.join(", ")}`,
    );
  }
  return paths as PlainPathPattern[];
}
