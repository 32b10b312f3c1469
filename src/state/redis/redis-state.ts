import type { Logger } from "../../core/logger.js";
import { MemoryConnectionRegistry } from "../memory/memory-state.js";
import { MemoryStreamStore } from "../memory/memory-streams.js";
import { LocalEntries } from "./local-entries.js";
import { replyArray, replyString, type LuaScript, type RedisCommands } from "./lua.js";
import { Presence } from "./presence.js";
import * as scripts from "./scripts.js";
import type {
  AdmitResult,
  ConnectionInfo,
  ConnectionLimits,
  ConnectionRegistry,
  ConnectionStats,
  GatewayState,
  ProjectMembership,
  RefusalReason,
  RunInfo,
  RunRegistry,
  Statistics,
  StreamStore,
} from "../types.js";

export interface RedisStateOptions {
  /** A connected node-redis client; the caller keeps ownership and quits it. */
  client: RedisCommands;
  nodeId: string;
  log: Logger;
  /** How long a silent node keeps counting. */
  nodeTtlMs?: number;
  /** Key prefix, so several gateways (or tests) can share one Redis. */
  prefix?: string;
  /** How long message counts are batched before they reach Redis. */
  flushIntervalMs?: number;
  /**
   * Stream history. Until a Redis-backed store exists, the default keeps it
   * on this node, so a client resumes a stream only on the node that ran it.
   */
  streams?: StreamStore;
  /**
   * While Redis is unreachable: `refuse` new connections (the caller answers
   * `unavailable`), or admit them under this node's own caps (`local`) and
   * tell Redis once it is back.
   */
  onRedisDown?: "refuse" | "local";
}

export interface RedisState extends GatewayState {
  /**
   * Refreshes liveness now, restoring this node's entries if Redis lost them.
   * Call it when the client reconnects, not to wait for the next beat.
   */
  heartbeat(): Promise<void>;
  /** Stops the heartbeat without leaving, as if the process froze: for tests of ghost clean-up. */
  suspendHeartbeat(): void;
  /** Forgets a connection on this node only, as if its release never reached Redis: for tests. */
  missRelease(connectionId: string): void;
}

/** Runs one script with the prefix and node id in front of its own arguments. */
type Run = (script: LuaScript, ...args: string[]) => Promise<unknown>;
/** Runs a clean-up now, or later if Redis cannot take it now. */
type CleanUp = (task: () => Promise<unknown>) => Promise<void>;

const REFUSALS = new Set<string>([
  "session_full",
  "server_full",
  "forbidden",
  "too_many_sessions",
] satisfies RefusalReason[]);

interface RegistryOptions {
  run: Run;
  local: LocalEntries;
  nodeId: string;
  nodeTtlMs: number;
  flushIntervalMs: number;
  log: Logger;
  cleanUp: CleanUp;
  onRedisDown: "refuse" | "local";
  /** Called after admitting without Redis, so Redis learns of it when it is back. */
  admittedAlone: () => void;
}

class RedisConnectionRegistry implements ConnectionRegistry {
  private flushTimer: NodeJS.Timeout | undefined;
  /**
   * This node's own connections and the owners of their sessions, kept in
   * step with Redis so that, admitting alone during an outage, the node
   * still counts the clients it had before.
   */
  private readonly insurance = new MemoryConnectionRegistry();
  private admittingAlone = false;

  constructor(private readonly options: RegistryOptions) {}

  private get run(): Run {
    return this.options.run;
  }

  private get local(): LocalEntries {
    return this.options.local;
  }

  async admit(connection: ConnectionInfo, limits: ConnectionLimits): Promise<AdmitResult> {
    let reply: string;
    try {
      reply = replyString(
        await this.run(
          scripts.ADMIT,
          connection.id,
          connection.sessionId,
          connection.userId === null ? "0" : "1",
          connection.userId ?? "",
          String(connection.connectedAt),
          connection.nodeId,
          String(limits.maxConnections),
          String(limits.maxConnectionsPerSession),
          String(limits.ownerTtlMs),
          String(limits.maxSessions),
          String(this.options.nodeTtlMs),
          connection.transport ?? "",
        ),
      );
    } catch (error) {
      if (this.options.onRedisDown === "local" && connection.nodeId === this.options.nodeId) {
        return this.admitAlone(connection, limits, error);
      }
      throw error;
    }
    if (REFUSALS.has(reply)) return { admitted: false, reason: reply as RefusalReason };
    if (this.admittingAlone) {
      this.admittingAlone = false;
      this.options.log.info("redis state: admitting through Redis again");
    }
    this.keepLocally(connection, limits);
    return { admitted: true };
  }

