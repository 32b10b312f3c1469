import type { Server, Socket } from "socket.io";
import { randomUUID } from "node:crypto";
import { canJoinProject } from "../auth/authenticate.js";
import type { BackendChannel } from "../backend/backend-channel.js";
import { conversationThreadOf } from "../auth/principal.js";
import type { Config } from "../core/config.js";
import { GatewayError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import {
  projectRoom,
  serverEvent,
  sessionRoom,
  type ServerEventMap,
  type ServerEventType,
} from "../core/protocol.js";
import type { Emit, HandlerContext } from "../registry/handler-context.js";
import type { GatewayState } from "../state/types.js";
import type { ToolRegistry } from "../tools/tool-registry.js";
import type { ClusterRuns } from "../runs/cluster-runs.js";
import type { RunManager } from "../runs/run-manager.js";
import type { ConnectionData } from "./connection-data.js";

interface ConnectionDeps {
  io: Server;
  config: Config;
  state: GatewayState;
  tools: ToolRegistry;
  runs: RunManager;
  clusterRuns: ClusterRuns;
  vendor: string;
  log: Logger;
  backend: BackendChannel | undefined;
}

/** Builds the one handler context a connection keeps for its whole life, and its clean-up. */
export function openConnection(socket: Socket, deps: ConnectionDeps): HandlerContext {
  const { sessionId, user, principal, currentRun, releaseSlot } = socket.data as ConnectionData;
  const connectionId = socket.id;
  const threadId = conversationThreadOf(sessionId, user);
  const closed = new AbortController();
  const log = deps.log.child({ connection_id: connectionId, session_id: sessionId });
  const toSession = deps.io.to(sessionRoom(sessionId));

  const emit: Emit = (type, data) => socket.emit(type, serverEvent(type, data));
  const emitToSession: Emit = (type, data) => toSession.emit(type, serverEvent(type, data));

  const ctx: HandlerContext = {
    connectionId,
    sessionId,
    user,
    log,
    signal: closed.signal,
    emit,
    emitToSession,
    emitToProject<K extends ServerEventType>(projectId: string, type: K, data: ServerEventMap[K]) {
      deps.io.to(projectRoom(projectId)).emit(type, serverEvent(type, data));
    },
    projects: {
      async join(projectId) {
        if (!canJoinProject(user, projectId)) {
          throw new GatewayError("forbidden", `You may not join project ${projectId}`);
        }
        await socket.join(projectRoom(projectId));
        return deps.state.projects.join(projectId, connectionId);
      },
      async leave(projectId) {
        if (!socket.rooms.has(projectRoom(projectId))) {
          throw new GatewayError("not_in_project", `You have not joined project ${projectId}`);
        }
        await socket.leave(projectRoom(projectId));
        return deps.state.projects.leave(projectId, connectionId);
      },
      isMember: (projectId) => socket.rooms.has(projectRoom(projectId)),
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
        deps.clusterRuns.submit({ sessionId, principal, threadId }, request, messageId),
      cancel: (messageId) => deps.clusterRuns.cancel(sessionId, messageId),
      resume: (messageId, afterSeq) =>
        deps.runs.resume(socket, { sessionId, messageId }, afterSeq, closed.signal),
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
      socket.disconnect(true);
    });
  }
  deps.runs.onConnection(socket, sessionId, currentRun);
  void socket.join(sessionRoom(sessionId));
  socket.once("disconnect", (reason) => {
    closed.abort(new Error("The connection closed"));
    log.info("disconnected", { reason });
    void Promise.all([releaseSlot(), deps.state.projects.leaveAll(connectionId)])
      .then(() => deps.runs.onSessionLeft(sessionId))
      .catch((error: unknown) => log.error("clean-up after disconnect failed", { error }));
  });
  log.info("connected", { user: user?.id ?? null, transport: socket.conn.transport.name });
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
