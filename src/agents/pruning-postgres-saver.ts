import type { RunnableConfig } from "@langchain/core/runnables";
import type { Checkpoint, CheckpointMetadata } from "@langchain/langgraph";
import { PostgresSaver } from "@langchain/langgraph-checkpoint-postgres";
import type pg from "pg";
import { everySweep } from "./thread-bounds.js";

/**
 * The statements on PostgresSaver's tables, in the schema its setup() creates
 * them in (quoted as PostgresSaver quotes it; docs/dependencies.md).
 */
function statementsFor(schema: string) {
  const CHECKPOINTS = `"${schema}".checkpoints`;
  const BLOBS = `"${schema}".checkpoint_blobs`;
  const WRITES = `"${schema}".checkpoint_writes`;
  return {
    tables: { CHECKPOINTS, BLOBS, WRITES },
    /**
     * Rows no longer needed to resume the thread: every checkpoint but the
     * newest, writes of checkpoints that are gone, and channel values no kept
     * checkpoint refers to (an unchanged channel keeps its older version).
     */
    pruneThread: [
      `DELETE FROM ${CHECKPOINTS} WHERE thread_id = $1 AND checkpoint_ns = $2 AND checkpoint_id <
     (SELECT max(checkpoint_id) FROM ${CHECKPOINTS} WHERE thread_id = $1 AND checkpoint_ns = $2)`,
      // Writes of a checkpoint not stored yet are kept: LangGraph stores a task's writes
      // (an interrupt) without waiting for its checkpoint, so they may land first.
      `DELETE FROM ${WRITES} WHERE thread_id = $1 AND checkpoint_ns = $2 AND checkpoint_id <
     (SELECT max(checkpoint_id) FROM ${CHECKPOINTS} WHERE thread_id = $1 AND checkpoint_ns = $2)`,
      `DELETE FROM ${BLOBS} b WHERE b.thread_id = $1 AND b.checkpoint_ns = $2 AND NOT EXISTS
     (SELECT 1 FROM ${CHECKPOINTS} c WHERE c.thread_id = b.thread_id
        AND c.checkpoint_ns = b.checkpoint_ns AND c.checkpoint -> 'channel_versions' ->> b.channel = b.version)`,
    ],
    // A checkpoint records its creation time in `ts`; the newest one is the thread's last write.
    idleThreads: `SELECT thread_id FROM ${CHECKPOINTS} GROUP BY thread_id
  HAVING max((checkpoint ->> 'ts')::timestamptz) < now() - make_interval(secs => $1)`,
  };
}

/**
 * PostgreSQL checkpointer with the same bounds as the in-memory one: after
 * each checkpoint a thread keeps only its newest one (rows per thread stay
 * constant), and a periodic sweep deletes threads idle past the TTL.
 */
export class PruningPostgresSaver extends PostgresSaver {
  private stopSweeping: (() => void) | undefined;
  private readonly sql: ReturnType<typeof statementsFor>;

  constructor(
    private readonly db: pg.Pool,
    private readonly ttlMs: number,
    private readonly onSweepError: (error: Error) => void,
    schema = "public",
  ) {
    super(db, undefined, { schema });
    this.sql = statementsFor(schema);
  }

  /** Starts the idle sweep; separate from the constructor so setup() runs first. */
  startSweeping(): void {
    this.stopSweeping ??= everySweep(this.ttlMs, () => {
      this.deleteIdleThreads().catch(this.onSweepError);
    });
  }

  close(): void {
    this.stopSweeping?.();
  }

  override async put(
    config: RunnableConfig,
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
    newVersions: Parameters<PostgresSaver["put"]>[3],
  ): Promise<RunnableConfig> {
    const next = await super.put(config, checkpoint, metadata, newVersions);
    const { thread_id, checkpoint_ns } = next.configurable as {
      thread_id: string;
      checkpoint_ns: string;
    };
    await this.inTransaction(async (client) => {
      for (const statement of this.sql.pruneThread)
        await client.query(statement, [thread_id, checkpoint_ns]);
    });
    return next;
  }

  /** Returns how many threads were deleted. */
  async deleteIdleThreads(): Promise<number> {
    const { rows } = await this.db.query<{ thread_id: string }>(this.sql.idleThreads, [
      this.ttlMs / 1000,
    ]);
    const threads = rows.map((row) => row.thread_id);
    if (threads.length === 0) return 0;
    await this.inTransaction(async (client) => {
      const { BLOBS, WRITES, CHECKPOINTS } = this.sql.tables;
      for (const table of [BLOBS, WRITES, CHECKPOINTS])
        await client.query(`DELETE FROM ${table} WHERE thread_id = ANY($1)`, [threads]);
    });
    return threads.length;
  }

  private async inTransaction(work: (client: pg.PoolClient) => Promise<void>): Promise<void> {
    const client = await this.db.connect();
    try {
      await client.query("BEGIN");
      await work(client);
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK");
      throw error;
    } finally {
      client.release();
    }
  }
}
