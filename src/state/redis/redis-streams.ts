import { setTimeout as sleep } from "node:timers/promises";
import { backoffMs } from "../../core/backoff.js";
import { ErrorCodes } from "../../core/errors.js";
import type { Logger } from "../../core/logger.js";
import { isReplayed, streamKey, TERMINAL_TYPES } from "../stream-vocabulary.js";
import { replyArray, replyString, type RedisCommands } from "./lua.js";
import type { StreamEvent, StreamFollower, StreamRef, StreamStore } from "../types.js";

export interface RedisStreamStoreOptions {
  /** Commands; the caller owns the client. The state's own client will do. */
  client: RedisCommands;
  /** Used for nothing but blocking XREADs, so it must not be shared; the caller owns it. */
  reader: RedisCommands;
  nodeId: string;
  log: Logger;
  /** The same key prefix as the rest of the state, where the nodes' alive keys live. */
  prefix?: string;
  /** Entries kept per stream (AGENT_STREAM_MAX_EVENTS); the oldest go first. */
  maxLength?: number;
  /**
   * Appends kept in order while Redis is unreachable and written once it is
   * back (CLUSTER_OUTAGE_BUFFER_EVENTS); beyond it the oldest are dropped.
   */
  outageBufferEvents?: number;
  /** How long a stream that is never closed (its node died) stays in Redis. */
  openTtlMs?: number;
  /** How long one XREAD blocks: also the period of the owner liveness check. */
  blockMs?: number;
}

interface Follower {
  key: string;
  messageId: string;
  owner: string;
  afterSeq: number;
  /** Id of the last entry this follower has seen (delivered or skipped). */
  lastId: string;
  onEvent: (event: StreamEvent) => void;
  finish: (result: "ended" | "aborted") => void;
}

type Entry = [id: string, event: StreamEvent];

/** A write waiting for Redis; `event` marks an append, the kind the buffer's bound counts. */
interface HeldWrite {
  args: string[];
  event: boolean;
}

const PAGE = 1000;
const RETRY_MS = 200;

/**
 * Stream histories in Redis, one Redis Stream per message, so a client can
 * resume a stream on any node.
 *
 * Keys under the prefix P:
 *   P stream:<session>/<message>       the events, one entry each (field `e`: JSON)
 *   P stream-meta:<session>/<message>  hash: node (the producer), ended
 *
 * Writes are sent without waiting, on one connection, so Redis applies them in
 * call order and the token path never waits for storage. A follower reads
 * the history with XRANGE, then the live tail with XREAD from the last id it
 * saw: ids are the only cursor, so there is no gap and no duplicate between
 * the two. One shared loop per node does the blocking reads for all its
 * followers on one dedicated connection, so followers cost no connections.
 * While it waits it checks the producers' alive keys: a follower of a dead
 * node gets what was stored, then a synthetic `run_lost` error, never silence.
 *
 * While Redis is unreachable, writes wait in a bounded buffer, in order, and
 * are sent once it is back, so a resume elsewhere has no gap. Chunk seqs
 * start at 1, so a first stored chunk above `afterSeq + 1` means the chunks
 * in between were trimmed by the length cap.
 */
export class RedisStreamStore implements StreamStore {
  private readonly prefix: string;
  private readonly maxLength: string;
  private readonly openTtl: string;
  private readonly blockMs: number;
  /** Streams this node opened and has not appended to yet: their first append sets the TTL. */
  private readonly fresh = new Set<string>();
  private readonly followers = new Set<Follower>();
  private polling: Promise<void> | undefined;
  private readerId: string | undefined;
  /** True while the reader sits in a blocking XREAD that a newcomer should cut short. */
  private blocked = false;
  private stopped = false;
  private failing = false;
  private readonly held: HeldWrite[] = [];
  private heldEvents = 0;
  private droppedEvents = 0;
  private flushing: Promise<void> | undefined;
  /** Retries the held writes while Redis is away: nothing else may come to send them. */
  private retry: NodeJS.Timeout | undefined;

