import { randomUUID } from "node:crypto";
import { STATUS_CODES, type IncomingMessage, type Server as HttpServer } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type RawData, type WebSocket } from "ws";
import { canJoinProject } from "../../auth/authenticate.js";
import { isOriginAllowed } from "../../auth/origin.js";
import type { Config } from "../../core/config.js";
import { GatewayError, type ErrorCode } from "../../core/errors.js";
import type { Logger } from "../../core/logger.js";
import { admissionRefusal, type Admitted } from "../../sessions/admission.js";
import type { Receive } from "../../sessions/dispatch.js";
import type { GroupMembership } from "../../sessions/fanout.js";
import type { SessionCore } from "../../sessions/session-core.js";
import { PlainConnection } from "./connection.js";
import type { AckResponse } from "../../core/protocol.js";
import { ackFrame, binaryFrame, decodeFrame, peekType } from "./frames.js";
import { watchHeartbeat } from "./heartbeat.js";
import { routeOf, type PlainRoute } from "./routes.js";
import { TurnCork } from "../turn-cork.js";

/** The HTTP status of a refused upgrade, by error code. */
const STATUS: Partial<Record<ErrorCode, number>> = {
  invalid_session_id: 400,
  unknown_dialect: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  session_full: 429,
  too_many_sessions: 429,
  server_full: 503,
  unavailable: 503,
  shutting_down: 503,
};

export interface PlainWebSocketDeps {
  config: Config;
  core: SessionCore;
  /** Membership in the one bus (Socket.IO's adapter), and delivery of its broadcasts here. */
  acceptMembers: (deliver: (ids: Iterable<string>, frame: string) => void) => GroupMembership;
  /** Socket.IO handshakes in progress: one budget covers both transports. */
  pendingElsewhere: () => number;
  /** The path prefix of Socket.IO's own upgrades, left to it. */
  socketIoPath: string;
  log: Logger;
}

export interface PlainWebSocketServer {
  /** Upgrades being admitted. */
  pending(): number;
  /** Closes every connection once what was written to it has left, or at `deadline`. */
  closeAll(deadline: Promise<void>): Promise<void>;
}

/**
 * The plain WebSocket transport: one JSON object per text frame, on the
 * gateway's own port. Every check runs before the upgrade completes, so a
 * refusal is an HTTP status with a JSON body `{"error": {code, message}}`.
 */
