import { setTimeout as sleep } from "node:timers/promises";
import { Counter } from "prom-client";
import { backoffMs } from "../core/backoff.js";
import type { Logger } from "../core/logger.js";
import { registry } from "../metrics/instruments.js";
import type { GatewayServer } from "../transports/socketio/types.js";

const SESSION_PREFIX = "session:";
/** Fire-and-forget: "these session groups gained or lost their last member on my node". */
const CHANGED = "gw:peer-groups:changed";
/** With an answer: "I am about to have members of this group" (acknowledged before admission goes on). */
const ARRIVING = "gw:peer-groups:arriving";
/** With an answer: "which session groups have members on your node?" */
const LIST = "gw:peer-groups:list";

interface Change {
  node: string;
  joined?: string[];
  left?: string[];
}

const broadcasts = new Counter({
  name: "gateway_session_broadcasts_total",
  help: "Broadcasts to session groups, by reach: kept on this node (no member elsewhere) or sent to every node",
  labelNames: ["reach"] as const,
  registers: [registry],
});

export interface PeerGroupsOptions {
  nodeId: string;
  log: Logger;
  /** How long an announcement waits for the other nodes' answers. */
  askTimeoutMs: number;
  /**
   * How many other nodes must have sent their lists before this node keeps
   * any broadcast to itself. Known with WORKERS (the cluster adapter learns
   * its peers from heartbeats, so it may ask nobody at first); undefined with
   * Redis, whose adapter counts the subscribed nodes itself.
   */
  expectedPeers?: number;
}

/**
 * Which session groups have members on other nodes, so that a broadcast to a
 * session whose clients are all on this node does not leave the process
 * (docs/cluster.md, "Local broadcasts"). Every other broadcast (projects,
 * every connection, a session with a member elsewhere, or anything while this
 * node has not yet heard every peer's list) goes to the cluster as before.
 *
 * The guarantee: before admission looks up the session's current run, the
 * node that admits the first local member of a session has told every other
 * node, and they have answered (`arriving`). So a run that starts after that
 * look-up broadcasts to this node, and a run found by it is caught up through
 * `resume` as before. Mistakes only go the safe way: a group wrongly believed
 * to have remote members (a peer that died, an admission that failed after
 * announcing) merely costs relayed messages.
 */
export class PeerGroups {
  /** Session group → the other nodes that have members of it. */
  private readonly remote = new Map<string, Set<string>>();
  /** Session groups this node has told its peers about. */
  private readonly announced = new Set<string>();
  /** Admissions announced but not yet joined: the group's last leaver must not retract it. */
  private readonly arrivals = new Map<string, number>();
  private synced = false;
  private syncing: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly io: GatewayServer,
    private readonly options: PeerGroupsOptions,
  ) {
    const adapter = io.of("/").adapter;
    adapter.on("create-room", (room: string) => {
      // A member that joined without `arriving` (none today; kept as a net): tell peers at once.
      if (isSessionGroup(room) && !this.announced.has(room)) {
        this.announced.add(room);
        this.publish({ node: options.nodeId, joined: [room] });
      }
    });
    adapter.on("join-room", (room: string) => {
      const pending = this.arrivals.get(room);
      if (pending === undefined) return;
      if (pending <= 1) this.arrivals.delete(room);
      else this.arrivals.set(room, pending - 1);
    });
    adapter.on("delete-room", (room: string) => {
      if (!isSessionGroup(room) || this.arrivals.has(room) || !this.announced.delete(room)) return;
      this.publish({ node: options.nodeId, left: [room] });
    });
    io.on(CHANGED, (change) => this.apply(change as Change));
    io.on(ARRIVING, (change, reply) => {
      this.apply(change as Change);
      reply(true);
    });
    io.on(LIST, (_request: unknown, reply: (list: Change) => void) =>
      reply({ node: options.nodeId, joined: [...this.announced] }),
    );
  }

  /** Learns every peer's groups; until then, every broadcast goes to the cluster. */
  start(): Promise<void> {
    if (this.synced) return Promise.resolve();
    this.syncing ??= this.sync().finally(() => (this.syncing = undefined));
    return this.syncing;
  }

  /**
   * After the cluster's bus was cut (a Redis outage), announcements may have
   * been lost both ways: tell peers every local group again and relearn theirs.
   */
  resync(): void {
    this.synced = false;
    this.publish({ node: this.options.nodeId, joined: [...this.announced] });
    void this.start();
  }

  stop(): void {
    this.closed = true;
  }

  /** Called before a connection of `group` is admitted here; resolves once the peers know. */
  async arriving(group: string): Promise<void> {
    this.arrivals.set(group, (this.arrivals.get(group) ?? 0) + 1);
    if (this.announced.has(group)) return;
    this.announced.add(group);
    await this.ask(ARRIVING, { node: this.options.nodeId, joined: [group] });
  }

  /** True when a broadcast to `groups` reaches every member without leaving this node. */
  keepsLocal(groups: readonly string[]): boolean {
    const local =
      this.synced &&
      groups.length > 0 &&
      groups.every((group) => isSessionGroup(group) && !this.remote.has(group));
    if (groups.length === 1 && isSessionGroup(groups[0] as string))
      broadcasts.inc({ reach: local ? "node" : "cluster" });
    return local;
  }

  private async sync(): Promise<void> {
    const { expectedPeers } = this.options;
    for (let attempt = 1; !this.closed; attempt++) {
      const lists = (await this.ask(LIST, {})) as Change[];
      for (const list of lists) this.apply(list);
      if (expectedPeers === undefined || lists.length >= expectedPeers) {
        this.synced = true;
        return;
      }
      // The cluster adapter has not met every worker yet (it learns them from heartbeats).
      await sleep(backoffMs(attempt, { firstMs: 100, maxMs: 2000 }));
    }
  }

  private apply({ node, joined = [], left = [] }: Change): void {
    if (node === this.options.nodeId) return;
    for (const group of joined) {
      let nodes = this.remote.get(group);
      if (!nodes) this.remote.set(group, (nodes = new Set()));
      nodes.add(node);
    }
    for (const group of left) {
      const nodes = this.remote.get(group);
      nodes?.delete(node);
      if (nodes?.size === 0) this.remote.delete(group);
    }
  }

  private publish(change: Change): void {
    // Without an ack: InterServerEvents types every event as a request.
    (
      this.io as unknown as { serverSideEmit(name: string, ...args: unknown[]): boolean }
    ).serverSideEmit(CHANGED, change);
  }

  private ask(name: string, request: unknown): Promise<unknown[]> {
    return new Promise((resolve) => {
      // The adapter never answers while Redis is down: a timer of our own.
      const timer = setTimeout(() => resolve([]), this.options.askTimeoutMs);
      this.io.serverSideEmit(name, request, (error: Error | null, replies: unknown[]) => {
        clearTimeout(timer);
        if (error) this.options.log.warn("peer groups: not every node answered", { error });
        resolve(replies ?? []);
      });
    });
  }
}

const isSessionGroup = (group: string): boolean => group.startsWith(SESSION_PREFIX);
