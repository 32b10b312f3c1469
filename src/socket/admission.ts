import type { Socket } from "socket.io";
import type { JwtAuthenticator } from "../auth/authenticate.js";
import type { Config } from "../core/config.js";
import { GatewayError, toGatewayError, toWireError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { GatewayState, RefusalReason } from "../state/types.js";
import { metrics } from "../metrics/instruments.js";
import { principalOf } from "../auth/principal.js";
import type { ConnectionData } from "./connection-data.js";
import { readSessionId } from "./session-id.js";

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
    // Registered before the first await: the client may vanish at any moment
    // below, and a place it took must still be given back.
    const slot = guardSlot(socket, () => deps.state.connections.release(socket.id));
    try {
      if (!deps.isAccepting()) throw new GatewayError("shutting_down");
      const auth = (socket.handshake.auth ?? {}) as Record<string, unknown>;
      const user = deps.authenticator
        ? await deps.authenticator.verify(auth["token"] ?? bearerToken(socket))
        : null;
      // With JWT a session is guarded by its owner; without, its id is the only key.
      const sessionId = readSessionId(
        auth["session_id"],
        deps.authenticator ? "any" : deps.config.sessionIdPolicy,
      );
      const connectedAt = Date.now();
      if (slot.gone) return; // nothing taken yet: nothing to give back
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
      if (slot.taken()) return; // the client left while we waited: released already
      // Looked up now so the socket joins the run's catch-up room before it is told `connected`.
      const run = await deps.state.runs.current(sessionId).catch(() => null);
      const data: ConnectionData = {
        sessionId,
        user,
        principal: principalOf(user, socket.handshake.address),
        connectedAt,
        releaseSlot: slot.release,
        ...(run ? { currentRun: run.messageId } : {}),
      };
      socket.data = data;
      next();
    } catch (error) {
      void slot.release();
      const gatewayError = toGatewayError(error);
      if (gatewayError.code === "internal_error") deps.log.error("admission failed", { error });
      const refused = new Error(gatewayError.message) as Error & { data: unknown };
      refused.data = toWireError(gatewayError);
      metrics.admissionRefused(gatewayError.code);
      next(refused);
    }
  };
  return (socket: Socket, next: (err?: Error) => void): void => void admit(socket, next);
}

interface SlotGuard {
  /** True once the client's transport has closed. */
  readonly gone: boolean;
  /** Records that the place was taken; returns true (and releases it) if the client is gone already. */
  taken(): boolean;
  /** Gives the place back at most once, however many paths ask. */
  readonly release: () => Promise<void>;
}

/**
 * The one owner of a handshake's place under the caps. It is given back exactly
 * once: when the transport closes (even mid-admission, when Socket.IO drops
 * the half-made socket without a `disconnect`), on a refusal, or on disconnect.
 */
function guardSlot(socket: Socket, release: () => Promise<void>): SlotGuard {
  let taken = false;
  let gone = socket.conn.readyState !== "open";
  let released: Promise<void> | undefined;
  const releaseOnce = (): Promise<void> => {
    if (!taken) return Promise.resolve();
    released ??= release();
    return released;
  };
  socket.conn.once("close", () => {
    gone = true;
    void releaseOnce();
  });
  return {
    get gone() {
      return gone;
    },
    taken() {
      taken = true;
      if (gone) void releaseOnce();
      return gone;
    },
    release: releaseOnce,
  };
}

function bearerToken(socket: Socket): string | undefined {
  const header = socket.handshake.headers.authorization;
  return header?.startsWith("Bearer ") ? header.slice(7) : undefined;
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