export function servePlainWebSocket(
  httpServer: HttpServer,
  deps: PlainWebSocketDeps,
): PlainWebSocketServer {
  const { config, core, log } = deps;
  const { limits } = config;
  const served = new Set(config.plainWebSocket.enabled ? config.plainWebSocket.paths : []);
  // maxPayload: a frame over WS_MAX_FRAME_BYTES closes the connection (1009) before it is buffered whole.
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: limits.maxFrameBytes,
    clientTracking: false,
  });
  const open = new Map<string, PlainConnection>();
  const groups = deps.acceptMembers((ids, frame) => {
    // Encoded once for every member, as engine.io does for a Socket.IO broadcast.
    const bytes = Buffer.from(frame);
    for (const id of ids) open.get(id)?.sendFrame(bytes);
  });
  const cork = config.corkFrames ? new TurnCork() : undefined;
  let pending = 0;

  // Before Socket.IO's listener, which answers only its own path (its
  // destroyUpgrade is off: every other upgrade is answered here).
  httpServer.prependListener("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (req.url?.startsWith(deps.socketIoPath)) return;
    // Never an unhandled rejection: whatever a request makes fail, the client gets an answer.
    upgrade(req, socket, head).catch((error: unknown) => refuse(socket, error, log));
  });

  async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on("error", () => socket.destroy());
    const route = routeOf(req.url ?? "/", served);
    if (!route) {
      return refuse(
        socket,
        new GatewayError("not_found", "No WebSocket endpoint at this path"),
        log,
      );
    }
    if (!isOriginAllowed(req.headers.origin, req.headers.host, config.corsOrigins)) {
      return refuse(
        socket,
        new GatewayError("forbidden", "Origin not allowed: add it to CORS_ORIGINS"),
        log,
      );
    }
    if (pending + deps.pendingElsewhere() >= limits.maxPendingHandshakes) {
      return refuse(
        socket,
        new GatewayError("unavailable", "Too many handshakes in progress; retry shortly"),
        log,
      );
    }
    pending += 1;
    let admitted: Admitted | null;
    try {
      admitted = await core.admit(
        {
          connectionId: randomUUID(),
          transport: "ws",
          token: bearerToken(req) ?? route.token,
          sessionId: route.sessionId,
          dialect: route.dialect,
          graph: route.graph,
          streamModes: route.streamModes,
          address: req.socket.remoteAddress ?? "",
        },
        { gone: () => socket.destroyed, onGone: (callback) => socket.once("close", callback) },
      );
      if (
        admitted &&
        route.projectId !== undefined &&
        !canJoinProject(admitted.user, route.projectId)
      ) {
        void admitted.releaseSlot();
        throw new GatewayError("forbidden", `You may not join project ${route.projectId}`);
      }
    } catch (error) {
      return refuse(socket, error, log);
    } finally {
      pending -= 1;
    }
    // Null: the client left during admission, and its place was given back.
    // A socket that closes during the upgrade itself is dropped by `ws`; the
    // admission guard gives its place back on the same `close`.
    if (admitted) {
      const accepted = admitted;
      wss.handleUpgrade(req, socket, head, (ws) => serve(ws, accepted, route));
    }
  }

  function serve(ws: WebSocket, admitted: Admitted, route: PlainRoute): void {
    const conn = new PlainConnection(
      admitted.connectionId,
      ws,
      groups,
      config.abuse.maxBufferedBytes,
      log,
      cork,
    );
    open.set(conn.id, conn);
    ws.once("close", () => open.delete(conn.id));
    watchHeartbeat(conn, config.heartbeat, log);
    // Over maxPayload, a bad frame or a reset: ws closes the connection itself; logged, never thrown.
    ws.on("error", (error) => log.info("plain WebSocket error", { connection_id: conn.id, error }));
    const { ctx, admitFrame, receive } = core.open(conn, admitted);
    conn.useLogs(ctx);
    ws.on("message", (data, isBinary) => {
      conn.heard();
      // Before JSON.parse: a flood's frames over the budget are dropped unread; only their
      // type (for the refusal's report) and request_id (for its ack) are looked up.
      const peek = () => {
        const { type, requestId } = peekType(data, isBinary);
        return {
          ...(type === undefined ? {} : { type }),
          ...(requestId === undefined
            ? {}
            : {
                reply: (reply: AckResponse) =>
                  conn.sendFrame(Buffer.from(ackFrame(requestId, reply))),
              }),
        };
      };
      if (admitFrame(peek)) receiveFrame(receive, conn, data, isBinary);
    });
    const projectId = route.projectId;
    if (projectId !== undefined) {
      ctx.projects
        .join(projectId)
        .then((members) => ctx.emit("joined_project", { project_id: projectId, members }))
        .catch((error: unknown) => ctx.log.error("joining the path's project failed", { error }));
    }
  }

  return {
    pending: () => pending,
    async closeAll(deadline) {
      const closing = [...open.values()].map((conn) => {
        conn.close("server_shutdown");
        return conn.closed();
      });
      await Promise.race([Promise.all(closing), deadline]);
      for (const conn of open.values()) conn.terminate();
    },
  };
}

function receiveFrame(
  receive: Receive,
  conn: PlainConnection,
  data: RawData,
  isBinary: boolean,
): void {
  const buffer = Array.isArray(data)
    ? Buffer.concat(data)
    : Buffer.isBuffer(data)
      ? data
      : Buffer.from(new Uint8Array(data));
  const bytes = buffer.byteLength;
  // Decoded even over WS_MAX_MESSAGE_BYTES, as Socket.IO's parser does, so
  // the refusal can name its request_id; `maxPayload` bounds what is decoded.
  const frame = isBinary ? binaryFrame() : decodeFrame(buffer.toString("utf8"));
  const { requestId } = frame;
  receive({
    type: frame.type,
    payload: frame.payload,
    bytes,
    ...(frame.malformed ? { malformed: frame.malformed } : {}),
    ...(requestId === undefined
      ? {}
      : { reply: (reply) => conn.sendFrame(Buffer.from(ackFrame(requestId, reply))) }),
  });
}

/** The refusal as an HTTP response on the raw socket, then closed. */
function refuse(socket: Duplex, error: unknown, log: Logger): void {
  if (socket.destroyed) return;
  const wire = admissionRefusal(error, log);
  const status = STATUS[wire.code] ?? 500;
  const body = JSON.stringify({ error: { code: wire.code, message: wire.message } });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}\r\n` +
      "Content-Type: application/json\r\n" +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      "Connection: close\r\n\r\n" +
      body,
  );
}

function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  return header?.startsWith("Bearer ") ? header.slice(7) : undefined;
}