  constructor(private readonly options: RedisStreamStoreOptions) {
    this.prefix = options.prefix ?? "gw:";
    this.maxLength = String(options.maxLength ?? 10_000);
    this.openTtl = String(options.openTtlMs ?? 24 * 3600_000);
    this.blockMs = options.blockMs ?? 1000;
  }

  /** Writes what waited for Redis, if it is reachable; the store also retries on its own. */
  resumeWrites(): Promise<void> {
    this.flushing ??= this.flushHeld().finally(() => {
      this.flushing = undefined;
      if (this.held.length === 0) {
        clearInterval(this.retry);
        this.retry = undefined;
      }
    });
    return this.flushing;
  }

  /** Writes still waiting for Redis, for tests and metrics. */
  get heldWrites(): number {
    return this.held.length;
  }

  open(ref: StreamRef): void {
    const [key, meta] = this.keys(ref);
    this.fresh.add(key);
    // A reused message id starts a new history, as in memory.
    this.send(["DEL", key, meta]);
    this.send(["HSET", meta, "node", this.options.nodeId]);
    this.send(["PEXPIRE", meta, this.openTtl]);
  }

  append(ref: StreamRef, event: StreamEvent): void {
    const [key] = this.keys(ref);
    const entry = JSON.stringify(event);
    // Exact trimming, so memory and Redis keep the same history.
    this.send(["XADD", key, "MAXLEN", this.maxLength, "*", "e", entry], true);
    if (this.fresh.delete(key)) this.send(["PEXPIRE", key, this.openTtl]);
  }

  close(ref: StreamRef, retentionMs: number): void {
    const [key, meta] = this.keys(ref);
    this.fresh.delete(key);
    const ttl = String(Math.max(1, Math.round(retentionMs)));
    this.send(["HSET", meta, "ended", "1"]);
    this.send(["PEXPIRE", key, ttl]);
    this.send(["PEXPIRE", meta, ttl]);
  }

  async follow(
    ref: StreamRef,
    afterSeq: number,
    onEvent: (event: StreamEvent) => void,
    signal: AbortSignal,
  ): Promise<StreamFollower | null> {
    const { client } = this.options;
    const [key, meta] = this.keys(ref);
    const fields = replyArray(await client.sendCommand(["HGETALL", meta])).map(replyString);
    if (fields.length === 0) return null;
    const info = Object.fromEntries(pairs(fields));
    let lastId = "0-0";
    let ended = false;
    let firstSeq: number | undefined;
    for (let start = "-"; ; start = `(${lastId}`) {
      const page = entries(
        await client.sendCommand(["XRANGE", key, start, "+", "COUNT", String(PAGE)]),
      );
      for (const [id, event] of page) {
        lastId = id;
        firstSeq ??= event.payload.seq;
        ended = deliver(event, afterSeq, onEvent) || ended;
      }
      if (page.length < PAGE) break;
    }
    const trimmed =
      firstSeq !== undefined && firstSeq > afterSeq + 1 ? { trimmedBefore: firstSeq } : {};
    if (ended || info["ended"] === "1") return { done: Promise.resolve("ended"), ...trimmed };
    if (signal.aborted) return { done: Promise.resolve("aborted"), ...trimmed };

    const done = new Promise<"ended" | "aborted">((resolve) => {
      const follower: Follower = {
        key,
        messageId: ref.messageId,
        owner: info["node"] ?? "",
        afterSeq,
        lastId,
        onEvent,
        finish: (result) => {
          if (!this.followers.delete(follower)) return;
          signal.removeEventListener("abort", onAbort);
          resolve(result);
        },
      };
      const onAbort = () => follower.finish("aborted");
      signal.addEventListener("abort", onAbort, { once: true });
      this.followers.add(follower);
    });
    this.wake();
    return { done, ...trimmed };
  }

  /** Ends every follower as aborted and stops reading; the caller closes the clients. */
  stop(): void {
    this.stopped = true;
    clearInterval(this.retry);
    for (const follower of [...this.followers]) follower.finish("aborted");
  }

  /** How many followers the shared reader serves, for tests and metrics. */
  get followerCount(): number {
    return this.followers.size;
  }

