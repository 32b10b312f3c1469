import type { BaseCheckpointSaver } from "@langchain/langgraph";
import { MemorySaver } from "@langchain/langgraph";
import { PostgresSaver } from "@langchain/langgraph-checkpoint-postgres";
import pg from "pg";

export interface Checkpointer {
  saver: BaseCheckpointSaver;
  close(): Promise<void>;
}

/**
 * Where conversations are kept: in memory (lost on restart) without a URL,
 * else in PostgreSQL, whose tables `setup()` creates or migrates on start.
 */
export async function createCheckpointer(
  databaseUrl?: string,
  onIdleError: (error: Error) => void = (error) => process.emitWarning(error),
): Promise<Checkpointer> {
  if (databaseUrl === undefined) {
    return { saver: new MemorySaver(), close: () => Promise.resolve() };
  }
  const pool = new pg.Pool({ connectionString: databaseUrl });
  // An idle connection dropped by the server emits "error" on the pool; left
  // unhandled it would crash the gateway, while the next query just reconnects.
  pool.on("error", onIdleError);
  const saver = new PostgresSaver(pool);
  try {
    await saver.setup();
  } catch (error) {
    await pool.end();
    throw error;
  }
  return { saver, close: () => pool.end() };
}
