import { randomUUID } from "node:crypto";
import { canJoinProject } from "../auth/authenticate.js";
import type { BackendChannel } from "../backend/backend-channel.js";
import { conversationThreadOf } from "../auth/principal.js";
import type { Config } from "../core/config.js";
import { GatewayError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import { serverEvent, type Emit } from "../core/protocol.js";
import type { HandlerContext } from "../registry/handler-context.js";
import type { ClusterRuns } from "../runs/cluster-runs.js";
import type { RunManager } from "../runs/run-manager.js";
import type { GatewayState, TransportName } from "../state/types.js";
import type { ToolRegistry } from "../tools/tool-registry.js";
import type { Admitted } from "./admission.js";
import { projectGroup, sessionGroup, type Fanout, type WireEvent } from "./fanout.js";

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

/** Builds the one handler context a connection keeps for its whole life, and its clean-up. */
export function openSession(
  conn: Connection,
  admitted: Admitted,
  deps: SessionDeps,
): HandlerContext {
  const { sessionId, user, principal, currentRun, releaseSlot } = admitted;
  const connectionId = conn.id;
  const threadId = conversationThreadOf(sessionId, user);
  const closed = new AbortController();
  const log = deps.log.child({ connection_id: connectionId, session_id: sessionId });

  const emit: Emit = (type, data) => conn.send(type, serverEvent(type, data));
  const emitToSession: Emit = (type, data) =>
    deps.fanout.toSession(sessionId, serverEvent(type, data) as WireEvent);

  const ctx: HandlerContext = {
    connectionId,
    sessionId,
    user,
    log,
    signal: closed.signal,
    emit,
    emitToSession,
    emitToProject(projectId, type, data) {
      deps.fanout.toProject(projectId, serverEvent(type, data) as WireEvent);
    },
    projects: {
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
    },
    tools: deps.tools,
    backend: {
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
    },
    runs: {
      vendor: deps.vendor,
      submit: (request, messageId) =>
        deps.clusterRuns.submit(
          { sessionId, principal: principal.key, threadId },
          request,
          messageId,
        ),
      cancel: (messageId) => deps.clusterRuns.cancel(sessionId, messageId),
      resume: (messageId, afterSeq) =>
        deps.runs.resume(conn, { sessionId, messageId }, afterSeq, closed.signal),
    },
  };

  const expiresAt = user?.expiresAt;
  if (expiresAt !== undefined) {
    // Told first, so a client knows to fetch a fresh token before it reconnects.
    closeWhenExpired(expiresAt, closed.signal, () => {
      log.info("token expired: disconnecting");
      emit("token_expired", {
        message: "Your token has expired: reconnect with a fresh one",
        expired_at: expiresAt / 1000,
      });
      conn.close("token_expired");
    });
  }
  deps.runs.onConnection(conn, sessionId, currentRun);
  conn.join(sessionGroup(sessionId));
  conn.onClose((reason) => {
    closed.abort(new Error("The connection closed"));
    log.info("disconnected", { reason });
    void Promise.all([releaseSlot(), deps.state.projects.leaveAll(connectionId)])
      .then(() => deps.runs.onSessionLeft(sessionId))
      .catch((error: unknown) => log.error("clean-up after disconnect failed", { error }));
  });
  log.info("connected", { user: user?.id ?? null, transport: conn.transport });
  emit("connected", {
    connection_id: connectionId,
    session_id: sessionId,
    message: "Connected to the agent gateway",
    heartbeat: {
      interval_ms: deps.config.heartbeat.intervalMs,
      timeout_ms: deps.config.heartbeat.timeoutMs,
    },
  });
  return ctx;
}

/** setTimeout's longest delay; a later expiry re-arms on the way. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function closeWhenExpired(expiresAt: number, closed: AbortSignal, expire: () => void): void {
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    const delay = expiresAt - Date.now();
    if (delay <= 0) return expire();
    timer = setTimeout(arm, Math.min(delay, MAX_TIMER_MS));
    timer.unref();
  };
  closed.addEventListener("abort", () => clearTimeout(timer), { once: true });
  arm();
}
