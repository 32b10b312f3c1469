import { createAdapter } from "@socket.io/redis-adapter";
import {
  RateLimiterMemory,
  RateLimiterRedis,
  type RateLimiterAbstract,
} from "rate-limiter-flexible";
import { createClient } from "redis";
import { backoffMs } from "../core/backoff.js";
import type { Config } from "../core/config.js";
import type { Logger } from "../core/logger.js";
import { withTimeout } from "../core/with-timeout.js";
import { createRedisState } from "../state/redis/redis-state.js";
import { RedisStreamStore } from "../state/redis/redis-streams.js";
import type { GatewayState } from "../state/types.js";
import type { RedisCommands } from "../state/redis/lua.js";

export interface ClusterOptions {
  /** The gateway's node id: connections are recorded under it. */
  nodeId: string;
  /** How long to wait for Redis at start before giving up. */
  startTimeoutMs?: number;
  nodeTtlMs?: number;
  prefix?: string;
}

export interface Cluster {
  state: GatewayState;
  adapter: ReturnType<typeof createAdapter>;
  /** A named per-second limiter shared by all nodes; falls back to memory while Redis is down. */
  readonly rateLimiter: (name: string, points: number) => RateLimiterAbstract;
  /** Plain commands on the state connection (the back-end stream writes through it). */
  readonly commands: RedisCommands;
  /** Called each time the adapter's subscriber is back after losing Redis. */
  onBusRestored(listener: () => void): void;
  /** True while every Redis connection is up. */
  isReady(): boolean;
  close(): Promise<void>;
}

type Client = ReturnType<typeof createClient>;

export class ClusterStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ClusterStartError";
  }
}

/**
 * Joins the cluster through Redis: shared state, the Socket.IO adapter and a
 * shared rate limiter.
 *
 * At start, Redis must answer within `startTimeoutMs` or this throws: a node
 * that cannot see the cluster would admit connections against caps it cannot
 * check, and an orchestrator restarts a failed process anyway. Once started,
 * the clients retry forever, so a Redis outage makes the node not ready
 * instead of killing it.
 *
 * The adapter is the classic pub/sub one: it works with any Redis >= 5 and
 * with `@socket.io/redis-emitter`, which publishes on the same channels.
 * The sharded adapter (Redis 7 SPUBLISH) only pays off on Redis Cluster.
 */
