import type { BaseCheckpointSaver } from "@langchain/langgraph";
import pg from "pg";
import { timeCheckpointer } from "../metrics/checkpointer-timing.js";
import { LatestCheckpointSaver } from "./latest-checkpoint-saver.js";
import { PruningPostgresSaver } from "./pruning-postgres-saver.js";
import { DEFAULT_THREAD_BOUNDS, type ThreadBounds } from "./thread-bounds.js";

export interface Checkpointer {
  saver: BaseCheckpointSaver;
  close(): Promise<void>;
}

/**
 * Where conversations are kept: in memory (lost on restart) without a URL,
 * else in PostgreSQL, whose tables `setup()` creates or migrates on start.
 * Either way a thread keeps only its newest checkpoint and is deleted once
 * idle past `bounds.ttlMs`. The tables live in `options.schema`
 * (CHECKPOINT_DATABASE_SCHEMA, `public` by default).
 */
export async function createCheckpointer(
  databaseUrl?: string,
  bounds: ThreadBounds = DEFAULT_THREAD_BOUNDS,
  {
    schema = "public",
    onBackgroundError = (error) => process.emitWarning(error),
  }: { schema?: string; onBackgroundError?: (error: Error) => void } = {},
): Promise<Checkpointer> {
  if (databaseUrl === undefined) {
    const saver = timeCheckpointer(new LatestCheckpointSaver(bounds), "memory");
    return {
      saver,
      close: () => {
        saver.close();
        return Promise.resolve();
      },
    };
  }
  const pool = new pg.Pool({ connectionString: databaseUrl });
  // An idle connection dropped by the server emits "error" on the pool; left
  // unhandled it would crash the gateway, while the next query just reconnects.
  pool.on("error", onBackgroundError);
  const saver = timeCheckpointer(
    new PruningPostgresSaver(pool, bounds.ttlMs, onBackgroundError, schema),
    "postgres",
  );
  try {
    await saver.setup();
  } catch (error) {
    await pool.end();
    throw error;
  }
  saver.startSweeping();
  return {
    saver,
    close: () => {
      saver.close();
      return pool.end();
    },
  };
}
