import { randomUUID } from "node:crypto";
import { canJoinProject } from "../auth/authenticate.js";
import type { BackendChannel } from "../backend/backend-channel.js";
import type { Config } from "../core/config.js";
import { GatewayError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import { serverEvent, type Emit } from "../core/protocol.js";
import type {
  BackendLink,
  HandlerContext,
  ProjectRooms,
  SessionRunControl,
} from "../registry/handler-context.js";
import type { ClusterRuns } from "../runs/cluster-runs.js";
import type { RunManager } from "../runs/run-manager.js";
import type { GatewayState, TransportName } from "../state/types.js";
import type { ToolRegistry } from "../tools/tool-registry.js";
import { AckFirst } from "./ack-first.js";
import type { Admitted } from "./admission.js";
import { projectGroup, sessionGroup, updatesGroup, type Fanout, type WireEvent } from "./fanout.js";

export type { TransportName } from "../state/types.js";

/**
 * One client connection as the core sees it, whatever carries it. Groups are
 * the fan-out groups of src/sessions/fanout.ts.
 */
export interface Connection {
  readonly id: string;
  readonly transport: TransportName;
  /** Sends a built event (its `type` and `timestamp` inside: serverEvent) to this client alone. */
  send(type: string, event: object): void;
  /** Closes after what was sent has been written; `reason` goes to the log. */
  close(reason: string): void;
  join(group: string): void;
  leave(group: string): void;
  has(group: string): boolean;
  /** Called once, when the connection has closed for any reason. */
  onClose(callback: (reason: string) => void): void;
  /**
   * Stops reading what the client sends for `ms`: the rest of a flood waits
   * in the kernel and TCP slows the sender, instead of being decoded here.
   */
  pauseReading(ms: number): void;
}

export interface SessionDeps {
  config: Config;
  state: GatewayState;
  tools: ToolRegistry;
  runs: RunManager;
  clusterRuns: ClusterRuns;
  fanout: Fanout;
  vendor: string;
  log: Logger;
  backend: BackendChannel | undefined;
}

/** The handler context, plus what the dispatcher of its connection needs. */
export interface SessionHandlerContext extends HandlerContext {
  /** Holds this connection's broadcasts behind its pending acks (src/sessions/ack-first.ts). */
  readonly ackFirst: AckFirst;
}

/**
 * Builds the one handler context a connection keeps for its whole life, and
 * its clean-up. `translated`: a dialect connection's delivery of broadcasts.
 */
export function openSession(
  conn: Connection,
  admitted: Admitted,
  deps: SessionDeps,
  translated?: (event: WireEvent) => void,
): SessionHandlerContext {
  const ctx = new SessionContext(conn, admitted, deps, translated);
  const { sessionId, sessionKey, user, releaseSlot, currentRun } = admitted;
  const expiresAt = user?.expiresAt;
  if (expiresAt !== undefined) {
    // Told first, so a client knows to fetch a fresh token before it reconnects.
    closeWhenExpired(expiresAt, conn, () => {
      ctx.log.info("token expired: disconnecting");
      ctx.emit("token_expired", {
        message: "Your token has expired: reconnect with a fresh one",
        expired_at: expiresAt / 1000,
      });
      conn.close("token_expired");
    });
  }
  deps.runs.onConnection(conn, sessionKey, currentRun);
  conn.join(sessionGroup(sessionKey));
  if (admitted.wantsUpdates) conn.join(updatesGroup(sessionKey));
  conn.onClose((reason) => {
    ctx.markClosed();
    ctx.ackFirstIfMade?.drop();
    // Below info, the child logger is never made for the line it would drop.
    if (deps.log.isInfoEnabled()) ctx.log.info("disconnected", { reason });
    void Promise.all([releaseSlot(), deps.state.projects.leaveAll(conn.id)])
      .then(() => deps.runs.onSessionLeft(sessionKey))
      .catch((error: unknown) => ctx.log.error("clean-up after disconnect failed", { error }));
  });
  if (deps.log.isInfoEnabled())
    ctx.log.info("connected", { user: user?.id ?? null, transport: conn.transport });
  conn.send(
    "connected",
    serverEvent("connected", {
      connection_id: conn.id,
      session_id: sessionId,
      message: "Connected to the agent gateway",
      heartbeat: {
        interval_ms: deps.config.heartbeat.intervalMs,
        timeout_ms: deps.config.heartbeat.timeoutMs,
      },
    }),
  );
  return ctx;
}

/**
 * A connection's handler context. An idle connection is most of what a
 * gateway holds, so the parts a handler may never touch (its child logger,
 * the AbortController behind `signal`, the emit functions, the project,
 * run and back-end views) are made on first use and kept; each behaves as
 * if it had been made at connect. Functions stay callable when detached
 * (`const { emit } = ctx`).
 */
class SessionContext implements SessionHandlerContext {
  readonly connectionId: string;
  readonly sessionId: string;
  readonly user: Admitted["user"];
  readonly tools: ToolRegistry;
  private logger: Logger | undefined;
  private closedController: AbortController | undefined;
  private closed = false;
  private emitToConnection: Emit | undefined;
  private emitToAll: Emit | undefined;
  private projectRooms: ProjectRooms | undefined;
  private runControl: SessionRunControl | undefined;
  private backendLink: BackendLink | undefined;
  ackFirstIfMade: AckFirst | undefined;

  constructor(
    private readonly conn: Connection,
    private readonly admitted: Admitted,
    private readonly deps: SessionDeps,
    private readonly translated: ((event: WireEvent) => void) | undefined,
  ) {
    this.connectionId = conn.id;
    this.sessionId = admitted.sessionId;
    this.user = admitted.user;
    this.tools = deps.tools;
  }

  get log(): Logger {
    this.logger ??= this.deps.log.child({
      connection_id: this.connectionId,
      session_id: this.sessionId,
    });
    return this.logger;
  }

  get signal(): AbortSignal {
    if (!this.closedController) {
      this.closedController = new AbortController();
      if (this.closed) this.closedController.abort(new Error("The connection closed"));
    }
    return this.closedController.signal;
  }

  /** The connection has closed: `signal` fires, now or when first asked for. */
  markClosed(): void {
    this.closed = true;
    this.closedController?.abort(new Error("The connection closed"));
  }

  get emit(): Emit {
    const conn = this.conn;
    this.emitToConnection ??= (type, data) => conn.send(type, serverEvent(type, data));
    return this.emitToConnection;
  }

  get emitToSession(): Emit {
    const { fanout } = this.deps;
    const { sessionKey } = this.admitted;
    this.emitToAll ??= (type, data) =>
      fanout.toSession(sessionKey, serverEvent(type, data) as WireEvent);
    return this.emitToAll;
  }

  get emitToProject(): HandlerContext["emitToProject"] {
    const { fanout } = this.deps;
    return (projectId, type, data) =>
      fanout.toProject(projectId, serverEvent(type, data) as WireEvent);
  }

  get projects(): ProjectRooms {
    this.projectRooms ??= projectRooms(this.conn, this.user, this.deps);
    return this.projectRooms;
  }

  get backend(): BackendLink {
    this.backendLink ??= backendLink(this.sessionId, this.user, this.deps);
    return this.backendLink;
  }

  get ackFirst(): AckFirst {
    this.ackFirstIfMade ??= new AckFirst(
      this.conn,
      this.deps.fanout,
      this.translated,
      this.deps.config.limits.handlerTimeoutMs,
    );
    return this.ackFirstIfMade;
  }

  get runs(): SessionRunControl {
    this.runControl ??= runControl(
      this.conn,
      this.admitted,
      this.deps,
      () => this.signal,
      () => this.ackFirst.runSubmitting(),
    );
    return this.runControl;
  }
}

function projectRooms(conn: Connection, user: Admitted["user"], deps: SessionDeps): ProjectRooms {
  const connectionId = conn.id;
  return {
    async join(projectId) {
      if (!canJoinProject(user, projectId)) {
        throw new GatewayError("forbidden", `You may not join project ${projectId}`);
      }
      conn.join(projectGroup(projectId));
      return deps.state.projects.join(projectId, connectionId);
    },
    async leave(projectId) {
      if (!conn.has(projectGroup(projectId))) {
        throw new GatewayError("not_in_project", `You have not joined project ${projectId}`);
      }
      conn.leave(projectGroup(projectId));
      return deps.state.projects.leave(projectId, connectionId);
    },
    isMember: (projectId) => conn.has(projectGroup(projectId)),
  };
}

function backendLink(sessionId: string, user: Admitted["user"], deps: SessionDeps): BackendLink {
  return {
    connected: deps.backend !== undefined,
    publish(kind, projectId, data) {
      const id = randomUUID();
      deps.backend?.publish({
        id,
        kind,
        project_id: projectId,
        session_id: sessionId,
        user: user?.id ?? null,
        data,
        timestamp: new Date().toISOString(),
      });
      return id;
    },
  };
}

function runControl(
  conn: Connection,
  { sessionKey, principal, graph, wantsUpdates }: Admitted,
  deps: SessionDeps,
  closed: () => AbortSignal,
  submitting: () => void,
): SessionRunControl {
  // The session key is also its conversation's thread (src/auth/principal.ts).
  const submitter = {
    sessionId: sessionKey,
    principal: principal.key,
    threadId: sessionKey,
    connection: conn,
    ...(graph === undefined ? {} : { graph }),
  };
  return {
    vendor: deps.vendor,
    // A connection that asked at connection for state updates gets them for its own runs too.
    submit: (request, messageId) => {
      submitting();
      return deps.clusterRuns.submit(
        submitter,
        wantsUpdates ? { ...request, streamModes: ["updates"] } : request,
        messageId,
      );
    },
    resumeRun: (messageId, command) => {
      submitting();
      return deps.clusterRuns.resumeRun(submitter, messageId, command);
    },
    history: ({ limit, before, graph: named }) =>
      deps.runs.history(submitter, limit, before, named),
    cancel: (messageId) => deps.clusterRuns.cancel(sessionKey, messageId),
    resume: (messageId, afterSeq) =>
      deps.runs.resume(conn, { sessionId: sessionKey, messageId }, afterSeq, closed()),
  };
}

/** setTimeout's longest delay; a later expiry re-arms on the way. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function closeWhenExpired(expiresAt: number, conn: Connection, expire: () => void): void {
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    const delay = expiresAt - Date.now();
    if (delay <= 0) return expire();
    timer = setTimeout(arm, Math.min(delay, MAX_TIMER_MS));
    timer.unref();
  };
  conn.onClose(() => clearTimeout(timer));
  arm();
}