  private keys(ref: StreamRef): [stream: string, meta: string] {
    const id = streamKey(ref);
    return [`${this.prefix}stream:${id}`, `${this.prefix}stream-meta:${id}`];
  }

  /**
   * Fire and forget, in order. While Redis is unreachable, or older writes
   * still wait, the write waits too: sending it first would reorder the
   * stream. One warning per outage rather than one per token.
   */
  private send(args: string[], event = false): void {
    const { client } = this.options;
    if (this.held.length > 0 || this.flushing || !client.isReady) {
      this.hold({ args, event });
      if (client.isReady) void this.resumeWrites();
      return;
    }
    const failed = (error: unknown) => {
      this.warnFailing(error);
      // A command Redis itself refused would fail again: only a lost connection is retried.
      if (!client.isReady) this.hold({ args, event });
    };
    try {
      client.sendCommand(args).then(() => {
        if (this.failing) this.options.log.info("redis streams: writes succeed again");
        this.failing = false;
      }, failed);
    } catch (error) {
      failed(error);
    }
  }

  private warnFailing(error: unknown): void {
    if (this.failing) return;
    this.failing = true;
    this.options.log.warn("redis streams: writes failing; holding them until Redis is back", {
      error,
    });
  }

  private hold(write: HeldWrite): void {
    this.held.push(write);
    if (!this.retry && !this.stopped) {
      this.retry = setInterval(() => {
        if (this.options.client.isReady) void this.resumeWrites();
      }, RETRY_MS);
      this.retry.unref();
    }
    if (!write.event) return;
    this.heldEvents++;
    const max = this.options.outageBufferEvents ?? 10_000;
    while (this.heldEvents > max) {
      const oldest = this.held.findIndex((w) => w.event);
      this.held.splice(oldest, 1);
      this.heldEvents--;
      if (this.droppedEvents++ === 0) {
        this.options.log.warn(
          "redis streams: outage buffer full; dropping the oldest stream events",
          { max },
        );
      }
    }
  }

  /** Sends the held writes in order, a page at a time; what a new outage cuts off waits again. */
  private async flushHeld(): Promise<void> {
    const { client, log } = this.options;
    while (this.held.length > 0 && client.isReady && !this.stopped) {
      const page = this.held.splice(0, PAGE);
      this.heldEvents -= page.filter((w) => w.event).length;
      const results = await Promise.allSettled(page.map((w) => client.sendCommand(w.args)));
      const lost = page.filter((_, i) => results[i]?.status === "rejected");
      if (lost.length === 0) continue;
      if (client.isReady) {
        log.warn("redis streams: Redis refused held writes", { count: lost.length });
        continue;
      }
      this.held.unshift(...lost);
      this.heldEvents += lost.filter((w) => w.event).length;
      return;
    }
    if (this.held.length === 0 && this.droppedEvents > 0) {
      log.warn("redis streams: stream events were dropped during the outage", {
        dropped: this.droppedEvents,
      });
      this.droppedEvents = 0;
    }
    if (this.held.length === 0 && this.failing) {
      this.failing = false;
      log.info("redis streams: held writes sent; writes succeed again");
    }
  }

  /** Starts the read loop, or cuts its current blocking read short so a newcomer joins at once. */
  private wake(): void {
    if (!this.polling) {
      this.polling = this.loop().finally(() => (this.polling = undefined));
      return;
    }
    if (this.blocked && this.readerId) {
      this.blocked = false;
      // Not a stream write: never held for later.
      this.options.client.sendCommand(["CLIENT", "UNBLOCK", this.readerId]).catch(() => {});
    }
  }

