import { randomUUID } from "node:crypto";
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { RateLimiterMemory } from "rate-limiter-flexible";
import { Server } from "socket.io";
import { JwtAuthenticator } from "./auth/authenticate.js";
import { isOriginAllowed } from "./auth/origin.js";
import type { Config } from "./core/config.js";
import { createLogger, type Logger } from "./core/logger.js";
import { serverEvent } from "./core/protocol.js";
import { createValidator } from "./core/validator.js";
import { createHttpApp } from "./http/app.js";
import { instrumentAdminUi } from "./transports/socketio/admin-ui.js";
import { watchNode } from "./metrics/instruments.js";
import { listenForScrapes } from "./metrics/metrics-http.js";
import { loadHandlers, type HandlerRegistry } from "./registry/load-handlers.js";
import { createAdmission } from "./socket/admission.js";
import { openConnection } from "./socket/connection.js";
import { attachDispatcher } from "./socket/dispatcher.js";
import { capPendingOutput } from "./socket/output-cap.js";
import { createSharedBudgets } from "./socket/shared-budgets.js";
import { connectCluster } from "./cluster/redis-cluster.js";
import { createMemoryState } from "./state/memory.js";
import type { GatewayState } from "./state/types.js";
import { ToolRegistry } from "./tools/tool-registry.js";
import { createAgentRuntime } from "./runs/agent-runtime.js";
import { ClusterRuns } from "./runs/cluster-runs.js";
import { RunManager } from "./runs/run-manager.js";

// This file runs from src/ under tsx and from dist/src/ once built; either way
// handlers/ sits beside src/, and public/ at the package root.
const codeRoot = fileURLToPath(new URL("..", import.meta.url));
const packageRoot = path.basename(codeRoot) === "dist" ? path.dirname(codeRoot) : codeRoot;

export interface GatewayOptions {
  config: Config;
  log?: Logger;
  handlersDir?: string;
  publicDir?: string;
  state?: GatewayState;
  nodeId?: string;
  /**
   * A Socket.IO adapter for when there is no Redis but still several
   * processes (WORKERS without REDIS_URL: the cluster adapter over IPC).
   */
  adapter?: Parameters<Server["adapter"]>[0];
  /** Replaces AGENT_MODEL's model, the rest of the run path unchanged (benchmarks, tests). */
  agentModel?: { model: BaseChatModel; vendor: string; endpoint?: string };
}

export interface Gateway {
  readonly config: Config;
  readonly nodeId: string;
  readonly io: Server;
  readonly httpServer: HttpServer;
  readonly state: GatewayState;
  readonly handlers: HandlerRegistry;
  readonly log: Logger;
  listen(): Promise<AddressInfo>;
  /**
   * Starts accepting without listening: in a worker process the primary owns
   * the port and hands connections over (src/cluster/workers.ts).
   */
  serve(): void;
  /** Stops accepting, tells clients, disconnects them and releases shared state. */
  close(): Promise<void>;
}

