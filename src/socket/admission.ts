import type { Socket } from "socket.io";
import type { JwtAuthenticator } from "../auth/authenticate.js";
import type { Config } from "../core/config.js";
import { GatewayError, toGatewayError, toWireError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { GatewayState, RefusalReason } from "../state/types.js";
import type { ConnectionData } from "./connection-data.js";

const SESSION_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

interface AdmissionDeps {
  config: Config;
  state: GatewayState;
  nodeId: string;
  authenticator: JwtAuthenticator | undefined;
  isAccepting: () => boolean;
  log: Logger;
}

/**
 * Socket.IO middleware run once per handshake: authenticate, pick the session,
 * and take a place under the caps. A refusal reaches the client as
 * `connect_error` with `err.data = {code, message}`.
 */
export function createAdmission(deps: AdmissionDeps) {
  const limits = {
    maxConnections: deps.config.limits.maxConnections,
    maxConnectionsPerSession: deps.config.limits.maxConnectionsPerSession,
    ownerTtlMs: deps.config.limits.sessionOwnerTtlMs,
    maxSessions: deps.config.limits.maxSessions,
  };
  const admit = async (socket: Socket, next: (err?: Error) => void): Promise<void> => {
    try {
      if (!deps.isAccepting()) throw new GatewayError("shutting_down");
      const auth = (socket.handshake.auth ?? {}) as Record<string, unknown>;
      const user = deps.authenticator
        ? await deps.authenticator.verify(auth["token"] ?? bearerToken(socket))
        : null;
      const sessionId = readSessionId(auth["session_id"]);
      const connectedAt = Date.now();
      const result = await deps.state.connections
        .admit(
          { id: socket.id, sessionId, userId: user?.id ?? null, nodeId: deps.nodeId, connectedAt },
          limits,
        )
        .catch((error: unknown) => {
          // The caps cannot be checked (Redis down): refuse, with a code a client can retry on.
          deps.log.warn("admission: shared state unreachable", { error });
          throw new GatewayError(
            "unavailable",
            "The gateway cannot check its connection limits right now; retry shortly",
          );
        });
      if (!result.admitted) throw refusal(result.reason, sessionId, deps.config);
      // Looked up now so the socket joins the run's catch-up room before it is told `connected`.
      const run = await deps.state.runs.current(sessionId).catch(() => null);
      const data: ConnectionData = {
        sessionId,
        user,
        connectedAt,
        ...(run ? { currentRun: run.messageId } : {}),
      };
      socket.data = data;
      // A handshake can be dropped after admission without ever reaching
      // "connection"; the engine's close still fires, so the place is freed.
      socket.conn.once("close", () => void deps.state.connections.release(socket.id));
      next();
    } catch (error) {
      const gatewayError = toGatewayError(error);
      if (gatewayError.code === "internal_error") deps.log.error("admission failed", { error });
      const refused = new Error(gatewayError.message) as Error & { data: unknown };
      refused.data = toWireError(gatewayError);
      next(refused);
    }
  };
  return (socket: Socket, next: (err?: Error) => void): void => void admit(socket, next);
}

function bearerToken(socket: Socket): string | undefined {
  const header = socket.handshake.headers.authorization;
  return header?.startsWith("Bearer ") ? header.slice(7) : undefined;
}

function readSessionId(value: unknown): string {
  if (value === undefined || value === null || value === "") return crypto.randomUUID();
  if (typeof value !== "string" || !SESSION_ID.test(value)) {
    throw new GatewayError(
      "invalid_session_id",
      "session_id must be 1-128 characters of A-Z a-z 0-9 _ . : -",
    );
  }
  return value;
}

function refusal(reason: RefusalReason, sessionId: string, config: Config) {
  switch (reason) {
    case "session_full":
      return new GatewayError(
        "session_full",
        `Session ${sessionId} already has ${config.limits.maxConnectionsPerSession} connections`,
      );
    case "server_full":
      return new GatewayError(
        "server_full",
        `The server already has ${config.limits.maxConnections} connections`,
      );
    case "forbidden":
      return new GatewayError("forbidden", `Session ${sessionId} belongs to another user`);
    case "too_many_sessions":
      return new GatewayError(
        "too_many_sessions",
        `The server already remembers ${config.limits.maxSessions} sessions; reuse one of yours or retry later`,
      );
  }
}