  /** CLUSTER_ADMISSION_ON_REDIS_DOWN=local: this node's caps and owners only, until Redis is back. */
  private async admitAlone(
    connection: ConnectionInfo,
    limits: ConnectionLimits,
    error: unknown,
  ): Promise<AdmitResult> {
    if (!this.admittingAlone) {
      this.admittingAlone = true;
      this.options.log.warn("redis state: Redis unreachable; admitting under this node's caps", {
        error,
      });
    }
    const result = await this.insurance.admit(connection, limits);
    if (!result.admitted) return result;
    this.local.connections.set(connection.id, {
      info: { ...connection },
      messages: 0,
      ownerTtlMs: limits.ownerTtlMs,
    });
    this.options.admittedAlone();
    return result;
  }

  private keepLocally(connection: ConnectionInfo, limits: ConnectionLimits): void {
    if (connection.nodeId !== this.options.nodeId) return;
    this.local.connections.set(connection.id, {
      info: { ...connection },
      messages: 0,
      ownerTtlMs: limits.ownerTtlMs,
    });
    this.insurance.record(connection, limits.ownerTtlMs);
  }

  /** Never rejects: with Redis down, the release is retried after the next heartbeat. */
  async release(connectionId: string): Promise<void> {
    // Forget locally first: a restore racing this release must not bring it back.
    this.forgetLocally(connectionId);
    await this.options.cleanUp(() => this.run(scripts.RELEASE, connectionId));
  }

  forgetLocally(connectionId: string): void {
    this.local.connections.delete(connectionId);
    void this.insurance.release(connectionId);
  }

  countMessage(connectionId: string): void {
    this.local.countMessage(connectionId);
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => void this.flush(), this.options.flushIntervalMs);
    this.flushTimer.unref();
  }

  /** Sends the batched counts in one script call; lost if Redis is down, like the events. */
  async flush(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const { total, byConnection } = this.local.takePending();
    if (total === 0) return;
    const pairs = [...byConnection].flatMap(([id, count]) => [id, String(count)]);
    try {
      await this.run(scripts.COUNT_MESSAGES, String(total), ...pairs);
    } catch (error) {
      this.options.log.debug("redis state: message counts dropped", { error, total });
    }
  }

  async sessionConnections(sessionId: string): Promise<ConnectionInfo[]> {
    const reply = replyArray(await this.run(scripts.SESSION_CONNECTIONS, sessionId)).map(
      replyString,
    );
    const connections: ConnectionInfo[] = [];
    for (let i = 0; i + 4 < reply.length; i += 5) {
      connections.push({
        id: reply[i] ?? "",
        sessionId,
        nodeId: reply[i + 1] ?? "",
        userId: reply[i + 3] === "1" ? (reply[i + 2] ?? "") : null,
        connectedAt: Number(reply[i + 4]),
      });
    }
    return connections.sort(byConnectedAt);
  }

  async statistics(): Promise<Statistics> {
    // Read-your-writes for this node's own counts.
    await this.flush();
    const reply = replyArray(await this.run(scripts.STATISTICS)).map(replyString);
    const connections: ConnectionStats[] = [];
    for (let i = 2; i + 7 < reply.length; i += 8) {
      const transport = reply[i + 7];
      connections.push({
        ...(transport === "ws" || transport === "socketio" ? { transport } : {}),
        id: reply[i] ?? "",
        sessionId: reply[i + 1] ?? "",
        nodeId: reply[i + 2] ?? "",
        userId: reply[i + 4] === "1" ? (reply[i + 3] ?? "") : null,
        connectedAt: Number(reply[i + 5]),
        messageCount: Number(reply[i + 6]),
      });
    }
    return {
      activeConnections: connections.length,
      totalConnections: Number(reply[0] ?? 0),
      totalMessages: Number(reply[1] ?? 0),
      connections: connections.sort(byConnectedAt),
    };
  }

  stop(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.insurance.stop();
  }
}

function byConnectedAt(a: ConnectionInfo, b: ConnectionInfo): number {
  return a.connectedAt - b.connectedAt || a.id.localeCompare(b.id);
}

/** Membership is recorded under the calling node, which is the node holding the socket. */
class RedisProjectMembership implements ProjectMembership {
  constructor(
    private readonly run: Run,
    private readonly local: LocalEntries,
    private readonly cleanUp: CleanUp,
  ) {}

  async join(projectId: string, connectionId: string): Promise<number> {
    this.local.join(connectionId, projectId);
    return Number(await this.run(scripts.PROJECT_JOIN, projectId, connectionId));
  }