/** Builds a gateway without listening. Throws if any handler cannot be loaded. */
export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  const { config } = options;
  const log = options.log ?? createLogger({ level: config.logLevel, format: config.logFormat });
  const nodeId = options.nodeId ?? randomUUID();
  const ajv = createValidator();
  const tools = new ToolRegistry(ajv);
  const handlers = await loadHandlers(options.handlersDir ?? path.join(codeRoot, "handlers"), ajv);
  const runtime = await createAgentRuntime(config, tools, options.agentModel);
  // With REDIS_URL the node joins the cluster. If Redis does not answer at
  // start, connectCluster throws after a bounded wait (redis-cluster.ts says why).
  const cluster =
    config.redisUrl && !options.state
      ? await connectCluster(config, log, { nodeId }).catch(async (error: unknown) => {
          await runtime.close(); // the checkpointer's pool would keep the process alive
          throw error;
        })
      : undefined;
  const state =
    options.state ??
    cluster?.state ??
    createMemoryState({ streamMaxEvents: config.agent.streamMaxEvents });
  let accepting = false;
  let closing: Promise<void> | undefined;

  if (!config.jwtSecret) log.warn("AUTH_JWT_SECRET is not set: anonymous connections are accepted");
  if (!config.apiKey) log.warn("API_KEY is not set: POST /api/projects/:id/events is disabled");

  const httpServer = createServer();
  const io = new Server({
    pingInterval: config.heartbeat.intervalMs,
    // Socket.IO drops a client that misses a pong for pingInterval + pingTimeout.
    pingTimeout: config.heartbeat.timeoutMs - config.heartbeat.intervalMs,
    maxHttpBufferSize: config.limits.maxFrameBytes,
    cors: { origin: config.corsOrigins === "*" ? "*" : config.corsOrigins },
    // A transport that never sends CONNECT is closed this soon (Socket.IO's default is 45 s).
    connectTimeout: config.limits.connectTimeoutMs,
    allowRequest: (req, callback) => {
      if (!isOriginAllowed(req.headers.origin, req.headers.host, config.corsOrigins)) {
        callback("Origin not allowed: add it to CORS_ORIGINS", false);
        return;
      }
      // Transports open but not admitted cost memory and a timer each: bounded, not per cap.
      const pending = io.engine.clientsCount - io.of("/").sockets.size;
      if (pending >= config.limits.maxPendingHandshakes) {
        callback("Too many handshakes in progress; retry shortly", false);
        return;
      }
      callback(null, true);
    },
  });
  if (cluster) io.adapter(cluster.adapter);
  else if (options.adapter) io.adapter(options.adapter);
  const notReadyReason = (): string | null => {
    if (!accepting) return closing ? "shutting down" : "starting";
    if (cluster && !cluster.isReady()) return "redis unavailable";
    return runtime.modelNotReadyReason();
  };
  const app = createHttpApp(
    config,
    log,
    {
      io,
      ajv,
      state,
      handlers,
      apiKey: config.apiKey,
      maxBodyBytes: config.limits.maxMessageBytes,
      maxPayloadDepth: config.limits.maxPayloadDepth,
      notReadyReason: () => Promise.resolve(notReadyReason()),
    },
    options.publicDir ?? path.join(packageRoot, "public"),
  );
  httpServer.on("request", app);
  // Attached after Express, so Socket.IO's own requests never reach the app.
  io.attach(httpServer);

  instrumentAdminUi(io, config, nodeId);
  const runs = new RunManager({ io, config, state, runtime, nodeId, log });
  const clusterRuns = new ClusterRuns({
    io,
    config,
    registry: state.runs,
    runs,
    nodeId,
    log,
    clustered: cluster !== undefined || options.adapter !== undefined,
  });
  const unwatch = watchNode({
    nodeId,
    io,
    queuedRuns: runs.queuedRuns,
    activeRuns: () => runs.activeRuns(),
    redisReady: cluster && (() => cluster.isReady()),
  });
  let metricsServer: HttpServer | undefined;
  const budgets = createSharedBudgets(
    config,
    cluster?.rateLimiter ??
      ((name, points) => new RateLimiterMemory({ keyPrefix: name, points, duration: 1 })),
  );
  const authenticator = config.jwtSecret
    ? new JwtAuthenticator(config.jwtSecret, config.auth)
    : undefined;
  io.use(
    createAdmission({ config, state, nodeId, authenticator, isAccepting: () => accepting, log }),
  );
  io.on("connection", (socket) => {
    const ctx = openConnection(socket, {
      io,
      config,
      state,
      tools,
      runs,
      clusterRuns,
      vendor: runtime.vendor,
      log,
    });
    capPendingOutput(socket, config.abuse.maxBufferedBytes, ctx.log);
    attachDispatcher(socket, ctx, {
      config,
      handlers,
      budgets,
      connections: state.connections,
    });
  });

  return {
    config,
    nodeId,
    io,
    httpServer,
    state,
    handlers,
    log,
    serve() {
      accepting = true;
    },
    listen() {
      return new Promise<AddressInfo>((resolve, reject) => {
        httpServer.once("error", reject);
        httpServer.listen(config.port, config.host, () => {
          httpServer.off("error", reject);
          accepting = true;
          resolve(httpServer.address() as AddressInfo);
        });
      }).then(async (address) => {
        const { metricsPort, metricsToken } = config.operating;
        if (metricsPort !== undefined)
          metricsServer = (await listenForScrapes(metricsPort, config.host, metricsToken)).server;
        return address;
      });
    },
    close() {
      closing ??= (async () => {
        accepting = false;
        await runs.drain(config.shutdownGraceMs);
        io.emit(
          "server_shutdown",
          serverEvent("server_shutdown", {
            message: "The server is shutting down",
            reconnect: true,
          }),
        );
        await flushAndClose(io, config.shutdownGraceMs);
        await io.close();
        await state.close();
        await cluster?.close();
        await runtime.close();
        unwatch();
        metricsServer?.close();
      })();
      return closing;
    },
  };
}

/**
 * Closes every transport once what was written to it has left: `io.close()`
 * alone discards the write buffers, which dropped the last `stream_end` and
 * `server_shutdown` of a client still streaming. A client that does not read
 * is not waited for past `timeoutMs`.
 */
async function flushAndClose(io: Server, timeoutMs: number): Promise<void> {
  const clients = new Set([...io.of("/").sockets.values()].map((socket) => socket.conn));
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
  const flushed = Promise.all(
    [...clients].map((client) => {
      const closed = new Promise<void>((resolve) => client.once("close", () => resolve()));
      client.close();
      return closed;
    }),
  );
  await Promise.race([flushed, deadline]);
  clearTimeout(timer);
}