export async function connectCluster(
  config: Config,
  log: Logger,
  options: ClusterOptions,
): Promise<Cluster> {
  const url = config.redisUrl;
  if (!url) throw new ClusterStartError("connectCluster needs REDIS_URL");
  const startTimeoutMs = options.startTimeoutMs ?? 10_000;
  const socket = {
    connectTimeout: 5000,
    reconnectStrategy: (retries: number) => backoffMs(retries + 1, { firstMs: 50, maxMs: 2000 }),
  };
  // Commands fail at once while Redis is down instead of queueing without
  // bound: admission reports an error, a broadcast's remote half is dropped.
  const pub = createClient({ url, socket, disableOfflineQueue: true });
  const stateClient = createClient({ url, socket, disableOfflineQueue: true });
  // The subscriber keeps its queue: node-redis re-subscribes after a reconnect.
  const sub = createClient({ url, socket });
  // Blocking stream reads need a connection of their own (one per node, shared by all followers).
  const reader = createClient({ url, socket, disableOfflineQueue: true });
  const clients: Array<[string, Client]> = [
    ["pub", pub],
    ["sub", sub],
    ["state", stateClient],
    ["streams", reader],
  ];
  for (const [role, client] of clients) watch(role, client, log);

  try {
    await withTimeout(
      Promise.all(clients.map(([, client]) => client.connect())),
      startTimeoutMs,
      () =>
        new ClusterStartError(`Redis at ${redact(url)} did not answer within ${startTimeoutMs} ms`),
    );
  } catch (error) {
    for (const [, client] of clients) if (client.isOpen) client.destroy();
    throw error;
  }

  if (!config.agent.checkpointDatabaseUrl) {
    log.warn(
      "CHECKPOINT_DATABASE_URL is not set: each node keeps conversations in its own memory, so a session's history is lost when its next message lands on another node",
    );
  }
  const nodeTtlMs = options.nodeTtlMs ?? config.clusterNodeTtlMs;
  const streams = new RedisStreamStore({
    client: stateClient,
    reader,
    nodeId: options.nodeId,
    log,
    prefix: options.prefix,
    // A stream never closed (its node died) outlives the longest possible run by its retention.
    openTtlMs: config.agent.runTimeoutMs + config.agent.streamRetentionMs,
    maxLength: config.agent.streamMaxEvents,
    outageBufferEvents: config.outageBufferEvents,
    // Followers of a dead node's stream learn of it within a TTL and a block.
    blockMs: Math.min(1000, nodeTtlMs / 3),
  });
  const state = createRedisState({
    client: stateClient,
    nodeId: options.nodeId,
    log,
    nodeTtlMs,
    prefix: options.prefix,
    streams,
    onRedisDown: config.admissionOnRedisDown,
  });
  // After an outage Redis may have restarted empty: restore this node's
  // entries at once rather than at the next heartbeat, up to a third of the TTL later.
  stateClient.on("ready", () => {
    void state.heartbeat();
    void streams.resumeWrites();
  });
  const dropped = (error: unknown) => log.debug("redis cluster: adapter command failed", { error });
  // Requests to the other nodes (a cross-node cancel) give up after 2 s, under the caller's own 3 s.
  const adapter = createAdapter(tolerant(pub, dropped), tolerant(sub, dropped), {
    requestsTimeout: 2000,
  });
  const prefix = options.prefix ?? "gw:";
  const restored: Array<() => void> = [];
  let subscriberLost = false;
  sub.on("error", () => (subscriberLost = true));
  sub.on("ready", () => {
    if (!subscriberLost) return;
    subscriberLost = false;
    for (const listener of restored) listener();
  });
  let closing: Promise<void> | undefined;

  return {
    state,
    adapter,
    commands: stateClient,
    rateLimiter: (name, points) =>
      new RateLimiterRedis({
        storeClient: stateClient,
        useRedisPackage: true,
        // Without this a consume waits for Redis; with it, the insurance
        // limiter answers at once and clients are not blocked by an outage.
        rejectIfRedisNotReady: true,
        keyPrefix: `${prefix}rate:${name}`,
        points,
        duration: 1,
        insuranceLimiter: new RateLimiterMemory({ points, duration: 1 }),
      }),
    onBusRestored: (listener) => restored.push(listener),
    isReady: () => clients.every(([, client]) => client.isReady),
    close() {
      closing ??= (async () => {
        streams.stop();
        await state.close();
        // close() waits for replies, which never come while Redis is down.
        await Promise.all(
          clients.map(async ([, client]) => {
            // The reader may be blocked in XREAD: nothing it waits for matters any more.
            if (client.isReady && client !== reader) await client.close();
            else if (client.isOpen) client.destroy();
          }),
        );
      })();
      return closing;
    },
  };
}

/** One warning when a client loses Redis and one line when it is back, not one per retry. */
function watch(role: string, client: Client, log: Logger): void {
  let down = false;
  client.on("error", (error: unknown) => {
    if (down) return;
    down = true;
    log.warn("redis cluster: connection lost, retrying", { role, error });
  });
  client.on("ready", () => {
    if (down) log.info("redis cluster: connection back", { role });
    down = false;
  });
}

/** The commands the adapter sends without handling their result. */
const FIRE_AND_FORGET = new Set([
  "publish",
  "subscribe",
  "pSubscribe",
  "unsubscribe",
  "pUnsubscribe",
]);

/**
 * The adapter never handles a failed command: while Redis is down a publish
 * rejects (no offline queue) and a queued unsubscribe rejects when the client
 * is destroyed, both surfacing as unhandled rejections. The proxy catches
 * those; every other member goes to the client itself.
 */
function tolerant(client: Client, onError: (error: unknown) => void): Client {
  return new Proxy(client, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== "function") return value;
      // node-redis keeps private fields, reachable only with the real client as `this`.
      const bound = (value as (...args: unknown[]) => unknown).bind(target);
      if (typeof property !== "string" || !FIRE_AND_FORGET.has(property)) return bound;
      return (...args: unknown[]) =>
        (bound(...args) as Promise<unknown>).catch((error: unknown) => onError(error));
    },
  });
}

function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(invalid URL)";
  }
}
