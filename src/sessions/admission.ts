import type { AuthUser, JwtAuthenticator } from "../auth/authenticate.js";
import { principalOf, sessionKeyOf, type Principal } from "../auth/principal.js";
import type { Config } from "../core/config.js";
import { dialectFor, type Dialect, type DialectTransport } from "../dialects/index.js";
import { GatewayError, toGatewayError, toWireError, type WireError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { GatewayState, RefusalReason } from "../state/types.js";
import type { TransportName } from "./connection.js";
import { metrics } from "../metrics/instruments.js";
import { GRAPH_NAME_PATTERN } from "../core/protocol.js";
import { readSessionId } from "./session-id.js";

/** What a transport read from a client's handshake, before anything is checked. */
export interface Handshake {
  connectionId: string;
  transport: TransportName;
  token?: unknown;
  sessionId?: unknown;
  /** The compatibility dialect asked for (src/dialects/); none is native. */
  dialect?: unknown;
  /** The session's graph when a message names none (docs/graphs.md). */
  graph?: unknown;
  /** Extra stream modes for every run of the session: ["updates"] or "updates". */
  streamModes?: unknown;
  /** The TCP peer's address. */
  address: string;
}

/** The transport's view of whether the client is still there. */
export interface Lifecycle {
  gone(): boolean;
  onGone(callback: () => void): void;
}

/** An admitted connection: who it is, its session, and its place under the caps. */
export interface Admitted {
  connectionId: string;
  transport: TransportName;
  /** The session id as the client named it (or was given): what it is shown. */
  sessionId: string;
  /**
   * The session's identity everywhere else (state, rooms, runs, stream
   * histories, budgets, the conversation): per user under JWT (src/auth/principal.ts).
   */
  sessionKey: string;
  user: AuthUser | null;
  /** Who the connection's budgets are charged to (src/auth/principal.ts). */
  principal: Principal;
  /** The protocol its client speaks; the native one unless it asked for another. */
  dialect: Dialect;
  /** Milliseconds since the epoch. */
  connectedAt: number;
  /** The graph this connection's messages run when they name none; the server's default when absent. */
  graph?: string;
  /** This connection gets the state updates of the session's runs. */
  wantsUpdates: boolean;
  /** The message id of the session's run in flight anywhere in the cluster at admission, if any. */
  currentRun?: string;
  /** Gives the connection's place under the caps back, once however often it is called. */
  releaseSlot: () => Promise<void>;
}

interface AdmissionDeps {
  config: Config;
  state: GatewayState;
  nodeId: string;
  authenticator: JwtAuthenticator | undefined;
  isAccepting: () => boolean;
  log: Logger;
  /** Tells the other nodes this one is about to have a member of the session (Fanout). */
  memberArriving?: (sessionId: string) => Promise<void>;
  /** Throws `unknown_graph` for a graph this server does not have. */
  requireGraph?: (name: string, source: string) => unknown;
}

export type Admit = (handshake: Handshake, lifecycle: Lifecycle) => Promise<Admitted | null>;

/**
 * Admission, the same for every transport: authenticate, pick the session,
 * and take a place under the caps. Throws a GatewayError to refuse; resolves
 * null when the client left before it was admitted (nothing is then held).
 */
export function createAdmission(deps: AdmissionDeps): Admit {
  const limits = {
    maxConnections: deps.config.limits.maxConnections,
    maxConnectionsPerSession: deps.config.limits.maxConnectionsPerSession,
    ownerTtlMs: deps.config.limits.sessionOwnerTtlMs,
    maxSessions: deps.config.limits.maxSessions,
  };
  return async (handshake, lifecycle) => {
    const { connectionId } = handshake;
    // Registered before the first await: the client may vanish at any moment
    // below, and a place it took must still be given back.
    const slot = new SlotGuard(lifecycle, deps.state, connectionId);
    try {
      if (!deps.isAccepting()) throw new GatewayError("shutting_down");
      const dialect = dialectOver(handshake.dialect, handshake.transport);
      const graph = graphOf(handshake.graph, deps.requireGraph);
      const wantsUpdates = updatesAsked(handshake.streamModes);
      const user = deps.authenticator ? await deps.authenticator.verify(handshake.token) : null;
      // With JWT a session id is the user's own (sessionKeyOf); without, it is the only key.
      const sessionId = readSessionId(
        handshake.sessionId,
        deps.authenticator ? "any" : deps.config.sessionIdPolicy,
      );
      const sessionKey = sessionKeyOf(sessionId, user);
      const connectedAt = Date.now();
      if (slot.gone) return null; // nothing taken yet: nothing to give back
      const result = await deps.state.connections
        .admit(
          {
            id: connectionId,
            sessionId: sessionKey,
            userId: user?.id ?? null,
            nodeId: deps.nodeId,
            connectedAt,
            transport: handshake.transport,
          },
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
      if (slot.taken()) return null; // the client left while we waited: released already
      // Before the look-up: a run that starts after it then broadcasts to this node too.
      await deps.memberArriving?.(sessionKey);
      // Looked up now so the connection joins the run's catch-up group before it is told `connected`.
      const run = await deps.state.runs.current(sessionKey).catch(() => null);
      if (lifecycle.gone()) return null; // released by the guard
      return {
        connectionId,
        transport: handshake.transport,
        sessionId,
        sessionKey,
        user,
        principal: principalOf(user, handshake.address),
        dialect,
        connectedAt,
        wantsUpdates,
        ...(graph === undefined ? {} : { graph }),
        releaseSlot: slot.release.bind(slot),
        ...(run ? { currentRun: run.messageId } : {}),
      };
    } catch (error) {
      void slot.release();
      metrics.admissionRefused(toGatewayError(error).code);
      throw error;
    }
  };
}

const DIALECT_TRANSPORT: Record<TransportName, DialectTransport> = {
  socketio: "socket.io",
  ws: "websocket",
};

/** A dialect its clients cannot use over this transport is refused like an unknown one. */
function dialectOver(requested: unknown, transport: TransportName): Dialect {
  const dialect = dialectFor(requested);
  if (!dialect.transports.includes(DIALECT_TRANSPORT[transport]))
    throw new GatewayError(
      "unknown_dialect",
      `The ${dialect.id} dialect is not served over ${DIALECT_TRANSPORT[transport]}; it uses ${dialect.transports.join(" or ")}`,
    );
  return dialect;
}

/**
 * The one owner of a handshake's place under the caps. It is given back exactly
 * once: when the transport closes (even mid-admission, when Socket.IO drops
 * the half-made socket without a `disconnect`, or a plain WebSocket client
 * drops its TCP socket before the upgrade completes), on a refusal, or on
 * disconnect. A class: every open connection keeps one.
 */
class SlotGuard {
  /** True once the client's transport has closed. */
  gone: boolean;
  private isTaken = false;
  private released: Promise<void> | undefined;

  constructor(
    lifecycle: Lifecycle,
    private readonly state: GatewayState,
    private readonly connectionId: string,
  ) {
    this.gone = lifecycle.gone();
    lifecycle.onGone(this.onGone.bind(this));
  }

  /** Records that the place was taken; returns true (and releases it) if the client is gone already. */
  taken(): boolean {
    this.isTaken = true;
    if (this.gone) void this.release();
    return this.gone;
  }

  /** Gives the place back at most once, however many paths ask. */
  release(): Promise<void> {
    if (!this.isTaken) return Promise.resolve();
    this.released ??= this.state.connections.release(this.connectionId);
    return this.released;
  }

  private onGone(): void {
    this.gone = true;
    void this.release();
  }
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

/** A refusal as a client sees it; a failure of ours is logged, never described. */
export function admissionRefusal(error: unknown, log: Logger): WireError {
  const gatewayError = toGatewayError(error);
  if (gatewayError.code === "internal_error") log.error("admission failed", { error });
  return toWireError(gatewayError);
}

const GRAPH_NAME = new RegExp(GRAPH_NAME_PATTERN);

/** `auth.graph` / `?graph=`: a graph this server has, or none. */
function graphOf(value: unknown, requireGraph?: (name: string, source: string) => unknown) {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string" || !GRAPH_NAME.test(value)) {
    throw new GatewayError("invalid_payload", `graph must match ${GRAPH_NAME.source}`);
  }
  requireGraph?.(value, "auth.graph");
  return value;
}

/** `auth.stream_modes` / `?stream_modes=`: ["updates"], "updates", or nothing. */
function updatesAsked(value: unknown): boolean {
  if (value === undefined || value === null || value === "") return false;
  const modes = typeof value === "string" ? value.split(",") : value;
  if (!Array.isArray(modes) || modes.length > 4 || modes.some((m) => m !== "updates")) {
    throw new GatewayError("invalid_payload", 'stream_modes takes only "updates"');
  }
  return modes.length > 0;
}