  async leave(projectId: string, connectionId: string): Promise<number> {
    this.local.leave(connectionId, projectId);
    return Number(await this.run(scripts.PROJECT_LEAVE, projectId, connectionId));
  }

  async members(projectId: string): Promise<number> {
    return Number(await this.run(scripts.PROJECT_MEMBERS, projectId));
  }

  /** Never rejects, like release. */
  async leaveAll(connectionId: string): Promise<void> {
    this.local.memberships.delete(connectionId);
    await this.cleanUp(() => this.run(scripts.PROJECT_LEAVE_ALL, connectionId));
  }
}

class RedisRunRegistry implements RunRegistry {
  constructor(
    private readonly run: Run,
    private readonly local: LocalEntries,
    private readonly nodeId: string,
    private readonly cleanUp: CleanUp,
  ) {}

  async claim(run: RunInfo): Promise<boolean> {
    const claimed =
      (await this.run(
        scripts.RUN_CLAIM,
        run.sessionId,
        run.messageId,
        run.nodeId,
        String(run.startedAt),
      )) === 1;
    if (claimed && run.nodeId === this.nodeId) this.local.runs.set(run.sessionId, { ...run });
    return claimed;
  }

  /**
   * Never rejects: with Redis down, the release is retried after the next
   * heartbeat. Dropping it would leave the session claimed by a live node, and
   * the session's next run waiting forever.
   */
  async release(sessionId: string, messageId: string): Promise<void> {
    if (this.local.runs.get(sessionId)?.messageId === messageId) this.local.runs.delete(sessionId);
    await this.cleanUp(() => this.run(scripts.RUN_RELEASE, sessionId, messageId));
  }

  async current(sessionId: string): Promise<RunInfo | null> {
    const reply = await this.run(scripts.RUN_CURRENT, sessionId);
    if (!Array.isArray(reply)) return null;
    const [messageId, nodeId, startedAt] = replyArray(reply).map(replyString);
    return {
      messageId: messageId ?? "",
      sessionId,
      nodeId: nodeId ?? "",
      startedAt: Number(startedAt),
    };
  }
}

/**
 * Shared state for a cluster of gateways in one Redis. Every check-and-write
 * is one Lua script, so caps and ownership hold across nodes. See
 * redis/scripts.ts for the keys and redis/presence.ts for how dead nodes'
 * entries stop counting and get deleted.
 */
export function createRedisState(options: RedisStateOptions): RedisState {
  const { client, nodeId, log } = options;
  if (nodeId.includes(":")) throw new Error(`nodeId must not contain ":": ${nodeId}`);
  const prefix = options.prefix ?? "gw:";
  const local = new LocalEntries();
  const nodeTtlMs = options.nodeTtlMs ?? 15_000;
  const presence = new Presence({ client, prefix, nodeId, ttlMs: nodeTtlMs, local, log });
  // Scripts count the calling node as alive even before its first heartbeat
  // lands, so nothing needs to wait for it.
  void presence.start();
  const run: Run = (script, ...args) => script.run(client, [prefix, nodeId, ...args]);
  const cleanUp: CleanUp = async (task) => {
    try {
      await task();
    } catch (error) {
      log.debug("redis state: clean-up deferred", { error });
      presence.defer(task);
    }
  };
  const connections = new RedisConnectionRegistry({
    run,
    local,
    nodeId,
    nodeTtlMs,
    flushIntervalMs: options.flushIntervalMs ?? 100,
    log,
    cleanUp,
    onRedisDown: options.onRedisDown ?? "refuse",
    admittedAlone: () => presence.restoreOnNextBeat(),
  });

  const streams = options.streams ?? new MemoryStreamStore();
  let closing: Promise<void> | undefined;

  return {
    connections,
    projects: new RedisProjectMembership(run, local, cleanUp),
    runs: new RedisRunRegistry(run, local, nodeId, cleanUp),
    streams,
    heartbeat: () => presence.beat(),
    suspendHeartbeat: () => presence.stop(),
    missRelease: (connectionId) => connections.forgetLocally(connectionId),
    close() {
      closing ??= (async () => {
        presence.stop();
        connections.stop();
        // A store passed in belongs to the caller, like the client.
        if (!options.streams && streams instanceof MemoryStreamStore) streams.clear();
        // With Redis down, leaving is impossible: the alive key expires on
        // its own and other nodes purge the rest.
        if (!client.isReady) return;
        try {
          await connections.flush();
          await presence.leave();
        } catch (error) {
          log.warn("redis state: could not leave cleanly", { error });
        }
      })();
      return closing;
    },
  };
}
