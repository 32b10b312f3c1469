import type { Logger } from "../core/logger.js";
import { MemoryStreamStore } from "./memory-streams.js";
import { LocalEntries } from "./redis/local-entries.js";
import { replyArray, replyString, type LuaScript, type RedisCommands } from "./redis/lua.js";
import { Presence } from "./redis/presence.js";
import * as scripts from "./redis/scripts.js";
import type {
  AdmitResult,
  ConnectionInfo,
  ConnectionLimits,
  ConnectionRegistry,
  ConnectionStats,
  GatewayState,
  ProjectMembership,
  RunInfo,
  RunRegistry,
  Statistics,
  StreamStore,
} from "./types.js";

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
}

export interface RedisState extends GatewayState {
  /**
   * Refreshes liveness now, restoring this node's entries if Redis lost them.
   * Call it when the client reconnects, not to wait for the next beat.
   */
  heartbeat(): Promise<void>;
  /** Stops the heartbeat without leaving, as if the process froze: for tests of ghost clean-up. */
  suspendHeartbeat(): void;
}

/** Runs one script with the prefix and node id in front of its own arguments. */
type Run = (script: LuaScript, ...args: string[]) => Promise<unknown>;
/** Runs a clean-up now, or later if Redis cannot take it now. */
type CleanUp = (task: () => Promise<unknown>) => Promise<void>;

const REFUSALS = new Set(["session_full", "server_full", "forbidden"]);

class RedisConnectionRegistry implements ConnectionRegistry {
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly run: Run,
    private readonly local: LocalEntries,
    private readonly nodeId: string,
    private readonly flushIntervalMs: number,
    private readonly log: Logger,
    private readonly cleanUp: CleanUp,
  ) {}

  async admit(connection: ConnectionInfo, limits: ConnectionLimits): Promise<AdmitResult> {
    const reply = replyString(
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
      ),
    );
    if (REFUSALS.has(reply)) {
      return { admitted: false, reason: reply as "session_full" | "server_full" | "forbidden" };
    }
    if (connection.nodeId === this.nodeId) {
      this.local.connections.set(connection.id, { info: { ...connection }, messages: 0 });
    }
    return { admitted: true };
  }

  /** Never rejects: with Redis down, the release is retried after the next heartbeat. */
  async release(connectionId: string): Promise<void> {
    // Forget locally first: a restore racing this release must not bring it back.
    this.local.connections.delete(connectionId);
    await this.cleanUp(() => this.run(scripts.RELEASE, connectionId));
  }

  countMessage(connectionId: string): void {
    this.local.countMessage(connectionId);
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => void this.flush(), this.flushIntervalMs);
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
      this.log.debug("redis state: message counts dropped", { error, total });
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
    for (let i = 2; i + 6 < reply.length; i += 7) {
      connections.push({
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

  stopFlushing(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
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
  const presence = new Presence({
    client,
    prefix,
    nodeId,
    ttlMs: options.nodeTtlMs ?? 15_000,
    local,
    log,
  });
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
  const connections = new RedisConnectionRegistry(
    run,
    local,
    nodeId,
    options.flushIntervalMs ?? 100,
    log,
    cleanUp,
  );

  const streams = options.streams ?? new MemoryStreamStore();
  let closing: Promise<void> | undefined;

  return {
    connections,
    projects: new RedisProjectMembership(run, local, cleanUp),
    runs: new RedisRunRegistry(run, local, nodeId, cleanUp),
    streams,
    heartbeat: () => presence.beat(),
    suspendHeartbeat: () => presence.stop(),
    close() {
      closing ??= (async () => {
        presence.stop();
        connections.stopFlushing();
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
