import { Server } from "socket.io";
import { isOriginAllowed } from "../../auth/origin.js";
import type { Config } from "../../core/config.js";
import type { Logger } from "../../core/logger.js";
import type { AckResponse } from "../../core/protocol.js";
import { admissionRefusal } from "../../sessions/admission.js";
import type { SessionCore } from "../../sessions/session-core.js";
import { socketConnection } from "./connection.js";
import { TurnCork } from "../turn-cork.js";
import { corkEngineFlushes } from "./cork-flushes.js";
import { capPendingOutput } from "./output-cap.js";
import { gatedParser, gatePackets } from "./packet-gate.js";
import { measurePackets } from "./packet-size.js";
import type { GatewayServer, GatewaySocket } from "./types.js";

/**
 * The Socket.IO transport: its server, handshake checks, admission as
 * middleware (a refusal reaches the client as `connect_error` with
 * `err.data = {code, message}`), and each socket's events handed to the
 * session core.
 */
export function createSocketIoServer(
  config: Config,
  pendingElsewhere: () => number,
): GatewayServer {
  const io: GatewayServer = new Server({
    pingInterval: config.heartbeat.intervalMs,
    // Socket.IO drops a client that misses a pong for pingInterval + pingTimeout.
    pingTimeout: config.heartbeat.timeoutMs - config.heartbeat.intervalMs,
    // The engine refuses a larger frame (HTTP body or WebSocket frame) before buffering it.
    maxHttpBufferSize: config.limits.maxFrameBytes,
    parser: gatedParser,
    cors: { origin: config.corsOrigins === "*" ? "*" : config.corsOrigins },
    // A transport that never sends CONNECT is closed this soon (Socket.IO's default is 45 s).
    connectTimeout: config.limits.connectTimeoutMs,
    // Other upgrades are the plain WebSocket transport's (src/transports/ws/), answered there.
    destroyUpgrade: false,
    allowRequest: (req, callback) => {
      if (!isOriginAllowed(req.headers.origin, req.headers.host, config.corsOrigins)) {
        callback("Origin not allowed: add it to CORS_ORIGINS", false);
        return;
      }
      // Transports open but not admitted cost memory and a timer each: bounded,
      // not per cap, and shared with plain WebSocket upgrades in progress.
      const pending = io.engine.clientsCount - io.of("/").sockets.size + pendingElsewhere();
      if (pending >= config.limits.maxPendingHandshakes) {
        callback("Too many handshakes in progress; retry shortly", false);
        return;
      }
      callback(null, true);
    },
  });
  return io;
}

/** Admission as middleware, then each admitted socket's events handed to the session core. */
export function serveSocketIo(io: GatewayServer, config: Config, core: SessionCore, log: Logger) {
  if (config.corkFrames) corkEngineFlushes(io, new TurnCork());
  io.use((socket, next) => {
    const auth = (socket.handshake.auth ?? {}) as Record<string, unknown>;
    const lifecycle = {
      gone: () => socket.conn.readyState !== "open",
      onGone: (callback: () => void) => socket.conn.once("close", callback),
    };
    core
      .admit(
        {
          connectionId: socket.id,
          transport: "socketio",
          token: auth["token"] ?? bearerToken(socket),
          sessionId: auth["session_id"],
          graph: auth["graph"] ?? socket.handshake.query["graph"],
          streamModes: auth["stream_modes"] ?? socket.handshake.query["stream_modes"],
          // The query too, so a client whose code cannot change picks it with its address alone.
          dialect: auth["dialect"] ?? socket.handshake.query["dialect"],
          address: socket.handshake.address,
        },
        lifecycle,
      )
      .then((admitted) => {
        if (!admitted) return; // the client left; its place was given back
        socket.data.admitted = admitted;
        next();
      })
      .catch((error: unknown) => {
        const wire = admissionRefusal(error, log);
        next(Object.assign(new Error(wire.message), { data: wire }));
      });
  });
  io.on("connection", (socket) => {
    const conn = socketConnection(socket);
    const { ctx, admitFrame, receive } = core.open(conn, socket.data.admitted);
    capPendingOutput(socket, config.abuse.maxBufferedBytes, ctx);
    gatePackets(socket, admitFrame);
    const packetBytes = measurePackets(socket, config.limits, ctx);
    // The socket's only packet middleware; it never passes a packet on.
    socket.use((packet) => {
      const bytes = packetBytes();
      const [type, ...args] = packet;
      const reply =
        typeof args.at(-1) === "function" ? (args.pop() as (r: AckResponse) => void) : undefined;
      receive({ type, payload: args.length === 0 ? {} : args[0], bytes, reply });
    });
  });
}

function bearerToken(socket: GatewaySocket): string | undefined {
  const header = socket.handshake.headers.authorization;
  return header?.startsWith("Bearer ") ? header.slice(7) : undefined;
}
