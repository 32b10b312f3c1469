import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { RateLimiterMemory } from "rate-limiter-flexible";
import type { Server } from "socket.io";
import { JwtAuthenticator } from "./auth/authenticate.js";
import type { Config } from "./core/config.js";
import { createLogger, type Logger } from "./core/logger.js";
import { createValidator } from "./core/validator.js";
import { createBackendChannel } from "./backend/create-backend-channel.js";
import { createHttpApp } from "./http/app.js";
import { instrumentAdminUi } from "./transports/socketio/admin-ui.js";
import { watchNode } from "./metrics/instruments.js";
import { listenForScrapes } from "./metrics/metrics-http.js";
import { loadHandlers, type HandlerRegistry } from "./registry/load-handlers.js";
import { createAdmission } from "./sessions/admission.js";
import { Fanout } from "./sessions/fanout.js";
import { createSessionCore } from "./sessions/session-core.js";
import { createSharedBudgets } from "./sessions/shared-budgets.js";
import { SocketIoBus } from "./transports/socketio/bus.js";
import { createSocketIoServer, serveSocketIo } from "./transports/socketio/server.js";
import type { GatewayServer } from "./transports/socketio/types.js";
import { servePlainWebSocket } from "./transports/ws/server.js";
import { connectCluster } from "./cluster/redis-cluster.js";
import { PeerGroups } from "./cluster/peer-groups.js";
import { createMemoryState } from "./state/memory/memory-state.js";
import type { GatewayState } from "./state/types.js";
import { ToolRegistry } from "./tools/tool-registry.js";
import { createAgentRuntime } from "./runs/agent-runtime.js";
import { graphsInFolder, graphsInLanggraphJson } from "./graphs/load-graphs.js";
import type { GraphRegistry } from "./graphs/graph-registry.js";
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
  /** Where graph files are (graphs/ beside handlers/ by default). */
  graphsDir?: string;
  /** A LangGraph CLI langgraph.json whose graphs are served too (the project root's by default; null: none). */
  langgraphJson?: string | null;
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
  readonly io: GatewayServer;
  readonly httpServer: HttpServer;
  readonly state: GatewayState;
  readonly handlers: HandlerRegistry;
  /** The graphs runs may name (graphs/ and langgraph.json). */
  readonly graphs: GraphRegistry;
  readonly log: Logger;
  listen(): Promise<AddressInfo>;
  /**
   * Starts accepting without listening: in a worker process the primary owns
   * the port and hands connections over (src/cluster/workers.ts).
   */
  serve(): void;
  /**
   * Resolves once this node has every other node's list of session members
   * (src/cluster/peer-groups.ts); until then it keeps no broadcast to itself.
   */
  peersKnown(): Promise<void>;
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
  const langgraphJson =
    options.langgraphJson === undefined
      ? path.join(packageRoot, "langgraph.json")
      : options.langgraphJson;
  const graphSources = [
    ...(await graphsInFolder(options.graphsDir ?? path.join(codeRoot, "graphs"))),
    ...(langgraphJson === null
      ? []
      : await graphsInLanggraphJson(
          langgraphJson,
          codeRoot === packageRoot ? undefined : codeRoot,
        )),
  ];
  const runtime = await createAgentRuntime(config, tools, graphSources, options.agentModel);
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
  if (config.operating.statisticsPublic)
    log.warn("WS_STATISTICS_PUBLIC: GET /ws/statistics lists connection and session ids to anyone");

  const httpServer = createServer();
  // The two transports share one budget of handshakes in progress.
  let pendingPlain = (): number => 0;
  const io = createSocketIoServer(config, () => pendingPlain());
  if (cluster) io.adapter(cluster.adapter);
  else if (options.adapter) io.adapter(options.adapter);
  const bus = new SocketIoBus(io, log);
  const peerGroups =
    (cluster || options.adapter) && config.clusterLocalBroadcasts
      ? new PeerGroups(io, {
          nodeId,
          log,
          askTimeoutMs: 2000,
          // Without Redis, the other workers (src/cluster/workers.ts); with it, the adapter counts them.
          ...(cluster ? {} : { expectedPeers: config.workers - 1 }),
        })
      : undefined;
  if (peerGroups) {
    bus.keepLocalBroadcasts(peerGroups);
    void peerGroups.start();
    // Announcements sent while Redis was down are lost: both sides start over.
    cluster?.onBusRestored(() => peerGroups.resync());
  }
  const fanout = new Fanout(bus);
  const notReadyReason = (): string | null => {
    if (!accepting) return closing ? "shutting down" : "starting";
    if (cluster && !cluster.isReady()) return "redis unavailable";
    return runtime.modelNotReadyReason();
  };
  const app = createHttpApp(
    config,
    log,
    {
      fanout,
      ajv,
      state,
      handlers,
      graphs: runtime.graphs,
      apiKey: config.apiKey,
      statisticsPublic: config.operating.statisticsPublic,
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
  const runs = new RunManager({ fanout, config, state, runtime, nodeId, log });
  const clusterRuns = new ClusterRuns({
    fanout,
    config,
    registry: state.runs,
    runs,
    nodeId,
    log,
    clustered: cluster !== undefined || options.adapter !== undefined,
  });
  const backend = createBackendChannel(config, log, cluster?.commands);
  let metricsServer: HttpServer | undefined;
  const budgets = createSharedBudgets(
    config,
    cluster?.rateLimiter ??
      ((name, points) => new RateLimiterMemory({ keyPrefix: name, points, duration: 1 })),
  );
  const authenticator = config.jwtSecret
    ? new JwtAuthenticator(config.jwtSecret, config.auth)
    : undefined;
  const admit = createAdmission({
    config,
    state,
    nodeId,
    authenticator,
    isAccepting: () => accepting,
    log,
    memberArriving: (sessionId) => fanout.sessionMemberArriving(sessionId),
    requireGraph: (name, source) => runtime.graphs.require(name, source),
  });
  const core = createSessionCore(admit, {
    config,
    state,
    tools,
    runs,
    clusterRuns,
    fanout,
    vendor: runtime.vendor,
    log,
    backend,
    handlers,
    budgets,
    connections: state.connections,
  });
  const unwatch = watchNode({
    nodeId,
    connections: () => core.connections(),
    queuedRuns: runs.queuedRuns,
    activeRuns: () => runs.activeRuns(),
    redisReady: cluster && (() => cluster.isReady()),
  });
  serveSocketIo(io, config, core, log);
  const plain = servePlainWebSocket(httpServer, {
    config,
    core,
    acceptMembers: (deliver) => bus.acceptOtherMembers(deliver),
    pendingElsewhere: () => io.engine.clientsCount - io.of("/").sockets.size,
    socketIoPath: `${io.path()}/`,
    log,
  });
  pendingPlain = () => plain.pending();

  return {
    config,
    nodeId,
    io,
    httpServer,
    state,
    handlers,
    graphs: runtime.graphs,
    log,
    serve() {
      accepting = true;
    },
    peersKnown: () => peerGroups?.start() ?? Promise.resolve(),
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
        peerGroups?.stop();
        await runs.drain(config.shutdownGraceMs);
        fanout.toThisNode("server_shutdown", {
          message: "The server is shutting down",
          reconnect: true,
        });
        // Unreferenced: a close that finishes early is not kept waiting for it.
        const deadline = sleep(config.shutdownGraceMs, undefined, { ref: false });
        await Promise.all([flushAndClose(io, deadline), plain.closeAll(deadline)]);
        await io.close();
        await backend?.close();
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
 * Closes every Socket.IO transport once what was written to it has left:
 * `io.close()` alone discards the write buffers, which dropped the last
 * `stream_end` and `server_shutdown` of a client still streaming. A client
 * that does not read is not waited for past `deadline`.
 */
async function flushAndClose(io: GatewayServer, deadline: Promise<void>): Promise<void> {
  const clients = new Set([...io.of("/").sockets.values()].map((socket) => socket.conn));
  const flushed = Promise.all(
    [...clients].map((client) => {
      const closed = new Promise<void>((resolve) => client.once("close", () => resolve()));
      client.close();
      return closed;
    }),
  );
  await Promise.race([flushed, deadline]);
}