  private async loop(): Promise<void> {
    const { reader, log } = this.options;
    let lastCheck = 0;
    let failures = 0;
    while (this.followers.size > 0 && !this.stopped) {
      // Only followers registered before this read get its entries: a newcomer
      // may have read less of the history than this read starts from.
      const batch = [...this.followers];
      try {
        if (Date.now() - lastCheck >= this.blockMs / 2) {
          lastCheck = Date.now();
          await this.checkOwners(batch);
          if (this.followers.size === 0) break;
        }
        this.readerId ??= replyString(await reader.sendCommand(["CLIENT", "ID"]));
        const from = new Map<string, string>();
        for (const f of batch) {
          if (!this.followers.has(f)) continue;
          const current = from.get(f.key);
          if (current === undefined || compareIds(f.lastId, current) < 0) from.set(f.key, f.lastId);
        }
        if (from.size === 0) continue;
        this.blocked = true;
        const reply = await reader
          .sendCommand([
            "XREAD",
            "COUNT",
            String(PAGE),
            "BLOCK",
            String(this.blockMs),
            "STREAMS",
            ...from.keys(),
            ...from.values(),
          ])
          .finally(() => (this.blocked = false));
        failures = 0;
        for (const item of replyArray(reply)) {
          const [key, raw] = replyArray(item);
          const read = entries(raw);
          for (const f of batch) if (f.key === replyString(key)) this.feed(f, read);
        }
      } catch (error) {
        if (this.stopped) break;
        // The reader reconnected (new id) or Redis is down: wait a little and retry.
        this.readerId = undefined;
        if (failures++ === 0) log.debug("redis streams: read failed, retrying", { error });
        await sleep(backoffMs(failures, { firstMs: 100, maxMs: 1000 }));
      }
    }
  }

  private feed(follower: Follower, read: Entry[]): void {
    for (const [id, event] of read) {
      if (!this.followers.has(follower)) return;
      if (compareIds(id, follower.lastId) <= 0) continue;
      follower.lastId = id;
      if (deliver(event, follower.afterSeq, follower.onEvent)) follower.finish("ended");
    }
  }

  /**
   * A follower whose producer is dead gets the rest of what was stored, then
   * `run_lost`. Liveness is the presence key (redis/presence.ts): it expires
   * one node TTL after the producer's last heartbeat.
   */
  private async checkOwners(batch: Follower[]): Promise<void> {
    const { client, nodeId } = this.options;
    const owners = new Set(batch.map((f) => f.owner).filter((owner) => owner !== nodeId));
    for (const owner of owners) {
      const alive = await client.sendCommand(["EXISTS", `${this.prefix}alive:${owner}`]);
      if (alive !== 0) continue;
      for (const f of batch) {
        if (f.owner !== owner || !this.followers.has(f)) continue;
        this.feed(f, entries(await client.sendCommand(["XRANGE", f.key, `(${f.lastId}`, "+"])));
        if (!this.followers.has(f)) continue;
        f.onEvent(runLost(f.messageId));
        f.finish("ended");
      }
    }
  }
}

/** Delivers the event if the follower wants it; true if it ends the stream. */
function deliver(
  event: StreamEvent,
  afterSeq: number,
  onEvent: (event: StreamEvent) => void,
): boolean {
  if (isReplayed(event, afterSeq)) onEvent(event);
  return TERMINAL_TYPES.has(event.type);
}

function runLost(messageId: string): StreamEvent {
  return {
    type: "error",
    payload: {
      type: "error",
      timestamp: Date.now() / 1000,
      code: "run_lost",
      message: ErrorCodes.run_lost,
      message_id: messageId,
    },
  };
}

/** XRANGE / XREAD entries: [id, [field, value, ...]]. */
function entries(reply: unknown): Entry[] {
  const out: Entry[] = [];
  for (const item of replyArray(reply)) {
    const [id, fields] = replyArray(item);
    const values = Object.fromEntries(pairs(replyArray(fields).map(replyString)));
    const raw = values["e"];
    if (raw === undefined) continue;
    out.push([replyString(id), JSON.parse(raw) as StreamEvent]);
  }
  return out;
}

function pairs(flat: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i] ?? "", flat[i + 1] ?? ""]);
  return out;
}

/** Stream ids are "<ms>-<seq>"; both parts fit a double well within 2^53. */
function compareIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split("-").map(Number);
  const [bm = 0, bs = 0] = b.split("-").map(Number);
  return am - bm || as - bs;
}
