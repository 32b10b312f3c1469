import type { RunnableConfig } from "@langchain/core/runnables";
import { MemorySaver, type Checkpoint, type CheckpointMetadata } from "@langchain/langgraph";
import { everySweep, type ThreadBounds } from "./thread-bounds.js";

/**
 * An in-memory checkpointer that keeps, per thread, only what resuming the
 * conversation needs: the newest checkpoint and its pending writes. Every
 * checkpoint holds the whole thread, so MemorySaver's full history grew with
 * the square of a conversation's length. Threads idle past the TTL, and the
 * least recently written beyond `maxThreads`, are deleted.
 *
 * Time travel (reading an older checkpoint) is given up; the gateway never
 * asks for one.
 */
export class LatestCheckpointSaver extends MemorySaver {
  /** Last write per thread; a Map iterates in insertion order, so the oldest come first. */
  private readonly lastWrite = new Map<string, number>();
  private readonly stopSweeping: () => void;

  constructor(
    private readonly bounds: ThreadBounds,
    private readonly now: () => number = Date.now,
  ) {
    super();
    this.stopSweeping = everySweep(bounds.ttlMs, () => this.evictIdle());
  }

  get threadCount(): number {
    return this.lastWrite.size;
  }

  override async put(
    config: RunnableConfig,
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
  ): Promise<RunnableConfig> {
    const next = await super.put(config, checkpoint, metadata);
    const { thread_id, checkpoint_ns } = next.configurable as {
      thread_id: string;
      checkpoint_ns: string;
    };
    this.keepNewest(thread_id, checkpoint_ns);
    this.touch(thread_id);
    return next;
  }

  override async putWrites(
    config: RunnableConfig,
    writes: Parameters<MemorySaver["putWrites"]>[1],
    taskId: string,
    taskPath?: string,
  ): Promise<void> {
    await super.putWrites(config, writes, taskId, taskPath);
    const {
      thread_id,
      checkpoint_ns = "",
      checkpoint_id,
    } = config.configurable as {
      thread_id: string;
      checkpoint_ns?: string;
      checkpoint_id: string;
    };
    // A task that finishes after its checkpoint was replaced wrote for nothing. Writes of
    // a checkpoint not stored yet are kept: LangGraph stores a task's writes (an
    // interrupt) without waiting for its checkpoint, so they may come first.
    const stored = Object.keys(this.storage[thread_id]?.[checkpoint_ns] ?? {});
    if (stored.length > 0 && stored.every((id) => id > checkpoint_id))
      delete this.writes[writesKey(thread_id, checkpoint_ns, checkpoint_id)];
    else this.touch(thread_id);
  }

  override deleteThread(threadId: string): Promise<void> {
    this.forget(threadId);
    return Promise.resolve();
  }

  close(): void {
    this.stopSweeping();
  }

  /** Deletes threads not written within the TTL; the oldest come first, so it stops at the first fresh one. */
  evictIdle(): void {
    const cutoff = this.now() - this.bounds.ttlMs;
    for (const [threadId, writtenAt] of this.lastWrite) {
      if (writtenAt > cutoff) return;
      this.forget(threadId);
    }
  }

  /**
   * Only the newest id survives (ids sort by creation time, as MemorySaver
   * itself assumes), whichever order concurrent puts finish in.
   */
  private keepNewest(threadId: string, ns: string): void {
    const checkpoints = this.storage[threadId]?.[ns];
    if (!checkpoints) return;
    const ids = Object.keys(checkpoints).sort();
    for (const id of ids.slice(0, -1)) {
      delete checkpoints[id];
      delete this.writes[writesKey(threadId, ns, id)];
    }
  }

  private touch(threadId: string): void {
    this.lastWrite.delete(threadId);
    this.lastWrite.set(threadId, this.now());
    for (const oldest of this.lastWrite.keys()) {
      if (this.lastWrite.size <= this.bounds.maxThreads) return;
      this.forget(oldest);
    }
  }

  /** MemorySaver's own deleteThread scans every thread's writes; here writes exist only for kept checkpoints. */
  private forget(threadId: string): void {
    this.lastWrite.delete(threadId);
    const namespaces = this.storage[threadId];
    if (!namespaces) return;
    for (const [ns, checkpoints] of Object.entries(namespaces))
      for (const id of Object.keys(checkpoints)) delete this.writes[writesKey(threadId, ns, id)];
    delete this.storage[threadId];
  }
}

/** MemorySaver's key for a checkpoint's writes (its `_generateKey`, which it does not export). */
function writesKey(threadId: string, ns: string, checkpointId: string): string {
  return JSON.stringify([threadId, ns, checkpointId]);
}
