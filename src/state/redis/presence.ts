import type { Logger } from "../../core/logger.js";
import type { LocalEntries } from "./local-entries.js";
import { replyArray, replyString, type RedisCommands } from "./lua.js";
import { HEARTBEAT, PURGE_NODE, RESTORE } from "./scripts.js";

const PURGE_BATCH = "500";

interface PresenceOptions {
  client: RedisCommands;
  prefix: string;
  nodeId: string;
  ttlMs: number;
  local: LocalEntries;
  log: Logger;
}

/**
 * Keeps this node's alive key fresh and cleans up after dead nodes.
 *
 * Ghosts stop counting as soon as a node's alive key expires, because every
 * script counts per live node (scripts.ts). Their keys are then deleted by a
 * sweep that every live node runs after each heartbeat: a purge is atomic and
 * re-checks the node is still dead, so concurrent sweeps are harmless. A
 * sweep rather than lazy clean-up inside the hot scripts keeps admit cheap:
 * purging a node of thousands of connections happens in batches, off the path
 * of any client.
 */
export class Presence {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private beating: Promise<void> | undefined;
  private failing = false;
  private registered = false;
  /** Set when this node admitted on its own during an outage: Redis must learn of those. */
  private mustRestore = false;
  private deferred: Array<() => Promise<unknown>> = [];
  private readonly prefixArgs: string[];

  constructor(private readonly options: PresenceOptions) {
    this.prefixArgs = [options.prefix, options.nodeId];
  }

  /** Registers the node now, then every third of the TTL, so two beats can fail before expiry. */
  start(): Promise<void> {
    this.timer = setInterval(() => void this.beat(), Math.max(1, this.options.ttlMs / 3));
    this.timer.unref();
    return this.beat();
  }

  /** Stops refreshing; without leave(), the node then looks dead once its key expires. */
  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Does nothing once stopped: a beat after leaving would bring the node back. */
  beat(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.beating ??= this.refresh().finally(() => (this.beating = undefined));
    return this.beating;
  }

  /**
   * Keeps a clean-up that failed (Redis down) for after the next successful
   * heartbeat: dropping it would leave an entry of a live node that counts
   * against the caps for as long as the node lives.
   */
  defer(task: () => Promise<unknown>): void {
    this.deferred.push(task);
  }

  /** Puts this node's entries back at the next successful heartbeat, even if Redis kept its alive key. */
  restoreOnNextBeat(): void {
    this.mustRestore = true;
  }

  /** Deletes the alive key first, so the node stops counting at once, then its entries. */
  async leave(): Promise<void> {
    this.stop();
    await this.beating;
    await this.purge(this.options.nodeId, true);
  }

  private async refresh(): Promise<void> {
    const { client, log, local } = this.options;
    try {
      const ttl = String(this.options.ttlMs);
      const reply = replyArray(
        await HEARTBEAT.run(client, [...this.prefixArgs, ttl, ...local.connections.keys()]),
      );
      if (reply[0] === 0 || this.mustRestore) {
        // Our entries may be gone (Redis restarted, or we were presumed dead
        // and purged): put back what this node still holds.
        if (this.registered && reply[0] === 0) {
          log.warn("redis state: this node's entries were lost; restoring them", {
            connections: local.connections.size,
          });
        }
        this.mustRestore = false;
        await RESTORE.run(client, [...this.prefixArgs, local.snapshot(), ttl]).catch(
          (error: unknown) => {
            this.mustRestore = true;
            throw error;
          },
        );
      }
      this.registered = true;
      if (this.failing) log.info("redis state: heartbeat restored");
      this.failing = false;
      const tasks = this.deferred.splice(0);
      for (const [i, task] of tasks.entries()) {
        await task().catch((error: unknown) => {
          this.deferred.push(...tasks.slice(i));
          throw error;
        });
      }
      for (const dead of reply.slice(1)) await this.purge(replyString(dead), false);
    } catch (error) {
      if (!this.failing) log.warn("redis state: heartbeat failed", { error });
      this.failing = true;
    }
  }

  private async purge(node: string, leaving: boolean): Promise<void> {
    const args = [...this.prefixArgs, node, PURGE_BATCH, leaving ? "1" : "0"];
    let reply: unknown;
    do reply = await PURGE_NODE.run(this.options.client, args);
    while (reply === 1);
    if (!leaving && reply === 0) this.options.log.info("redis state: purged a dead node", { node });
  }
}
